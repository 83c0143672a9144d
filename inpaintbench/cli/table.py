"""``inpaintbench table``: re-tabulate stored results without rerunning anything."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.markup import escape

from ..tables import FORMATS, left_out, summarize_by_area, to_csv, to_latex, to_markdown, to_rich

if TYPE_CHECKING:  # the results store (pandas) is imported by the command that reads it, not by --help
    import pandas as pd


def print_table(summary: pd.DataFrame, record: dict, fmt: str, title: str | None = None) -> None:
    """Print in ``fmt``, then the methods without a row and why; ``title`` replaces the caption made from ``record``."""
    _print_rows(summary, record, fmt, title)
    # in full, on stderr: a narrow terminal would cut a status column, and piped md/csv/tex stays clean
    console = Console(stderr=True, soft_wrap=True)
    for name, reason in left_out(record, summary).items():
        console.print(f"[yellow]not in the table: {escape(name)}[/yellow]: {escape(reason)}", highlight=False)


def _print_rows(summary: pd.DataFrame, record: dict, fmt: str, title: str | None) -> None:
    if fmt == "rich":
        Console().print(to_rich(summary, record, title))
    elif fmt == "md":
        click.echo(to_markdown(summary, record, title), nl=False)
    elif fmt == "csv":
        click.echo(to_csv(summary), nl=False)
    else:
        click.echo(to_latex(summary, record, title), nl=False)


@click.command("table")
@click.argument("results_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="rich", show_default=True)
@click.option("--grid-rows", default=8, show_default=True)
@click.option("--by-area", is_flag=True, help="One table per hole-area bin, for mask protocols that declare bins (irregular: 10-20 %, ..., 50-60 %).")
def table_command(results_dir: Path, fmt: str, grid_rows: int, by_area: bool) -> None:
    """Print (and rewrite) the table of a results directory."""
    from ..reports import write_reports
    from ..results import ResultsStore

    reports = write_reports(ResultsStore(results_dir), grid_rows)
    if not by_area:
        print_table(reports.summary, reports.record, fmt)
        return
    record = reports.record
    by_bin = summarize_by_area(reports.scores, record)
    if fmt == "csv":
        click.echo(to_csv(by_bin), nl=False)
        return
    for area, part in by_bin.groupby("area", sort=False):
        click.echo(f"hole area {area}")
        _print_rows(part.drop(columns="area").reset_index(drop=True), record, fmt, None)


COMMANDS = (table_command,)
