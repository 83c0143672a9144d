"""Finding the file that belongs to an image in another folder: its mask, or a method's output.

Tools name these files in a few common ways, and a user should not have to
rename anything: for the image ``street/photo.jpg`` (or the item id
``street/photo.jpg``) a companion folder may hold

- ``street/photo.png`` (or any image extension): equal stems;
- ``street/photo_mask.png``: LaMa's layout (its masks, and its predictions,
  which it names after the mask);
- ``street/photo.jpg.png``: what ``inpaintbench run`` and ``masks export``
  write (the item id plus ``.png``), and ``street/photo.jpg_mask.png``.

All of these share one key, ``street/photo``.  A key that two files share is
ambiguous and reported as such, never resolved by a guess.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from .datasets._files import IMAGE_EXTENSIONS, list_images
from .errors import InpaintbenchError

#: the suffix LaMa's layout puts on mask file names (``image.png`` / ``image_mask.png``)
MASK_SUFFIX = "_mask"


def pairing_key(relative: str) -> str:
    """``street/photo.jpg``, ``street/photo_mask.png``, ``street/photo.jpg.png`` and
    ``street/photo.jpg_mask.png`` all give ``street/photo``."""
    text = _without_image_extension(relative)
    if text.endswith(MASK_SUFFIX):
        text = text[: -len(MASK_SUFFIX)]
    return _without_image_extension(text)  # photo.jpg.png: the item id's extension under the written PNG's


def _without_image_extension(relative: str) -> str:
    path = PurePosixPath(relative)
    return path.with_suffix("").as_posix() if path.suffix.lower() in IMAGE_EXTENSIONS else path.as_posix()


def is_mask_name(relative: str) -> bool:
    """Whether a file is named as a mask in LaMa's layout (``photo_mask.png``)."""
    return PurePosixPath(relative).with_suffix("").name.endswith(MASK_SUFFIX)


class CompanionFolder:
    """An index of the image files under ``folder`` by :func:`pairing_key`, built once."""

    def __init__(self, folder: Path, what: str, prefer_masks: bool = False, masks_only: bool = False):
        """``prefer_masks``: of ``photo.png`` and ``photo_mask.png``, take the mask; ``masks_only``: index
        ``*_mask.*`` files alone (the folder also holds the images themselves)."""
        self.folder = Path(folder)
        self.what = what
        if not self.folder.is_dir():
            raise InpaintbenchError(f"{what} folder {self.folder} is not a directory")
        self._files: dict[str, list[str]] = {}
        for relative in list_images(self.folder):
            if masks_only and not is_mask_name(relative):
                continue
            self._files.setdefault(pairing_key(relative), []).append(relative)
        if not self._files:
            raise InpaintbenchError(f"{what} folder {self.folder} holds no images ({', '.join(sorted(IMAGE_EXTENSIONS))})")
        self.prefer_masks = prefer_masks

    def find(self, relative: str) -> Path:
        """The one file paired with the image or item ``relative``; a one-line error when none or several."""
        key = pairing_key(relative)
        found = self._files.get(key, [])
        if self.prefer_masks and len(found) > 1:  # LaMa's layout: photo.png and photo_mask.png side by side
            found = [name for name in found if is_mask_name(name)] or found
        if not found:
            raise InpaintbenchError(
                f"no {self.what} for {relative} in {self.folder} (looked for {key}.png, {key}{MASK_SUFFIX}.png "
                f"or another image extension)"
            )
        if len(found) > 1:
            raise InpaintbenchError(f"{len(found)} {self.what} files in {self.folder} match {relative}: {', '.join(found)}")
        return self.folder / found[0]


def same_folder(first: Path, second: Path) -> bool:
    """Whether two paths name the same folder (LaMa keeps images and masks in one)."""
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False
