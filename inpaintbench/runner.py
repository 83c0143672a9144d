"""The evaluation loop: dataset -> protocol -> methods -> composite -> scores -> store.

Items stream through in batches (decoding of the next batch overlaps the
methods' work on the current one), so memory stays flat however large the
dataset.  Each method sees only the masked image and the mask.  Every
(item, method) pair already in the store is skipped, so an interrupted run
continues where it stopped.  A shard (``RunSpec.shard``) evaluates every N-th
item of the same seeded selection, so shards run anywhere add up to one run
(:mod:`inpaintbench.sharding` merges them).  A method that raises is reported by name and the
others go on; an unreadable image is reported with its path and skipped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .datasets.base import Dataset, manifest_hash
from .errors import InpaintbenchError, ResultsError, one_line
from .methods import Method, check_output, composite
from .predictions import PredictionFolder
from .protocol import Protocol
from .provenance import distribution_of, file_sha256, versions
from .results import ResultsStore
from .scoring import score_completed, settings_record

#: a method whose batches fail this many times in a row is stopped for the run
MAX_CONSECUTIVE_FAILURES = 3
#: images with a shorter side below this (or below the benchmark size, if smaller) are skipped and reported
MIN_SHORTER_SIDE = 64


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """What to evaluate on, and how."""

    dataset: Dataset
    protocol: Protocol
    seed: int = 0
    limit: int | None = None
    batch_size: int = 16
    #: completed images saved for the first K items (the comparison grid); None saves all
    keep_images: int | None = 8
    #: (K, N): evaluate only shard K of N, the items ``selected[K::N]`` (interleaved, so shards are balanced)
    shard: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.shard is not None:
            index, count = self.shard
            if not 0 <= index < count:
                raise InpaintbenchError(f"shard {index}/{count}: the index must be 0 to {count - 1} (shard K/N, K counted from 0)")

    def selected(self) -> list[str]:
        """The whole run's items, shard or not: what run.json's items and manifest describe."""
        return select_items(self.dataset.item_ids(), self.limit, self.seed)

    def own_items(self, selected: list[str]) -> list[str]:
        """The items this process evaluates: all of ``selected``, or its shard's share."""
        if self.shard is None:
            return list(selected)
        index, count = self.shard
        return selected[index::count]


@dataclasses.dataclass
class Batch:
    ids: list[str]
    targets: np.ndarray  # (N, S, S, 3) uint8 ground truth: scorer only, never a method
    masks: np.ndarray  # (N, S, S) bool
    unreadable: list[tuple[str, str]]  # (item id, reason)
    masked: np.ndarray = dataclasses.field(init=False)  # what methods see: holes zeroed
    #: per item, a hash of its benchmark image: what a results directory remembers it by
    fingerprints: list[str] = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.masked = np.where(self.masks[..., None], np.uint8(0), self.targets)
        self.fingerprints = [hashlib.sha256(target.tobytes()).hexdigest()[:16] for target in self.targets]


@dataclasses.dataclass
class Report:
    """What happened, for the CLI's closing lines."""

    scored: dict[str, int]
    skipped: dict[str, int]
    failed_methods: dict[str, str]  # methods stopped after repeated errors
    unreadable: list[tuple[str, str]]
    #: this run's errors per method: (items in the failed batch, message)
    method_errors: dict[str, list[tuple[int, str]]] = dataclasses.field(default_factory=dict)
    #: worker processes that died (parallel evaluation): worker name -> one-line reason
    crashed_workers: dict[str, str] = dataclasses.field(default_factory=dict)
    #: prediction folders' items without a usable file: (item id, reason)
    missing: dict[str, list[tuple[str, str]]] = dataclasses.field(default_factory=dict)
    #: this run's errors per scorer: (items whose rows lack its columns, message)
    scorer_errors: dict[str, list[tuple[int, str]]] = dataclasses.field(default_factory=dict)


def select_items(item_ids: list[str], limit: int | None, seed: int) -> list[str]:
    """The evaluated subset: all items, or ``limit`` of them chosen by seed.

    Items are ranked by a hash of (seed, id), so ``--limit 10`` is a prefix of
    ``--limit 100`` (a larger rerun reuses the smaller one's scores) and the
    subset is spread over the whole dataset rather than its first folders.
    """
    if limit is None or limit >= len(item_ids):
        return list(item_ids)
    ranked = sorted(item_ids, key=lambda item: hashlib.sha256(f"{seed}\x00{item}".encode("utf-8", "surrogateescape")).digest())
    return sorted(ranked[:limit])


def _spread(item_ids: list[str], count: int | None) -> list[str]:
    """``count`` items evenly spaced over the list (the grid shows the whole dataset, not its first folder)."""
    if count is None or count >= len(item_ids):
        return list(item_ids)
    step = len(item_ids) / count
    return [item_ids[int(k * step)] for k in range(count)]


def run_record(spec: RunSpec, item_ids: list[str], methods: dict[str, Method], unavailable: dict[str, str]) -> dict:
    """The provenance written to run.json."""
    method_entries = {}
    for name, method in methods.items():
        entry = {
            "options": method.describe_options(),
            "device": method.device,
            "status": "ok",
            "code": f"{type(method).__module__}.{type(method).__qualname__}",
            "distribution": distribution_of(type(method)),
        }
        if variant := method.variant():
            entry["variant"] = variant
        if method.checkpoint is not None:
            entry["checkpoint"] = str(method.checkpoint)
            entry["checkpoint_sha256"] = file_sha256(method.checkpoint)
        trained_on = getattr(method, "trained_on", None)
        if trained_on:
            entry["trained_on"] = trained_on
        method_entries[name] = entry
    for name, reason in unavailable.items():
        method_entries[name] = {"status": "unavailable", "reason": reason}
    return {
        "dataset": spec.dataset.name,
        "split": spec.dataset.split,
        "dataset_root": str(Path(spec.dataset.root).resolve()) if spec.dataset.root else None,
        "protocol": spec.protocol.describe(),
        "seed": spec.seed,
        "limit": spec.limit,
        "items": len(item_ids),
        "manifest_sha256": manifest_hash(item_ids),
        **settings_record(),  # "metrics" (the built-in scorer's settings) and "scorers"
        "methods": method_entries,
        "versions": versions(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **({"shard": f"{spec.shard[0]}/{spec.shard[1]}"} if spec.shard else {}),
    }


def evaluate(
    spec: RunSpec,
    methods: dict[str, Method],
    store: ResultsStore,
    unavailable: dict[str, str] | None = None,
    advance: Callable[[int], None] = lambda n: None,
    on_start: Callable[[int], None] = lambda total: None,
    skip: Mapping[str, set[str]] | None = None,
) -> Report:
    """Score every method on every selected item (of the shard) not yet in ``store`` nor in ``skip``.

    ``skip`` maps a method to items scored elsewhere (a shard's merged rows in
    the main results directory), which count as done.  For progress bars:
    ``on_start(total)`` is called once with the number of (item, method)
    pairs, then ``advance(n)`` as pairs finish or are skipped.
    """
    selected = spec.selected()
    item_ids = spec.own_items(selected)
    on_start(len(item_ids) * len(methods))
    record = run_record(spec, selected, methods, unavailable or {})
    store.check_compatible(record)
    store.write_record(record)

    skip = skip or {}
    fingerprints = store.item_fingerprints()
    done = {name: store.scored_items(name) | set(skip.get(name, ())) for name in methods}
    report = Report({n: 0 for n in methods}, {n: len(done[n] & set(item_ids)) for n in methods}, {}, [])
    keep = set(_spread(selected, spec.keep_images))  # on the whole selection: shards keep one run's grid
    failures_in_a_row = {name: 0 for name in methods}
    active = dict(methods)

    batches = [item_ids[i : i + spec.batch_size] for i in range(0, len(item_ids), spec.batch_size)]
    for ids, batch in _load_ahead(spec, batches, lambda ids: any(i not in done[n] for n in active for i in ids)):
        pending = {name: [i for i in ids if i not in done[name]] for name in active}
        advance(sum(len(ids) - len(p) for p in pending.values()) + len(ids) * (len(methods) - len(active)))
        if batch is None:
            continue
        for item_id, reason in batch.unreadable:
            store.append_failure("read", reason, items=[item_id])
            report.unreadable.append((item_id, reason))
        _check_fingerprints(store, batch, fingerprints)
        _save_references(store, batch, keep)
        for name, method in list(active.items()):
            todo = set(pending[name])
            rows = [k for k, i in enumerate(batch.ids) if i in todo]
            if rows:
                try:
                    completion = _complete(name, method, batch, rows)
                except KeyboardInterrupt:
                    raise
                except BaseException as error:  # a plugin's bug, even sys.exit(), must not sink the other methods
                    message = one_line(error)
                    store.append_failure("inpaint", message, method=name, items=[batch.ids[k] for k in rows])
                    report.method_errors.setdefault(name, []).append((len(rows), message))
                    failures_in_a_row[name] += 1
                    if failures_in_a_row[name] >= MAX_CONSECUTIVE_FAILURES:
                        report.failed_methods[name] = message
                        del active[name]
                else:  # the harness's own writes: their failure is the run's error, not the method's
                    report.scored[name] += _store_completion(store, name, batch, completion, keep, report)
                    failures_in_a_row[name] = 0
            advance(len(pending[name]))
    return report


@dataclasses.dataclass
class Completion:
    """One method's completed and scored rows of a batch, not yet stored."""

    rows: list[int]
    completed: np.ndarray
    records: list[dict]
    #: prediction folders: items without a usable file, with the reason
    missing: dict[str, str] = dataclasses.field(default_factory=dict)
    #: scorers that failed on these rows (their columns are absent), with the reason
    scorer_errors: dict[str, str] = dataclasses.field(default_factory=dict)


def _complete(name: str, method: Method, batch: Batch, rows: list[int]) -> Completion:
    """Complete and score the batch's ``rows`` with one method (whatever goes wrong here is the method's)."""
    missing: dict[str, str] = {}
    if isinstance(method, PredictionFolder):
        found, missing = method.collect([batch.ids[k] for k in rows], batch.targets.shape[1:])
        rows = [k for k in rows if batch.ids[k] in found]
        if not rows:  # no file for the whole batch: its items are missing, not the method's failure
            return Completion([], batch.masked[:0], [], missing)
        output = np.stack([found[batch.ids[k]] for k in rows])
        seconds = float("nan")  # made elsewhere: no time to report
    else:
        started = time.perf_counter()
        output = method.inpaint(batch.masked[rows].copy(), batch.masks[rows].copy())
        seconds = (time.perf_counter() - started) / len(rows)
    masked = batch.masked[rows]
    masks = batch.masks[rows]
    completed = composite(masked, check_output(name, output, masked), masks)
    scores, scorer_errors = score_completed(completed, batch.targets[rows], masks)
    hole_fraction = masks.reshape(len(rows), -1).mean(axis=1)
    records = [
        {"item": batch.ids[k], **{key: float(values[j]) for key, values in scores.items()}, "hole_fraction": float(hole_fraction[j]), "seconds": seconds}
        for j, k in enumerate(rows)
    ]
    return Completion(rows, completed, records, missing, scorer_errors)


def _store_completion(store: ResultsStore, name: str, batch: Batch, completion: Completion, keep: set[str], report: Report) -> int:
    """Save the kept images and append the score rows; the number of items scored."""
    for item_id, reason in completion.missing.items():
        store.append_failure("predictions", reason, method=name, items=[item_id])
        report.missing.setdefault(name, []).append((item_id, reason))
    for scorer, reason in completion.scorer_errors.items():
        store.append_failure("score", f"scorer {scorer!r}: {reason}", method=name, items=[batch.ids[k] for k in completion.rows])
        report.scorer_errors.setdefault(scorer, []).append((len(completion.rows), reason))
    for j, k in enumerate(completion.rows):
        if batch.ids[k] in keep:
            store.save_image(name, batch.ids[k], completion.completed[j])
    if completion.records:
        store.append_scores(name, completion.records)
    return len(completion.rows)


def _check_fingerprints(store: ResultsStore, batch: Batch, known: dict[str, str]) -> None:
    """Refuse to add scores for an item whose benchmark image is not the one scored before; record new items."""
    new = {}
    for item_id, fingerprint in zip(batch.ids, batch.fingerprints):
        before = known.get(item_id)
        if before is None:
            new[item_id] = fingerprint
        elif before != fingerprint:
            raise ResultsError(
                f"{item_id} changed since it was scored in {store.root} (another image under the same name); "
                "use another --out, or remove that directory to score the new images"
            )
    if new:
        store.append_fingerprints(new)
        known.update(new)


def _save_references(store: ResultsStore, batch: Batch, keep: set[str]) -> None:
    """The grid's input, hole and ground-truth images, written by the harness, not by a method."""
    masked = batch.masked
    for k, item_id in enumerate(batch.ids):
        if item_id in keep and not store.image_path("target", item_id).exists():
            store.save_image("input", item_id, masked[k])
            store.save_mask(item_id, batch.masks[k])
            store.save_image("target", item_id, batch.targets[k])


def _load_ahead(
    spec: RunSpec, batches: list[list[str]], needed: Callable[[list[str]], bool]
) -> Iterator[tuple[list[str], Batch | None]]:
    """Yield (ids, batch) with the next batch decoding in a thread meanwhile; None when nothing is pending."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="inpaintbench-load") as pool:
        future = None
        for index, ids in enumerate(batches):
            if future is None:
                future = pool.submit(load_batch, spec, ids) if needed(ids) else None
            current, future = future, None
            if index + 1 < len(batches) and needed(batches[index + 1]):
                future = pool.submit(load_batch, spec, batches[index + 1])
            yield ids, current.result() if current is not None else None


def load_batch(spec: RunSpec, ids: list[str]) -> Batch:
    """Decode, crop and mask the items ``ids`` as every method will see them; unusable items are listed, not raised."""
    targets, masks, kept, unreadable = [], [], [], []
    for item_id in ids:
        try:
            image = spec.dataset.read(item_id)
            check_not_tiny(image, item_id, spec.protocol.image_size)
            mask = spec.protocol.make_mask(item_id, spec.seed, image.shape[:2])
        except InpaintbenchError as error:
            unreadable.append((item_id, str(error)))
            continue
        targets.append(spec.protocol.prepare(image))
        masks.append(mask)
        kept.append(item_id)
    size = spec.protocol.image_size
    return Batch(
        kept,
        np.stack(targets) if targets else np.zeros((0, size, size, 3), np.uint8),
        np.stack(masks) if masks else np.zeros((0, size, size), bool),
        unreadable,
    )


def check_not_tiny(image: np.ndarray, item_id: str, image_size: int) -> None:
    """Refuse an image that the protocol would blow up: a thumbnail scaled 4x scores the upscaler, not the method."""
    smallest = min(MIN_SHORTER_SIDE, image_size)
    height, width = image.shape[:2]
    if min(height, width) < smallest:
        raise InpaintbenchError(
            f"{item_id}: too small ({width}x{height}); the benchmark needs a shorter side of at least {smallest} px "
            f"(it would be upscaled {image_size / min(height, width):.1f}x to {image_size} px)"
        )
