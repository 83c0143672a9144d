"""The options of ``context-encoder`` (``-o KEY=VALUE``), importable without torch: listings and ``--help`` read them."""

from __future__ import annotations

import dataclasses

from inpaintbench.errors import InpaintbenchError


@dataclasses.dataclass(frozen=True)
class ContextEncoderOptions:
    overlap: int = dataclasses.field(default=0, metadata={
        "help": "band (px) inside the 64x64 center left visible in training; 0 erases it all, as the benchmark's "
                "input does (the release's 4 trains on an input the benchmark never gives)"})
    loss_band: int = dataclasses.field(default=4, metadata={
        "help": "width (px) of the predicted patch's outer band that the L2 weighs band_weight times (the release: 4)"})
    band_weight: float = dataclasses.field(default=10.0, metadata={
        "help": "L2 weight of that band relative to the inner pixels (the release's overlapL2Weight)"})
    lambda_adv: float = dataclasses.field(default=0.001, metadata={
        "help": "λ in (1 - λ)·L2 + λ·adversarial (the release's 1 - wtl2); 0 trains without a discriminator"})
    generator_lr_factor: float = dataclasses.field(default=10.0, metadata={
        "help": "the generator's learning rate is this times the discriminator's (--lr)"})
    width: float = dataclasses.field(default=1.0, metadata={
        "help": "channel multiplier (1.0 is the release's network; smaller for quick experiments and tests)"})
    bottleneck: int = dataclasses.field(default=4000, metadata={
        "help": "size of the code between encoder and decoder"})

    def __post_init__(self):
        problems = [
            (not 0 <= self.overlap < 32, f"overlap must be 0 to 31 px (the hole is 64 px wide), got {self.overlap}"),
            (not 0 <= self.loss_band < 32, f"loss_band must be 0 to 31 px (the patch is 64 px wide), got {self.loss_band}"),
            (self.band_weight <= 0, f"band_weight must be positive, got {self.band_weight}"),
            (not 0 <= self.lambda_adv < 1, f"lambda_adv must be in [0, 1), got {self.lambda_adv}"),
            (self.generator_lr_factor <= 0, f"generator_lr_factor must be positive, got {self.generator_lr_factor}"),
            (self.width <= 0 or self.bottleneck < 1, "width must be positive and bottleneck at least 1"),
        ]
        for failed, message in problems:
            if failed:
                raise InpaintbenchError(f"method 'context-encoder': {message}")
