"""``ours`` as the harness runs it: a trained context encoder filling the center hole."""

from __future__ import annotations

from inpaintbench import TrainableMethod

from .options import OursOptions


class Ours(TrainableMethod):
    name = "ours"
    summary = "the paper's context encoder (1x1 conv, 4000-d code) with local + global discriminators"
    #: what to use instead on photographs at their own size and other holes
    alternatives = ("patchmatch", "telea", "glcic")
    Options = OursOptions
    Recipe = "inpaintbench_ours.recipe:OursRecipe"  # imported on first use: it needs torch
    #: a 1/16-width network with a 16-d code; four steps pass through all three phases
    test_options = {"width": "0.0625", "bottleneck": "16", "phases": "0.25,0.25,0.5"}

    def variant(self) -> str:
        """Table VII's ablations are named in tables; the full model is plain ``ours``."""
        return {"ce": "encoder-decoder only", "local": "+ local discriminator"}.get(self.options.variant, "")
