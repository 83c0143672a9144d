"""Where the local discriminator looks: a square patch centred on the hole, kept inside the image.

The paper's local discriminator sees "a small area centered at the completed
region" (128x128 around holes of 96-128 px at 256x256; here half the image
side, so 64x64 at 128x128).  Centring on the hole's bounding box and then
sliding the patch back inside the image keeps the whole hole in the patch for
any hole no larger than the patch, with no randomness to checkpoint.
"""

from __future__ import annotations

import torch

from inpaintbench.errors import InpaintbenchError


def patch_side(image_size: int) -> int:
    """The local discriminator's input side: half the image (the paper's 128 in 256)."""
    return image_size // 2


def _centred_starts(hole_rows: torch.Tensor, side: int) -> torch.Tensor:
    """First index of a ``side``-long window centred on each row's run of hole pixels, clamped to the image."""
    length = hole_rows.shape[1]
    index = torch.arange(length, device=hole_rows.device)
    present = hole_rows.any(dim=1)
    first = torch.where(hole_rows, index, length).amin(dim=1)
    last = torch.where(hole_rows, index, -1).amax(dim=1)
    extent = last - first + 1
    if bool((present & (extent > side)).any()):
        raise InpaintbenchError(
            f"method 'glcic': a training hole spans {int(extent[present].max())} px, more than the {side} px local patch; "
            "train with --mask random-box or center"
        )
    start = torch.div(first + last + 1 - side, 2, rounding_mode="floor")
    start = torch.where(present, start, torch.full_like(start, (length - side) // 2))  # no hole: the middle
    return start.clamp(0, length - side)


def local_boxes(masks: torch.Tensor, side: int) -> torch.Tensor:
    """(N, 2) top-left corners (row, column) of each image's local patch; ``masks`` is (N, 1, H, W)."""
    hole = masks[:, 0] > 0.5
    return torch.stack([_centred_starts(hole.any(dim=2), side), _centred_starts(hole.any(dim=1), side)], dim=1)


def crop(images: torch.Tensor, boxes: torch.Tensor, side: int) -> torch.Tensor:
    """The ``side`` x ``side`` patch of each image at its box (differentiable)."""
    corners = boxes.tolist()
    return torch.stack([image[:, top : top + side, left : left + side] for image, (top, left) in zip(images, corners)])
