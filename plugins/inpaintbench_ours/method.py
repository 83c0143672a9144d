"""``ours`` as the harness runs it: a trained context encoder filling the center hole."""

from __future__ import annotations

import numpy as np

from inpaintbench import TrainableMethod
from inpaintbench.errors import InpaintbenchError

from .recipe import OursOptions, OursRecipe, center_box


class Ours(TrainableMethod):
    name = "ours"
    summary = "the paper's context encoder (1x1 conv, 4000-d code) with local + global discriminators"
    Options = OursOptions
    Recipe = OursRecipe

    def check_masks(self, masks: np.ndarray) -> None:
        offset, side = center_box(masks.shape[-1])
        inside = masks[:, offset : offset + side, offset : offset + side].all(axis=(1, 2))
        if not (inside.all() and (masks.sum(axis=(1, 2)) == side * side).all()):
            raise InpaintbenchError(
                f"method 'ours' predicts the center {side}x{side} square only (the paper's protocol); run with --mask center"
            )
