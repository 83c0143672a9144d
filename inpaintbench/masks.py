"""Hole masks: the paper's center square and the protocols users expect beside it.

Every mask is a function of (seed, item id, protocol) only, through
:func:`item_rng`, so every method sees exactly the same hole on the same item
and a run can be repeated bit for bit.  True marks a hole pixel.
"""

from __future__ import annotations

import dataclasses
import hashlib

import cv2
import numpy as np

from .errors import InpaintbenchError

MASK_KINDS = ("center", "random-box", "irregular", "files")

#: hole-area bins of the irregular protocol (fractions of the image), as in
#: partial-convolution and LaMa evaluations
IRREGULAR_BINS: tuple[tuple[float, float], ...] = ((0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5), (0.5, 0.6))


@dataclasses.dataclass(frozen=True)
class MaskSpec:
    """A parsed ``--mask`` value: ``center``, ``random-box``, ``irregular``, ``irregular:20-30`` or ``files:DIR``."""

    kind: str
    area_bin: tuple[float, float] | None = None
    #: the user's mask folder of ``files:DIR`` (see :mod:`inpaintbench.mask_files`)
    folder: str | None = None

    @classmethod
    def parse(cls, text: str) -> "MaskSpec":
        kind, _, rest = text.partition(":")
        if kind not in MASK_KINDS:
            from .errors import UnknownNameError

            raise UnknownNameError("mask protocol", kind, list(MASK_KINDS))
        if kind == "files":
            if not rest:
                raise InpaintbenchError("mask 'files' needs the folder of mask images: --mask files:DIR")
            return cls(kind, folder=rest)
        if not rest:
            return cls(kind)
        if kind != "irregular":
            raise InpaintbenchError(f"mask {text!r}: only 'irregular' takes an area bin, e.g. irregular:20-30")
        try:
            low, high = (float(part) / 100 for part in rest.split("-"))
        except ValueError:
            raise InpaintbenchError(f"mask {text!r}: write the area bin in percent, e.g. irregular:20-30") from None
        if not 0 < low < high <= 0.9:
            raise InpaintbenchError(f"mask {text!r}: the area bin must satisfy 0 < low < high <= 90 (percent)")
        return cls(kind, (low, high))

    def __str__(self) -> str:
        if self.folder is not None:
            return f"{self.kind}:{self.folder}"
        if self.area_bin is None:
            return self.kind
        low, high = self.area_bin
        return f"{self.kind}:{round(low * 100)}-{round(high * 100)}"


def item_rng(seed: int, item_id: str, protocol_key: str) -> np.random.Generator:
    """A generator that depends only on (seed, item, protocol), the same on every platform."""
    digest = hashlib.sha256(f"{seed}\x00{protocol_key}\x00{item_id}".encode("utf-8", "surrogateescape")).digest()
    return np.random.default_rng(np.random.SeedSequence(list(np.frombuffer(digest, dtype=np.uint32))))


def make_mask(spec: MaskSpec, size: int, hole_size: int, rng: np.random.Generator) -> np.ndarray:
    """The (size, size) boolean mask of one item under ``spec`` (a generated protocol, not ``files``)."""
    if spec.kind == "files":
        raise InpaintbenchError("masks from files belong to items, not to a random draw: there is no training mask for --mask files")
    if spec.kind == "center":
        return center_mask(size, hole_size)
    if spec.kind == "random-box":
        return random_box_mask(size, rng)
    area_bin = spec.area_bin or IRREGULAR_BINS[rng.integers(len(IRREGULAR_BINS))]
    return irregular_mask(size, area_bin, rng)


def center_mask(size: int, hole_size: int) -> np.ndarray:
    """One hole_size square in the middle (the paper: 64x64 in 128x128)."""
    if not 0 < hole_size < size:
        raise InpaintbenchError(f"center hole of {hole_size} px does not fit a {size} px image")
    mask = np.zeros((size, size), dtype=bool)
    start = (size - hole_size) // 2
    mask[start : start + hole_size, start : start + hole_size] = True
    return mask


def random_box_mask(size: int, rng: np.random.Generator) -> np.ndarray:
    """One box with sides in [3/8, 1/2] of the image, anywhere inside it (GLCIC's 96-128 of 256)."""
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
