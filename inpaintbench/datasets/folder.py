"""``folder``: any folder of images, and the base of loaders whose split is a folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..images import read_image
from ._files import EXTENSIONS_TEXT, has_images, list_images
from .base import Dataset


class ImageTreeDataset(Dataset):
    """A split that is every image file under one folder; ids are POSIX paths relative to it.

    Subclasses find the split's folder in ``__init__`` and pass it to :meth:`_use_folder`.
    """

    _folder: Path
    _ids: list[str] | None = None

    def _use_folder(self, folder: Path) -> None:
        """Take ``folder`` as the split, or raise a layout error if it holds no image."""
        if not has_images(folder):
            if folder == self.root:
                where = "in it or its subfolders"
            else:
                where = f"under {folder.relative_to(self.root).as_posix()}/"
            raise self.layout_error(f"no image files ({EXTENSIONS_TEXT}) {where}")
        self._folder = folder

    def item_ids(self) -> list[str]:
        if self._ids is None:  # listing a large tree takes seconds: once per instance
            self._ids = list_images(self._folder)
        return list(self._ids)

    def read(self, item_id: str) -> np.ndarray:
        return read_image(self._folder / item_id)


class FolderDataset(ImageTreeDataset):
    """Every image under ``root``, recursively: bring your own test set."""

    name = "folder"
    summary = "any folder of images (recursive; jpg, png, bmp, tif, webp)"
    layout = f"ROOT/**/*.{{{EXTENSIONS_TEXT.replace(', ', ',')}}}"
    splits = ("all",)
    default_split = "all"

    def __init__(self, root: Path | None, split: str | None = None):
        super().__init__(root, split)
        self._use_folder(self.root)
