"""Parallel evaluation of the CPU methods: wall time with 1, 2, ... worker processes, and identical scores.

Each worker count evaluates ``patchmatch`` (default options) and ``telea`` on
the bundled ``sample`` set (128 px, center hole, seed 0: ``inpaintbench
compare``'s defaults) into a fresh results directory through
:func:`inpaintbench.parallel.evaluate_parallel`, as ``compare --workers N``
does.  Printed per count: wall seconds (process start-up and the merge
included), images/s (items x methods / seconds), the speed-up over the first
count, and the largest difference of any stored score (the measured seconds
aside) from the first count's: 0 means identical, ~1e-16 is SSIM's float64
rounding (its sums run over the chunk of images scored together; the tables
and scores.csv, written to 6 digits, are then identical).  The load average is printed first: on a shared machine the
speed-up is bounded by the free cores, not the worker count.

Each worker gets the main process's torch threads divided by the worker count
(as ``compare --workers`` does); ``--same-threads`` gives every worker all of
them instead (oversubscribed).  The 45 sample images are few enough that
starting the workers is a large share of the time: ``--root DIR`` evaluates a
folder of images instead.

    python benchmarks/bench_parallel_eval.py --workers-list 1,2 [--limit 20] [--root DIR] [--same-threads]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from inpaintbench import registry
from inpaintbench.parallel import MethodSpec, available_cores, evaluate_parallel
from inpaintbench.protocol import Protocol
from inpaintbench.results import ResultsStore
from inpaintbench.runner import RunSpec

METHODS = {"patchmatch": MethodSpec("patchmatch"), "telea": MethodSpec("telea")}


def dataset(root: Path | None):
    return registry.open_dataset("folder", root) if root else registry.open_dataset("sample")


def run(workers: int, limit: int | None, root: Path | None, out: Path, threads: int | None) -> tuple[float, pd.DataFrame]:
    """Seconds of one evaluation with ``workers`` processes, and its stored scores without the seconds column."""
    spec = RunSpec(dataset(root), Protocol(), seed=0, limit=limit)
    store = ResultsStore(out)
    started = time.perf_counter()
    report = evaluate_parallel(spec, METHODS, store, workers, threads_per_worker=threads)
    seconds = time.perf_counter() - started
    if report.crashed_workers or report.failed_methods:
        raise SystemExit(f"workers={workers}: {report.crashed_workers or report.failed_methods}")
    scores = store.scores().drop(columns="seconds").sort_values(["method", "item"]).reset_index(drop=True)
    return seconds, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers-list", default="1,2", help="Comma-separated worker counts; the first is the baseline.")
    parser.add_argument("--limit", type=int, help="Evaluate only this many sample items (default: all).")
    parser.add_argument("--root", type=Path, help="A folder of images to evaluate instead of the sample set.")
    parser.add_argument("--same-threads", action="store_true",
                        help="Give every worker all of one process's torch threads (default: divided among the workers).")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers_list.split(",")]
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"cores available: {available_cores()}; load average (1, 5, 15 min): {load}")
    items = len(RunSpec(dataset(args.root), Protocol(), limit=args.limit).selected())
    print(f"methods: {', '.join(METHODS)}; {items} items of {args.root or 'sample'} at 128 px, center hole")
    print(f"{'workers':>7}  {'seconds':>8}  {'images/s':>8}  {'speed-up':>8}  max |score difference|")
    baseline: tuple[float, pd.DataFrame] | None = None
    with tempfile.TemporaryDirectory(prefix="bench-parallel-") as scratch:
        for count in counts:
            threads = torch.get_num_threads() if args.same_threads else None
            seconds, scores = run(count, args.limit, args.root, Path(scratch) / f"workers-{count}", threads)
            baseline = baseline or (seconds, scores)
            numbers = scores.select_dtypes("number")
            difference = float((numbers - baseline[1][numbers.columns]).abs().max().max())
            rate = items * len(METHODS) / seconds
            print(f"{count:>7}  {seconds:>8.1f}  {rate:>8.2f}  {baseline[0] / seconds:>7.2f}x  {difference:.1e}")


if __name__ == "__main__":
    main()
