"""A split list: a ``.tsv`` or ``.csv`` file beside a user's images that names each image's split.

Photo collections and exported datasets often come with a manifest (a
``MANIFEST.tsv`` with ``file ... split`` columns) rather than ``train/`` and
``val/`` folders.  Reading it lets a user train on one split and evaluate on
another without moving a file.

The rules, chosen so that a list written by hand or by a spreadsheet works:

- a candidate is a ``.tsv`` (tab-separated) or ``.csv`` (comma-separated) file
  directly in the root whose header has a ``split`` column and a file column
  (:data:`FILE_COLUMNS`, the first present wins), case-insensitively;
- several candidates: ``splits.tsv`` or ``splits.csv`` is used if exactly one of
  them is among them, else it is an error naming them;
- an entry names the image at that path relative to the root, else the one
  image whose relative path ends with ``/<entry>`` (bare file names beside a
  ``photos/`` folder); an entry naming no image, or several, is an error, and so
  is an image named twice;
- split names are compared in lower case; an empty split cell puts the image in
  no named split.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

from ..errors import DatasetError

#: header names accepted for the column naming the image, in order of preference
FILE_COLUMNS = ("file", "path", "filename", "image", "name")

#: the header name of the column naming the split
SPLIT_COLUMN = "split"

#: file names used when the root holds several candidate lists
PREFERRED_NAMES = ("splits.tsv", "splits.csv")

#: delimiter by file name ending
DELIMITERS = {".tsv": "\t", ".csv": ","}

#: the split that is every image: no list may name it
ALL = "all"


@dataclasses.dataclass(frozen=True)
class Entry:
    """One row of a split list."""

    line: int
    file: str
    #: "" when the row names no split
    split: str


@dataclasses.dataclass(frozen=True)
class SplitList:
    """A parsed split list; :meth:`assign` matches it against the images found under the root."""

    path: Path
    entries: tuple[Entry, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The split names the list uses, sorted."""
        return tuple(sorted({entry.split for entry in self.entries if entry.split}))

    @property
    def description(self) -> str:
        return f"the split list {self.path.name}"

    def assign(self, image_ids: list[str]) -> dict[str, list[str]]:
        """Split name -> sorted ids of its images; ``image_ids`` are every image under the root.

        Raises :class:`DatasetError` for an entry naming no image (all of them
        counted, the first quoted), an entry naming several, or an image named twice.
        """
        exact = set(image_ids)
        by_suffix: dict[str, list[str]] = {}
        for image in image_ids:
            parts = image.split("/")
            for start in range(1, len(parts)):
                by_suffix.setdefault("/".join(parts[start:]), []).append(image)

        splits: dict[str, list[str]] = {name: [] for name in self.names}
        named_by: dict[str, Entry] = {}
        missing: list[Entry] = []
        for entry in self.entries:
            matches = [entry.file] if entry.file in exact else by_suffix.get(entry.file, [])
            if not matches:
                missing.append(entry)
                continue
            if len(matches) > 1:
                shown = ", ".join(matches[:3]) + (", ..." if len(matches) > 3 else "")
                raise DatasetError(
                    f"split list {self.path}, line {entry.line}: {entry.file!r} matches {len(matches)} images "
                    f"({shown}); write its path relative to {self.path.parent}"
                )
            image = matches[0]
            if image in named_by:
                first = named_by[image]
                raise DatasetError(
                    f"split list {self.path}: {image} is listed twice (line {first.line} as {first.file!r}, "
                    f"line {entry.line} as {entry.file!r}); an image belongs to one split"
                )
            named_by[image] = entry
            if entry.split:
                splits[entry.split].append(image)
        if missing:
            count = f"{len(missing)} entr{'y names' if len(missing) == 1 else 'ies name'}"
            raise DatasetError(
                f"split list {self.path}: {count} no image under {self.path.parent}; "
                f"the first: {missing[0].file!r} (line {missing[0].line})"
            )
        return {name: sorted(ids) for name, ids in splits.items()}


def find_split_list(root: Path) -> SplitList | None:
    """The split list directly in ``root``, or None; raises when several lists compete."""
    candidates = sorted(
        path
        for path in root.iterdir()
        if path.suffix.lower() in DELIMITERS and not path.name.startswith(".") and path.is_file() and _columns(path)
    )
    if not candidates:
        return None
    if len(candidates) > 1:
        preferred = [path for path in candidates if path.name.lower() in PREFERRED_NAMES]
        if len(preferred) != 1:
            names = ", ".join(path.name for path in candidates)
            raise DatasetError(
                f"{root} holds {len(candidates)} split lists ({names}); keep one, or name the one to use "
                f"{' or '.join(PREFERRED_NAMES)}"
            )
        candidates = preferred
    return read_split_list(candidates[0])


def read_split_list(path: Path) -> SplitList:
    """Parse a split list (UTF-8, a byte-order mark allowed); raises :class:`DatasetError` when it is not one."""
    columns = _columns(path)
    if columns is None:
        accepted = ", ".join(FILE_COLUMNS)
        raise DatasetError(f"split list {path}: its header needs a {SPLIT_COLUMN!r} column and a file column ({accepted})")
    file_column, split_column = columns
    entries = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, delimiter=DELIMITERS[path.suffix.lower()])
            next(reader)  # the header
            for row in reader:
                file = _cell(row, file_column).replace("\\", "/")  # lists written on Windows
                while file.startswith("./"):
                    file = file[2:]
                if not file:
                    continue  # a blank row
                split = _cell(row, split_column).lower()
                if split == ALL:
                    raise DatasetError(
                        f"split list {path}, line {reader.line_num}: {ALL!r} is every image, not a split to list; "
                        "rename that split"
                    )
                entries.append(Entry(reader.line_num, file, split))
    except UnicodeDecodeError as error:
        raise DatasetError(f"split list {path}: not UTF-8 text (byte {error.start}); save it as UTF-8") from None
    except csv.Error as error:
        raise DatasetError(f"split list {path}: {error}") from None
    return SplitList(path, tuple(entries))


def _columns(path: Path) -> tuple[int, int] | None:
    """(file column, split column) from the header of ``path``, or None when it is not a split list."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        try:
            header = next(csv.reader(handle, delimiter=DELIMITERS[path.suffix.lower()]), None)
        except csv.Error:
            return None
    names = [name.strip().lower() for name in header or []]
    file_column = next((names.index(name) for name in FILE_COLUMNS if name in names), None)
    if SPLIT_COLUMN not in names or file_column is None:
        return None
    return file_column, names.index(SPLIT_COLUMN)


def _cell(row: list[str], column: int) -> str:
    return row[column].strip() if column < len(row) else ""
