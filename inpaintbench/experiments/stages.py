"""The two kinds of stage every experiment is made of: train a method, evaluate methods.

Each stage knows from its own outputs whether it is done, so an experiment
rerun skips it or continues it:

- training: ``model.pt`` is written only when a run has finished; a run with
  just ``checkpoint.pt`` was interrupted and is resumed (bit-exact, see the
  engine); a run directory without either starts over;
- evaluation: the results store skips every (image, method) pair it holds.

How a stage is *shown* (progress bars, messages) is the caller's business:
:class:`Hooks` runs stages silently, the CLI passes rich ones.
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from .. import registry
from ..errors import InpaintbenchError

# The stages import the engine (torch) and the results store (pandas) when they
# run: the CLI subclasses Hooks and reads Runtime while it only builds --help.
if TYPE_CHECKING:
    from ..datasets.base import Dataset
    from ..methods import Method
    from ..reports import Reports
    from ..results import ResultsStore
    from ..runner import Report, RunSpec
    from ..sharding import Ranks
    from ..training import TrainConfig, TrainResult


@dataclasses.dataclass(frozen=True)
class Entry:
    """One row of an experiment's table: a label, the registered method, its options, its weights."""

    #: the row's name in the table and its folder name (``ours-ce``); unique in an experiment
    label: str
    #: the registered method (``ours``)
    method: str
    #: method options as ``KEY=VALUE`` strings (used for training and inference)
    options: dict[str, str] = dataclasses.field(default_factory=dict)
    #: a trained run (directory or model.pt) to use instead of training one
    checkpoint: str | None = None

    def describe(self) -> dict:
        return {"method": self.method, "options": dict(sorted(self.options.items())), "checkpoint": self.checkpoint}


@dataclasses.dataclass(frozen=True)
class Runtime:
    """How to run an experiment: changes none of its numbers, so a rerun may change it."""

    device: str = "auto"
    #: data-loading processes while training
    workers: int = 2
    #: processes that evaluate the CPU methods (0: one per core); scores equal one process's
    eval_workers: int = 0
    #: images per evaluation batch
    eval_batch_size: int = 16
    #: images in each comparison grid
    grid_rows: int = 8
    #: channels_last memory format while training (faster on recent GPUs)
    channels_last: bool = False


class Hooks:
    """Runs stages; subclass to display them (the CLI shows rich progress bars)."""

    def say(self, text: str) -> None:
        """A line about what the experiment is doing (skipped stages, outputs)."""

    def train(self, config: TrainConfig) -> TrainResult:
        from ..training import train

        return train(config)

    def evaluate(
        self, spec: RunSpec, methods: dict[str, Method], store: ResultsStore, unavailable: dict[str, str],
        run: Callable[..., Report],
    ) -> Report:
        """Call ``run(advance=..., on_start=...)``, which scores ``methods``; the arguments are there to be shown."""
        return run()


@contextlib.contextmanager
def torchrun_group(device: str) -> Iterator[None]:
    """Under torchrun, one process group for a whole experiment (its rendezvous cannot be joined twice)."""
    from ..training import distributed

    processes = distributed.start(device)
    try:
        yield
    finally:
        distributed.stop(processes)


def ensure_trained(config: TrainConfig, hooks: Hooks) -> Path:
    """The finished run of ``config``: found, resumed or trained; returns its directory."""
    from ..training.checkpoint import CHECKPOINT_FILE, MODEL_FILE

    run_dir = config.run_dir()
    if (run_dir / MODEL_FILE).exists():
        hooks.say(f"{config.method}: trained run found in {run_dir}, not retraining")
        return run_dir
    resume = (run_dir / CHECKPOINT_FILE).exists()
    hooks.say(f"{config.method}: {'resuming the interrupted run' if resume else 'training'} in {run_dir}")
    hooks.train(dataclasses.replace(config, resume=resume))
    return run_dir


def evaluate_entries(
    entries: list[Entry],
    checkpoints: dict[str, Path],
    dataset: Dataset,
    spec: RunSpec,
    out: Path,
    runtime: Runtime,
    hooks: Hooks,
) -> Reports | None:
    """Score every entry on ``dataset`` into the results store ``out`` and write its tables and grid.

    ``checkpoints`` maps labels to trained runs; a method that cannot start is
    reported in the table with the reason, and the others are scored.  Under
    ``torchrun`` each rank scores its shard and rank 0 merges them; the other
    ranks get None (rank 0 alone writes what follows).
    """
    from ..parallel import MethodSpec, evaluate_parallel
    from ..reports import write_reports
    from ..results import ResultsStore
    from ..sharding import ranks_from_environment

    methods, specs, unavailable = {}, {}, {}
    ranks = ranks_from_environment()
    if ranks is not None and runtime.device != "cpu":
        ranks.use_local_gpu()
    for entry in entries:
        cls = registry.method_class(entry.method)
        weights = checkpoints.get(entry.label) or (Path(entry.checkpoint) if entry.checkpoint else None)
        if cls.needs_checkpoint and weights is None:
            unavailable[entry.label] = f"no trained weights for {entry.method!r}"
            continue
        specs[entry.label] = MethodSpec(entry.method, dict(entry.options), cls.pick_device(runtime.device), weights)
        try:
            methods[entry.label] = specs[entry.label].build()
        except InpaintbenchError:
            raise
        except Exception as error:  # a plugin's constructor bug: report it, run the rest
            unavailable[entry.label] = f"failed to start: {type(error).__name__}: {error}"
            del specs[entry.label]
    store = ResultsStore(out)
    if ranks is not None:
        if not _evaluate_rank_shard(ranks, spec, methods, store, unavailable, hooks):
            return None
    else:
        hooks.evaluate(
            spec, methods, store, unavailable,
            run=lambda **progress: evaluate_parallel(
                spec, specs, store, runtime.eval_workers, unavailable, built=methods, **progress
            ),
        )
    store.write_record({"method_order": [entry.label for entry in entries]})
    return write_reports(store, runtime.grid_rows)


def _evaluate_rank_shard(ranks: Ranks, spec: RunSpec, methods: dict[str, Method], store: ResultsStore,
                         unavailable: dict[str, str], hooks: Hooks) -> bool:
    """Under torchrun: this rank scores its shard, all wait, rank 0 merges; True on rank 0."""
    from ..results import ResultsStore
    from ..sharding import evaluate_shard, merge_shards, process_group, shard_dir

    spec = dataclasses.replace(spec, shard=ranks.shard)
    with process_group(ranks) as barrier:
        if barrier is None:
            raise InpaintbenchError("WORLD_SIZE > 1 without torchrun's rendezvous (MASTER_ADDR); launch the experiment with torchrun")
        hooks.evaluate(
            spec, methods, ResultsStore(shard_dir(store.root, ranks.shard)), unavailable,
            run=lambda **progress: evaluate_shard(spec, methods, store, unavailable, **progress)[1],
        )
        barrier()  # every shard is complete
    if ranks.rank != 0:
        return False
    merge_shards(store.root, [shard_dir(store.root, (k, ranks.world_size)) for k in range(ranks.world_size)])
    return True
