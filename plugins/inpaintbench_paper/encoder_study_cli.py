"""``inpaintbench experiment encoder-study``: Fig. 13, the encoders classifying CIFAR-10, accuracy per epoch."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from inpaintbench.cli import method_options
from inpaintbench.cli.train import RichTrainingProgress
from inpaintbench.devices import DEVICE_CHOICES

from .encoder_study_config import PRECISIONS, StudyConfig

#: --help shows the study's own defaults (one source of truth)
DEFAULT = StudyConfig()


@click.command("encoder-study", short_help="Fig. 13: the ours and GLCIC encoders as CIFAR-10 classifiers.")
@click.option("--root", type=click.Path(path_type=Path), help="CIFAR-10 root (else INPAINTBENCH_CIFAR10_ROOT or the config file).")
@click.option("--methods", "method_list", help=f"Comma-separated methods whose encoders are compared.  [default: {','.join(DEFAULT.methods)}]")
@click.option("-o", "--option", "option_values", multiple=True, help="Method option, METHOD.KEY=VALUE (repeatable), e.g. -o ours.width=0.25.")
@click.option("--epochs", type=click.IntRange(min=1), help=f"Training epochs per encoder; a rerun may raise it.  [default: {DEFAULT.epochs}]")
@click.option("--batch-size", type=click.IntRange(min=2), help=f"Images per batch.  [default: {DEFAULT.batch_size}]")
@click.option("--lr", type=float, help=f"Adam learning rate (betas {DEFAULT.betas[0]}, {DEFAULT.betas[1]}).  [default: {DEFAULT.lr:g}]")
@click.option("--seed", type=int, help=f"Seed of initial weights, data order and flips.  [default: {DEFAULT.seed}]")
@click.option("--image-size", type=int, help=f"Side the 32x32 images are upsampled to (ours takes only 128).  [default: {DEFAULT.image_size}]")
@click.option("--device", type=click.Choice(DEVICE_CHOICES), help=f"auto: CUDA when available.  [default: {DEFAULT.device}]")
@click.option("--precision", type=click.Choice(list(PRECISIONS)), help=f"Autocast dtype.  [default: {DEFAULT.precision}]")
@click.option("--limit-train", type=click.IntRange(min=2), help="Use only the first N training images (quick runs).")
@click.option("--limit-test", type=click.IntRange(min=1), help="Use only the first N test images (quick runs).")
@click.option("--out", type=click.Path(path_type=Path), help="Experiment directory.  [default: experiments/encoder-study-sSEED]")
def encoder_study_command(method_list, option_values, **settings):
    """Fig. 13: train each method's encoder + a linear head on CIFAR-10; test accuracy per epoch (table and plot).

    Rerunning the same command skips finished encoders and continues an
    interrupted one after its last saved epoch.
    """
    given = {key: value for key, value in settings.items() if value is not None}
    if method_list:
        given["methods"] = tuple(name.strip() for name in method_list.split(",") if name.strip())
    config = StudyConfig(**given, options=method_options(option_values))
    from .encoder_study import StudyInterrupted, run_study  # torch: imported once the arguments are known to be good

    console = Console(stderr=True, soft_wrap=True)

    def report_epoch(result) -> None:
        row = result.row
        console.print(
            f"{result.method} epoch {row['epoch']}/{config.epochs}: test accuracy {row['test_accuracy']:.4f} "
            f"(train loss {row['train_loss']:.4f}, accuracy {row['train_accuracy']:.4f}, {row['seconds']:.0f} s)",
            highlight=False,
        )

    try:
        result = run_study(config, on_epoch=report_epoch, progress=lambda method: RichTrainingProgress(console, method))
    except StudyInterrupted as stopped:
        console.print(str(stopped))
        raise SystemExit(130) from None
    for method, epochs in result.trained.items():
        if not epochs:
            console.print(f"{method}: {config.epochs} epochs already trained in {result.directory}; skipped", highlight=False)
    click.echo((result.directory / "accuracy.md").read_text())
    console.print("written: " + ", ".join(str(path) for path in result.reports), highlight=False)
