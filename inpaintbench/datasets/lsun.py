"""``lsun``: LSUN scenes (Yu et al. 2015) read straight from the LMDB databases they ship in.

Each category comes as ``<category>_train_lmdb/`` and ``<category>_val_lmdb/``
whose values are encoded JPEG (or WebP) bytes.  Split ``val`` is every
``*_val_lmdb`` under the root, ``train`` every ``*_train_lmdb``; ``bedroom_val``
picks one database.  Ids are ``<database folder>/<key>``: the key as text when it
is plain ASCII (LSUN's keys are hex digests), else ``hex:<hex digits>``, so an id
always maps back to the key bytes.
"""

from __future__ import annotations

import os
import re
import string
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DatasetError, ImageReadError
from ..images import decode_image
from .base import Dataset

ONE_DATABASE = re.compile(r"^\w+_(train|val)$")
HEX_PREFIX = "hex:"
_PLAIN_KEY = frozenset((string.ascii_letters + string.digits + "._-").encode())

#: database path -> (pid, environment): opened once per process, reopened after fork
_ENVIRONMENTS: dict[str, tuple[int, Any]] = {}


def key_to_id(key: bytes) -> str:
    """The id text of an LMDB key, reversible by :func:`id_to_key`."""
    if key and set(key) <= _PLAIN_KEY:
        return key.decode("ascii")
    return HEX_PREFIX + key.hex()


def id_to_key(text: str) -> bytes:
    """The LMDB key bytes behind an id's key part."""
    if text.startswith(HEX_PREFIX):
        return bytes.fromhex(text[len(HEX_PREFIX) :])
    return text.encode("ascii")


def _lmdb():
    """The ``lmdb`` module, imported only when an LSUN database is opened."""
    try:
        import lmdb
    except ImportError:
        raise DatasetError("dataset 'lsun' needs the lmdb package: pip install 'inpaintbench[lsun]'") from None
    return lmdb


def _environment(path: Path):
    """A read-only LMDB environment, shared by every loader in this process.

    ``lock=False``: the databases are never written, and read-only media or
    other users' files cannot take a lock file.  An environment must not cross a
    fork, so a child process opens its own.
    """
    key = str(path)
    cached = _ENVIRONMENTS.get(key)
    if cached is None or cached[0] != os.getpid():
        lmdb = _lmdb()
        try:
            env = lmdb.open(key, readonly=True, lock=False, readahead=False, meminit=False)
        except lmdb.Error as error:
            raise DatasetError(f"dataset 'lsun': cannot open LMDB database {path}: {error}") from None
        cached = _ENVIRONMENTS[key] = (os.getpid(), env)
    return cached[1]


class LSUN(Dataset):
    """Scene photographs stored as encoded images in LMDB, read in place."""

    name = "lsun"
    scans_root = False  # its items are a fixed list: files written under the root never join them
    summary = "LSUN scenes from their LMDB databases (val = every *_val_lmdb; or e.g. bedroom_val)"
    layout = "ROOT/<category>_{train,val}_lmdb/data.mdb, e.g. ROOT/bedroom_val_lmdb/"
    splits = ("val", "train")
    default_split = "val"
    #: never None: ``needs_root`` makes :class:`Dataset` refuse a missing root
    root: Path

    def __init__(self, root: Path | None, split: str | None = None):
        super().__init__(root, split)
        _lmdb()
        if self.split in self.splits:
            suffix = f"_{self.split}_lmdb"
            self._databases = sorted(p.name for p in self.root.iterdir() if p.name.endswith(suffix) and p.is_dir())
            if not self._databases:
                raise self.layout_error(f"no *{suffix}/ database")
        else:
            self._databases = [f"{self.split}_lmdb"]
        for database in self._databases:
            if not (self.root / database / "data.mdb").is_file():
                raise self.layout_error(f"{database}/data.mdb is missing")
        self._ids: list[str] | None = None

    def _accepts_split(self, split: str) -> bool:
        return ONE_DATABASE.match(split) is not None

    def item_ids(self) -> list[str]:
        if self._ids is None:  # a train database holds millions of keys: list once
            ids: list[str] = []
            for database in self._databases:
                with _environment(self.root / database).begin(write=False) as txn:
                    ids.extend(f"{database}/{key_to_id(key)}" for key in txn.cursor().iternext(keys=True, values=False))
            self._ids = sorted(ids)
        return list(self._ids)

    def read(self, item_id: str) -> np.ndarray:
        database, _, key_text = item_id.partition("/")
        source = f"{self.root / database} key {key_text}"
        try:
            key = id_to_key(key_text)
        except ValueError:
            raise ImageReadError(source, "not a valid key (hex digits expected after 'hex:')") from None
        if database not in self._databases:
            raise ImageReadError(source, f"database {database} is not in split {self.split!r}")
        with _environment(self.root / database).begin(write=False, buffers=False) as txn:
            value = txn.get(key)
        if value is None:
            raise ImageReadError(source, "no such key in the database")
        return decode_image(value, source)
