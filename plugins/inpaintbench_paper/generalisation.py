"""Figs. 14-16: trained models evaluated on other datasets, in one table that names each dataset.

The paper trains on DeepFashion and DTD and evaluates there (Figs. 14, 15),
and evaluates the ImageNet-trained model on LSUN (Fig. 16).  Here any trained
run is scored on any registered dataset: each (dataset, split) gets its own
results store and comparison grid, and one table lists every row with the
data it was trained on and the data it was evaluated on.

Layout::

    experiment.json
    eval/<dataset>-<split>/    one results store per evaluated dataset
    table.{md,csv,tex}         all rows; "Trained on" and "Evaluated on" columns
    fig-<dataset>-<split>.png  the comparison grid on that dataset
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING

from inpaintbench import registry
from inpaintbench.errors import InpaintbenchError
from inpaintbench.experiments.stages import Entry, Hooks, Runtime, evaluate_entries, torchrun_group
from inpaintbench.protocol import Protocol
from inpaintbench.tables import to_csv, to_latex, to_markdown

# The results store, the harness (pandas) and checkpoints (torch) are imported
# when the study runs, so that the CLI checks its arguments without them.
if TYPE_CHECKING:
    import pandas as pd


@dataclasses.dataclass(frozen=True)
class Target:
    """A dataset to evaluate on: ``NAME[:SPLIT][=ROOT]`` on the command line."""

    dataset: str
    split: str | None = None
    root: str | None = None

    @classmethod
    def parse(cls, text: str) -> Target:
        name_split, _, root = text.partition("=")
        name, _, split = name_split.partition(":")
        if not name.strip():
            raise InpaintbenchError(f"--on {text!r}: give NAME[:SPLIT][=ROOT], e.g. --on dtd:test=/data/dtd")
        return cls(name.strip(), split.strip() or None, root.strip() or None)


@dataclasses.dataclass(frozen=True)
class Generalisation:
    entries: tuple[Entry, ...]
    targets: tuple[Target, ...]
    image_size: int = 128
    mask: str = "center"
    seed: int = 0
    limit: int | None = None

    def __post_init__(self) -> None:
        if not self.targets:
            raise InpaintbenchError("generalisation: name at least one dataset with --on NAME[:SPLIT][=ROOT]")
        if not self.entries:
            raise InpaintbenchError("generalisation: give at least one --checkpoint METHOD=RUN or --methods")
        named = [(t.dataset, t.split) for t in self.targets]
        if len(set(named)) != len(named):
            raise InpaintbenchError("generalisation: a dataset and split is named twice with --on")
        for entry in self.entries:
            registry.method_class(entry.method)  # an unknown method fails now, not after the first dataset

    def settings(self) -> dict:
        values = dataclasses.asdict(self)
        values["entries"] = {entry.label: entry.describe() for entry in self.entries}
        return values


def entries_for(checkpoints: list[tuple[str, str]], methods: list[str], options: dict[str, dict[str, str]]) -> tuple[Entry, ...]:
    """Rows for trained runs (``METHOD=RUN``) and untrained methods; a method given twice is labelled by its training data."""
    counts = {method: sum(1 for m, _ in checkpoints if m == method) for method, _ in checkpoints}
    entries = []
    for method, run in checkpoints:
        label = f"{method}@{trained_dataset(method, Path(run))}" if counts[method] > 1 else method
        entries.append(Entry(label, method, dict(options.get(method, {})), str(run)))
    entries += [Entry(method, method, dict(options.get(method, {}))) for method in methods]
    labels = [entry.label for entry in entries]
    if len(set(labels)) != len(labels):
        raise InpaintbenchError(f"generalisation: rows {', '.join(labels)} are not distinct; give each run of a method other training data")
    return tuple(entries)


def trained_dataset(method: str, run: Path) -> str:
    """``dataset`` a run was trained on, from its config.json (or, for a bare file, the checkpoint itself)."""
    from inpaintbench.training import checkpoint

    config = run / "config.json"
    if config.is_file():
        return json.loads(config.read_text())["config"]["dataset"]
    return checkpoint.read(checkpoint.resolve(run), method).get("config", {}).get("dataset", "unknown")


@dataclasses.dataclass
class GeneralisationResult:
    #: every row on every dataset, with ``dataset`` and ``trained_on`` columns; None on torchrun ranks but 0
    summary: pd.DataFrame | None
    #: the table's caption
    title: str
    outputs: list[Path]


def run_generalisation(study: Generalisation, out: Path, runtime: Runtime = Runtime(), hooks: Hooks = Hooks()) -> GeneralisationResult:
    """Evaluate every row on every target and write the combined table and one grid per dataset."""
    with torchrun_group(runtime.device):
        return _run_generalisation(study, Path(out), runtime, hooks)


def _run_generalisation(study: Generalisation, out: Path, runtime: Runtime, hooks: Hooks) -> GeneralisationResult:
    import pandas as pd

    from inpaintbench.experiments.directory import ExperimentDir
    from inpaintbench.results import write_atomic
    from inpaintbench.runner import RunSpec

    directory = ExperimentDir(out, "generalisation")
    if directory.begin(study.settings()):
        hooks.say(f"continuing the generalisation experiment in {out}")
    protocol = Protocol(image_size=study.image_size, mask=study.mask)
    summaries, outputs = [], []
    datasets = [registry.open_dataset(t.dataset, t.root, t.split) for t in study.targets]  # a wrong root fails first
    for dataset in datasets:
        name = f"{dataset.name}-{dataset.split}"
        hooks.say(f"evaluating on {dataset.name}:{dataset.split}")
        spec = RunSpec(dataset, protocol, seed=study.seed, limit=study.limit, batch_size=runtime.eval_batch_size, keep_images=runtime.grid_rows)
        reports = evaluate_entries(list(study.entries), {}, dataset, spec, out / "eval" / name, runtime, hooks)
        if reports is None:  # a torchrun rank other than 0
            continue
        methods = reports.record.get("methods", {})
        summary = reports.summary.assign(
            dataset=f"{dataset.name}:{dataset.split}",
            trained_on=[_trained_on(methods.get(label, {})) for label in reports.summary["method"]],
        )
        summaries.append(summary)
        if (out / "eval" / name / "grid.png").exists():
            outputs.append(out / f"fig-{name}.png")
            write_atomic(outputs[-1], (out / "eval" / name / "grid.png").read_bytes())
    if not summaries:  # a torchrun rank other than 0: rank 0 writes the table
        return GeneralisationResult(None, "", [])
    combined = pd.concat(summaries, ignore_index=True)
    leading = ["dataset", "trained_on"]
    combined = combined[leading + [c for c in combined.columns if c not in leading]]
    title = (
        f"{study.mask} mask at {study.image_size} px, seed {study.seed}"
        f"{f', {study.limit} items per dataset' if study.limit else ''}; each row scored on the dataset it names; "
        "mean [95 % paired-bootstrap CI over that dataset's images]"
    )
    record: dict = {}
    for path, text in (
        (out / "table.md", to_markdown(combined, record, title)),
        (out / "table.csv", to_csv(combined)),
        (out / "table.tex", to_latex(combined, record, title)),
    ):
        write_atomic(path, text)
        outputs.append(path)
    directory.finish(outputs)
    return GeneralisationResult(combined, title, outputs)


def _trained_on(entry: dict) -> str:
    trained = entry.get("trained_on") or {}
    if not trained.get("dataset"):
        return "—"
    return f"{trained['dataset']}:{trained['split']}" if trained.get("split") else str(trained["dataset"])
