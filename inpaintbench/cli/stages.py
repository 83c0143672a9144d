"""Experiment stages on the command line: the options that make a :class:`Runtime`, and a rich display of the stages.

An experiment plugin's command gets the same ``--device``, ``--workers``,
``--eval-workers``, ... as every other experiment with :func:`runtime_options`,
builds its :class:`~inpaintbench.experiments.stages.Runtime` with
:func:`runtime_from`, and passes :class:`RichHooks` to the stages so that
training and evaluation look as they do in ``train`` and ``compare``.
Importing this module stays light (click, rich): commands import it to build ``--help``.
"""

from __future__ import annotations

import time

import click
from rich.console import Console

from ..devices import DEVICE_CHOICES, Ranks
from ..experiments.stages import Hooks, Runtime
from .evaluate import evaluate_with_progress
from .train import RichTrainingProgress


class RichHooks(Hooks):
    """Stages shown as the ``train`` and ``compare`` commands show them."""

    def __init__(self):
        self.console = Console(stderr=True)

    def say(self, text: str) -> None:
        if Ranks.from_environment().is_main:  # under torchrun, rank 0 speaks for all ranks
            self.console.print(text, highlight=False)

    def train(self, config):
        from ..training import TrainingInterrupted, train

        display = RichTrainingProgress(self.console, config.method)
        try:
            result = train(config, progress=display)
        except TrainingInterrupted as stopped:
            display.stop()
            self.console.print(f"{stopped}; or rerun the experiment command, which resumes it")
            raise SystemExit(130) from None
        finally:
            display.stop()
        self.say(f"{config.method}: {result.steps} steps in {result.seconds:.0f} s ({result.run_dir})")
        return result

    def evaluate(self, spec, methods, store, unavailable, run):
        started = time.perf_counter()
        report = evaluate_with_progress(spec, methods, store, unavailable, run=run, show=Ranks.from_environment().is_main)
        where = f" (shard {spec.shard[0]}/{spec.shard[1]})" if spec.shard else ""
        self.say(f"evaluated {sum(report.scored.values())} (image, method) pairs{where} in {time.perf_counter() - started:.0f} s")
        return report


#: the command's parameters that :func:`runtime_from` reads
RUNTIME_KEYS = ("device", "workers", "eval_workers", "eval_batch_size", "grid_rows", "channels_last")


def runtime_options(command):
    """How to run: none of these change a number, so a rerun of an experiment may change them."""
    decorators = [
        click.option("--device", type=click.Choice(DEVICE_CHOICES), default="auto", show_default=True),
        click.option("--workers", default=2, show_default=True, type=click.IntRange(min=0), help="Data-loading processes while training."),
        click.option("--eval-workers", default=0, show_default=True, type=click.IntRange(min=0),
                     help="Processes evaluating the CPU methods (0: one per core); the scores equal one process's."),
        click.option("--eval-batch-size", default=16, show_default=True, type=click.IntRange(min=1)),
        click.option("--grid-rows", default=8, show_default=True, type=click.IntRange(min=1), help="Images in each comparison grid."),
        click.option("--channels-last", is_flag=True, help="channels_last memory format while training (faster on recent GPUs)."),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def runtime_from(values: dict) -> Runtime:
    """The :class:`Runtime` of a command decorated with :func:`runtime_options`, from its parameters."""
    return Runtime(**{key: values[key] for key in RUNTIME_KEYS})
