"""``deepfashion``: DeepFashion (Liu et al. 2016), by its evaluation partition list.

Both the Category & Attribute benchmark (statuses train/val/test) and the In-shop
retrieval benchmark (train/query/gallery) ship ``Eval/list_eval_partition.txt``:
a row count, a header, then one row per image whose first column is the image
path (``img/WOMEN/Dresses/id_00000002/02_1_front.jpg``) and whose last column is
the status.  Split ``test`` also takes In-shop's query and gallery images, so one
name works for both benchmarks.  Image paths resolve against the root, else
against ``ROOT/Img/`` (where the archives unpack).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..images import read_image
from .base import Dataset

PARTITION = "Eval/list_eval_partition.txt"

#: split -> statuses taken from the list
SPLIT_STATUSES = {
    "train": ("train",),
    "val": ("val",),
    "test": ("test", "query", "gallery"),
    "query": ("query",),
    "gallery": ("gallery",),
}


class DeepFashion(Dataset):
    """Clothing photographs; the split is read from the benchmark's partition list."""

    name = "deepfashion"
    scans_root = False  # its items are a fixed list: files written under the root never join them
    summary = "DeepFashion (Category & Attribute or In-shop), by Eval/list_eval_partition.txt"
    layout = "ROOT/Eval/list_eval_partition.txt and the images it lists under ROOT/ or ROOT/Img/ (img/WOMEN/...jpg)"
    splits = tuple(SPLIT_STATUSES)
    default_split = "test"
    #: never None: ``needs_root`` makes :class:`Dataset` refuse a missing root
    root: Path

    def __init__(self, root: Path | None, split: str | None = None):
        super().__init__(root, split)
        rows = self._read_partition(self.root / PARTITION)
        wanted = SPLIT_STATUSES[self.split]
        self._ids = sorted({path for path, status in rows if status in wanted})
        if not self._ids:
            present = ", ".join(sorted({status for _, status in rows})) or "none"
            raise self.layout_error(f"{PARTITION} has no {'/'.join(wanted)} rows (statuses present: {present})")
        first = self._ids[0]
        for base in (self.root, self.root / "Img"):
            if (base / first).is_file():
                self._images = base
                break
        else:
            raise self.layout_error(f"listed image {first} is neither under the root nor under Img/")

    def _read_partition(self, path: Path) -> list[tuple[str, str]]:
        """(image path, status) rows of the partition list, count and header skipped."""
        if not path.is_file():
            raise self.layout_error(f"no {PARTITION}")
        lines = path.read_text(encoding="utf-8").splitlines()
        if not lines or not lines[0].strip().isdigit():
            raise self.layout_error(f"{PARTITION} does not start with a row count")
        rows = []
        for line in lines[2:]:
            fields = line.split()
            if len(fields) >= 2:
                rows.append((fields[0], fields[-1]))
        return rows

    def item_ids(self) -> list[str]:
        return list(self._ids)

    def read(self, item_id: str) -> np.ndarray:
        return read_image(self._images / item_id)
