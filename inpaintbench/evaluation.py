"""The evaluation service: build the rows of a table, then score them, however the work is spread.

``compare``, ``run`` and every experiment go through these two calls, so a
method that cannot start, worker processes (``--workers``), a shard run by
hand (``--shard K/N``) and torchrun's ranks behave the same everywhere:

- :func:`build_lineup` creates each requested method (a row may be a
  registered method under another label, e.g. a training variant); one that
  cannot start is set aside with the reason, which the table prints below it;
- :func:`evaluate_lineup` scores the built methods into a results directory
  and says whether this process now holds the whole run (:class:`Outcome`).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from . import registry
from .devices import Ranks, pick_device
from .errors import InpaintbenchError

if TYPE_CHECKING:
    from .methods import Method
    from .parallel import MethodSpec
    from .results import ResultsStore
    from .runner import Report, RunSpec


@dataclasses.dataclass(frozen=True)
class MethodRequest:
    """One row of a table: its label, the registered method, its options and, optionally, its weights.

    ``compare`` labels each row by its method; an experiment may run one method
    as several rows (``mymethod-small``, ``mymethod-large``) and records them
    with :meth:`describe`.
    """

    #: the row's name in the table and its folder name; unique in one evaluation
    label: str
    #: the registered method
    method: str
    #: options as ``KEY=VALUE`` strings, as the CLI's ``-o`` gives them (training and inference)
    options: dict[str, str] = dataclasses.field(default_factory=dict)
    #: trained weights (a run directory or model.pt); None: found by the caller's finder, or none
    checkpoint: str | Path | None = None

    def describe(self) -> dict:
        """The row as an experiment records it (JSON-ready)."""
        checkpoint = None if self.checkpoint is None else str(self.checkpoint)
        return {"method": self.method, "options": dict(sorted(self.options.items())), "checkpoint": checkpoint}


@dataclasses.dataclass
class Lineup:
    """The built rows of one evaluation."""

    #: label -> the method, ready to complete images
    methods: dict[str, Method] = dataclasses.field(default_factory=dict)
    #: label -> how a worker process rebuilds the method (rows without one run in this process)
    specs: dict[str, MethodSpec] = dataclasses.field(default_factory=dict)
    #: label -> why the row could not be built (listed under the table)
    unavailable: dict[str, str] = dataclasses.field(default_factory=dict)


#: finds weights for a request that needs them and has none: a path, or the reason there is none
WeightsFinder = Callable[[MethodRequest], "Path | str"]


def _no_weights(request: MethodRequest) -> str:
    return f"no trained weights for {request.method!r}"


def build_lineup(
    requests: list[MethodRequest], device: str, ranks: Ranks | None = None, find_weights: WeightsFinder = _no_weights
) -> Lineup:
    """Build every requested method on ``device`` (``auto``: CUDA where the method and machine allow).

    A method that needs weights and has none, or whose constructor raises, is
    recorded in :attr:`Lineup.unavailable` and the others are built; the
    toolkit's own errors (a bad option, an unreadable checkpoint) still stop
    the run, since they are the user's to fix.
    """
    from .parallel import MethodSpec

    ranks = ranks or Ranks.from_environment()
    if device != "cpu":
        ranks.use_local_gpu()
    lineup = Lineup()
    for request in requests:
        cls = registry.method_class(request.method)
        weights = None if request.checkpoint is None else Path(request.checkpoint)
        if cls.needs_checkpoint and weights is None:
            found = find_weights(request)
            if isinstance(found, str):
                lineup.unavailable[request.label] = found
                continue
            weights = found
        spec = MethodSpec(request.method, dict(request.options), pick_device(device, cls.devices), weights)
        try:
            lineup.methods[request.label] = spec.build()
        except InpaintbenchError:
            raise
        except Exception as error:  # a plugin's constructor bug: report it, run the rest
            lineup.unavailable[request.label] = f"failed to start: {type(error).__name__}: {error}"
            continue
        lineup.specs[request.label] = spec
    return lineup


class Outcome(enum.Enum):
    """What this process holds after :func:`evaluate_lineup`."""

    #: the results directory holds the whole run: go on to the tables
    COMPLETE = "complete"
    #: one shard, to be merged later with ``inpaintbench merge``
    SHARD_DONE = "shard done"
    #: a torchrun rank other than 0: rank 0 merged the shards and reports
    OTHER_RANK = "other rank"


#: shows one evaluation: ``display(spec, methods, store, unavailable, run)`` must call
#: ``run(advance=..., on_start=...)`` and return its report (the CLI draws a progress bar)
Display = Callable[..., "Report"]


def _silent(spec: RunSpec, methods: dict, store: ResultsStore, unavailable: dict, run: Callable[..., Report]) -> Report:
    return run()


def evaluate_lineup(
    spec: RunSpec,
    lineup: Lineup,
    store: ResultsStore,
    order: list[str],
    workers: int = 1,
    ranks: Ranks | None = None,
    display: Display = _silent,
) -> Outcome:
    """Score ``lineup`` on ``spec`` into ``store``; ``order`` is the table's row order.

    - ``spec.shard`` set: only that shard, into ``OUT/shards/K-of-N`` (merged later);
    - under torchrun (``ranks`` with several processes): each rank scores its
      shard, all wait, and rank 0 merges them into ``OUT``;
    - otherwise the whole run, the CPU methods split over ``workers``
      processes (0: one per core; 1: this process alone).

    Every (item, method) pair already in ``store`` is skipped, so a rerun continues.
    """
    from .parallel import evaluate_parallel
    from .sharding import evaluate_shard, merge_shards, process_group, shard_dir

    ranks = ranks or Ranks.from_environment()
    check_workers(spec.shard, ranks, workers)
    by_rank = spec.shard is None and ranks.distributed  # a shard given by hand is one process, whatever the ranks
    if by_rank:
        spec = dataclasses.replace(spec, shard=ranks.shard)
    methods, unavailable = lineup.methods, lineup.unavailable
    if spec.shard is None:
        with store.lock():
            display(spec, methods, store, unavailable, lambda **progress: evaluate_parallel(
                spec, lineup.specs, store, workers, unavailable, built=methods, **progress))
            store.write_record({"method_order": merged_order(store, order)})
        return Outcome.COMPLETE

    shard_store = type(store)(shard_dir(store.root, spec.shard))
    with store.lock(part=shard_store.root.name), process_group(ranks if by_rank else None) as barrier:
        display(spec, methods, shard_store, unavailable,
                lambda **progress: evaluate_shard(spec, methods, store, unavailable, **progress)[1])
        shard_store.write_record({"method_order": merged_order(shard_store, order)})
        if barrier is None:  # a shard run by hand, or ranks without torchrun's rendezvous
            return Outcome.SHARD_DONE
        barrier()  # every rank's shard is complete
    if not ranks.is_main:
        return Outcome.OTHER_RANK
    with store.lock():
        merge_shards(store.root, [shard_dir(store.root, (k, ranks.world_size)) for k in range(ranks.world_size)])
        store.write_record({"method_order": merged_order(store, order)})
    return Outcome.COMPLETE


def check_workers(shard: tuple[int, int] | None, ranks: Ranks, workers: int) -> None:
    """Worker processes split a whole run; a shard (given by hand, or a torchrun rank) is one process."""
    if (shard is not None or ranks.distributed) and workers != 1:
        raise InpaintbenchError("--workers splits a whole run; a shard (--shard or a torchrun rank) is one process: drop --workers")


def merged_order(store: ResultsStore, labels: list[str]) -> list[str]:
    """Rows of earlier runs into the same directory first, then this run's new ones."""
    before = (store.read_record() or {}).get("method_order", [])
    return before + [label for label in labels if label not in before]
