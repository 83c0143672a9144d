"""Everything derived from a results directory: tables in every format, scores.csv, the grid, report.html.

Derived files are rewritten atomically from the stored rows, so ``inpaintbench
table`` and a resumed ``compare`` always agree with what is on disk.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from .errors import ResultsError
from .grid import comparison_grid
from .html_report import render_report
from .mask_protocols import area_bins_of
from .results import ResultsStore, write_atomic, write_png_atomic
from .tables import summarize, summarize_by_area, to_csv, to_latex, to_markdown


@dataclasses.dataclass(frozen=True)
class Reports:
    """What :func:`write_reports` derived from a results directory."""

    summary: pd.DataFrame
    record: dict
    scores: pd.DataFrame
    written: list[Path]


def write_reports(store: ResultsStore, grid_rows: int = 8) -> Reports:
    """Write table.{csv,md,tex}, scores.csv, grid.png, report.html (and table_by_area.csv when the mask protocol has area bins).

    The stored rows are read once; every file is a rendering of them.
    """
    record = store.read_record()
    if record is None:
        raise ResultsError(f"{store.root} has no {store.record_path.name}: not an inpaintbench results directory")
    scores = store.scores()
    summary = summarize(scores, record)
    root = store.root
    written = [root / "table.csv", root / "table.md", root / "table.tex", root / "scores.csv"]
    write_atomic(written[0], to_csv(summary))
    write_atomic(written[1], to_markdown(summary, record))
    write_atomic(written[2], to_latex(summary, record))
    write_atomic(written[3], scores.to_csv(index=False, float_format="%.6g"))
    by_area = None
    if area_bins_of(str(record.get("protocol", {}).get("mask", ""))) and "hole_fraction" in scores:
        by_area = summarize_by_area(scores, record)
        written.append(root / "table_by_area.csv")
        write_atomic(written[-1], to_csv(by_area))
    scored = [name for name in summary["method"] if (root / "images" / name).is_dir()]
    grid = comparison_grid(store, scored, grid_rows, scores) if scored else None
    if grid is not None:
        write_png_atomic(root / "grid.png", grid)
        written.append(root / "grid.png")
    written.append(root / "report.html")
    write_atomic(written[-1], render_report(store, record, summary, scores, by_area))
    return Reports(summary, record, scores, written)
