"""PatchMatch inpainting: seconds per image against OpenCV Telea, peak memory, and quality.

Speed: for each case, the same images and masks go through ``patchmatch``
(default options: 7x7 patches) and ``telea`` (radius 3), both through the
registry as ``compare`` builds them; each repeat times both and takes their
ratio, and the medians over the repeats are printed.  The cases are those of
the original speed target (at most 60x Telea at each size):

* 128x128 with a 64x64 center hole,
* 256x256 with a 128x128 center hole,
* 512x512 with a free-form (brush-stroke) mask of 20-30 % area.

Images are scikit-image's colour photographs (astronaut, coffee, chelsea,
rocket, immunohistochemistry) resized and center-cropped by the benchmark
protocol.  Peak memory: VmHWM of a fresh process completing one 512x512 image.
Quality: whole-image and hole-only PSNR/SSIM of patchmatch, telea and
biharmonic on the 128x128 center-hole crops of those five photographs (the C++
reference PatchMatch: ~20.9 dB whole / 14.9 dB hole PSNR).  On a machine with
CUDA, also images/s of the batched CUDA path and its hole PSNR next to the CPU path's.

    python benchmarks/bench_patchmatch.py --repeats 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import skimage.data

from inpaintbench import registry
from inpaintbench.masks import center_mask, irregular_mask, item_rng
from inpaintbench.metrics import score_batch
from inpaintbench.protocol import Protocol

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry")
#: (label, image size, center hole side or None for a free-form mask)
CASES = (("128 / 64x64 center", 128, 64), ("256 / 128x128 center", 256, 128), ("512 / free-form 20-30 %", 512, None))


def inputs(size: int, hole: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ground truth, masked images, masks) of the five photographs at ``size``."""
    protocol = Protocol(image_size=size)
    truth = np.stack([protocol.prepare(getattr(skimage.data, name)()[..., :3]) for name in PHOTOS])
    if hole is not None:
        masks = np.broadcast_to(center_mask(size, hole), truth.shape[:3]).copy()
    else:
        masks = np.stack([irregular_mask(size, (0.2, 0.3), item_rng(0, name, "bench-free-form")) for name in PHOTOS])
    masked = np.where(masks[..., None], 0, truth).astype(np.uint8)
    return truth, masked, masks


def seconds_per_image(method, masked: np.ndarray, masks: np.ndarray) -> float:
    started = time.perf_counter()
    method.inpaint(masked, masks)
    return (time.perf_counter() - started) / len(masked)


def speed(repeats: int) -> dict:
    patchmatch, telea = registry.create_method("patchmatch"), registry.create_method("telea")
    results = {}
    print(f"speed, seconds per image (median of {repeats}), each ratio taken within one repeat:")
    for label, size, hole in CASES:
        _, masked, masks = inputs(size, hole)
        patchmatch.inpaint(masked[:1], masks[:1])  # warm-up: torch's first calls, page cache
        telea.inpaint(masked[:1], masks[:1])
        ours, theirs, ratios = [], [], []
        for _ in range(repeats):
            ours.append(seconds_per_image(patchmatch, masked, masks))
            theirs.append(seconds_per_image(telea, masked, masks))
            ratios.append(ours[-1] / theirs[-1])
        entry = {
            "patchmatch_s": statistics.median(ours),
            "telea_s": statistics.median(theirs),
            "ratio": statistics.median(ratios),
            "hole_fraction": float(masks.mean()),
        }
        results[label] = entry
        verdict = "ok" if entry["ratio"] <= 60 else "OVER the 60x target"
        print(
            f"  {label:<24} hole {100 * entry['hole_fraction']:4.1f} %   patchmatch {entry['patchmatch_s']:.4f} s   "
            f"telea {entry['telea_s']:.4f} s   ratio {entry['ratio']:5.1f}x  ({verdict})"
        )
    return results


def peak_memory_mib() -> dict:
    """VmRSS before and VmHWM after one 512x512 free-form completion, in a fresh process."""
    code = (
        "import sys; sys.path.insert(0, %r); import bench_patchmatch as b; from inpaintbench import registry\n"
        "def status(key): return int([l.split()[1] for l in open('/proc/self/status') if l.startswith(key)][0]) / 1024\n"
        "_, masked, masks = b.inputs(512, None); method = registry.create_method('patchmatch')\n"
        "before = status('VmRSS'); method.inpaint(masked[:1], masks[:1]); print(before, status('VmHWM'))"
    ) % str(Path(__file__).parent)
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    before, peak = (float(v) for v in output.split()[-2:])
    print(f"peak memory, one 512x512 free-form completion: VmHWM {peak:.0f} MiB "
          f"(RSS before it, after imports and building the inputs: {before:.0f} MiB; growth {peak - before:.0f} MiB)")
    return {"rss_before_mib": before, "peak_mib": peak}


def quality() -> dict:
    truth, masked, masks = inputs(128, 64)
    results = {}
    print("quality, 128x128 center-hole crops of " + ", ".join(PHOTOS) + " (means over the 5 images):")
    print(f"  {'method':<11} {'PSNR':>6} {'SSIM':>6} {'PSNR hole':>10} {'SSIM hole':>10}")
    for name in ("patchmatch", "telea", "biharmonic"):
        output = registry.create_method(name).inpaint(masked, masks)
        completed = np.where(masks[..., None], output, masked)
        scores = {key: float(np.mean(value)) for key, value in score_batch(completed, truth, masks).items()}
        results[name] = scores
        print(f"  {name:<11} {scores['psnr']:6.2f} {scores['ssim']:6.3f} {scores['psnr_hole']:10.2f} {scores['ssim_hole']:10.3f}")
    print("  (reference C++ PatchMatch, 7x7: 20.9 dB whole / 14.9 dB hole; Telea 21.9 / 15.9)")
    return results


def cuda_throughput(repeats: int) -> dict | None:
    import torch

    if not torch.cuda.is_available():
        print("CUDA: no device on this machine, skipped")
        return None
    method = registry.create_method("patchmatch", device="cuda")
    _, masked, masks = inputs(128, 64)
    batch = np.concatenate([masked] * 13)[:64], np.concatenate([masks] * 13)[:64]
    method.inpaint(*batch)
    times = []
    for _ in range(repeats):
        torch.cuda.synchronize()
        started = time.perf_counter()
        method.inpaint(*batch)
        torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    rate = len(batch[0]) / statistics.median(times)
    print(f"CUDA ({torch.cuda.get_device_name()}): {rate:.1f} images/s at 128x128 with a 64x64 hole, batches of 64")
    truth, masked, masks = inputs(128, 64)
    holes = {}
    for device in ("cpu", "cuda"):
        output = registry.create_method("patchmatch", device=device).inpaint(masked, masks)
        holes[device] = float(np.mean(score_batch(np.where(masks[..., None], output, masked), truth, masks)["psnr_hole"]))
    print(f"CUDA vs CPU on the quality crops: hole PSNR {holes['cuda']:.2f} vs {holes['cpu']:.2f} dB")
    return {"images_per_s": rate, "psnr_hole": holes}

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip", default="", help="comma-separated sections to skip: speed, memory, quality, cuda")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    report = {}
    for section, run in (
        ("speed", lambda: speed(args.repeats)),
        ("memory", peak_memory_mib),
        ("quality", quality),
        ("cuda", lambda: cuda_throughput(args.repeats)),
    ):
        if section not in skip:
            report[section] = run()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
