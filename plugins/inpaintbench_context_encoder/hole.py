"""What the context encoder sees of the hole, and how its L2 loss weighs the patch.

The released code erases only the inner part of the 64x64 center: a band of
``overlap`` pixels (4) around it stays visible, the network still predicts the
whole 64x64 patch, and the L2 loss weighs that band ``band_weight`` (10) times
the inner pixels, so that the prediction agrees with the visible rim.  The
benchmark's default erases the whole center and keeps the 10x weight on the
patch's outer band, where the completion meets the known pixels.  The erased
pixels are set to the training set's mean colour, not to zero.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

#: the released code's fill colour (8-bit RGB), the mean of its training images
MEAN_COLOUR = (117, 104, 123)


def mean_colour(like: torch.Tensor) -> torch.Tensor:
    """MEAN_COLOUR in [-1, 1] as a (1, 3, 1, 1) tensor on ``like``'s device."""
    values = [2 * channel / 255 - 1 for channel in MEAN_COLOUR]  # in double, as the release computes it
    return torch.tensor(values, dtype=like.dtype, device=like.device).view(1, 3, 1, 1)


def fill_mean(images: torch.Tensor, erased: torch.Tensor) -> torch.Tensor:
    """``images`` with every pixel where ``erased`` is 1 set exactly to the mean colour."""
    return torch.where(erased.bool(), mean_colour(images), images)


def shrink(masks: torch.Tensor, overlap: int) -> torch.Tensor:
    """The holes in ``masks`` (N, 1, H, W) eroded by ``overlap`` pixels: what training erases, or the
    inner part of the patch that the L2 does not weigh up."""
    if overlap == 0:
        return masks
    return 1 - F.max_pool2d(1 - masks, 2 * overlap + 1, stride=1, padding=overlap)


def band_weights(inner: torch.Tensor, band_weight: float) -> torch.Tensor:
    """Per-pixel L2 weights over the predicted patch: 1 where ``inner`` is 1, ``band_weight`` on the rest."""
    return band_weight - (band_weight - 1) * inner


def weighted_l2(prediction: torch.Tensor, truth: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Mean of ``weights`` x squared error over all elements (the released code's weighted MSE gradient)."""
    return (weights * (prediction.float() - truth.float()).square()).mean()
