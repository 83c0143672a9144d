"""The options of ``glcic`` (``-o KEY=VALUE``), importable without torch: listings and ``--help`` read them."""

from __future__ import annotations

import dataclasses

from inpaintbench.errors import InpaintbenchError
from inpaintbench.training import parse_fractions


@dataclasses.dataclass(frozen=True)
class GlcicOptions:
    phases: str = dataclasses.field(default="0.18,0.02,0.8", metadata={
        "help": "run fractions of the three phases: completion network, discriminators, joint (the paper's 90k/10k/400k)"})
    alpha: float = dataclasses.field(default=0.0004, metadata={
        "help": "α, the weight of the completion network's adversarial loss in the joint phase"})
    postprocess: bool = dataclasses.field(default=True, metadata={
        "help": "Telea + Poisson blending of the completion (inference only: the value given wins over the checkpoint's)"})
    mean_images: int = dataclasses.field(default=1000, metadata={
        "help": "training images averaged into the mean pixel that fills the hole (the first N of the seeded order)"})
    width: float = dataclasses.field(default=1.0, metadata={
        "help": "channel multiplier (1.0 is the paper's network; smaller for quick experiments and tests)"})

    def __post_init__(self):
        if self.width <= 0 or self.alpha < 0 or self.mean_images < 1:
            raise InpaintbenchError("method 'glcic': width must be positive, alpha non-negative and mean_images at least 1")
        parse_fractions(self.phases, 3)
