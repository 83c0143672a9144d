"""Figures made from a training run's own outputs: Fig. 10 and the loss curves.

Both read only what the engine already wrote (``samples/step-N.png`` every
``--sample-every`` steps, ``losses.csv`` every step), so they can be redrawn
at any time, for a finished run or one still training, without a model.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import InpaintbenchError
from ..grid import tile, untile
from ..images import read_image
from ..results import write_png_atomic
from ..training.logs import LOSSES_FILE, read_losses
from .plots import new_figure, write_figure

#: the engine's sample grids: input | prediction | ground truth
_SAMPLE_COLUMNS = 3
_SAMPLE_NAME = re.compile(r"step-(\d+)\.png$")


def sample_steps(run_dir: Path) -> dict[int, Path]:
    """The sample grids of a run, by step."""
    found = {}
    for path in sorted((Path(run_dir) / "samples").glob("step-*.png")):
        match = _SAMPLE_NAME.search(path.name)
        if match:
            found[int(match.group(1))] = path
    return found


def training_progress(run_dir: Path, images: int = 4, columns: int = 8) -> np.ndarray:
    """Fig. 10: the same inputs completed at several points of training, one row per image.

    Columns are input | step s1 | ... | step sk | ground truth, with at most
    ``columns`` steps spread evenly over those sampled (the last always shown).
    """
    steps = sample_steps(run_dir)
    if not steps:
        raise InpaintbenchError(f"{run_dir} has no samples/step-N.png grids; train with --sample-every N to get Fig. 10")
    chosen = _spread_keep_last(sorted(steps), columns)
    grids = {step: untile(read_image(steps[step]), _SAMPLE_COLUMNS) for step in chosen}
    first = grids[chosen[0]]
    count = min(images, *(len(grid) for grid in grids.values()))
    rows = [[first[r][0], *(grids[step][r][1] for step in chosen), first[r][2]] for r in range(count)]
    return tile(rows, ["input", *(f"step {step}" for step in chosen), "ground truth"])


def _spread_keep_last(values: list[int], count: int) -> list[int]:
    if len(values) <= count:
        return values
    picks = {values[round(k * (len(values) - 1) / (count - 1))] for k in range(count)} if count > 1 else {values[-1]}
    return sorted(picks)


def write_training_progress(run_dir: Path, path: Path, images: int = 4, columns: int = 8) -> Path:
    write_png_atomic(path, training_progress(run_dir, images, columns))
    return path


def plot_losses(run_dir: Path, path: Path, title: str | None = None) -> Path:
    """Training curves: one panel per loss, smoothed, with the curriculum's phases marked."""
    if not (Path(run_dir) / LOSSES_FILE).exists():
        raise InpaintbenchError(f"{run_dir} has no {LOSSES_FILE}; is it a training run directory?")
    losses = read_losses(run_dir)
    names = [c for c in losses.columns if c not in ("step", "phase", "total", "images_per_s") and not c.startswith("w_")]
    names = [c for c in names if losses[c].notna().any()]
    if losses.empty or not names:
        raise InpaintbenchError(f"{run_dir / LOSSES_FILE} holds no loss values yet")
    window = max(1, len(losses) // 100)
    figure = new_figure(7, 1.9 * len(names) + 0.6)
    axes = figure.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    starts = losses.index[losses["phase"] != losses["phase"].shift()]
    for axis, name in zip(axes, names):
        values = losses[name]
        axis.plot(losses["step"], values, color="0.8", linewidth=0.6)
        axis.plot(losses["step"], values.rolling(window, min_periods=1).mean(), linewidth=1.2)
        axis.set_ylabel(name.replace("_", " "))
        for index in starts[1:]:
            axis.axvline(losses.loc[index, "step"], color="0.5", linestyle="--", linewidth=0.8)
    for index in starts:
        axes[0].annotate(
            str(losses.loc[index, "phase"]), (losses.loc[index, "step"], 1.0), xycoords=("data", "axes fraction"),
            xytext=(2, 2), textcoords="offset points", fontsize=8, va="bottom",
        )
    axes[-1].set_xlabel("step")
    figure.suptitle(title or f"training losses: {Path(run_dir).name}", fontsize=10)
    return write_figure(figure, path)
