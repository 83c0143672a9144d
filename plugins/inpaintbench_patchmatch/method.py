"""The ``patchmatch`` method: its options (checked on construction) and the Method class."""

from __future__ import annotations

import dataclasses

import numpy as np

from inpaintbench import Method
from inpaintbench.errors import InpaintbenchError

from .schedule import Schedule

#: images completed together on CUDA (on CPU one at a time: a batch gains nothing there)
CUDA_BATCH = 32


@dataclasses.dataclass(frozen=True)
class PatchMatchOptions(Schedule):
    """Defaults: 9x9 patches, 1 + 2L EM steps of one PatchMatch pass each, pyramid down to 64 px.

    ``inpaintbench methods patchmatch`` shows each field's help.
    """

    def __post_init__(self):
        problems = []
        if self.patch_size < 3 or self.patch_size % 2 == 0:
            problems.append(f"patch_size={self.patch_size} must be odd and >= 3")
        if self.min_size < 1:
            problems.append(f"min_size={self.min_size} must be >= 1")
        if self.levels < 0:
            problems.append(f"levels={self.levels} must be >= 0 (0: automatic)")
        if self.em_iterations < 1 or self.em_iterations_per_level < 0:
            problems.append("em_iterations must be >= 1 and em_iterations_per_level >= 0")
        if self.search_iterations < 1:
            problems.append(f"search_iterations={self.search_iterations} must be >= 1")
        if not self.gradient_weight >= 0:
            problems.append(f"gradient_weight={self.gradient_weight} must be >= 0")
        if problems:
            raise InpaintbenchError("method 'patchmatch': " + "; ".join(problems))


class PatchMatch(Method):
    name = "patchmatch"
    summary = "exemplar-based completion: coarse-to-fine EM with PatchMatch fields (Wexler 2007, Barnes 2009)"
    batched = True
    devices = ("cpu", "cuda")
    Options = PatchMatchOptions

    def inpaint(self, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        from .completion import complete  # imports torch: not when methods are only listed

        step = CUDA_BATCH if self.device == "cuda" else 1
        parts = [complete(images[k : k + step], masks[k : k + step], self.options, self.device) for k in range(0, len(images), step)]
        return np.concatenate(parts) if parts else images.copy()
