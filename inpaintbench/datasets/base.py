"""The dataset contract: a named loader over the user's own copy of a dataset.

A dataset lists stable item ids for one split and decodes one item at a time, so
a run streams images and memory stays flat however large the dataset is.  It
returns raw RGB uint8 images of any size; resizing and cropping belong to the
protocol (:mod:`inpaintbench.protocol`), not to the loader.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..errors import DatasetError


class Dataset(ABC):
    """Base class for dataset loaders.

    Subclasses set the class attributes and implement :meth:`item_ids` and
    :meth:`read`.  ``__init__`` must check the layout and raise
    :class:`~inpaintbench.errors.DatasetError` naming ``layout`` when it is wrong.
    """

    #: registry name, e.g. ``"paris-streetview"``
    name: ClassVar[str]
    #: one line for ``inpaintbench datasets``
    summary: ClassVar[str] = ""
    #: the expected directory layout, quoted in every layout error
    layout: ClassVar[str] = ""
    #: split names this loader understands at every root (an instance may find more: :meth:`split_names`)
    splits: ClassVar[tuple[str, ...]] = ("test",)
    #: split evaluated when the user names none
    default_split: ClassVar[str] = "test"
    #: False only for datasets that need no user data (``sample``)
    needs_root: ClassVar[bool] = True
    #: True when items are found by listing the files under the root (so images written there
    #: would become items); False when a fixed list names them (split files, pickled batches, a database)
    scans_root: ClassVar[bool] = True

    def __init__(self, root: Path | None, split: str | None = None):
        if self.needs_root and root is None:
            raise DatasetError(
                f"dataset {self.name!r} has no root: pass --root PATH, set {env_var(self.name)}, "
                f"or add it to the config file (expected layout: {self.layout})"
            )
        self.root = Path(root).expanduser() if root is not None else None
        self.split = split or self.default_split
        if self.root is not None and not self.root.is_dir():
            raise DatasetError(
                f"dataset {self.name!r}: root {self.root} is not a directory (expected layout: {self.layout})"
            )
        if self.split not in self.split_names() and not self._accepts_split(self.split):
            raise DatasetError(
                f"dataset {self.name!r} has no split {self.split!r} (splits: {', '.join(self.split_names())})"
            )

    def split_names(self) -> tuple[str, ...]:
        """The splits this root holds: the class's ``splits``, unless the loader finds its splits in the root.

        Pick training and evaluation splits from this, not from the class: a
        ``folder`` root's splits are its split list's or its split subfolders'.
        """
        return self.splits

    @classmethod
    def splits_share_images(cls, first: str, second: str) -> bool:
        """Whether two splits can hold the same images (override when one split contains another).

        Callable on an instance too; the answer must hold at every root.
        """
        return first == second

    def _accepts_split(self, split: str) -> bool:
        """Override for open-ended split names (``test3`` for DTD folds, LSUN categories)."""
        return False

    def lists_files_under(self, path: Path) -> bool:
        """Whether images written under ``path`` would become items of this split on the next run.

        Results and run directories there would be scored (or trained on) as
        data.  A loader that finds items by listing files answers for any path
        inside its root; one whose items a fixed list names (``scans_root``
        False) never does.
        """
        if not self.scans_root or self.root is None:
            return False
        return Path(path).resolve().is_relative_to(self.root.resolve())

    def layout_error(self, what: str) -> DatasetError:
        """A :class:`DatasetError` that says what is wrong and what layout was expected."""
        return DatasetError(f"dataset {self.name!r} at {self.root}: {what} (expected layout: {self.layout})")

    @abstractmethod
    def item_ids(self) -> list[str]:
        """Stable, sorted, unique ids of the split's items (relative paths, keys...)."""

    @abstractmethod
    def read(self, item_id: str) -> np.ndarray:
        """Decode one item as an RGB uint8 array of shape (H, W, 3).

        Raises :class:`~inpaintbench.errors.ImageReadError` for an unreadable item.
        """


def env_var(dataset_name: str) -> str:
    """The environment variable that holds a dataset's root, e.g. INPAINTBENCH_PARIS_STREETVIEW_ROOT."""
    return "INPAINTBENCH_" + dataset_name.upper().replace("-", "_") + "_ROOT"


def manifest_hash(item_ids: list[str]) -> str:
    """A short hash of the evaluated item list: two runs compare only if it matches."""
    # surrogateescape: a file name that is not UTF-8 (a Latin-1 disk) arrives as lone surrogates
    digest = hashlib.sha256("\n".join(item_ids).encode("utf-8", "surrogateescape")).hexdigest()
    return digest[:16]
