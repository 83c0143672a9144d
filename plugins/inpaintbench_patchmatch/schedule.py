"""The parameters of one completion, apart from the code that runs it so that they import without torch."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Schedule:
    """The parameters of one completion (the method's options, minus the device)."""

    patch_size: int = dataclasses.field(default=9, metadata={
        "help": "side (px) of the square patches that are matched and voted (odd, >= 3)"})
    min_size: int = dataclasses.field(default=64, metadata={
        "help": "the pyramid's coarsest level keeps its shorter side at least this (px)"})
    levels: int = dataclasses.field(default=0, metadata={
        "help": "at most this many pyramid levels (0: as many as min_size allows)"})
    em_iterations: int = dataclasses.field(default=1, metadata={
        "help": "EM iterations at the finest level; level L (0 = finest) runs em_iterations + em_iterations_per_level * L"})
    em_iterations_per_level: int = dataclasses.field(default=2, metadata={
        "help": "extra EM iterations per level above the finest"})
    search_iterations: int = dataclasses.field(default=1, metadata={
        "help": "most PatchMatch passes per EM step; level L runs min(this, 1 + L)"})
    gradient_weight: float = dataclasses.field(default=0.0, metadata={
        "help": "weight of the x/y luminance gradients in the patch distance (0: colour only)"})
    seed: int = dataclasses.field(default=0, metadata={
        "help": "seed of the random search; a result depends only on (image, mask, options)"})

    def em_steps(self, level: int) -> int:
        """EM iterations at ``level`` (0 = finest)."""
        return self.em_iterations + self.em_iterations_per_level * level

    def passes(self, level: int) -> int:
        """PatchMatch passes per E step at ``level``."""
        return min(self.search_iterations, 1 + level)
