"""The options of ``ours`` (``-o KEY=VALUE``), importable without torch: listings and ``--help`` read them."""

from __future__ import annotations

import dataclasses

from inpaintbench.errors import InpaintbenchError
from inpaintbench.training import parse_fractions

VARIANTS = ("ce", "local", "full")


@dataclasses.dataclass(frozen=True)
class OursOptions:
    variant: str = dataclasses.field(default="full", metadata={
        "help": "Table VII ablation: ce (encoder-decoder only), local (+ local discriminator), full (+ local and global)"})
    phases: str = dataclasses.field(default="0.4,0.3,0.3", metadata={
        "help": "run fractions of the three phases: reconstruction, + local adversary, + global adversary"})
    lambda_local: float = dataclasses.field(default=0.001, metadata={
        "help": "λ2, weight of the local adversarial loss, ramped linearly from 0 over phase 2"})
    lambda_global: float = dataclasses.field(default=0.001, metadata={
        "help": "λ3, weight of the global adversarial loss, ramped linearly from 0 over phase 3"})
    width: float = dataclasses.field(default=1.0, metadata={
        "help": "channel multiplier (1.0 is the paper's network; smaller for quick experiments and tests)"})
    bottleneck: int = dataclasses.field(default=4000, metadata={
        "help": "size of the code between encoder and decoder"})

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise InpaintbenchError(f"method 'ours': variant {self.variant!r} is not one of {', '.join(VARIANTS)}")
        if self.width <= 0 or self.bottleneck < 1:
            raise InpaintbenchError("method 'ours': width must be positive and bottleneck at least 1")
        parse_fractions(self.phases, 3)
