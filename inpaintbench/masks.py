"""Drawing hole masks: the per-item generator and the shapes the built-in protocols draw.

Every mask is a function of (seed, item id, protocol) only, through
:func:`item_rng`, so every method sees exactly the same hole on the same item
and a run can be repeated bit for bit.  True marks a hole pixel.  Which shape
a ``--mask`` value draws is the registered protocol's business
(:mod:`inpaintbench.mask_protocols`).
"""

from __future__ import annotations

import hashlib

import cv2
import numpy as np

from .errors import InpaintbenchError

#: hole-area bins of the irregular protocol (fractions of the image), as in
#: partial-convolution and LaMa evaluations
IRREGULAR_BINS: tuple[tuple[float, float], ...] = ((0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5), (0.5, 0.6))


def item_rng(seed: int, item_id: str, protocol_key: str) -> np.random.Generator:
    """A generator that depends only on (seed, item, protocol), the same on every platform."""
    digest = hashlib.sha256(f"{seed}\x00{protocol_key}\x00{item_id}".encode("utf-8", "surrogateescape")).digest()
    return np.random.default_rng(np.random.SeedSequence(list(np.frombuffer(digest, dtype=np.uint32))))


def center_mask(size: int, hole_size: int) -> np.ndarray:
    """One hole_size square in the middle (the paper: 64x64 in 128x128)."""
    if not 0 < hole_size < size:
        raise InpaintbenchError(f"center hole of {hole_size} px does not fit a {size} px image")
    mask = np.zeros((size, size), dtype=bool)
    start = (size - hole_size) // 2
    mask[start : start + hole_size, start : start + hole_size] = True
    return mask


def random_box_mask(size: int, rng: np.random.Generator) -> np.ndarray:
    """One box with sides in [3/8, 1/2] of the image, anywhere inside it (Iizuka et al. 2017: 96-128 of 256)."""
    low, high = (3 * size) // 8, size // 2
    height, width = rng.integers(low, high + 1, size=2)
    top = rng.integers(0, size - height + 1)
    left = rng.integers(0, size - width + 1)
    mask = np.zeros((size, size), dtype=bool)
    mask[top : top + height, left : left + width] = True
    return mask


def irregular_mask(size: int, area_bin: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """Free-form brush strokes (DeepFill v2 style) whose hole area falls in ``area_bin``.

    Strokes are added one at a time; a stroke that would overshoot the bin is
    redrawn thinner, so the area lands inside the bin without biasing shapes
    towards one big blob.
    """
    low, high = area_bin
    canvas = np.zeros((size, size), dtype=np.uint8)
    total = size * size
    max_width = max(2, size // 8)
    for _ in range(500):
        if canvas.sum() / total >= low:
            return canvas.astype(bool)
        width = int(rng.integers(max(1, size // 32), max_width + 1))
        candidate = canvas.copy()
        _draw_stroke(candidate, width, rng)
        if candidate.sum() / total < high:
            canvas = candidate
        else:
            max_width = max(2, max_width * 3 // 4)
    raise InpaintbenchError(f"could not draw an irregular mask with area in {area_bin} at {size} px")


def _draw_stroke(canvas: np.ndarray, width: int, rng: np.random.Generator) -> None:
    """One polyline of 4-12 random segments with round joints, drawn in place."""
    size = canvas.shape[0]
    x, y = (int(v) for v in rng.integers(0, size, size=2))
    for _ in range(int(rng.integers(4, 13))):
        angle = rng.uniform(0, 2 * np.pi)
        length = rng.uniform(size / 16, size / 4)
        nx = int(np.clip(x + length * np.cos(angle), 0, size - 1))
        ny = int(np.clip(y + length * np.sin(angle), 0, size - 1))
        cv2.line(canvas, (x, y), (nx, ny), 1, thickness=width)
        cv2.circle(canvas, (nx, ny), width // 2, 1, thickness=-1)
        x, y = nx, ny
