"""``context-encoder`` as the harness runs it: a trained context encoder filling the center hole."""

from __future__ import annotations

from inpaintbench import TrainableMethod

from .options import ContextEncoderOptions


class ContextEncoder(TrainableMethod):
    name = "context-encoder"
    summary = "Pathak et al. 2016: context encoder (4000-d code) + patch discriminator, the released recipe on the benchmark's input"
    #: what to use instead on photographs at their own size and other holes
    alternatives = ("patchmatch", "telea", "glcic")
    Options = ContextEncoderOptions
    Recipe = "inpaintbench_context_encoder.recipe:ContextEncoderRecipe"  # imported on first use: it needs torch
    #: a 1/16-width network with a 16-d code
    test_options = {"width": "0.0625", "bottleneck": "16"}

    def variant(self) -> str:
        """Tables mark a model trained as the release does (visible band, 350-px crops): not comparable."""
        trained = getattr(self, "trained_on", None) or {}
        release_like = []
        if self.options.overlap:
            release_like.append(f"{self.options.overlap}-px band visible in training")
        if trained.get("resize_to") not in (None, getattr(self, "image_size", None)):
            release_like.append(f"trained on {trained['resize_to']}-px resizes")
        return "; ".join(release_like) + ": not comparable" if release_like else ""

