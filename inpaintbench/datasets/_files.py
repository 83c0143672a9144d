"""Finding image files on disk, shared by the loaders that read plain folders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

#: file name endings read as images (compared case-insensitively)
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})

#: for layout messages
EXTENSIONS_TEXT = ", ".join(sorted(ext.lstrip(".") for ext in IMAGE_EXTENSIONS))


def is_image_name(name: str) -> bool:
    """True for a visible file name with an image extension.

    Hidden files are skipped: macOS leaves ``._photo.jpg`` resource forks beside
    copied images, and they are not images.
    """
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def iter_images(folder: Path) -> Iterator[str]:
    """Yield the image files under ``folder``, recursively, as POSIX paths relative to it.

    Follows symlinked folders (datasets are often linked in from another disk),
    visiting each real folder once, and skips hidden folders.  The order is
    deterministic but not sorted overall; use :func:`list_images` for ids.
    """
    seen: set[tuple[int, int]] = set()
    for directory, subdirs, files in os.walk(folder, followlinks=True):
        stat = os.stat(directory)
        if (stat.st_dev, stat.st_ino) in seen:
            subdirs[:] = []
            continue
        seen.add((stat.st_dev, stat.st_ino))
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        relative = Path(directory).relative_to(folder)
        for name in sorted(files):
            if is_image_name(name):
                yield (relative / name).as_posix()


def list_images(folder: Path) -> list[str]:
    """All image files under ``folder`` as sorted POSIX relative paths: stable item ids."""
    return sorted(iter_images(folder))


def has_images(folder: Path) -> bool:
    """Whether ``folder`` holds at least one image, without listing all of them."""
    return folder.is_dir() and next(iter_images(folder), None) is not None


def first_dir(root: Path, candidates: tuple[str, ...]) -> Path | None:
    """The first of ``root/<candidate>`` that is a directory, or None."""
    for candidate in candidates:
        if (root / candidate).is_dir():
            return root / candidate
    return None
