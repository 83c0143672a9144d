"""OpenCV's two diffusion-style fillers: Telea's fast marching and Navier-Stokes."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from inpaintbench import Method


@dataclasses.dataclass(frozen=True)
class OpenCVOptions:
    radius: int = dataclasses.field(default=3, metadata={
        "help": "radius (px) of the neighbourhood each hole pixel is filled from (3 is the common benchmark setting)"})


class _OpenCVInpaint(Method):
    Options = OpenCVOptions
    flag: int

    def inpaint_one(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return cv2.inpaint(image, mask.astype(np.uint8), self.options.radius, self.flag)


class Telea(_OpenCVInpaint):
    name = "telea"
    summary = "OpenCV fast-marching inpainting (Telea 2004)"
    reference_row = True  # fast and training-free: a floor every trained model should clear
    flag = cv2.INPAINT_TELEA


class NavierStokes(_OpenCVInpaint):
    name = "navier-stokes"
    summary = "OpenCV Navier-Stokes inpainting (Bertalmio et al. 2001)"
    flag = cv2.INPAINT_NS
