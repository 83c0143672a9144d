"""``masks export``: the exact inputs a benchmark gives its methods, written out for models that live elsewhere.

The items, crops and holes come from the same :class:`~inpaintbench.runner.RunSpec`
as ``compare`` (same seed, same selection, same protocol), so a model run
outside on these files and scored with ``compare --predictions NAME=DIR``
gets a row that pairs item by item with the built-in methods' rows.  Only
what a method sees is written: the masked image and the mask, never the truth.

Two layouts:

- ``folders``: ``OUT/input/<item>.png`` and ``OUT/mask/<item>.png``;
- ``lama``: ``OUT/<item>.png`` and ``OUT/<item>_mask.png`` side by side, the
  folder layout LaMa's prediction script reads (and names its outputs after
  the mask, which ``--predictions`` pairs too).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from .pairing import MASK_SUFFIX
from .results import item_filename, mask_pixels, write_atomic, write_png_atomic
from .runner import RunSpec, load_batch, run_record

#: the record of what was exported, beside the images
EXPORT_RECORD = "export.json"


@dataclasses.dataclass
class Export:
    """What :func:`export_inputs` wrote."""

    written: int
    unreadable: list[tuple[str, str]]  # (item id, reason)


def export_inputs(spec: RunSpec, out: Path, layout: str = "folders", advance: Callable[[int], None] = lambda n: None) -> Export:
    """Write the masked input and the mask of every selected item under ``out``, and ``export.json``."""
    selected = spec.selected()
    record = run_record(spec, selected, {}, {})
    del record["methods"], record["metrics"], record["scorers"]  # nothing is scored
    write_atomic(out / EXPORT_RECORD, json.dumps({**record, "layout": layout, "item_ids": selected}, indent=2) + "\n")
    report = Export(0, [])
    for start in range(0, len(selected), spec.batch_size):
        batch = load_batch(spec, selected[start : start + spec.batch_size])
        report.unreadable += batch.unreadable
        for k, item_id in enumerate(batch.ids):
            input_path, mask_path = export_paths(out, item_id, layout)
            write_png_atomic(input_path, batch.masked[k])
            write_png_atomic(mask_path, mask_pixels(batch.masks[k]))
            report.written += 1
        advance(len(batch.ids) + len(batch.unreadable))
    return report


def export_paths(out: Path, item_id: str, layout: str) -> tuple[Path, Path]:
    """Where an item's masked input and mask go in ``layout``."""
    name = item_filename(item_id)
    if layout == "lama":
        stem = PurePosixPath(str(name)[: -len(".png")])
        return out / name, out / stem.with_name(stem.name + MASK_SUFFIX + ".png")
    return out / "input" / name, out / "mask" / name
