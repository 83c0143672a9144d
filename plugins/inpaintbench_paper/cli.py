"""``inpaintbench experiment NAME``: the paper's tables and figures, one subcommand each.

The work is done by :mod:`.comparison`, :mod:`.generalisation` and the core's
figures; this module parses the command line and shows the stages with the
toolkit's rich display (:mod:`inpaintbench.cli.stages`).
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from inpaintbench.cli import key_value_pairs, method_options
from inpaintbench.cli.stages import RichHooks, runtime_from, runtime_options
from inpaintbench.errors import InpaintbenchError
from inpaintbench.tables import FORMATS
from inpaintbench.training.config import PRECISIONS

from .comparison import TABLE_VI_METHODS, ComparisonResult, run_comparison, table_vi, table_vii
from .encoder_study_cli import encoder_study_command
from .generalisation import Generalisation, Target, entries_for, run_generalisation

# Only light modules above: the training engine (torch) and the figures
# (matplotlib) are imported by the commands that use them.


def _runtime_options(command):
    """How to run (the toolkit's runtime options) and how to print the table: a rerun may change them."""
    command = click.option("--format", "fmt", type=click.Choice(FORMATS), default="rich", show_default=True, help="How to print the table.")(command)
    return runtime_options(command)


def _comparison_options(default_dataset: str):
    """What a Table VI/VII experiment computes: fixed for its directory."""

    def apply(command):
        decorators = [
            click.option("--dataset", default=default_dataset, show_default=True, help="Registered dataset to train and evaluate on."),
            click.option("--root", help="Dataset root (else its environment variable or the config file)."),
            click.option("--train-split", help="Split to train on (default: train)."),
            click.option("--eval-split", help="Split to evaluate on (default: the dataset's evaluation split, held out from training)."),
            click.option("--images", type=click.IntRange(min=1),
                         help="Training images seen by every learned row (each trains images / its batch steps): the fair setting."),
            click.option("--steps", type=click.IntRange(min=1), help="Training iterations of every learned row (instead of --images)."),
            click.option("--batch-size", type=click.IntRange(min=1), help="Training batch (default: each method's paper value)."),
            click.option("--image-size", default=128, show_default=True),
            click.option("--seed", default=0, show_default=True, help="Seed of weights, crops, masks and item selection."),
            click.option("--precision", type=click.Choice(PRECISIONS), default="fp32", show_default=True),
            click.option("--limit", type=click.IntRange(min=1), help="Evaluate this many items (chosen by seed)."),
            click.option("--sample-every", type=click.IntRange(min=1), help="Steps between Fig. 10 samples (default: a tenth of the run)."),
            click.option("-o", "--option", "option_values", multiple=True, help="Method option METHOD.KEY=VALUE (training and evaluation)."),
            click.option("--checkpoint", "checkpoint_values", multiple=True, help="Use this trained run instead of training: ROW=RUN_DIR."),
            click.option("--out", type=click.Path(path_type=Path), help="Experiment directory (default: experiments/NAME-DATASET-sSEED)."),
        ]
        for decorator in reversed(decorators):
            command = decorator(command)
        return command

    return apply


def _settings(values: dict) -> dict:
    """The Comparison fields among a command's parameters."""
    keys = ("dataset", "root", "train_split", "eval_split", "steps", "images", "batch_size", "image_size", "seed", "precision", "limit", "sample_every")
    return {key: values[key] for key in keys}


def _finish(result: ComparisonResult, fmt: str, out: Path) -> None:
    from inpaintbench.cli.table import print_table
    from inpaintbench.results import ResultsStore

    if result.summary is None:  # a torchrun rank other than 0
        return
    record = ResultsStore(out / "eval").read_record() or {}
    print_table(result.summary, record, fmt)
    Console(stderr=True).print(f"wrote {', '.join(str(p) for p in result.outputs)}", highlight=False)


@click.command("table-vi", short_help="Table VI + Fig. 11: train the learned methods equally, compare all.")
@_comparison_options("imagenet")
@click.option("--methods", "method_list", default=",".join(TABLE_VI_METHODS), show_default=True, help="Rows of the table.")
@_runtime_options
def table_vi_command(method_list, option_values, checkpoint_values, out, fmt, **values):
    """Table VI and Fig. 11: train the learned methods on the same images, as many of each, compare all."""
    methods = tuple(m.strip() for m in method_list.split(",") if m.strip())
    comparison = table_vi(
        methods, method_options(option_values), dict(key_value_pairs(checkpoint_values, "--checkpoint")), **_settings(values)
    )
    out = out or Path("experiments") / f"table-vi-{comparison.dataset}-s{comparison.seed}"
    _finish(run_comparison(comparison, out, runtime_from(values), RichHooks()), fmt, out)


@click.command("table-vii", short_help="Table VII + Fig. 12: the discriminator ablation of ours.")
@_comparison_options("paris-streetview")
@_runtime_options
def table_vii_command(option_values, checkpoint_values, out, fmt, **values):
    """Table VII and Fig. 12: ours as encoder-decoder only, + local D, + both, trained on the same data."""
    options = method_options(option_values)
    unknown = sorted(set(options) - {"ours"})
    if unknown:
        raise InpaintbenchError(f"table-vii: every row is 'ours'; -o given for {', '.join(unknown)}")
    comparison = table_vii(options.get("ours", {}), dict(key_value_pairs(checkpoint_values, "--checkpoint")), **_settings(values))
    out = out or Path("experiments") / f"table-vii-{comparison.dataset}-s{comparison.seed}"
    _finish(run_comparison(comparison, out, runtime_from(values), RichHooks()), fmt, out)


@click.command("generalise", short_help="Figs. 14-16: trained runs scored on other datasets.")
@click.option("--on", "targets", multiple=True, required=True, help="Dataset to evaluate on, NAME[:SPLIT][=ROOT] (repeatable).")
@click.option("--checkpoint", "checkpoint_values", multiple=True, help="A trained run, METHOD=RUN_DIR (repeatable; a method may appear twice).")
@click.option("--methods", "method_list", default="", help="Untrained reference methods to add, e.g. patchmatch,telea.")
@click.option("-o", "--option", "option_values", multiple=True, help="Method option METHOD.KEY=VALUE.")
@click.option("--image-size", default=128, show_default=True)
@click.option("--mask", default="center", show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--limit", type=click.IntRange(min=1), help="Evaluate this many items of each dataset (chosen by seed).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("experiments/generalisation"), show_default=True)
@_runtime_options
def generalise_command(targets, checkpoint_values, method_list, option_values, image_size, mask, seed, limit, out, fmt, **values):
    """Figs. 14-16: evaluate trained runs on other datasets; one table naming each dataset."""
    from inpaintbench.cli.table import print_table

    study = Generalisation(
        entries_for(
            key_value_pairs(checkpoint_values, "--checkpoint"),
            [m.strip() for m in method_list.split(",") if m.strip()],
            method_options(option_values),
        ),
        tuple(Target.parse(text) for text in targets),
        image_size=image_size, mask=mask, seed=seed, limit=limit,
    )
    result = run_generalisation(study, out, runtime_from(values), RichHooks())
    if result.summary is None:  # a torchrun rank other than 0
        return
    print_table(result.summary, {}, fmt, result.title)
    Console(stderr=True).print(f"wrote {', '.join(str(p) for p in result.outputs)}", highlight=False)


@click.command("fig10", short_help="Fig. 10 and the loss curves of any training run.")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--images", default=4, show_default=True, type=click.IntRange(min=1), help="Rows (fixed inputs) in the figure.")
@click.option("--columns", default=8, show_default=True, type=click.IntRange(min=1), help="Most training steps shown.")
def fig10_command(run_dir: Path, images: int, columns: int):
    """Fig. 10 and the training curves of any training run: RUN_DIR/fig10.png, RUN_DIR/losses.png."""
    from inpaintbench.experiments.figures import plot_losses, write_training_progress

    written = [write_training_progress(run_dir, run_dir / "fig10.png", images, columns), plot_losses(run_dir, run_dir / "losses.png")]
    Console(stderr=True).print(f"wrote {', '.join(map(str, written))}", highlight=False)


@click.group("experiment", short_help="The paper's tables and figures, one subcommand each.")
def experiment_group() -> None:
    """Reproduce the paper's experiments (Tables VI-VII, Figs. 10-16); see docs/experiments.md."""


for _command in (table_vi_command, table_vii_command, generalise_command, fig10_command, encoder_study_command):
    experiment_group.add_command(_command)
