"""``context-encoder`` as the harness runs it: a trained context encoder filling the center hole."""

from __future__ import annotations

import numpy as np

from inpaintbench import TrainableMethod
from inpaintbench.training.gan import require_center_masks

from .recipe import ContextEncoderOptions, ContextEncoderRecipe


class ContextEncoder(TrainableMethod):
    name = "context-encoder"
    summary = "Pathak et al. 2016: context encoder (4000-d code) + patch discriminator, the released Torch recipe"
    Options = ContextEncoderOptions
    Recipe = ContextEncoderRecipe

    def check_masks(self, masks: np.ndarray) -> None:
        require_center_masks(self.name, masks)
