"""The encoder study's outputs: test accuracy per epoch as CSV, a Markdown table and a PNG plot.

All three are derived from the per-epoch rows the study keeps with each
encoder's state, and rewritten (atomically) whenever a row is added, so they
always show every finished epoch and nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from inpaintbench.experiments.plots import line_plot
from inpaintbench.results import write_atomic
from inpaintbench.tables import markdown_table

#: one row per (method, epoch)
COLUMNS = ("method", "epoch", "train_loss", "train_accuracy", "test_accuracy", "seconds")
CSV, MARKDOWN, PLOT = "accuracy.csv", "accuracy.md", "accuracy.png"
#: top-1 accuracy of guessing among CIFAR-10's ten classes
CHANCE = 0.1


def accuracy_frame(histories: dict[str, list[dict[str, Any]]]) -> pd.DataFrame:
    """Every method's rows in method order, then epoch order."""
    rows = [{**row, "method": method} for method, history in histories.items() for row in history]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def best(history: list[dict[str, Any]]) -> tuple[float, int]:
    """The highest test accuracy and the first epoch that reached it (how fast the encoder converged)."""
    top = max(row["test_accuracy"] for row in history)
    return top, min(row["epoch"] for row in history if row["test_accuracy"] == top)


def to_markdown(histories: dict[str, list[dict[str, Any]]], caption: str) -> str:
    """One column per method, one row per epoch, then the best accuracy and the epochs it took."""
    methods = list(histories)
    by_epoch = {method: {row["epoch"]: row["test_accuracy"] for row in history} for method, history in histories.items()}
    epochs = sorted({epoch for accuracies in by_epoch.values() for epoch in accuracies})
    rows = [[str(epoch), *(_cell(by_epoch[m].get(epoch)) for m in methods)] for epoch in epochs]
    tops = [best(histories[m]) if histories[m] else None for m in methods]
    rows.append(["**best**", *(f"**{_cell(top[0])}**" if top else "—" for top in tops)])
    rows.append(["epochs to best", *(str(top[1]) if top else "—" for top in tops)])
    return markdown_table(["epoch", *methods], rows) + f"\n{caption}\n"


def _cell(accuracy: float | None) -> str:
    return "—" if accuracy is None else f"{accuracy:.4f}"


def write_accuracy_reports(directory: Path, histories: dict[str, list[dict[str, Any]]], caption: str) -> list[Path]:
    """accuracy.csv, accuracy.md and accuracy.png under ``directory``; returns their paths."""
    paths = [directory / name for name in (CSV, MARKDOWN, PLOT)]
    write_atomic(paths[0], accuracy_frame(histories).to_csv(index=False, float_format="%.6g"))
    write_atomic(paths[1], to_markdown(histories, caption))
    series = {
        method: ([row["epoch"] for row in history], [row["test_accuracy"] for row in history])
        for method, history in histories.items()
    }
    line_plot(paths[2], series, "epoch", "test accuracy (top-1)", "Encoder study on CIFAR-10 (Fig. 13)", (CHANCE, "chance"))
    return paths
