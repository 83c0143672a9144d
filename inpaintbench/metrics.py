"""Per-image scores of completed images against their ground truth: PSNR, SSIM, L1.

Pure functions on batches of uint8 images shaped (N, H, W, C).  Every score is
computed per image and returned per image; averaging (and the bootstrap) is the
caller's business, so PSNR is always the mean of per-image PSNR, never the PSNR
of a pooled error.

SSIM reproduces :func:`skimage.metrics.structural_similarity` (the oracle of the
tests): the map is filtered, the border of half a window is cropped, and the
per-channel means are averaged.  Two windows:

* ``"gaussian"`` (default, Wang et al. 2004): 11x11 taps, sigma 1.5, population
  covariance -- scikit-image's ``gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=255``;
* ``"uniform"``: 7x7 box, sample covariance -- scikit-image's defaults.

Why it is fast (11-14x a per-image scikit-image loop on two cores for 128x128
completions with a centre hole; about 6x for pairs that differ everywhere):

* The four filtered planes are of ``u = x + y`` and ``v = x - y`` (and their
  squares) rather than the usual five of x, y, x², y², xy, because SSIM only
  needs sums and differences of the moments (see :func:`_ssim_map`).
* Where x equals y over a whole window the SSIM map is exactly 1 (``v`` and its
  moments are exactly 0 there), so only the rows of an image that differ, plus a
  window radius, and the columns that differ in a chunk are filtered; the rest
  contributes exactly 1 per pixel.  Completions differ from the ground truth
  only near the hole, so this skips most of the work without changing a bit.
* A chunk's planes are stacked into one tall image for a single
  ``cv2.sepFilter2D`` call; the rows where neighbouring crops mix are exactly
  the cropped border rows.  Chunks run on a small thread pool (OpenCV and numpy
  release the GIL).
* Planes are exact integers in float32; the filter accumulates and outputs
  float64, because variances are differences of large moments: float32 maps are
  off scikit-image by up to 2e-4 per pixel and 4e-7 per image on photographs.
  In float64 the agreement is about 1e-13.
"""

from __future__ import annotations

import functools
import os
import threading
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

#: PSNR reported for identical images (MSE 0), and the ceiling of every PSNR.
#: An exact value would be +inf, which breaks means and bootstraps; 100 dB is
#: above anything an 8-bit completion reaches (one grey level wrong in one
#: channel of one pixel of a 128x128 image is 95 dB).  Larger images can exceed
#: it while still differing; they are clipped to it so the scale stays monotone.
PSNR_CAP_DB = 100.0

#: peak value of 8-bit images; fixed, never guessed from the data
DATA_RANGE = 255.0
K1 = 0.01
K2 = 0.03

#: image pixels per chunk: 4-8 images of 128x128 keep a chunk's float64 planes
#: near the L2 cache (16 and up ran 1.6x slower); fewer images per chunk also
#: make the union of their differing columns tighter
_CHUNK_PIXELS = 4 * 128 * 128
#: chunk workers at most (never more than CPUs): each OpenCV call also threads itself
_MAX_WORKERS = 8


@dataclass(frozen=True)
class _Window:
    name: str
    size: int  # taps per axis
    sigma: float | None  # None: uniform box
    sample_covariance: bool

    @property
    def radius(self) -> int:
        return (self.size - 1) // 2

    @property
    def cov_norm(self) -> float:
        """scikit-image's unbiased-variance factor NP / (NP - 1), or 1."""
        taps = self.size * self.size
        return taps / (taps - 1) if self.sample_covariance else 1.0


#: truncate=3.5 in scikit-image gives radius int(3.5 * 1.5 + 0.5) = 5: 11 taps
_WINDOWS = {
    "gaussian": _Window("gaussian", 11, 1.5, sample_covariance=False),
    "uniform": _Window("uniform", 7, None, sample_covariance=True),
}


def _window(name: str) -> _Window:
    try:
        return _WINDOWS[name]
    except KeyError:
        raise ValueError(f"unknown SSIM window {name!r}; use one of {sorted(_WINDOWS)}") from None


def score_settings(window: str = "gaussian") -> dict[str, object]:
    """What the scores mean, to be stored with every result (JSON-ready)."""
    spec = _window(window)
    shape = f"{spec.size}x{spec.size}"
    described = f"Gaussian {shape} sigma {spec.sigma}" if spec.sigma else f"uniform {shape}"
    return {
        "ssim_window": f"{described}, border {spec.radius} px cropped (scikit-image)",
        "ssim_window_kind": spec.name,
        "ssim_window_size": spec.size,
        "ssim_sigma": spec.sigma,
        "ssim_covariance": "sample" if spec.sample_covariance else "population",
        "ssim_k1": K1,
        "ssim_k2": K2,
        "ssim_border_crop_px": spec.radius,
        "ssim_channels": "per channel, then averaged",
        "ssim_hole": "mean of the channel-averaged SSIM map over hole pixels inside the cropped region",
        "data_range": DATA_RANGE,
        "psnr": "mean of per-image PSNR",
        "psnr_cap_db": PSNR_CAP_DB,
        "l1": "mean |completed - target| / 255 over pixels x channels",
    }


#: the settings :func:`score_batch` uses by default
SCORE_SETTINGS: dict[str, object] = score_settings("gaussian")


def psnr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-image PSNR in dB (peak 255), shape (N,), clipped at :data:`PSNR_CAP_DB`."""
    x, y = _check_pair(x, y)
    sse = np.array([_norm(a, b, cv2.NORM_L2SQR) for a, b in zip(x, y)], dtype=np.float64)
    return _psnr_from_sse(sse, x[0].size)


def ssim(x: np.ndarray, y: np.ndarray, window: str = "gaussian") -> np.ndarray:
    """Per-image SSIM, shape (N,), equal to scikit-image's (see the module docstring)."""
    return _score(x, y, None, _window(window))["ssim"]


def score_batch(
    completed: np.ndarray, target: np.ndarray, masks: np.ndarray, window: str = "gaussian"
) -> dict[str, np.ndarray]:
    """Every per-image score in one pass: whole image and hole only.

    ``masks`` is bool (N, H, W), True on hole pixels.  Returns float64 arrays of
    shape (N,) under the keys ``psnr``, ``ssim``, ``l1``, ``psnr_hole``,
    ``ssim_hole`` and ``l1_hole``.  The hole scores average over hole pixels (x
    channels): PSNR from the MSE over the hole, L1 the mean absolute error over
    the hole, and SSIM the mean of the channel-averaged SSIM map over the hole
    pixels that lie inside the cropped region (a window radius from the image
    border), i.e. the same map the whole-image SSIM averages.  A hole score is
    NaN for an image whose mask selects no such pixel.
    """
    masks = np.asarray(masks)
    if masks.dtype != np.bool_:
        raise TypeError(f"masks must be bool (True = hole), got {masks.dtype}")
    if masks.shape != np.shape(completed)[:3]:
        raise ValueError(f"masks shape {masks.shape} does not match images {np.shape(completed)}")
    return _score(completed, target, masks, _window(window))


# --------------------------------------------------------------------------- internals


@functools.cache
def _taps(name: str) -> np.ndarray:
    """1-D filter taps, computed as scipy.ndimage does for scikit-image."""
    spec = _WINDOWS[name]
    if spec.sigma is None:
        return np.full(spec.size, 1.0 / spec.size)
    offsets = np.arange(-spec.radius, spec.radius + 1, dtype=np.float64)
    taps = np.exp(-0.5 / (spec.sigma * spec.sigma) * offsets**2)
    return taps / taps.sum()


def _check_pair(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype != np.uint8 or y.dtype != np.uint8:
        raise TypeError(f"images must be uint8, got {x.dtype} and {y.dtype}")
    if x.shape != y.shape:
        raise ValueError(f"image batches differ in shape: {x.shape} vs {y.shape}")
    if x.ndim != 4 or len(x) == 0:
        raise ValueError(f"expected a non-empty batch (N, H, W, C), got shape {x.shape}; add [None] for one image")
    return x, y


def _psnr_from_sse(sse: np.ndarray, count: np.ndarray | int) -> np.ndarray:
    mse = np.divide(sse, count, out=np.full(len(sse), np.nan), where=np.asarray(count) > 0)
    with np.errstate(divide="ignore"):
        value = 10.0 * np.log10(DATA_RANGE**2 / mse)
    return np.minimum(value, PSNR_CAP_DB)  # inf (mse 0) -> cap; NaN stays NaN


def _score(x: np.ndarray, y: np.ndarray, holes: np.ndarray | None, window: _Window) -> dict[str, np.ndarray]:
    """Run :func:`_chunk_sums` over chunks of the batch and turn the sums into scores."""
    x, y = _check_pair(x, y)
    n, height, width, channels = x.shape
    if min(height, width) < window.size:
        raise ValueError(f"images of {height}x{width} are smaller than the {window.size}x{window.size} SSIM window")
    step = max(1, _CHUNK_PIXELS // (height * width))
    spans = [slice(start, start + step) for start in range(0, n, step)]
    work = [(x[s], y[s], None if holes is None else holes[s], window) for s in spans]
    if len(work) == 1:
        parts = [_chunk_sums(*work[0])]
    else:
        parts = list(_executor().map(lambda args: _chunk_sums(*args), work))
    sums = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}

    r = window.radius
    valid = (height - 2 * r) * (width - 2 * r) * channels
    scores = {
        "psnr": _psnr_from_sse(sums["sse"], x[0].size),
        # pixels outside the filtered region are exactly 1 each
        "ssim": (sums["ssim_sum"] + (valid - sums["ssim_count"])) / valid,
        "l1": sums["sae"] / (x[0].size * DATA_RANGE),
    }
    if holes is not None:
        hole_values = sums["hole_pixels"] * channels
        scores["psnr_hole"] = _psnr_from_sse(sums["sse_hole"], hole_values)
        in_map = sums["hole_map_pixels"]
        ssim_hole = sums["ssim_hole_sum"] / channels + (in_map - sums["ssim_hole_count"])
        scores["ssim_hole"] = np.divide(ssim_hole, in_map, out=np.full(n, np.nan), where=in_map > 0)
        scores["l1_hole"] = np.divide(
            sums["sae_hole"], hole_values * DATA_RANGE, out=np.full(n, np.nan), where=hole_values > 0
        )
    return scores


def _chunk_sums(x: np.ndarray, y: np.ndarray, holes: np.ndarray | None, window: _Window) -> dict[str, np.ndarray]:
    """Per-image sums for one chunk: squared/absolute errors and SSIM-map totals.

    Only the region that can differ from 1 is filtered: per image, the rows
    holding a difference widened by the window radius; for the whole chunk, the
    union of such columns.  Each image's crop (with a further radius of context)
    is stacked into one tall plane per moment.
    """
    n, height, width, channels = x.shape
    r = window.radius
    sums = {key: np.zeros(n) for key in ("sse", "sae", "ssim_sum", "ssim_count")}
    if holes is not None:
        sums["hole_pixels"] = np.count_nonzero(holes.reshape(n, -1), axis=1).astype(np.float64)
        in_map = holes[:, r : height - r, r : width - r]
        sums["hole_map_pixels"] = np.count_nonzero(in_map.reshape(n, -1), axis=1).astype(np.float64)
        for key in ("sse_hole", "sae_hole", "ssim_hole_sum", "ssim_hole_count"):
            sums[key] = np.zeros(n)

    differs = x != y
    columns_differ = differs.any(axis=(1, 3))  # (n, width)
    columns = np.flatnonzero(columns_differ.any(axis=0))
    if columns.size == 0:
        return sums  # identical chunk: zero error, SSIM exactly 1
    rows_differ = differs.reshape(n, height, -1).any(axis=2)
    del differs
    c0, c1 = _widen(columns[0], columns[-1] + 1, r, width)  # map columns that can differ from 1
    cols = slice(c0 - r, c1 + r)  # input columns they need
    crops = []  # (image, input rows), for each image that differs
    own_columns = {}  # image -> its own map columns that can differ from 1, in crop coordinates
    for i in range(n):
        found = np.flatnonzero(rows_differ[i])
        if found.size:
            start, stop = _widen(found[0], found[-1] + 1, r, height)
            crops.append((i, slice(start - r, stop + r)))
            differing = np.flatnonzero(columns_differ[i])
            first, last = _widen(differing[0], differing[-1] + 1, r, width)
            own_columns[i] = slice(first - c0 + r, last - c0 + r)
    heights = np.array([rows.stop - rows.start for _, rows in crops])
    offsets = np.concatenate([[0], np.cumsum(heights)])  # first stacked row of each crop
    total, crop_width = int(offsets[-1]), c1 - c0 + 2 * r

    # planes u = x + y, v = x - y, u², v²: exact integers in float32
    planes = np.empty((4, total, crop_width, channels), np.float32)
    # hole pixels of the map (zero on the rows and columns the map crops away)
    hole_map = None if holes is None else np.zeros((total, crop_width))
    for (i, rows), offset in zip(crops, offsets):
        a, b = x[i, rows, cols], y[i, rows, cols]
        into = slice(offset, offset + len(a))
        np.add(a, b, out=planes[0, into], dtype=np.float32)
        np.subtract(a, b, out=planes[1, into], dtype=np.float32)
        # every differing pixel of an image lies inside its crop
        sums["sse"][i] = _norm(a, b, cv2.NORM_L2SQR)
        sums["sae"][i] = _norm(a, b, cv2.NORM_L1)
        if holes is not None and hole_map is not None:
            mask = holes[i, rows, cols]
            sums["sse_hole"][i] = _norm(a, b, cv2.NORM_L2SQR, mask)
            sums["sae_hole"][i] = _norm(a, b, cv2.NORM_L1, mask)
            hole_map[into][r : len(a) - r, r : crop_width - r] = mask[r : len(a) - r, r : crop_width - r]
    np.square(planes[:2], out=planes[2:])

    filtered = cv2.sepFilter2D(
        planes.reshape(4 * total, crop_width, channels),
        cv2.CV_64F,
        _taps(window.name),
        _taps(window.name),
        borderType=cv2.BORDER_REFLECT,
    ).reshape(4, total, crop_width, channels)
    # whole rows, border columns included: contiguous arrays are ~3x faster than
    # a column-cropped view; the sums below read only each image's own block
    s_map = _ssim_map(filtered, window)
    s_pixel = s_map[..., 0].copy()  # channel sums, (total, crop_width), added in one fixed order
    for channel in range(1, channels):
        s_pixel += s_map[..., channel]
    # Each image's sums cover only its own block (its rows and its own columns): the same
    # values summed in the same order whatever else shares the chunk, so a score does not
    # change in the last bit with the batch, the shard or a resume.
    for (i, rows), offset in zip(crops, offsets):
        block_rows = slice(offset + r, offset + rows.stop - rows.start - r)
        block = s_pixel[block_rows, own_columns[i]]
        sums["ssim_sum"][i] = block.sum()
        sums["ssim_count"][i] = block.size * channels
        if hole_map is not None:
            hole_block = hole_map[block_rows, own_columns[i]]
            sums["ssim_hole_sum"][i] = np.einsum("ij,ij->", block, hole_block)
            sums["ssim_hole_count"][i] = hole_block.sum()
    return sums


def _norm(a: np.ndarray, b: np.ndarray, kind: int, mask: np.ndarray | None = None) -> float:
    """Exact integer L1 / squared-L2 distance of two uint8 crops (OpenCV, over a bool mask)."""
    return round(cv2.norm(a, b, kind, mask=None if mask is None else mask.view(np.uint8)))


def _widen(first: int, stop: int, r: int, size: int) -> tuple[int, int]:
    """Map-positions [a, b) whose window touches [first, stop), inside the cropped map."""
    return max(r, int(first) - r), min(size - r, int(stop) + r)


def _ssim_map(filtered: np.ndarray, window: _Window) -> np.ndarray:
    """SSIM map from the filtered planes of u = x + y and v = x - y (overwrites them).

    With means mu, mv and local variances Vu, Vv of u and v, scikit-image's
    (2 mx my + C1)(2 cov + C2) / ((mx² + my² + C1)(var x + var y + C2)) equals
    (P - mv²)(Q - Vv) / ((P + mv²)(Q + Vv)), where P = mu² + 2 C1 and
    Q = Vu + 2 C2 / cov_norm.  Where x == y over a window, mv = Vv = 0 and the
    ratio is exactly 1, which is what makes skipping identical regions exact.
    """
    mu, mv, uu, vv = filtered
    np.multiply(mu, mu, out=mu)
    np.multiply(mv, mv, out=mv)
    np.subtract(uu, mu, out=uu)  # Vu
    uu += 2 * (K2 * DATA_RANGE) ** 2 / window.cov_norm  # Q
    np.subtract(vv, mv, out=vv)  # Vv
    mu += 2 * (K1 * DATA_RANGE) ** 2  # P
    ssim_map = np.subtract(mu, mv)
    np.add(mu, mv, out=mu)
    np.subtract(uu, vv, out=mv)
    np.add(uu, vv, out=uu)
    ssim_map *= mv
    mu *= uu
    ssim_map /= mu
    return ssim_map


_pool: tuple[int, Executor] | None = None
_pool_lock = threading.Lock()


def _executor() -> Executor:
    """A module-wide thread pool, created on first use (and again in a forked child)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            workers = max(1, min(_MAX_WORKERS, os.cpu_count() or 1))
            _pool = (os.getpid(), ThreadPoolExecutor(workers, thread_name_prefix="inpaintbench-metrics"))
        return _pool[1]
