"""``inpaintbench masks``: the registered mask protocols, and a benchmark's exact inputs and masks for outside models."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from .evaluate import benchmark_options, check_out
from .listing import MAX_WIDTH, _print_failures, _wrap


@click.group("masks")
def masks_group() -> None:
    """The mask protocols --mask takes, and their masks for use outside inpaintbench."""


@masks_group.command("export")
@benchmark_options
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Folder for the masked inputs and masks.")
@click.option("--layout", type=click.Choice(["folders", "lama"]), default="folders", show_default=True,
              help="folders: OUT/input/ and OUT/mask/; lama: OUT/<item>.png beside OUT/<item>_mask.png (LaMa's predict.py reads it).")
@click.option("--batch-size", default=16, show_default=True, type=click.IntRange(min=1))
def export_command(dataset, root, split, mask, image_size, limit, seed, out, layout, batch_size):
    """Write exactly the masked inputs and masks that `compare` gives every method (same seed, same items).

    Run any model on them, then score its outputs beside the built-in methods
    with `inpaintbench compare ... --predictions NAME=DIR` (same --dataset,
    --mask, --seed and --limit).
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from .. import registry
    from ..export import export_inputs
    from ..protocol import Protocol
    from ..runner import RunSpec

    data = registry.open_dataset(dataset, root, split)
    spec = RunSpec(data, Protocol(image_size=image_size, mask=mask), seed=seed, limit=limit, batch_size=batch_size)
    check_out(out, data)
    console = Console(stderr=True, soft_wrap=True)
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"exporting {data.name}:{data.split}", total=len(spec.selected()))
        report = export_inputs(spec, out, layout, advance=lambda n: progress.advance(task, n))
    for _item_id, reason in report.unreadable:
        console.print(f"[yellow]skipped[/yellow] {escape(reason)}", highlight=False)
    console.print(f"wrote {report.written} masked inputs and masks to {out} ({layout} layout; record: {out / 'export.json'})")


@masks_group.command("protocols")
def protocols_command() -> None:
    """List the mask protocols --mask takes (built-in and from plugins), their argument and area bins, and broken plugins."""
    from .. import registry

    width = min(shutil.get_terminal_size().columns, MAX_WIDTH)
    entries = registry.list_mask_protocols()
    usages = {entry.name: _usage(entry.cls) for entry in entries}
    column = max(map(len, usages.values()), default=0) + 2
    click.echo("Mask protocols (--mask NAME, or NAME:ARG):")
    for entry in entries:
        click.echo(_wrap(entry.cls.summary or "-", width, column, first=usages[entry.name].ljust(column)))
        click.echo(_wrap("; ".join(_facts(entry.cls) + [f"from {entry.source}"]), width, column))
    _print_failures(Console())


def _usage(cls) -> str:
    """``files:DIR``, ``irregular[:LOW-HIGH]`` or ``center``: how --mask names the protocol."""
    if not cls.argument:
        return cls.name
    return f"{cls.name}:{cls.argument}" if cls.argument_required else f"{cls.name}[:{cls.argument}]"


def _facts(cls) -> list[str]:
    """What a protocol takes and gives, for its listing."""
    from ..mask_protocols import area_label

    facts = [f"{cls.argument}: {cls.argument_help or 'see its documentation'}"] if cls.argument else []
    if cls.area_bins:
        facts.append("area bins " + ", ".join(area_label(low, high).removesuffix(" %") for low, high in cls.area_bins) + " %")
    facts.append("draws training masks" if cls.draws_masks() else "masks belong to items (not for training)")
    return facts


COMMANDS = (masks_group,)
