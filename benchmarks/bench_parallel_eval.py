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

    python benchmarks/bench_parallel_eval.py --workers-list 1,2 [--limit 20] [--split-threads]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from inpaintbench import registry
from inpaintbench.parallel import MethodSpec, available_cores, evaluate_parallel
from inpaintbench.protocol import Protocol
from inpaintbench.results import ResultsStore
from inpaintbench.runner import RunSpec

METHODS = {"patchmatch": MethodSpec("patchmatch"), "telea": MethodSpec("telea")}


def run(workers: int, limit: int | None, out: Path, threads: int | None) -> tuple[float, pd.DataFrame]:
    """Seconds of one evaluation with ``workers`` processes, and its stored scores without the seconds column."""
    spec = RunSpec(registry.open_dataset("sample"), Protocol(), seed=0, limit=limit)
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
    parser.add_argument("--split-threads", action="store_true", help="Give each worker cores // workers torch threads (default: as many as one process uses, which keeps the scores identical).")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers_list.split(",")]
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"cores available: {available_cores()}; load average (1, 5, 15 min): {load}")
    items = len(RunSpec(registry.open_dataset("sample"), Protocol(), limit=args.limit).selected())
    print(f"methods: {', '.join(METHODS)}; {items} sample items at 128 px, center hole")
    print(f"{'workers':>7}  {'seconds':>8}  {'images/s':>8}  {'speed-up':>8}  max |score difference|")
    baseline: tuple[float, pd.DataFrame] | None = None
    with tempfile.TemporaryDirectory(prefix="bench-parallel-") as scratch:
        for count in counts:
            threads = max(1, available_cores() // count) if args.split_threads else None
            seconds, scores = run(count, args.limit, Path(scratch) / f"workers-{count}", threads)
            baseline = baseline or (seconds, scores)
            numbers = scores.select_dtypes("number")
            difference = float((numbers - baseline[1][numbers.columns]).abs().max().max())
            rate = items * len(METHODS) / seconds
            print(f"{count:>7}  {seconds:>8.1f}  {rate:>8.2f}  {baseline[0] / seconds:>7.2f}x  {difference:.1e}")


if __name__ == "__main__":
    main()
