"""How much faster is ``score_batch`` than a per-image scikit-image loop, and does it agree?

Builds realistic completion pairs from the colour photographs scikit-image
ships: random crops, a centre hole filled by OpenCV's Telea inpainting, and the
known pixels kept (so, as in a real benchmark, the completion differs from the
ground truth only in the hole).  Times PSNR + SSIM both ways (median of
``--repeats``) and reports the agreement.  Then the worst case for the batched
scorer: pairs that differ everywhere (ground truth vs a noisy copy), where
skipping identical regions saves nothing.

    .venv/bin/python benchmarks/bench_metrics.py --n 1000 --size 128 --repeats 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import cv2
import numpy as np
import skimage.data
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from inpaintbench.metrics import PSNR_CAP_DB, score_batch

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "retina", "hubble_deep_field")


def photographs() -> list[np.ndarray]:
    images = []
    for name in PHOTOS:
        try:
            images.append(getattr(skimage.data, name)())
        except Exception:  # some data images need the optional pooch download
            continue
    return images


def completion_pairs(n: int, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(completed, target, masks): random crops with a Telea-filled centre hole of half each side."""
    rng = np.random.default_rng(seed)
    photos = [p for p in photographs() if min(p.shape[:2]) >= size]
    targets = np.empty((n, size, size, 3), np.uint8)
    for k in range(n):
        photo = photos[rng.integers(len(photos))]
        top = rng.integers(photo.shape[0] - size + 1)
        left = rng.integers(photo.shape[1] - size + 1)
        targets[k] = photo[top : top + size, left : left + size, :3]
    hole = np.zeros((size, size), np.uint8)
    hole[size // 4 : size - size // 4, size // 4 : size - size // 4] = 1
    completed = np.empty_like(targets)
    for k in range(n):
        masked = np.where(hole[..., None] > 0, 0, targets[k]).astype(np.uint8)
        completed[k] = cv2.inpaint(masked, hole, 3, cv2.INPAINT_TELEA)
    completed[:, hole == 0] = targets[:, hole == 0]  # composite: known pixels from the input
    masks = np.broadcast_to(hole > 0, (n, size, size)).copy()
    return completed, targets, masks


def noisy_pairs(targets: np.ndarray, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 20, targets.shape)
    return np.clip(targets + noise, 0, 255).astype(np.uint8)


def reference(completed: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The per-image scikit-image loop the batched scorer replaces."""
    ssim = np.empty(len(targets))
    psnr = np.empty(len(targets))
    for k, (a, b) in enumerate(zip(completed, targets)):
        ssim[k] = structural_similarity(
            a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, channel_axis=-1, data_range=255
        )
        psnr[k] = peak_signal_noise_ratio(b, a, data_range=255)
    return ssim, psnr


def median_seconds(function, repeats: int):
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def compare(label: str, completed: np.ndarray, targets: np.ndarray, masks: np.ndarray, repeats: int) -> float:
    t_ref, (ssim_ref, psnr_ref) = median_seconds(lambda: reference(completed, targets), repeats)
    t_ours, ours = median_seconds(lambda: score_batch(completed, targets, masks), repeats)
    ssim_err = np.abs(ours["ssim"] - ssim_ref).max()
    psnr_err = np.abs(ours["psnr"] - np.minimum(psnr_ref, PSNR_CAP_DB)).max()
    ratio = t_ref / t_ours
    print(f"{label}: {len(targets)} pairs of {targets.shape[1]}x{targets.shape[2]}")
    print(f"  scikit-image loop (SSIM + PSNR): {t_ref:8.3f} s  ({1e3 * t_ref / len(targets):.3f} ms/image)")
    print(f"  score_batch (all six scores):    {t_ours:8.3f} s  ({1e3 * t_ours / len(targets):.3f} ms/image)")
    print(f"  speed-up: {ratio:.1f}x   max |SSIM diff| {ssim_err:.1e}   max |PSNR diff| {psnr_err:.1e} dB")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="pairs to score")
    parser.add_argument("--size", type=int, default=128, help="side of the square crops")
    parser.add_argument("--repeats", type=int, default=5, help="timings per variant; the median is shown")
    args = parser.parse_args()

    print(f"{os.cpu_count()} CPUs, OpenCV threads {cv2.getNumThreads()}")
    completed, targets, masks = completion_pairs(args.n, args.size)
    compare("realistic (centre hole, Telea, known pixels kept)", completed, targets, masks, args.repeats)
    compare("worst case (noise everywhere, sigma 20)", noisy_pairs(targets), targets, masks, args.repeats)


if __name__ == "__main__":
    main()
