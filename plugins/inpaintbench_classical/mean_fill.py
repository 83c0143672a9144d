"""Mean-colour fill: the floor every learned method must beat."""

from __future__ import annotations

import numpy as np

from inpaintbench import Method


class MeanFill(Method):
    name = "mean-fill"
    summary = "fills the hole with the mean colour of the known pixels"
    reference_row = True  # the trivial floor
    batched = True

    def inpaint(self, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        known = ~masks[..., None]
        counts = np.maximum(known.sum(axis=(1, 2)), 1)
        means = (images * known).sum(axis=(1, 2)) / counts
        filled = np.broadcast_to(np.rint(means)[:, None, None, :], images.shape)
        return np.where(masks[..., None], filled, images).astype(np.uint8)
