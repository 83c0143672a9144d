"""``folder``: any folder of images, split by subfolders or a split list when it has them.

Also the base of the loaders whose split is one folder (:class:`ImageTreeDataset`).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from pathlib import Path

import numpy as np

from ..errors import DatasetError
from ..images import read_image
from ._files import EXTENSIONS_TEXT, has_images, list_images
from .base import Dataset
from .split_list import ALL, SplitList, find_split_list

log = logging.getLogger(__name__)

#: immediate subfolders of a ``folder`` root read as splits (compared in lower case)
SPLIT_FOLDER_NAMES = ("train", "val", "valid", "validation", "test", "eval")


class ImageTreeDataset(Dataset):
    """A split that is every image file under one folder; ids are POSIX paths relative to it.

    Subclasses find the split's folder in ``__init__`` and pass it to :meth:`_use_folder`.
    """

    #: never None: ``needs_root`` makes :class:`Dataset` refuse a missing root
    root: Path
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

    def lists_files_under(self, path: Path) -> bool:
        return Path(path).resolve().is_relative_to(self._folder.resolve())


class FolderDataset(ImageTreeDataset):
    """Every image under ``root``, recursively: bring your own images.

    Split ``all`` is every image.  Named splits come from the root itself, so a
    user can train on one and evaluate on another: a split list directly in the
    root (:mod:`.split_list`), else split subfolders (:class:`SplitFolders`).
    Ids are relative to the root in every split, so one file has one id.
    """

    name = "folder"
    summary = "any folder of images (recursive); splits from train/val/test subfolders or a .tsv/.csv split list"
    layout = (
        f"ROOT/**/*.{{{EXTENSIONS_TEXT.replace(', ', ',')}}}; optional splits: ROOT/{{train,val,test}}/ "
        "or a .tsv/.csv in ROOT with a split column and a file column"
    )
    splits = ("all",)
    default_split = "all"

    def __init__(self, root: Path | None, split: str | None = None):
        super().__init__(root, split)
        self._use_folder(self.root)
        if self.split != ALL:
            self._ids = self._named_split()  # now: a list naming a missing file fails on opening, not mid-run

    @classmethod
    def splits_share_images(cls, first: str, second: str) -> bool:
        # named splits are disjoint: folders by construction, a list because naming an image twice is an error
        return first == second or ALL in (first, second)

    def split_names(self) -> tuple[str, ...]:
        return (ALL, *(self._split_source.names if self._split_source else ()))

    def lists_files_under(self, path: Path) -> bool:
        """Split ``all`` lists the whole root; a split list names its files; a split folder lists itself."""
        source = self._split_source if self.split != ALL else None
        if isinstance(source, SplitFolders):
            return Path(path).resolve().is_relative_to((self.root / source.folders[self.split]).resolve())
        return source is None and super().lists_files_under(path)

    @functools.cached_property
    def _split_source(self) -> SplitList | SplitFolders | None:
        """Where the named splits come from: a split list wins over split folders (it was written on purpose)."""
        return find_split_list(self.root) or SplitFolders.find(self.root)

    def _named_split(self) -> list[str]:
        """The ids of this (named) split; warns about images that are in no named split."""
        source = self._split_source
        assert source is not None  # the split was accepted, so the root names its splits
        image_ids = list_images(self.root)
        splits = source.assign(image_ids)
        unassigned = len(image_ids) - sum(len(ids) for ids in splits.values())
        if unassigned:
            log.warning(
                "dataset 'folder' at %s: %d of %d images are in no split of %s (they are in split 'all' only)",
                self.root, unassigned, len(image_ids), source.description,
            )
        return splits[self.split]


@dataclasses.dataclass(frozen=True)
class SplitFolders:
    """Splits that are immediate subfolders of the root named like splits (:data:`SPLIT_FOLDER_NAMES`).

    They count only when at least two of them hold images: a photo collection
    may well have a lone ``test`` folder, and one split holds nothing out.
    Names are compared in lower case (``Train/`` is split ``train``); other
    subfolders are in split ``all`` only.
    """

    #: split name -> the subfolder's name as on disk
    folders: dict[str, str]

    @classmethod
    def find(cls, root: Path) -> SplitFolders | None:
        folders: dict[str, str] = {}
        for path in sorted(root.iterdir()):
            split = path.name.lower()
            if split in SPLIT_FOLDER_NAMES and has_images(path):
                if split in folders:
                    raise DatasetError(f"{root}: both {folders[split]}/ and {path.name}/ would be split {split!r}")
                folders[split] = path.name
        return cls(folders) if len(folders) >= 2 else None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self.folders))

    @property
    def description(self) -> str:
        return "the split folders " + ", ".join(f"{folder}/" for folder in sorted(self.folders.values()))

    def assign(self, image_ids: list[str]) -> dict[str, list[str]]:
        """Split name -> the ids (relative to the root) under its folder."""
        split_of = {folder: split for split, folder in self.folders.items()}
        splits: dict[str, list[str]] = {split: [] for split in self.folders}
        for image in image_ids:
            split = split_of.get(image.split("/", 1)[0]) if "/" in image else None
            if split is not None:
                splits[split].append(image)
        return splits
