"""Shards of one evaluation, and their merge into its results directory.

A shard K of N evaluates the items ``selected[K::N]`` of the run's seeded
selection (:attr:`inpaintbench.runner.RunSpec.shard`) into
``OUT/shards/K-of-N/``, a complete results directory of its own, so shards can
run in worker processes, in ``torchrun`` ranks or on other machines, be
interrupted and resumed like any run, and be copied around.  :func:`merge_shards`
adds them to ``OUT``: every (method, item) row once, the grid's images, the
failures and the run record.  Each method's outputs depend on its image only
(randomised methods seed per image, learned models run batch norm in eval mode), so
the merged table equals one process's, except the measured seconds per image.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from .devices import Ranks
from .errors import InpaintbenchError, ResultsError
from .methods import Method
from .results import COMPATIBILITY_KEYS, ResultsStore, append_jsonl, incompatibility, read_jsonl, write_atomic
from .runner import Report, RunSpec, evaluate, run_record

SHARDS = "shards"
#: run.json fields that belong to one shard, not to the merged run
_SHARD_ONLY = ("shard", "method_order")


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` (K counted from 0) as (K, N), with a one-line error for anything else."""
    index, slash, count = text.partition("/")
    try:
        shard = (int(index), int(count))
    except ValueError:
        shard = None
    if not slash or shard is None or not 0 <= shard[0] < shard[1]:
        raise InpaintbenchError(f"--shard {text!r} must look like K/N with 0 <= K < N, e.g. --shard 0/4")
    return shard


def shard_dir(root: Path, shard: tuple[int, int]) -> Path:
    """Where shard K of N of the run in ``root`` keeps its results: ``root/shards/K-of-N``."""
    return Path(root) / SHARDS / f"{shard[0]}-of-{shard[1]}"


def shard_dirs(root: Path) -> list[Path]:
    """Every shard directory under ``root``, in shard order."""

    def order(path: Path) -> tuple:
        index, _, count = path.name.partition("-of-")
        return (int(count), int(index)) if index.isdigit() and count.isdigit() else (0, 0, path.name)

    return sorted((p for p in (Path(root) / SHARDS).glob("*") if p.is_dir()), key=order)


def evaluate_shard(
    spec: RunSpec,
    methods: dict[str, Method],
    root: ResultsStore,
    unavailable: dict[str, str] | None = None,
    advance: Callable[[int], None] = lambda n: None,
    on_start: Callable[[int], None] = lambda total: None,
) -> tuple[ResultsStore, Report]:
    """Evaluate ``spec``'s shard into ``root``'s shard directory; pairs already merged into ``root`` are skipped.

    The shard is checked against ``root`` first, so an incompatible shard fails
    before any work rather than at the merge.
    """
    if spec.shard is None:
        raise InpaintbenchError("evaluate_shard needs a RunSpec with shard=(K, N)")
    root.check_compatible(run_record(spec, [], methods, unavailable or {}))
    store = ResultsStore(shard_dir(root.root, spec.shard))
    skip = {name: root.scored_items(name) for name in methods}
    report = evaluate(spec, methods, store, unavailable, advance=advance, on_start=on_start, skip=skip)
    return store, report


@dataclasses.dataclass(frozen=True)
class MergeReport:
    """What :func:`merge_shards` added to the results directory."""

    shards: list[Path]
    rows: dict[str, int]  # new score rows per method
    images: int
    failures: int


def merge_shards(root: Path, shards: Iterable[Path] | None = None) -> MergeReport:
    """Merge ``shards`` (default: every ``root/shards/*/``) into ``root``; merging again changes nothing.

    Refuses, naming the shard, when a shard is of another run than the others
    (dataset, split, protocol, seed, metrics, item manifest, a method's options
    or checkpoint) or than ``root``.  The shard directories are kept: a rerun
    skips what they hold.
    """
    store = ResultsStore(root)
    dirs = shard_dirs(root) if shards is None else [Path(d) for d in shards]
    if not dirs:
        raise ResultsError(f"{root} has no shards to merge (expected {Path(root) / SHARDS}/K-of-N/ from compare --shard or --workers)")
    records = [(d, _shard_record(d)) for d in dirs]
    _check_shards(store, records)
    _merge_fingerprints(store, dirs)
    order = list((store.read_record() or {}).get("method_order", []))
    for _, record in records:
        store.write_record({k: v for k, v in record.items() if k not in _SHARD_ONLY})
        order += [name for name in record.get("method_order", []) if name not in order]
    if order:
        store.write_record({"method_order": order})
    return MergeReport(dirs, _merge_scores(store, dirs), _merge_images(store, dirs), _merge_failures(store, dirs))


def _shard_record(directory: Path) -> dict[str, Any]:
    record = ResultsStore(directory).read_record()
    if record is None:
        raise ResultsError(f"{directory} has no run.json: not a shard of an inpaintbench run; remove it and merge again")
    return record


def _check_shards(store: ResultsStore, records: list[tuple[Path, dict[str, Any]]]) -> None:
    first_dir, first = records[0]
    stored = store.read_record()
    for directory, record in records:
        why = incompatibility(first, record, (*COMPATIBILITY_KEYS, "manifest_sha256"))
        if why:
            raise ResultsError(
                f"cannot merge {directory}: {first_dir} holds {why}; rerun that shard with the same options and --limit, or remove it"
            )
        why = incompatibility(stored, record) if stored is not None else None
        if why:
            raise ResultsError(f"cannot merge {directory} into {store.root}, which holds {why}; remove that shard or merge it elsewhere")


def _merge_scores(store: ResultsStore, dirs: list[Path]) -> dict[str, int]:
    """Rows the root lacks, appended in item order (the order one process writes them)."""
    new: dict[str, dict[str, dict]] = {}
    for directory in dirs:
        for path in sorted((directory / "scores").glob("*.jsonl")):
            label = path.stem
            if label not in new:
                new[label] = {item: {} for item in store.scored_items(label)}  # placeholders: already in the root
            for row in read_jsonl(path):
                new[label].setdefault(row["item"], row)
    added = {}
    for label, rows in new.items():
        fresh = [row for _, row in sorted(rows.items()) if row]
        if fresh:
            store.append_scores(label, fresh)
        added[label] = len(fresh)
    return added


def _merge_images(store: ResultsStore, dirs: list[Path]) -> int:
    copied = 0
    for directory in dirs:
        for path in sorted((directory / "images").rglob("*.png")):
            target = store.root / path.relative_to(directory)
            if not target.exists():
                write_atomic(target, path.read_bytes())
                copied += 1
    return copied


def _merge_fingerprints(store: ResultsStore, dirs: list[Path]) -> None:
    """Add the shards' item fingerprints to ``store``'s, refusing a shard that scored another image under a known name."""
    known = store.item_fingerprints()
    fresh: dict[str, str] = {}
    for directory in dirs:
        for item, fingerprint in ResultsStore(directory).item_fingerprints().items():
            before = known.get(item, fresh.get(item))
            if before is not None and before != fingerprint:
                raise ResultsError(
                    f"cannot merge {directory}: its {item} is another image than the one scored under that name "
                    f"in {store.root} or another shard; rerun that shard on the same images, or remove it"
                )
            if before is None:
                fresh[item] = fingerprint
    if fresh:
        store.append_fingerprints(fresh)


def _merge_failures(store: ResultsStore, dirs: list[Path]) -> int:
    seen = {json.dumps(row, sort_keys=True) for row in store.failures()}
    fresh = []
    for directory in dirs:
        for row in ResultsStore(directory).failures():
            key = json.dumps(row, sort_keys=True)
            if key not in seen:
                seen.add(key)
                fresh.append(row)
    if fresh:
        append_jsonl(store.root / "failures.jsonl", fresh)
    return len(fresh)


@contextlib.contextmanager
def process_group(ranks: Ranks | None) -> Iterator[Callable[[], None] | None]:
    """Join torchrun's rendezvous (gloo) when there is one and yield its barrier; yield None without one.

    gloo runs on any machine, GPU or not; the barrier only waits, so its
    timeout is long: a rank that finishes its shard early waits for the others.
    """
    if ranks is None or not ranks.rendezvous:
        yield None
        return
    import torch.distributed as dist

    if dist.is_initialized():  # an experiment's group, kept for all its stages
        yield dist.barrier
        return

    dist.init_process_group("gloo", rank=ranks.rank, world_size=ranks.world_size, timeout=datetime.timedelta(days=7))
    try:
        yield dist.barrier
    finally:
        dist.destroy_process_group()
