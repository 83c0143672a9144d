"""The evaluation protocol: how a raw image becomes a benchmark input (docs/protocol.md).

Resize the shorter side to ``image_size`` (area interpolation when shrinking,
bicubic when a small image must grow), center-crop, then draw the hole from
(seed, item, protocol).  Everything a table depends on is in this one frozen
object, recorded with every result, so another resolution is one option away.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import cv2
import numpy as np

from .errors import InpaintbenchError
from .mask_protocols import parse_mask
from .masks import center_mask

if TYPE_CHECKING:
    from .mask_protocols import MaskProtocol

#: smallest benchmark image: the SSIM window plus a border on each side
MIN_IMAGE_SIZE = 16


@dataclasses.dataclass(frozen=True)
class Protocol:
    """Image size, mask protocol and center-hole size of a benchmark."""

    image_size: int = 128
    mask: str = "center"
    #: side of the center hole; ``None`` means half the image side (the paper's 64 in 128)
    hole_size: int | None = None

    def __post_init__(self) -> None:
        if self.image_size < MIN_IMAGE_SIZE:
            raise InpaintbenchError(
                f"image size {self.image_size} is too small: SSIM's 11x11 window needs at least {MIN_IMAGE_SIZE} px"
            )
        # fail early on a bad --mask; record the protocol's own text (files:DIR: the absolute folder)
        mask_protocol = parse_mask(self.mask)
        object.__setattr__(self, "mask", mask_protocol.text)
        self._mask_protocol: MaskProtocol  # declared for type checkers only: set past the frozen __setattr__
        object.__setattr__(self, "_mask_protocol", mask_protocol)  # not a field: parsed once, not compared or recorded
        center_mask(self.image_size, self.center_hole)  # and on a hole that does not fit

    @property
    def mask_protocol(self) -> MaskProtocol:
        """The registered protocol that ``mask`` names, with its argument parsed."""
        return self._mask_protocol

    @property
    def center_hole(self) -> int:
        return self.hole_size if self.hole_size is not None else self.image_size // 2

    @property
    def key(self) -> str:
        """A string that changes whenever a mask or crop would change."""
        return f"{self.mask}@{self.image_size}/{self.center_hole}"

    def prepare(self, image: np.ndarray) -> np.ndarray:
        """Resize the shorter side to ``image_size`` and crop the center square."""
        return center_crop(resize_shorter_side(image, self.image_size), self.image_size)

    def prepare_for_training(
        self, image: np.ndarray, rng: np.random.Generator, resize_to: int | None = None, flip: bool = False
    ) -> np.ndarray:
        """Training input: resize the shorter side to ``resize_to`` (default ``image_size``), random-crop, maybe flip.

        Context Encoder's recipe resizes to 350 before cropping 128; the paper's
        model crops straight from the 128-resized image.
        """
        resized = resize_shorter_side(image, max(resize_to or self.image_size, self.image_size))
        height, width = resized.shape[:2]
        top = int(rng.integers(0, height - self.image_size + 1))
        left = int(rng.integers(0, width - self.image_size + 1))
        crop = resized[top : top + self.image_size, left : left + self.image_size]
        if flip and rng.random() < 0.5:
            crop = crop[:, ::-1]
        return np.ascontiguousarray(crop)

    def training_mask(self, rng: np.random.Generator) -> np.ndarray:
        """A hole for one training sample, drawn from ``rng`` (fresh per sample, unlike evaluation's per item)."""
        return self.mask_protocol.training_mask(rng, self.image_size, self.center_hole)

    def make_mask(self, item_id: str, seed: int, source_shape: tuple[int, int] | None = None) -> np.ndarray:
        """The item's hole, identical for every method.

        ``source_shape`` (the raw image's height and width) is needed by
        ``files:DIR``, whose masks may be drawn on the raw photograph.
        """
        return self.mask_protocol.item_mask(self, item_id, seed, source_shape)

    def describe(self) -> dict:
        return {
            **dataclasses.asdict(self),
            "hole_size": self.center_hole,
            "resize": "shorter side to image_size (INTER_AREA down, INTER_CUBIC up)",
            "crop": "center",
        }


def resize_shorter_side(image: np.ndarray, size: int) -> np.ndarray:
    """Scale so that min(H, W) == size, keeping the aspect ratio."""
    height, width = image.shape[:2]
    scale = size / min(height, width)
    if scale == 1:
        return image
    new_size = (max(size, round(width * scale)), max(size, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, new_size, interpolation=interpolation)


def center_crop(image: np.ndarray, size: int) -> np.ndarray:
    height, width = image.shape[:2]
    top, left = (height - size) // 2, (width - size) // 2
    return np.ascontiguousarray(image[top : top + size, left : left + size])
