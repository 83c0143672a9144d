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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..devices import Ranks
from ..errors import InpaintbenchError
from ..evaluation import MethodRequest

# The stages import the engine (torch) and the results store (pandas) when they
# run: the CLI subclasses Hooks and reads Runtime while it only builds --help.
if TYPE_CHECKING:
    from ..datasets.base import Dataset
    from ..methods import Method
    from ..reports import Reports
    from ..results import ResultsStore
    from ..runner import Report, RunSpec
    from ..training import TrainConfig, TrainResult


#: one row of an experiment's table: label, registered method, options, and a trained run to use
#: instead of training one; the same request ``compare`` makes of the evaluation service
Entry = MethodRequest


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
    from ..evaluation import Outcome, build_lineup, evaluate_lineup
    from ..reports import write_reports
    from ..results import ResultsStore

    ranks = Ranks.from_environment()
    if ranks.distributed and not ranks.rendezvous:
        raise InpaintbenchError("WORLD_SIZE > 1 without torchrun's rendezvous (MASTER_ADDR); launch the experiment with torchrun")
    requests = [dataclasses.replace(entry, checkpoint=checkpoints.get(entry.label) or entry.checkpoint) for entry in entries]
    lineup = build_lineup(requests, runtime.device, ranks)
    store = ResultsStore(out)
    outcome = evaluate_lineup(
        spec, lineup, store, [entry.label for entry in entries],
        runtime.eval_workers if not ranks.distributed else 1, ranks, hooks.evaluate,
    )
    if outcome is not Outcome.COMPLETE:
        return None
    return write_reports(store, runtime.grid_rows)
