"""A hole-aware image pyramid, and the smooth fill that seeds its coarsest level.

Images are float tensors (N, C, H, W); ``known`` is the weight of known pixels
(1 known, 0 hole).  Downsampling is a normalised convolution: a separable
[1, 3, 3, 1]/8 binomial with stride 2 applied to ``image * known`` and to
``known``, so hole pixels (whatever values they hold) never leak into the
coarse level.  Everything here is plain torch, the same on CPU and CUDA.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

#: a coarse pixel counts as known when at least this fraction of its fine
#: footprint (by kernel weight) is known; thinner holes vanish at coarse levels
KNOWN_FRACTION = 0.5

_TAPS = (1.0, 3.0, 3.0, 1.0)


def _kernel(channels: int, like: torch.Tensor) -> torch.Tensor:
    taps = torch.tensor(_TAPS, dtype=like.dtype, device=like.device)
    taps = taps / taps.sum()
    return torch.outer(taps, taps).expand(channels, 1, 4, 4).contiguous()


def _blur_down(planes: torch.Tensor) -> torch.Tensor:
    """Binomial blur then stride 2: (N, C, H, W) -> (N, C, ceil(H/2), ceil(W/2))."""
    height, width = planes.shape[-2:]
    padded = F.pad(planes, (1, 1 + width % 2, 1, 1 + height % 2), mode="replicate")
    return F.conv2d(padded, _kernel(planes.shape[1], planes), stride=2, groups=planes.shape[1])


def downsample(image: torch.Tensor, known: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One level down, ignoring hole pixels: (coarse image, coarse known fraction in [0, 1])."""
    both = _blur_down(torch.cat([image * known, known], dim=1))
    weight = both[:, -1:]
    coarse = both[:, :-1] / weight.clamp_min(1e-8)
    return coarse, weight


def level_count(height: int, width: int, min_size: int, levels: int) -> int:
    """How many levels: halve while the shorter side stays >= ``min_size`` (at most ``levels`` if > 0)."""
    count, side = 1, min(height, width)
    while (side + 1) // 2 >= min_size and (levels <= 0 or count < levels):
        side = (side + 1) // 2
        count += 1
    return count


def build(image: torch.Tensor, hole: torch.Tensor, count: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``count`` levels of (image, hole), finest first; hole is (N, H, W) bool."""
    levels = [(image, hole)]
    for _ in range(count - 1):
        coarse, weight = downsample(levels[-1][0], (~levels[-1][1]).to(image.dtype)[:, None])
        levels.append((coarse, weight[:, 0] < KNOWN_FRACTION))
    return levels


def upsample(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize to ``size`` (H, W), sampling as ``F.interpolate(align_corners=False)`` does.

    Built from gathers and exactly rounded multiplies and adds, because
    ``F.interpolate``'s CPU kernel rounds differently with the number of
    threads: PatchMatch's scores would then depend on the machine's cores (and
    parallel evaluation could not give one process's table).
    """
    return _resize_axis(_resize_axis(image, size[0], dim=2), size[1], dim=3)


def _resize_axis(planes: torch.Tensor, length: int, dim: int) -> torch.Tensor:
    """Linear resampling of one axis to ``length`` samples (pixel centres aligned, edges clamped)."""
    source = planes.shape[dim]
    position = ((torch.arange(length, dtype=torch.float64) + 0.5) * (source / length) - 0.5).clamp_min(0)
    low = position.floor().long().clamp_max(source - 1)
    high = (low + 1).clamp_max(source - 1)
    shape = [1] * planes.ndim
    shape[dim] = length
    frac = (position - low).to(planes.dtype).view(shape).to(planes.device)
    low, high = low.to(planes.device), high.to(planes.device)
    return planes.index_select(dim, low) * (1 - frac) + planes.index_select(dim, high) * frac


def smooth_fill(image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """Fill the hole from its surroundings by push-pull (a fast membrane-like interpolation).

    Push: downsample with any known contribution counting as known, until no
    hole is left.  Pull: upsample the filled coarse level into the hole.  An
    image with no known pixel at all is filled with zeros.
    """
    if not bool(hole.any()):
        return image
    height, width = image.shape[-2:]
    known = (~hole).to(image.dtype)[:, None]
    if height == 1 and width == 1:
        return image * known
    coarse, weight = downsample(image, known)
    filled = smooth_fill(coarse, weight[:, 0] <= 0)
    return torch.where(hole[:, None], upsample(filled, (height, width)), image)
