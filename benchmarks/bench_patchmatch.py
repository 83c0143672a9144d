"""PatchMatch inpainting: quality against the C++ reference and Telea, speed against Telea, quiet and contended.

    python benchmarks/bench_patchmatch.py [--repeats 5] [--photos DIR] [--count 200] [--skip quality,speed,...]

Quality: ``patchmatch``, PyPatchMatch (the widely used C++ implementation,
7x7 patches; ``pip install pypatchmatch`` in the benchmark's environment only,
never a dependency of the project: module ``patchmatch``) and OpenCV Telea on
the same 128x128 center-hole inputs, per image: means of whole-image PSNR, hole
PSNR and hole SSIM, and the share of images where ``patchmatch`` is at least
the reference's.  Photographs: ``--photos`` or the project's photo corpus
beside the checkout (``../shared/corpus/photos``, ``--count`` of them spread
over the folder), the bundled ``sample`` set (all splits), and five
scikit-image photographs (astronaut, coffee, chelsea, rocket,
immunohistochemistry).

Speed: the same images and masks through ``patchmatch`` (default options) and
Telea (radius 3), both built through the registry as ``compare`` builds them;
each repeat times both and takes their ratio; medians are printed.  Targets:
at most 30x Telea at 128 px with a 64x64 hole, 40x at 256 px / 128x128 hole
and at 512 px / free-form 20-30 %.

Contended: the 128 px case again while one CPU-bound busy loop per core runs
(another user's job on a shared machine), each method in a fresh process as a
user would start it; quiet and contended seconds side by side.  Target:
PatchMatch at most 2.5x its quiet time.

Memory: VmHWM of a fresh process completing one 512x512 image.  CUDA: images/s
of the batched path when a device is present.
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
from inpaintbench.methods import composite
from inpaintbench.metrics import score_batch
from inpaintbench.protocol import Protocol

from _load import BusyLoops, usable_cores

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry")
#: (label, image size, center hole side or None for a free-form mask)
CASES = (("128 / 64x64 center", 128, 64), ("256 / 128x128 center", 256, 128), ("512 / free-form 20-30 %", 512, None))
#: the most patchmatch may cost, in Telea's time per image, per case
TARGETS = {128: 30, 256: 40, 512: 40}
#: PatchMatch's time beside one busy loop per core, at most this times its quiet time
CONTENDED_TARGET = 2.5
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "photos"


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
        target = TARGETS[size]
        entry["pass"] = entry["ratio"] <= target
        verdict = f"PASS (<= {target}x)" if entry["pass"] else f"FAIL (over {target}x)"
        print(
            f"  {label:<24} hole {100 * entry['hole_fraction']:4.1f} %   patchmatch {entry['patchmatch_s']:.4f} s   "
            f"telea {entry['telea_s']:.4f} s   ratio {entry['ratio']:5.1f}x  ({verdict})"
        )
    return results


def peak_memory_mib() -> dict:
    """VmRSS before and VmHWM after one 512x512 free-form completion, in a fresh process."""
    here = str(Path(__file__).parent)
    code = (
        f"import sys; sys.path.insert(0, {here!r}); import bench_patchmatch as b; from inpaintbench import registry\n"
        "def status(key): return int([l.split()[1] for l in open('/proc/self/status') if l.startswith(key)][0]) / 1024\n"
        "_, masked, masks = b.inputs(512, None); method = registry.create_method('patchmatch')\n"
        "before = status('VmRSS'); method.inpaint(masked[:1], masks[:1]); print(before, status('VmHWM'))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    before, peak = (float(v) for v in output.split()[-2:])
    print(f"peak memory, one 512x512 free-form completion: VmHWM {peak:.0f} MiB "
          f"(RSS before it, after imports and building the inputs: {before:.0f} MiB; growth {peak - before:.0f} MiB)")
    return {"rss_before_mib": before, "peak_mib": peak}


def photo_sets(photos: Path | None, count: int) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(truth, masked, masks) at 128 px with the center hole, for each set of photographs available."""
    from inpaintbench.images import read_image

    protocol = Protocol(image_size=128)
    sets = {}
    folder = photos or (CORPUS if CORPUS.is_dir() else None)
    if folder is None:
        print(f"(no photo corpus at {CORPUS}; pass --photos DIR to add a folder of your own)")
    else:
        files = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff"))
        files = files[:: max(1, len(files) // count)][:count]
        truth = np.stack([protocol.prepare(read_image(f)) for f in files])
        sets[f"{Path(folder).name} ({len(files)} photos)"] = _masked(truth)
    sample = [registry.open_dataset("sample", None, split) for split in ("train", "val", "test")]
    truth = np.stack([protocol.prepare(data.read(item)) for data in sample for item in data.item_ids()])
    sets[f"sample ({len(truth)} crops)"] = _masked(truth)
    sets["scikit-image five"] = inputs(128, 64)
    return sets


def _masked(truth: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    masks = np.broadcast_to(center_mask(truth.shape[1], truth.shape[1] // 2), truth.shape[:3]).copy()
    return truth, np.where(masks[..., None], 0, truth).astype(np.uint8), masks


def reference_patchmatch(masked: np.ndarray, masks: np.ndarray):
    """PyPatchMatch (C++) with 7x7 patches, seeded; None when it is not installed here."""
    try:
        import patchmatch as reference
    except ImportError:
        return None
    reference.set_random_seed(0)
    # PyPatchMatch's patch_size is a radius: 3 compares (2 * 3 + 1)^2 = 7x7 patches
    return np.stack([reference.inpaint(image, hole.astype(np.uint8) * 255, patch_size=3) for image, hole in zip(masked, masks)])


def quality(photos: Path | None, count: int) -> dict:
    results = {}
    print("quality, 128x128 with the 64x64 center hole; means of per-image scores; "
          "'>= ref' = share of images where patchmatch is at least PyPatchMatch's:")
    for label, (truth, masked, masks) in photo_sets(photos, count).items():
        outputs = {
            "patchmatch": registry.create_method("patchmatch").inpaint(masked, masks),
            "PyPatchMatch (C++, 7x7)": reference_patchmatch(masked, masks),
            "telea": registry.create_method("telea").inpaint(masked, masks),
        }
        if outputs["PyPatchMatch (C++, 7x7)"] is None:
            print("  (PyPatchMatch is not installed: `pip install pypatchmatch` in this environment adds the reference row)")
        scores = {
            name: score_batch(composite(masked, output, masks), truth, masks)
            for name, output in outputs.items() if output is not None
        }
        reference = scores.get("PyPatchMatch (C++, 7x7)")
        print(f"  {label}")
        print(f"    {'method':<24} {'PSNR':>6} {'hole PSNR':>10} {'hole SSIM':>10} {'>= ref (PSNR, hole PSNR, hole SSIM)':>38}")
        entry = {}
        for name, values in scores.items():
            means = {key: float(np.mean(values[key])) for key in ("psnr", "psnr_hole", "ssim_hole")}
            share = ""
            if reference is not None and name == "patchmatch":
                shares = [float(np.mean(values[key] >= reference[key])) for key in ("psnr", "psnr_hole", "ssim_hole")]
                share = ", ".join(f"{100 * value:.0f} %" for value in shares)
                means["at_least_reference"] = shares
            entry[name] = means
            print(f"    {name:<24} {means['psnr']:6.2f} {means['psnr_hole']:10.2f} {means['ssim_hole']:10.3f} {share:>38}")
        if reference is not None:
            ours, ref = entry["patchmatch"], entry["PyPatchMatch (C++, 7x7)"]
            passed = all(ours[key] >= ref[key] for key in ("psnr", "psnr_hole", "ssim_hole"))
            entry["pass"] = passed
            print(f"    -> {'PASS' if passed else 'FAIL'}: mean PSNR, hole PSNR and hole SSIM at or above the reference's")
        results[label] = entry
    return results


def contended(repeats: int) -> dict:
    """The 128 px case quiet and beside one busy loop per core, each method in a fresh process."""
    import os

    here = str(Path(__file__).parent)
    code = (
        f"import sys, time, statistics; sys.path.insert(0, {here!r}); import bench_patchmatch as b; "
        "from inpaintbench import registry; _, masked, masks = b.inputs(128, 64); "
        "m = registry.create_method(sys.argv[1]); m.inpaint(masked[:1], masks[:1]); times = []\n"
        f"for _ in range({repeats:d}): t = time.perf_counter(); m.inpaint(masked, masks); times.append((time.perf_counter() - t) / len(masked))\n"
        "print(statistics.median(times))"
    )

    def timed(name: str) -> float:
        output = subprocess.run([sys.executable, "-c", code, name], capture_output=True, text=True, check=True).stdout
        return float(output.split()[-1])

    cores = usable_cores()
    quiet = {name: timed(name) for name in ("patchmatch", "telea")}
    with BusyLoops(cores):
        busy = {name: timed(name) for name in ("patchmatch", "telea")}
    print(f"contended, 128 px, seconds per image with one busy loop on each of the {cores} cores "
          f"(OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}):")
    results = {}
    for name in quiet:
        slowdown = busy[name] / quiet[name]
        results[name] = {"quiet_s": quiet[name], "contended_s": busy[name], "slowdown": slowdown}
        note = ""
        if name == "patchmatch":
            results[name]["pass"] = slowdown <= CONTENDED_TARGET
            note = f"  {'PASS' if slowdown <= CONTENDED_TARGET else 'FAIL'} (<= {CONTENDED_TARGET}x)"
        print(f"  {name:<11} quiet {quiet[name]:.4f} s   contended {busy[name]:.4f} s   slowdown {slowdown:.2f}x{note}")
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
        holes[device] = float(np.mean(score_batch(composite(masked, output, masks), truth, masks)["psnr_hole"]))
    print(f"CUDA vs CPU on the quality crops: hole PSNR {holes['cuda']:.2f} vs {holes['cpu']:.2f} dB")
    return {"images_per_s": rate, "psnr_hole": holes}

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--photos", type=Path, help="folder of photographs for the quality table (default: the photo corpus)")
    parser.add_argument("--count", type=int, default=200, help="photographs taken from that folder, spread over it")
    parser.add_argument("--skip", default="", help="comma-separated sections to skip: quality, speed, contended, memory, cuda")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    report = {}
    for section, run in (
        ("quality", lambda: quality(args.photos, args.count)),
        ("speed", lambda: speed(args.repeats)),
        ("contended", lambda: contended(args.repeats)),
        ("memory", peak_memory_mib),
        ("cuda", lambda: cuda_throughput(args.repeats)),
    ):
        if section not in skip:
            report[section] = run()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
