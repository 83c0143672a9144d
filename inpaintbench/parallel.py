"""Parallel evaluation: the CPU methods on every core, with the table one process would give.

Worker K of N is a spawned process that evaluates shard K/N
(:mod:`inpaintbench.sharding`) into ``OUT/shards/K-of-N``; the parent merges
the shards into ``OUT`` when they finish.  Methods and some datasets (an open
LMDB handle) cannot be pickled, so a worker gets their names and options and
rebuilds them through the registry.  Methods on a GPU run once, in the
parent, meanwhile.

The workers share the main process's torch threads between them (``T // N``
each, at least one), so N workers do not oversubscribe the cores.  That keeps
the scores equal to one process's only because every built-in method's CPU
output is independent of the thread count (the exemplar-based method resamples
with its own bilinear kernel for that reason; tests check it); a plugin whose output is not
can be given ``threads_per_worker`` explicitly.  OpenMP threads sleep rather
than spin while they wait (``OMP_WAIT_POLICY=PASSIVE`` unless set: see
``inpaintbench/__init__.py``, which every worker imports before torch).
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import registry
from .errors import InpaintbenchError, ResultsError, one_line
from .methods import Method
from .results import ResultsStore
from .runner import Report, RunSpec, evaluate, run_record
from .sharding import evaluate_shard, merge_shards, shard_dir


@dataclasses.dataclass(frozen=True)
class MethodSpec:
    """Everything needed to rebuild a method in another process."""

    method: str  # registered method name
    options: dict[str, str] = dataclasses.field(default_factory=dict)  # CLI-style key=value strings
    device: str = "cpu"  # "cpu" or "cuda"
    checkpoint: Path | None = None

    def build(self) -> Method:
        return registry.create_method(self.method, self.options, self.device, self.checkpoint)


def available_cores() -> int:
    """CPU cores this process may use (its affinity, e.g. under taskset or a batch scheduler)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def evaluate_parallel(
    spec: RunSpec,
    methods: dict[str, MethodSpec],
    store: ResultsStore,
    workers: int,
    unavailable: dict[str, str] | None = None,
    advance: Callable[[int], None] = lambda n: None,
    on_start: Callable[[int], None] = lambda total: None,
    threads_per_worker: int | None = None,
    built: dict[str, Method] | None = None,
) -> Report:
    """:func:`~inpaintbench.runner.evaluate` with the CPU methods split over ``workers`` processes (0: one per core).

    The keys of ``methods`` are the table's row labels (``scores/<label>.jsonl``).
    Pairs already in ``store`` or in its shards are skipped.  ``advance`` may
    be called from a helper thread (never two calls at once).  A worker that
    dies is reported in ``Report.crashed_workers``; what it finished is kept.
    ``threads_per_worker`` (default: this process's torch threads divided
    among the workers) sets each worker's torch and OpenCV threads.
    ``built`` holds methods the caller already made from ``methods`` (a
    checkpoint is then not loaded twice); the others are built here.  A
    method only in ``built`` (no spec to rebuild it from) runs in this process.
    """
    if spec.shard is not None:
        raise InpaintbenchError("evaluate_parallel runs a whole selection; evaluate one shard with sharding.evaluate_shard")
    given = built or {}
    built = {**given, **{label: given.get(label) or method.build() for label, method in methods.items()}}
    selected = spec.selected()
    # only what a MethodSpec can rebuild goes to the workers; the rest (a GPU model, a predictions folder) stays here
    on_cpu = [label for label, method in built.items() if label in methods and method.device == "cpu"]
    workers = min(workers if workers > 0 else available_cores(), len(selected))
    if workers <= 1 or not on_cpu:
        return evaluate(spec, built, store, unavailable, advance=advance, on_start=on_start)

    record = run_record(spec, selected, built, unavailable or {})
    store.check_compatible(record)
    store.write_record(record)
    on_start(len(selected) * len(built))
    in_parent = {label: method for label, method in built.items() if label not in on_cpu}
    labels = list(built)
    del built  # the workers build their own CPU methods

    lock = threading.Lock()

    def advance_locked(count: int) -> None:
        with lock:
            advance(count)

    job = _Job(
        dataset=(spec.dataset.name, spec.dataset.root, spec.dataset.split),
        spec={f.name: getattr(spec, f.name) for f in dataclasses.fields(spec) if f.name not in ("dataset", "shard")},
        methods={label: methods[label] for label in on_cpu},
        root=store.root,
        threads=threads_per_worker or max(1, _torch_threads() // workers),
    )
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    processes = [
        context.Process(target=_work, args=(job, k, workers, messages), name=f"shard {k}/{workers}") for k in range(workers)
    ]
    results: dict[int, Any] = {}
    listener = threading.Thread(target=_listen, args=(messages, advance_locked, results), name="inpaintbench-progress", daemon=True)
    listener.start()
    for process in processes:
        process.start()
    finished = False
    try:
        parent = evaluate(spec, in_parent, store, advance=advance_locked) if in_parent else None
        for process in processes:
            process.join()
        finished = True
    finally:
        for process in processes:
            process.join(timeout=None if finished else 10)  # after Ctrl-C, workers stop at their own pace
            if process.is_alive():
                process.terminate()
                process.join()
        messages.put(None)
        listener.join()

    crashed: dict[str, str] = {}
    for k, process in enumerate(processes):
        result = results.get(k)
        if not isinstance(result, Report):
            crashed[process.name] = result if isinstance(result, str) else _exit_reason(process.exitcode)
    finished_shards = [shard_dir(store.root, (k, workers)) for k, p in enumerate(processes) if p.name not in crashed]
    if finished_shards:
        merge_shards(store.root, finished_shards)
    for k, process in enumerate(processes):  # what a crashed worker finished is kept too, when it got that far
        directory = shard_dir(store.root, (k, workers))
        if process.name in crashed and (directory / "run.json").exists():
            try:
                merge_shards(store.root, [directory])
            except ResultsError as error:
                crashed[process.name] += f" (its shard was not merged: {error})"
    parts = [report for report in (parent, *results.values()) if isinstance(report, Report)]
    return _combine(labels, parts, crashed)


@dataclasses.dataclass(frozen=True)
class _Job:
    """What a worker needs, all picklable: names and options, not objects."""

    dataset: tuple[str, Path | None, str]  # registered name, root, split
    spec: dict[str, Any]  # RunSpec fields other than dataset and shard
    methods: dict[str, MethodSpec]
    root: Path
    threads: int  # torch and OpenCV threads
    parent: int = dataclasses.field(default_factory=os.getpid)  # the process whose death ends the worker


def _work(job: _Job, index: int, count: int, messages) -> None:
    """A worker process: shard ``index`` of ``count``; reports progress, then its Report or its error, on ``messages``."""
    try:
        _die_with_parent(job.parent)
        import cv2
        import torch

        torch.set_num_threads(job.threads)
        cv2.setNumThreads(job.threads)
        spec = RunSpec(registry.open_dataset(*job.dataset), **job.spec, shard=(index, count))
        methods = {label: method.build() for label, method in job.methods.items()}
        _, report = evaluate_shard(spec, methods, ResultsStore(job.root), advance=lambda n: messages.put(("advance", n)))
        messages.put(("done", index, report))
    except KeyboardInterrupt:
        messages.put(("done", index, "interrupted"))
        raise SystemExit(130) from None
    except BaseException as error:
        messages.put(("done", index, one_line(error)))
        raise SystemExit(1) from None


def _die_with_parent(parent: int) -> None:
    """End this worker when the parent dies, even by ``kill -9``: a stray worker would race the rerun for the same files.

    Linux delivers SIGKILL on the parent's death (``PR_SET_PDEATHSIG``); elsewhere
    a thread notices that the parent changed.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        set_death_signal = 1  # PR_SET_PDEATHSIG
        ctypes.CDLL(None, use_errno=True).prctl(set_death_signal, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="inpaintbench-parent-watch", daemon=True).start()


def _listen(messages, advance: Callable[[int], None], results: dict[int, Any]) -> None:
    """Forward the workers' progress to ``advance`` and collect what each one ended with, until None arrives."""
    while (message := messages.get()) is not None:
        if message[0] == "advance":
            advance(message[1])
        else:
            results[message[1]] = message[2]


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by signal {-code}"
    return f"exited with code {code} before reporting"


def _combine(labels: list[str], reports: list[Report], crashed: dict[str, str]) -> Report:
    """One Report for the whole run from the parent's and the workers' (each pair is in exactly one of them)."""
    total = Report({label: 0 for label in labels}, {label: 0 for label in labels}, {}, [], crashed_workers=crashed)
    unreadable = {}
    for report in reports:
        for label, count in report.scored.items():
            total.scored[label] += count
        for label, count in report.skipped.items():
            total.skipped[label] += count
        total.failed_methods.update(report.failed_methods)
        for label, errors in report.method_errors.items():
            total.method_errors.setdefault(label, []).extend(errors)
        for label, missing in report.missing.items():
            total.missing.setdefault(label, []).extend(missing)
        for scorer, errors in report.scorer_errors.items():
            total.scorer_errors.setdefault(scorer, []).extend(errors)
        unreadable.update(dict(report.unreadable))  # the parent's GPU methods read every item too
    total.unreadable.extend(sorted(unreadable.items()))
    return total
