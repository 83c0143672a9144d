"""Tables VI and VII: train every learned method on the same images, as many of them, then compare.

Both tables are one pipeline with different rows:

- Table VI (the paper: ImageNet): PatchMatch, Context Encoder, GLCIC and ours,
  each learned row trained on the same number of images (``--images``): the
  methods' batches differ (100 / 64 / 96), so equal steps would not be equal
  training;
- Table VII (the paper: Paris StreetView): ours as encoder-decoder only, with
  the local discriminator, and with both (``-o variant=ce|local|full``).

Layout of the experiment directory::

    experiment.json            the settings (a rerun must match them)
    train/<label>/             one training run per learned row (checkpoint.pt, model.pt, losses.csv, samples/)
    eval/                      the results store (run.json, scores/, images/, table.*, grid.png)
    table.{md,csv,tex}         the table: means with 95 % CIs, seconds per image
    fig11.png | fig12.png      the comparison grid (input | each row | ground truth)
    fig10-<label>.png          each learned row's outputs every N steps of training
    losses-<label>.png         its training curves, phases marked
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, cast

from inpaintbench import registry
from inpaintbench.errors import InpaintbenchError
from inpaintbench.experiments.stages import Entry, Hooks, Runtime, ensure_trained, evaluate_entries, torchrun_group
from inpaintbench.protocol import Protocol
from inpaintbench.training.config import TrainConfig

# The results store, the harness and the figures (pandas, matplotlib) are imported
# when an experiment runs: the CLI reads TABLE_VI_METHODS while it only builds --help.
if TYPE_CHECKING:
    import pandas as pd

    from inpaintbench.training.method import TrainableMethod

#: Table VI's rows in the paper's order
TABLE_VI_METHODS = ("patchmatch", "context-encoder", "glcic", "ours")
#: Table VII's rows: ``ours`` trained as each ablation variant
TABLE_VII_VARIANTS = ("ce", "local", "full")


@dataclasses.dataclass(frozen=True)
class Comparison:
    """What a comparison experiment computes; recorded in experiment.json and fixed for its directory."""

    #: ``table-vi`` or ``table-vii``: names the experiment and its grid figure
    experiment: str
    entries: tuple[Entry, ...]
    dataset: str
    #: training iterations of every learned row (equal training only when the batches are equal)
    steps: int | None = None
    #: training images seen by every learned row: each trains ceil(images / its batch) steps
    images: int | None = None
    root: str | None = None
    train_split: str | None = None
    #: default: the dataset's evaluation split, or the first split held out from training
    eval_split: str | None = None
    #: global training batch; default: each method's own (ours 100, context-encoder 64, glcic 96)
    batch_size: int | None = None
    image_size: int = 128
    mask: str = "center"
    seed: int = 0
    precision: str = "fp32"
    #: evaluate this many items of the evaluation split (chosen by seed); default all
    limit: int | None = None
    #: steps between Fig. 10 samples; default a tenth of the run
    sample_every: int | None = None

    def __post_init__(self) -> None:
        labels = [entry.label for entry in self.entries]
        if len(set(labels)) != len(labels):
            raise InpaintbenchError(f"{self.experiment}: row labels must be unique, got {', '.join(labels)}")
        if (self.steps is None) == (self.images is None):
            raise InpaintbenchError(f"{self.experiment}: give --images (the same training for every row) or --steps, not both")
        for flag, value in (("--steps", self.steps), ("--images", self.images)):
            if value is not None and value < 1:
                raise InpaintbenchError(f"{self.experiment}: {flag} must be at least 1 (got {value})")
        for entry in self.entries:
            registry.method_class(entry.method)  # an unknown method fails now, not after hours of training

    @property
    def grid_figure(self) -> str:
        return {"table-vi": "fig11", "table-vii": "fig12"}.get(self.experiment, "grid")

    def steps_for(self, entry: Entry) -> int:
        """Training steps of ``entry``'s row: ``steps``, or enough batches to see ``images`` images."""
        if self.steps is not None:
            return self.steps
        method = cast("type[TrainableMethod]", registry.method_class(entry.method))  # only learned rows train
        batch = self.batch_size or method.recipe_class().batch_size
        return -(-cast(int, self.images) // batch)  # __post_init__: images is given when steps is not

    def settings(self) -> dict:
        values = dataclasses.asdict(self)
        values["entries"] = {entry.label: entry.describe() for entry in self.entries}
        return values


def table_vi(methods: tuple[str, ...] = TABLE_VI_METHODS, options: dict[str, dict[str, str]] | None = None,
             checkpoints: dict[str, str] | None = None, **settings) -> Comparison:
    """Table VI: each method one row, labelled by its name."""
    options, checkpoints = options or {}, checkpoints or {}
    _check_rows("table-vi", methods, options=options, checkpoints=checkpoints)
    entries = tuple(Entry(m, m, dict(options.get(m, {})), checkpoints.get(m)) for m in methods)
    return Comparison("table-vi", entries, **settings)


def table_vii(options: dict[str, str] | None = None, checkpoints: dict[str, str] | None = None, **settings) -> Comparison:
    """Table VII: ``ours`` once per variant, rows ``ours-ce``, ``ours-local``, ``ours-full``."""
    options, checkpoints = dict(options or {}), checkpoints or {}
    if "variant" in options:
        raise InpaintbenchError("table-vii trains every variant itself; drop -o ours.variant")
    labels = [f"ours-{v}" for v in TABLE_VII_VARIANTS]
    _check_rows("table-vii", labels, checkpoints=checkpoints)
    entries = tuple(Entry(label, "ours", {**options, "variant": v}, checkpoints.get(label)) for label, v in zip(labels, TABLE_VII_VARIANTS))
    return Comparison("table-vii", entries, **settings)


def _check_rows(experiment: str, rows, **given: dict) -> None:
    """A -o or --checkpoint for a row the table does not have is a typo that would silently do nothing."""
    for flag, values in given.items():
        unknown = sorted(set(values) - set(rows))
        if unknown:
            name = "-o" if flag == "options" else "--checkpoint"
            raise InpaintbenchError(f"{experiment}: {name} given for {', '.join(unknown)}, which is not a row ({', '.join(rows)})")


@dataclasses.dataclass
class ComparisonResult:
    #: None on torchrun ranks other than 0, which write nothing
    summary: pd.DataFrame | None
    #: every file the experiment wrote at its top level
    outputs: list[Path]


def run_comparison(comparison: Comparison, out: Path, runtime: Runtime = Runtime(), hooks: Hooks = Hooks()) -> ComparisonResult:
    """Train what is untrained, evaluate every row, write the table and the figures.

    Under ``torchrun`` every row trains on all ranks (DDP) and each rank scores
    a shard; one process group serves the whole experiment.
    """
    with torchrun_group(runtime.device):
        return _run_comparison(comparison, Path(out), runtime, hooks)


def _run_comparison(comparison: Comparison, out: Path, runtime: Runtime, hooks: Hooks) -> ComparisonResult:
    from inpaintbench.experiments.directory import ExperimentDir
    from inpaintbench.experiments.figures import plot_losses, write_training_progress
    from inpaintbench.runner import RunSpec

    directory = ExperimentDir(out, comparison.experiment)
    if directory.begin(comparison.settings()):
        hooks.say(f"continuing the {comparison.experiment} experiment in {out}")
    train_split = comparison.train_split or registry.training_split(comparison.dataset, comparison.root)
    eval_split = comparison.eval_split or registry.held_out_split(registry.open_dataset(comparison.dataset, comparison.root), train_split)
    dataset = registry.open_dataset(comparison.dataset, comparison.root, eval_split)  # a wrong root fails before training

    trained: dict[str, Path] = {}
    for entry in comparison.entries:
        if registry.method_class(entry.method).trainable and entry.checkpoint is None:
            trained[entry.label] = ensure_trained(_train_config(comparison, entry, train_split, out, runtime), hooks)

    spec = RunSpec(
        dataset, Protocol(image_size=comparison.image_size, mask=comparison.mask), seed=comparison.seed,
        limit=comparison.limit, batch_size=runtime.eval_batch_size, keep_images=runtime.grid_rows,
    )
    reports = evaluate_entries(list(comparison.entries), trained, dataset, spec, out / "eval", runtime, hooks)
    if reports is None:  # a torchrun rank other than 0: rank 0 writes the outputs
        return ComparisonResult(None, [])

    outputs = []
    for suffix in ("md", "csv", "tex"):
        outputs.append(_copy(out / "eval" / f"table.{suffix}", out / f"table.{suffix}"))
    if (out / "eval" / "grid.png").exists():
        outputs.append(_copy(out / "eval" / "grid.png", out / f"{comparison.grid_figure}.png"))
    for label, run_dir in trained.items():
        outputs.append(write_training_progress(run_dir, out / f"fig10-{label}.png"))
        outputs.append(plot_losses(run_dir, out / f"losses-{label}.png", title=f"{comparison.experiment}: {label}"))
    directory.finish(outputs)
    return ComparisonResult(reports.summary, outputs)


def _train_config(comparison: Comparison, entry: Entry, train_split: str, out: Path, runtime: Runtime) -> TrainConfig:
    steps = comparison.steps_for(entry)
    return TrainConfig(
        method=entry.method,
        dataset=comparison.dataset,
        root=comparison.root,
        split=train_split,
        out=str(out / "train" / entry.label),
        steps=steps,
        batch_size=comparison.batch_size,
        device=runtime.device,
        precision=comparison.precision,
        workers=runtime.workers,
        channels_last=runtime.channels_last,
        seed=comparison.seed,
        image_size=comparison.image_size,
        sample_every=comparison.sample_every or max(1, steps // 10),
        checkpoint_every=min(1000, steps),
        options=dict(entry.options),
    )


def _copy(source: Path, target: Path) -> Path:
    from inpaintbench.results import write_atomic

    write_atomic(target, source.read_bytes())
    return target
