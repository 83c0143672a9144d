"""GLCIC's post-processing: Telea fast marching, then Poisson blending (the authors' ``inpaint.lua --postproc``).

The completed image (known pixels from the input, the network's pixels in
the hole) is filled again by Telea's method inside the hole (radius 1), and
the completed image is Poisson-blended (``cv2.seamlessClone``, NORMAL_CLONE)
onto that Telea fill over the hole.  OpenCV erodes the clone mask by a few
pixels, so the rim of the hole takes Telea's colours and the interior the
network's gradients: the seam at the hole's edge is smoothed away.

Everything here is built from the method's own inputs and output: the
function has no parameter through which the ground truth could arrive (a
public port blended onto the original image, which leaks the truth).
"""

from __future__ import annotations

import cv2
import numpy as np

#: Telea's neighbourhood radius, as in the authors' code (``inpaintRadius=1``)
TELEA_RADIUS = 1


def blend_into_surroundings(completed: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Post-process one completed image (H, W, 3) uint8 whose hole is ``mask`` (H, W) bool.

    ``completed`` must already hold the input's pixels outside the hole; an
    image with no hole, or no known pixel, is returned unchanged.
    """
    if not mask.any() or mask.all():
        return completed.copy()
    hole = mask.astype(np.uint8) * 255
    telea = cv2.inpaint(completed, hole, TELEA_RADIUS, cv2.INPAINT_TELEA)
    x, y, width, height = cv2.boundingRect(hole)
    centre = (x + width // 2, y + height // 2)  # places the clone exactly on the hole (tested)
    # seamlessClone writes into the mask it is given: hand it a copy
    blended = cv2.seamlessClone(completed, telea, hole.copy(), centre, cv2.NORMAL_CLONE)
    return np.where(mask[..., None], blended, completed)  # known pixels stay the input's
