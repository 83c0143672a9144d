"""Masks the user drew: reading mask images, and the ``files:DIR`` protocol that pairs them with items.

A mask file is any image whose white (or bright) pixels are the hole: 1-bit,
8-bit or 16-bit grayscale, RGB or RGBA PNGs as painting tools and LaMa's
layout save them.  A pixel is a hole when it is brighter than half the range.

Under ``--mask files:DIR`` each item's mask comes from DIR (paired by name, see
:mod:`inpaintbench.pairing`) instead of being drawn from the seed.  It may be
drawn at the photograph's own size, and then goes through the same resize and
center crop as the image, or at the benchmark's size (``masks export`` writes
those), and then it is used as it is.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from .errors import ImageReadError, InpaintbenchError
from .images import decode_unchanged, read_file_bytes
from .pairing import CompanionFolder


def read_mask_file(path: Path) -> np.ndarray:
    """The hole of a mask image as (H, W) bool: True where the file is brighter than half its range."""
    try:  # the image reader's checks too: no pipes, no decompression bombs
        image = decode_unchanged(read_file_bytes(path), str(path))
    except ImageReadError as error:
        raise InpaintbenchError(f"mask {path}: {error.reason}") from None
    if image is None:
        raise InpaintbenchError(f"mask {path} is not a decodable image (corrupt, truncated or unsupported format)")
    if image.ndim == 3:
        channels = image.shape[2]
        if channels == 4 and np.ptp(image[:, :, :3]) == 0:  # one flat colour: the hole is painted in alpha
            image = image[:, :, 3]
        else:
            image = image[:, :, : min(channels, 3)].max(axis=2)  # any bright channel: red strokes count
    if image.dtype == bool:
        return image.copy()
    half = np.iinfo(image.dtype).max / 2 if np.issubdtype(image.dtype, np.integer) else 0.5
    return image > half


@functools.lru_cache(maxsize=8)
def mask_folder(folder: str) -> CompanionFolder:
    """The indexed mask folder of a ``files:DIR`` protocol (built once per run)."""
    return CompanionFolder(Path(folder), "mask", prefer_masks=True)


def benchmark_mask(folder: str, item_id: str, source_shape: tuple[int, int], size: int, fit) -> np.ndarray:
    """The item's hole at the benchmark's size, from its mask file in ``folder``.

    ``fit`` is the protocol's resize-and-crop to ``size`` x ``size``, applied
    when the mask was drawn on the photograph (same size as the source image)
    rather than on the benchmark image.  Resizing averages the hole and keeps pixels that are at
    least half hole.
    """
    path = mask_folder(folder).find(item_id)
    mask = read_mask_file(path)
    if mask.shape == tuple(source_shape) and mask.shape != (size, size):
        mask = fit(mask.astype(np.float32)) >= 0.5
    elif mask.shape != (size, size):
        height, width = source_shape
        raise InpaintbenchError(
            f"mask {path} is {mask.shape[1]}x{mask.shape[0]}; it must match the image ({width}x{height}) "
            f"or the benchmark image ({size}x{size})"
        )
    check_hole(mask, path)
    return mask


def check_hole(mask: np.ndarray, source: Path | str) -> None:
    """Refuse a mask with no hole (nothing to score) or no known pixel (nothing to complete from)."""
    if not mask.any():
        raise InpaintbenchError(f"mask {source} has no hole pixels (white = hole)")
    if mask.all():
        raise InpaintbenchError(f"mask {source} is all hole: there are no known pixels to complete from")
