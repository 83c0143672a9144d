"""Pieces every GAN-style inpainting recipe in the paper's comparison shares.

DCGAN initialisation, the non-saturating BCE loss, and the center-hole
geometry of the benchmark (predict the 64x64 middle of a 128x128 image and
paste it back) live here once, so that every adversarially trained method
cannot drift apart on them.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InpaintbenchError


def dcgan_init(network: nn.Module) -> nn.Module:
    """N(0, 0.02) weights for (transposed) convolutions and linear layers, N(1, 0.02) BN scales, zero biases."""
    for module in network.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(module.weight, 0.0, 0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.normal_(module.weight, 1.0, 0.02)
            nn.init.zeros_(module.bias)
    return network


def gan_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """Binary cross-entropy of discriminator logits against "real" or "fake", in fp32."""
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits.float(), target.float())


def center_box(image_size: int) -> tuple[int, int]:
    """(offset, side) of the center hole: 32 and 64 at 128x128."""
    side = image_size // 2
    return (image_size - side) // 2, side


def paste_center(masked: torch.Tensor, patch: torch.Tensor, masks: torch.Tensor, offset: int) -> torch.Tensor:
    """The input with ``patch`` in the hole (differentiable: a global critic's gradient reaches the generator)."""
    size = masked.shape[-1]
    far = size - offset - patch.shape[-1]
    placed = F.pad(patch.float(), (offset, far, offset, far))
    return masked * (1 - masks) + placed * masks


def require_center_masks(method: str, masks: np.ndarray) -> None:
    """Refuse any hole but the center square, for models that only predict that square."""
    offset, side = center_box(masks.shape[-1])
    inside = masks[:, offset : offset + side, offset : offset + side].all(axis=(1, 2))
    if not (inside.all() and (masks.sum(axis=(1, 2)) == side * side).all()):
        raise InpaintbenchError(
            f"method {method!r} predicts the center {side}x{side} square only (the paper's protocol); run with --mask center"
        )
