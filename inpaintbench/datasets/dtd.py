"""``dtd``: the Describable Textures Dataset (Cimpoi et al. 2014), with its split files.

DTD ships ten train/val/test folds as ``labels/{train,val,test}{1..10}.txt``,
one path per line relative to ``images/``.  ``train``, ``val`` and ``test`` mean
fold 1 (the usual choice); ``test3``, ``train10``... pick another fold.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..images import read_image
from .base import Dataset

FOLD_SPLIT = re.compile(r"^(train|val|test)([1-9]|10)$")


class DTD(Dataset):
    """47 texture classes, 5,640 images; the split files fix each fold's items."""

    name = "dtd"
    scans_root = False  # its items are a fixed list: files written under the root never join them
    summary = "Describable Textures Dataset (47 classes, 10 folds; test = fold 1)"
    layout = (
        "ROOT/images/<class>/<file>.jpg and ROOT/labels/{train,val,test}{1..10}.txt (ROOT may be dtd/ or its parent)"
    )
    splits = ("train", "val", "test")
    default_split = "test"
    #: never None: ``needs_root`` makes :class:`Dataset` refuse a missing root
    root: Path

    def __init__(self, root: Path | None, split: str | None = None):
        super().__init__(root, split)
        base = self.root if (self.root / "images").is_dir() else self.root / "dtd"
        if not (base / "images").is_dir():
            raise self.layout_error("no images/ folder (nor dtd/images/)")
        self._images = base / "images"
        split_file = base / "labels" / f"{self._fold_split()}.txt"
        if not split_file.is_file():
            raise self.layout_error(f"split file {split_file.relative_to(self.root).as_posix()} is missing")
        lines = split_file.read_text(encoding="utf-8").splitlines()
        self._ids = sorted({line.strip() for line in lines if line.strip()})
        if not self._ids:
            raise self.layout_error(f"split file {split_file.relative_to(self.root).as_posix()} lists no image")

    def _accepts_split(self, split: str) -> bool:
        return FOLD_SPLIT.match(split) is not None

    def _fold_split(self) -> str:
        """``test`` -> ``test1``; ``test3`` stays."""
        return self.split if FOLD_SPLIT.match(self.split) else f"{self.split}1"

    def item_ids(self) -> list[str]:
        return list(self._ids)

    def read(self, item_id: str) -> np.ndarray:
        return read_image(self._images / item_id)
