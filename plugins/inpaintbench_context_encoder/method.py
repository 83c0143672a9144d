"""``context-encoder`` as the harness runs it: a trained context encoder filling the center hole."""

from __future__ import annotations

from inpaintbench import TrainableMethod

from .recipe import ContextEncoderOptions, ContextEncoderRecipe


class ContextEncoder(TrainableMethod):
    name = "context-encoder"
    summary = "Pathak et al. 2016: context encoder (4000-d code) + patch discriminator, the released Torch recipe"
    Options = ContextEncoderOptions
    Recipe = ContextEncoderRecipe

