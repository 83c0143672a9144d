"""``cifar10``: CIFAR-10 from the official "python version" pickled batches.

Each batch (``data_batch_1`` .. ``data_batch_5``, ``test_batch``) is a Python 2
pickle of a dict: ``b'data'`` uint8 (N, 3072) with each row the red, green then
blue 32x32 planes, ``b'labels'`` and ``b'filenames'``.  Ids are
``<batch>/<row, 5 digits>``.  A reader that needs the class labels or whole
batches at once reads :meth:`CIFAR10.batch_paths` with :func:`load_batch`.
"""

from __future__ import annotations

import functools
import pickle
from pathlib import Path

import numpy as np

from ..errors import DatasetError, ImageReadError
from .base import Dataset

FOLDER = "cifar-10-batches-py"
SPLIT_BATCHES = {
    "train": tuple(f"data_batch_{i}" for i in range(1, 6)),
    "test": ("test_batch",),
}


class _BatchUnpickler(pickle.Unpickler):
    """Unpickles only what a CIFAR batch holds (a dict of numpy arrays, bytes and lists).

    A pickle can run any code it names; a file in a dataset folder should not be
    able to, so every other global is refused.
    """

    ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("_codecs", "encode"),  # bytes in pickles written by Python 3 (protocol 2)
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


@functools.lru_cache(maxsize=len(SPLIT_BATCHES["train"]) + 1)
def load_batch(path: Path) -> tuple[np.ndarray, tuple[int, ...]]:
    """(images (N, 32, 32, 3) RGB uint8, labels) of one batch file, cached per process."""
    try:
        with open(path, "rb") as file:
            batch = _BatchUnpickler(file, encoding="bytes").load()
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = tuple(int(label) for label in batch[b"labels"])
        # rows are three 32x32 planes (R, G, B): CHW -> HWC
        images = np.ascontiguousarray(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    except (OSError, pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as error:
        raise DatasetError(
            f"dataset 'cifar10': {path} is not a CIFAR-10 python batch ({type(error).__name__}: {error}); "
            "re-extract cifar-10-python.tar.gz"
        ) from None
    if len(labels) != len(images):
        raise DatasetError(f"dataset 'cifar10': {path} has {len(images)} images but {len(labels)} labels")
    images.flags.writeable = False  # shared by every reader in the process
    return images, labels


class CIFAR10(Dataset):
    """60,000 32x32 colour images in 10 classes: 50,000 train, 10,000 test."""

    name = "cifar10"
    scans_root = False  # its items are a fixed list: files written under the root never join them
    summary = "CIFAR-10 python batches (50,000 train / 10,000 test, 32x32)"
    layout = f"ROOT/{FOLDER}/{{data_batch_1..5,test_batch}} (ROOT may be {FOLDER}/ itself)"
    splits = ("train", "test")
    default_split = "test"
    #: never None: ``needs_root`` makes :class:`Dataset` refuse a missing root
    root: Path

    def __init__(self, root: Path | None, split: str | None = None):
        super().__init__(root, split)
        self._batches = SPLIT_BATCHES[self.split]
        folder = self.root / FOLDER
        self._folder = folder if folder.is_dir() else self.root
        for batch in self._batches:
            if not (self._folder / batch).is_file():
                shown = (self._folder / batch).relative_to(self.root).as_posix()
                raise self.layout_error(f"batch file {shown} is missing")

    def _batch(self, item_id: str) -> tuple[np.ndarray, tuple[int, ...], int]:
        """(images, labels, row) for an id, or ImageReadError naming it."""
        batch, _, row_text = item_id.partition("/")
        source = str(self._folder / item_id)
        if batch not in self._batches or not row_text.isdigit():
            hint = f"ids look like {self._batches[0]}/00042"
            raise ImageReadError(source, f"not an item of split {self.split!r} ({hint})")
        images, labels = load_batch(self._folder / batch)
        row = int(row_text)
        if row >= len(images):
            raise ImageReadError(source, f"row {row} is past the end of the batch ({len(images)} images)")
        return images, labels, row

    def batch_paths(self) -> list[Path]:
        """The split's batch files, in :meth:`item_ids` order."""
        return [self._folder / batch for batch in self._batches]

    def item_ids(self) -> list[str]:
        return [f"{path.name}/{row:05d}" for path in self.batch_paths() for row in range(len(load_batch(path)[0]))]

    def read(self, item_id: str) -> np.ndarray:
        images, _, row = self._batch(item_id)
        return images[row].copy()
