"""Harness overhead: `compare`'s work with Telea vs a bare cv2.inpaint + scoring loop.

Both sides read the same PNG files, apply the same protocol (resize, crop,
center mask), run OpenCV Telea and score with inpaintbench.metrics; the harness
adds batching, prefetching, compositing, the results store (JSONL rows, run
record, grid images) and the tables.  Also reports peak memory for two dataset
sizes, each in a fresh process, to show it stays flat as the dataset grows.

    python benchmarks/bench_harness.py --n 500 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np


def make_photos(folder: Path, count: int) -> None:
    """``count`` 256x256 PNG crops of scikit-image's colour photographs."""
    from skimage import data

    sources = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket(), data.immunohistochemistry()]
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(count):
        image = sources[k % len(sources)]
        top = rng.integers(0, image.shape[0] - 256 + 1)
        left = rng.integers(0, image.shape[1] - 256 + 1)
        crop = image[top : top + 256, left : left + 256]
        cv2.imwrite(str(folder / f"{k:05d}.png"), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))


def bare_loop(folder: Path, batched_scoring: bool = False) -> float:
    """The reference: no store, no batching; ``batched_scoring`` scores all images in one call at the end."""
    from inpaintbench.images import read_image
    from inpaintbench.metrics import score_batch
    from inpaintbench.protocol import Protocol

    protocol = Protocol()
    started = time.perf_counter()
    kept = []
    for path in sorted(folder.glob("*.png")):
        target = protocol.prepare(read_image(path))
        mask = protocol.make_mask(path.name, 0)
        masked = np.where(mask[..., None], 0, target).astype(np.uint8)
        filled = cv2.inpaint(masked, mask.astype(np.uint8), 3, cv2.INPAINT_TELEA)
        if batched_scoring:
            kept.append((filled, target, mask))
        else:
            score_batch(filled[None], target[None], mask[None])
    if kept:
        score_batch(*(np.stack(parts) for parts in zip(*kept)))
    return time.perf_counter() - started


def harness(folder: Path, out: Path) -> float:
    from inpaintbench import registry
    from inpaintbench.protocol import Protocol
    from inpaintbench.reports import write_reports
    from inpaintbench.results import ResultsStore
    from inpaintbench.runner import RunSpec, evaluate

    started = time.perf_counter()
    spec = RunSpec(registry.open_dataset("folder", folder), Protocol(), seed=0)
    store = ResultsStore(out)
    evaluate(spec, {"telea": registry.create_method("telea")}, store)
    write_reports(store)
    return time.perf_counter() - started


def peak_memory_mb(count: int, workdir: Path) -> float:
    """Peak RSS of a fresh process running the harness on ``count`` images.

    Read from /proc/self/status (VmHWM): ``ru_maxrss`` would carry over this
    parent's peak through fork + exec on Linux and hide any growth.
    """
    folder = workdir / f"mem{count}"
    make_photos(folder, count)
    here, out = str(Path(__file__).parent), str(workdir / f"out{count}")
    code = (
        f"import sys; sys.path.insert(0, {here!r}); import bench_harness as b; from pathlib import Path;"
        f"b.harness(Path({str(folder)!r}), Path({out!r}));"
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return int(output.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-sizes", default="100,3000")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        photos = work / "photos"
        make_photos(photos, args.n)
        bare_loop(photos)  # warm the page cache and imports
        bare, bare_batched, wrapped = [], [], []
        for repeat in range(args.repeats):
            bare.append(bare_loop(photos))
            bare_batched.append(bare_loop(photos, batched_scoring=True))
            wrapped.append(harness(photos, work / f"out{repeat}"))
        b, bb, h = statistics.median(bare), statistics.median(bare_batched), statistics.median(wrapped)
        print(f"images: {args.n} (128x128, 64x64 center hole, Telea radius 3), median of {args.repeats}")
        print(f"bare loop (read + protocol + cv2.inpaint + score): {b:.3f} s  ({1000 * b / args.n:.2f} ms/image)")
        print(f"bare loop, scores batched at the end:              {bb:.3f} s  ({1000 * bb / args.n:.2f} ms/image)")
        print(f"harness (evaluate + tables + grid):               {h:.3f} s  ({1000 * h / args.n:.2f} ms/image)")
        print(f"overhead vs bare loop: {100 * (h / b - 1):+.1f} %, vs batched-scoring bare loop: "
              f"{100 * (h / bb - 1):+.1f} %  (target: at most +25 %)")
        sizes = [int(s) for s in args.memory_sizes.split(",")]
        peaks = {size: peak_memory_mb(size, work) for size in sizes}
        print("peak RSS: " + ", ".join(f"{size} images {mb:.0f} MiB" for size, mb in peaks.items()))
        print(json.dumps({"bare_s": b, "bare_batched_s": bb, "harness_s": h, "peak_rss_mib": peaks}))


if __name__ == "__main__":
    main()
