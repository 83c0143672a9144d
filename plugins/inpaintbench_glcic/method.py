"""``glcic`` as the harness runs it: the trained completion network, then the authors' post-processing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np

from inpaintbench import TrainableMethod

from .options import GlcicOptions
from .postprocess import blend_into_surroundings

if TYPE_CHECKING:
    from .networks import CompletionNetwork


class Glcic(TrainableMethod):
    name = "glcic"
    summary = "Iizuka et al. 2017: dilated completion network, local + global discriminators, Telea + Poisson post-processing"
    Options = GlcicOptions
    Recipe = "inpaintbench_glcic.recipe:GlcicRecipe"  # imported on first use: it needs torch
    inference_options = ("postprocess",)
    #: a 1/16-width network; four steps pass through all three phases
    test_options = {"width": "0.0625", "phases": "0.25,0.25,0.5"}

    def inpaint(self, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        completed = super().inpaint(images, masks)
        if not self.options.postprocess:
            return completed
        return np.stack([blend_into_surroundings(image, mask) for image, mask in zip(completed, masks)])

    def variant(self) -> str:
        """Tables say whether the scores include the authors' post-processing."""
        return "post-processed" if self.options.postprocess else "no post-processing"

    def describe_options(self) -> dict[str, Any]:
        """The options, plus the mean pixel the loaded model fills holes with (it comes from its training set)."""
        described = super().describe_options()
        if hasattr(self, "networks"):
            generator = cast("CompletionNetwork", self.networks["generator"])
            described["mean_pixel"] = [round(v, 6) for v in generator.mean_pixel.tolist()]
        return described
