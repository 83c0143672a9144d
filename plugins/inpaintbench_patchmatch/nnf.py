"""PatchMatch nearest-neighbour fields from hole patches to known patches (Barnes et al. 2009).

Vectorised: each step evaluates every candidate of every target patch at once.

* **Targets** are the patch centres whose patch touches the hole (the hole
  dilated by the patch radius); **sources** are the centres whose patch lies
  inside the image and touches no hole pixel.  A field maps each target to a
  source *row*; a source patch that overlaps the hole is never a candidate.
* Every candidate position is projected onto the nearest source (a
  precomputed distance-transform lookup, :attr:`Geometry.snap`), so no
  evaluation is wasted on an invalid position.
* **Propagation** is parallel (Jacobi) rather than the paper's sequential scan:
  each target tries its four neighbours' offsets at distance 1 and at a jump
  distance that shrinks from pass to pass (as in jump flooding), so a good
  offset crosses the hole in a few passes instead of one scan.
* **Random search** samples around the current match at radii halving from the
  image size down to 1 pixel.
* Randomness comes from a counter-based hash of (seed, step, pixel), never
  from a generator's state, so a result does not depend on which other
  images share the batch.

Patches are compared by their descriptors: the patch's pixels (colour and,
optionally, weighted gradients) flattened into one row.  Source descriptors are
built once per level; a candidate costs one row gather plus a squared distance.
Images are stored in a *padded grid* (reflect padding of the patch radius) so
that target patches at the image border have values and never cross into a
neighbouring image of the batch.
"""

from __future__ import annotations

import dataclasses
import typing

import numpy as np
import torch
from scipy import ndimage

_MASK32 = 0xFFFFFFFF
#: elements of a (targets, candidates, descriptor) block evaluated at once
_BLOCK_ELEMENTS = 1 << 22


# -- counter-based randomness ----------------------------------------------------------
def _mix(value):
    """A 32-bit integer hash (lowbias32); works on python ints and int64 tensors alike."""
    value = value ^ (value >> 16)
    value = (value * 0x7FEB352D) & _MASK32
    value = value ^ (value >> 15)
    value = (value * 0x846CA68B) & _MASK32
    return value ^ (value >> 16)


def stream_key(*parts: int) -> int:
    """One 32-bit key from (seed, level, iteration, ...)."""
    key = 0x9E3779B9
    for part in parts:
        key = _mix(key ^ (part & _MASK32))
    return key


def position_hash(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A 32-bit hash per pixel position, mixed with a stream key by :func:`hashed_uniform`."""
    return _mix(_mix(x) ^ y)


def hashed_uniform(positions: torch.Tensor, keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Two uniform floats in [-1, 1) per (position, key): a pure function of both.

    ``positions`` (T,) from :func:`position_hash`, ``keys`` (K,) from
    :func:`stream_key`; returns two (T, K) tensors (16 random bits each).
    """
    value = _mix(positions[:, None] ^ keys)
    return ((value >> 16).float() - 32768) / 32768, ((value & 0xFFFF).float() - 32768) / 32768


# -- where targets and sources are ---------------------------------------------------------
@dataclasses.dataclass
class Geometry:
    """Targets, sources and lookups of one pyramid level for a batch of images."""

    shape: tuple[int, int, int]  # N, H, W
    radius: int
    offsets: torch.Tensor  # (p*p,) patch offsets in the padded grid
    target_pad: torch.Tensor  # (T,) padded-grid index of each target centre
    target_flat: torch.Tensor  # (T,) index n*H*W + y*W + x
    target_image: torch.Tensor
    target_y: torch.Tensor
    target_x: torch.Tensor
    target_at: torch.Tensor  # (N*Hp*Wp,) target row at each padded-grid position, -1 elsewhere
    source_pad: torch.Tensor  # (S,) padded-grid index of each source centre
    source_y: torch.Tensor
    source_x: torch.Tensor
    snap: torch.Tensor  # (N*H*W,) nearest source row of each pixel (-1 in images without sources)
    hole_pad: torch.Tensor  # (P,) padded-grid index of each hole pixel (of images with sources)
    hole_flat: torch.Tensor  # (P,) index n*H*W + y*W + x
    active: torch.Tensor  # (N,) bool: the image has sources at this level

    @property
    def padded(self) -> tuple[int, int]:
        _, height, width = self.shape
        return height + 2 * self.radius, width + 2 * self.radius

    def targets_per_image(self) -> list[int]:
        return torch.bincount(self.target_image, minlength=self.shape[0]).tolist()


def _pad_index(n: torch.Tensor, y: torch.Tensor, x: torch.Tensor, shape, radius: int) -> torch.Tensor:
    _, height, width = shape
    hp, wp = height + 2 * radius, width + 2 * radius
    return (n * hp + y + radius) * wp + x + radius


def build_geometry(hole: torch.Tensor, patch_size: int) -> Geometry:
    """Targets, sources and the nearest-source lookup for holes (N, H, W) bool."""
    count, height, width = hole.shape
    radius = patch_size // 2
    device = hole.device
    touches = torch.nn.functional.max_pool2d(hole[:, None].float(), patch_size, 1, radius)[:, 0] > 0
    inside = torch.zeros_like(hole)
    inside[:, radius : height - radius, radius : width - radius] = True
    valid = inside & ~touches
    active = valid.flatten(1).any(1)
    targets = touches & active[:, None, None]

    shape = (count, height, width)
    tn, ty, tx = targets.nonzero(as_tuple=True)
    sn, sy, sx = valid.nonzero(as_tuple=True)
    target_pad = _pad_index(tn, ty, tx, shape, radius)
    hp, wp = height + 2 * radius, width + 2 * radius
    target_at = torch.full((count * hp * wp,), -1, dtype=torch.long, device=device)
    target_at[target_pad] = torch.arange(len(tn), device=device)

    rows = torch.full((count, height, width), -1, dtype=torch.long, device=device)
    rows[sn, sy, sx] = torch.arange(len(sn), device=device)
    snap = torch.full_like(rows, -1)
    valid_host = valid.cpu().numpy()
    for k in np.flatnonzero(active.cpu().numpy()):
        nearest = ndimage.distance_transform_edt(~valid_host[k], return_distances=False, return_indices=True)
        iy = torch.from_numpy(nearest[0]).to(device)
        ix = torch.from_numpy(nearest[1]).to(device)
        snap[k] = rows[k, iy, ix]

    hn, hy, hx = (hole & active[:, None, None]).nonzero(as_tuple=True)
    dy, dx = torch.meshgrid(torch.arange(-radius, radius + 1, device=device), torch.arange(-radius, radius + 1, device=device), indexing="ij")
    return Geometry(
        shape=shape,
        radius=radius,
        offsets=(dy * wp + dx).flatten(),
        target_pad=target_pad,
        target_flat=(tn * height + ty) * width + tx,
        target_image=tn,
        target_y=ty,
        target_x=tx,
        target_at=target_at,
        source_pad=_pad_index(sn, sy, sx, shape, radius),
        source_y=sy,
        source_x=sx,
        snap=snap.flatten(),
        hole_pad=_pad_index(hn, hy, hx, shape, radius),
        hole_flat=(hn * height + hy) * width + hx,
        active=active,
    )


# -- patch descriptors and distances ---------------------------------------------------
class Patches(typing.NamedTuple):
    """Patch descriptors, one row per patch, and each row's squared norm (for distances by dot products)."""

    rows: torch.Tensor  # (P, p*p*C)
    norms: torch.Tensor  # (P,) float64; summed in float32, exact while p*p*C * 255**2 < 2**24 (9x9 colour patches)


def patch_rows(padded_flat: torch.Tensor, centres: torch.Tensor, offsets: torch.Tensor) -> Patches:
    """Descriptors (len(centres), p*p*C) of the patches at padded-grid ``centres``, with their squared norms."""
    rows = torch.empty((len(centres), len(offsets) * padded_flat.shape[1]), dtype=padded_flat.dtype, device=padded_flat.device)
    norms = torch.empty(len(centres), dtype=torch.float64, device=padded_flat.device)
    block = max(1, _BLOCK_ELEMENTS // rows.shape[1])
    for start in range(0, len(centres), block):
        index = centres[start : start + block, None] + offsets
        rows[start : start + block] = padded_flat[index.flatten()].view(len(index), -1)
        part = rows[start : start + block]
        norms[start : start + block] = torch.einsum("ij,ij->i", part, part)  # exact for 8-bit colour up to 258 values
    return Patches(rows, norms)


def distances(sources: Patches, targets: Patches, candidates: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Squared distances (T, K) between each target row and its K candidate source rows.

    Unweighted, as |s|^2 + |t|^2 - 2 s.t: one batched matrix product instead of a
    (T, K, D) difference tensor, about twice as fast.  The norms are exact and the
    dot products float32, so a distance is within ~1e-7 of the patch energy (far
    below one grey level squared per pixel).  Weighted (the first E step of the
    coarsest level), the direct sum of weighted squared differences.
    """
    count, width = candidates.shape
    out = torch.empty((count, width), dtype=sources.rows.dtype, device=sources.rows.device)
    block = max(1, _BLOCK_ELEMENTS // (width * sources.rows.shape[1]))
    for start in range(0, count, block):
        stop = min(start + block, count)
        chosen = candidates[start:stop]
        picked = sources.rows.index_select(0, chosen.flatten()).view(stop - start, width, -1)
        if weights is None:
            dots = torch.bmm(picked, targets.rows[start:stop, :, None])[..., 0]
            energy = sources.norms[chosen] + targets.norms[start:stop, None]
            out[start:stop] = (energy - 2 * dots.double()).clamp_min(0)
        else:
            diff = (picked - targets.rows[start:stop, None, :]).square_()
            diff *= weights[start:stop, None, :]
            out[start:stop] = diff.sum(-1)
    return out


# -- the field -------------------------------------------------------------------------
@dataclasses.dataclass
class Field:
    """A nearest-neighbour field: each target's source row and its distance."""

    rows: torch.Tensor
    #: None until the rows are scored (each E step scores them first)
    dist: torch.Tensor | None

    def improve(self, sources, targets, candidates, weights=None) -> None:
        """Keep, per target, the best of its candidates when it beats the current match."""
        assert self.dist is not None, "score the field before improving it"
        scores = distances(sources, targets, candidates, weights)
        best = scores.argmin(1, keepdim=True)
        best_dist = scores.gather(1, best)[:, 0]
        better = best_dist < self.dist
        self.rows = torch.where(better, candidates.gather(1, best)[:, 0], self.rows)
        self.dist = torch.where(better, best_dist, self.dist)


def _snap(geometry: Geometry, image: torch.Tensor, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Source rows nearest to positions (y, x) of ``image``, positions clamped into the image."""
    _, height, width = geometry.shape
    y = y.clamp(0, height - 1)
    x = x.clamp(0, width - 1)
    return geometry.snap[(image * height + y) * width + x]


def start_field(geometry: Geometry, key: int, parent: tuple[Geometry, Field] | None) -> torch.Tensor:
    """Initial source rows: the coarser level's field, upsampled, or random positions at the coarsest level."""
    ty, tx, tn = geometry.target_y, geometry.target_x, geometry.target_image
    if parent is None:
        _, height, width = geometry.shape
        uy, ux = hashed_uniform(position_hash(ty, tx), torch.tensor([key], device=ty.device))
        return _snap(geometry, tn, ((uy[:, 0] + 1) * height / 2).long(), ((ux[:, 0] + 1) * width / 2).long())
    coarse, field = parent
    _, coarse_h, coarse_w = coarse.shape
    match_y, match_x = _dense_match(coarse, field)
    parent_flat = (tn * coarse_h + (ty // 2).clamp(max=coarse_h - 1)) * coarse_w + (tx // 2).clamp(max=coarse_w - 1)
    return _snap(geometry, tn, 2 * match_y[parent_flat] + ty % 2, 2 * match_x[parent_flat] + tx % 2)


def _dense_match(geometry: Geometry, field: Field) -> tuple[torch.Tensor, torch.Tensor]:
    """Matched source position of every pixel: the field at targets, the pixel itself elsewhere."""
    count, height, width = geometry.shape
    device = field.rows.device
    match_y = torch.arange(height, device=device).view(1, height, 1).expand(count, height, width).flatten().clone()
    match_x = torch.arange(width, device=device).view(1, 1, width).expand(count, height, width).flatten().clone()
    match_y[geometry.target_flat] = geometry.source_y[field.rows]
    match_x[geometry.target_flat] = geometry.source_x[field.rows]
    return match_y, match_x


def _propagation_candidates(geometry: Geometry, field: Field, jump: int) -> torch.Tensor:
    """(T, 8): the offsets of the four neighbours at distance 1 and at distance ``jump``, applied here."""
    _, height, width = geometry.shape
    device = field.rows.device
    step = torch.tensor([1, -1, jump, -jump], device=device)
    zero = torch.zeros_like(step)
    dy, dx = torch.cat([step, zero]), torch.cat([zero, step])
    ty, tx, tn = geometry.target_y[:, None], geometry.target_x[:, None], geometry.target_image[:, None]
    ny = (ty + dy).clamp(0, height - 1)
    nx = (tx + dx).clamp(0, width - 1)
    neighbour = (tn * height + ny) * width + nx
    match_y, match_x = _dense_match(geometry, field)
    return _snap(geometry, tn, match_y[neighbour] + ty - ny, match_x[neighbour] + tx - nx)


def search(geometry: Geometry, field: Field, sources, targets, key: int, passes: int, weights=None) -> None:
    """``passes`` rounds of propagation then random search, improving ``field`` in place."""
    _, height, width = geometry.shape
    device = field.rows.device
    tn = geometry.target_image[:, None]
    positions = position_hash(geometry.target_y, geometry.target_x)
    radii = [max(height, width) >> k for k in range(max(height, width).bit_length())]
    radius = torch.tensor(radii, device=device, dtype=torch.float32)
    for step in range(passes):
        field.improve(sources, targets, _propagation_candidates(geometry, field, max(1, 8 >> step)), weights)
        keys = torch.tensor([stream_key(key, step, k) for k in range(len(radii))], device=device)
        uy, ux = hashed_uniform(positions, keys)
        base_y, base_x = geometry.source_y[field.rows, None], geometry.source_x[field.rows, None]
        candidates = _snap(geometry, tn, base_y + (uy * radius).round().long(), base_x + (ux * radius).round().long())
        field.improve(sources, targets, candidates, weights)
