"""``inpaintbench train METHOD``: the shared training engine, with a live progress display."""

from __future__ import annotations

import shlex
import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from .. import registry
from ..devices import DEVICE_CHOICES, Ranks
from ..training.config import PRECISIONS, build_config
from . import key_value_pairs

#: seconds between progress lines when stderr is not a terminal
LINE_SECONDS = 30


class RichTrainingProgress:
    """Phase, step, losses, images/s and ETA, refreshed by rich in the background."""

    def __init__(self, console: Console, method: str):
        self.console = console
        self.method = method
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            TextColumn("{task.fields[phase]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[losses]}"),
            TextColumn("{task.fields[speed]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
        )
        self.task: TaskID | None = None
        self.total = 0
        self.last_line = 0.0

    def start(self, total: int, done: int) -> None:
        self.total = total
        self.progress.start()
        self.task = self.progress.add_task(self.method, total=total, completed=done, phase="", losses="", speed="")

    def advance(self, step: int, phase: str, losses: dict[str, float], images_per_s: float) -> None:
        text = " ".join(f"{name}={value:.4g}" for name, value in losses.items() if name != "total")
        speed = f"{images_per_s:.1f} img/s"
        assert self.task is not None, "the engine calls start() first"
        self.progress.update(self.task, completed=step, phase=phase, losses=text, speed=speed)
        # a batch job's log file gets no live display: write a plain line every half minute instead
        if not self.console.is_terminal and (time.monotonic() - self.last_line > LINE_SECONDS or step == self.total):
            self.last_line = time.monotonic()
            self.console.print(f"step {step}/{self.total} [{phase}] {text} {speed}", highlight=False)

    def stop(self) -> None:
        if self.task is not None:
            self.progress.stop()
            self.task = None


@click.command("train")
@click.argument("method")
@click.option("--dataset", help="Registered dataset to train on (default: sample).")
@click.option("--root", type=click.Path(path_type=Path), help="Dataset root (else its environment variable or the config file).")
@click.option("--split", help="Split to train on (default: the dataset's train split when it has one).")
@click.option("--out", type=click.Path(path_type=Path), help="Run directory (default: runs/METHOD-DATASET-sSEED).")
@click.option("--steps", type=int, help="Training steps (default: one epoch).")
@click.option("--epochs", type=float, help="Passes over the training images (instead of --steps).")
@click.option("--batch-size", type=int, help="Global batch size (default: the method's published value; see `inpaintbench methods NAME`).")
@click.option("--lr", type=float, help="Learning rate (default: the method's published value).")
@click.option("--device", type=click.Choice(DEVICE_CHOICES), help="auto: CUDA when available.  [default: auto]")
@click.option("--precision", type=click.Choice(PRECISIONS), help="Autocast dtype; fp16 adds a grad scaler.  [default: fp32]")
@click.option("--workers", type=int, help="Data-loading worker processes.  [default: 2]")
@click.option("--seed", type=int, help="Seed of initial weights, crops and masks; recorded in the checkpoint.  [default: 0]")
@click.option("--image-size", type=int, help="Training image side.  [default: 128]")
@click.option("--mask", help="Mask protocol while training: one that draws masks (center, random-box, irregular; "
                             "see `inpaintbench masks protocols`).  [default: the method's own]")
@click.option("--resize-to", type=int, help="Shorter side before the random crop (default: the image size, the evaluation's scale; the CE release: 350).")
@click.option("--flip/--no-flip", default=None, help="Random horizontal flips (default: on, for every built-in method).")
@click.option("--checkpoint-every", type=int, help="Steps between checkpoints (also written at the end).  [default: 1000]")
@click.option("--sample-every", type=int, help="Steps between sample grids (Fig. 10).  [default: 500]")
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="TOML file of these settings (the command line wins).")
@click.option("--resume", is_flag=True, default=None, help="Continue the run in --out from its checkpoint.")
@click.option("--deterministic", is_flag=True, default=None, help="Use deterministic algorithms (slower on GPU).")
@click.option("--channels-last", is_flag=True, default=None, help="channels_last memory format (faster on recent GPUs).")
@click.option("-o", "--option", "option_values", multiple=True, help="Method option KEY=VALUE (repeatable), e.g. -o variant=local.")
def train_command(method, config_file, option_values, **settings):
    """Train METHOD with the shared engine; resumable, multi-GPU with torchrun."""
    registry.method_class(method)  # a mistyped name fails here, before the engine imports torch
    settings["options"] = dict(key_value_pairs(option_values, "-o"))
    config = build_config(method, config_file, settings)
    from ..training import TrainingInterrupted, train  # torch: imported once the arguments are known to be good

    console = Console(stderr=True)
    display = RichTrainingProgress(console, method)
    try:
        result = train(config, progress=display)
    except TrainingInterrupted as stopped:
        display.stop()
        console.print(str(stopped))
        raise SystemExit(130) from None
    finally:
        display.stop()
    if Ranks.from_environment().is_main:  # under torchrun only rank 0 reports
        console.print(f"trained {result.steps} steps in {result.seconds:.0f} s; model: {result.run_dir / 'model.pt'}", highlight=False)
        console.print(f"evaluate with: {compare_command(config, result.run_dir)}", highlight=False, soft_wrap=True)


def compare_command(config, run_dir: Path) -> str:
    """The ``compare`` command that scores the run on a split it did not train on (with ``--root`` when given)."""
    from ..errors import InpaintbenchError

    words = ["inpaintbench", "compare", "--dataset", config.dataset]
    if config.root:
        words += ["--root", str(config.root)]
    try:
        trained = config.split or registry.training_split(config.dataset, config.root)
        words += ["--split", registry.held_out_split(registry.open_dataset(config.dataset, config.root), trained)]
    except InpaintbenchError:
        pass  # no held-out split: compare's own warning says the scores are on training images
    references = [entry.name for entry in registry.list_methods() if entry.cls.reference_row and entry.name != config.method]
    words += ["--methods", ",".join([config.method, *references]), "--checkpoint", f"{config.method}={run_dir}"]
    return shlex.join(words)


COMMANDS = (train_command,)
