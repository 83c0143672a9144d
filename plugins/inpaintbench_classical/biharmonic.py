"""scikit-image's biharmonic inpainting: the smoothest fill, a strong PSNR baseline."""

from __future__ import annotations

import dataclasses

import numpy as np
from skimage.restoration import inpaint_biharmonic

from inpaintbench import Method


@dataclasses.dataclass(frozen=True)
class BiharmonicOptions:
    #: solve each connected hole separately (faster for many small holes)
    split_into_regions: bool = False


class Biharmonic(Method):
    name = "biharmonic"
    summary = "scikit-image biharmonic inpainting (Damelin & Hoang 2018)"
    Options = BiharmonicOptions

    def inpaint_one(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        filled = inpaint_biharmonic(
            image, mask, channel_axis=-1, split_into_regions=self.options.split_into_regions
        )
        return np.clip(np.rint(filled * 255.0), 0, 255).astype(np.uint8)
