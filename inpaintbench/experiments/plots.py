"""The experiments' figures: line plots written as PNG with matplotlib's Agg backend.

A :class:`~matplotlib.figure.Figure` is drawn on its own Agg canvas, never
through ``pyplot``, so no global figure state or GUI backend is involved and a
headless server draws exactly what a laptop does.  The PNG is written
atomically like every other output, so a reader never sees half a figure.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..results import write_atomic


def new_figure(width: float, height: float):
    """A matplotlib Figure on its own Agg canvas (no pyplot state, no GUI backend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def write_figure(figure, path: Path) -> Path:
    """Lay out ``figure`` and write it as a PNG, atomically."""
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    write_atomic(path, buffer.getvalue())
    return path


def line_plot(
    path: Path,
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    xlabel: str,
    ylabel: str,
    title: str = "",
    reference: tuple[float, str] | None = None,
) -> None:
    """One line (with markers) per named series of (x, y), a legend and labelled axes; ``reference`` adds a dashed level."""
    from matplotlib.ticker import MaxNLocator

    figure = new_figure(6.4, 4.2)
    axes = figure.add_subplot()
    for label, (x, y) in series.items():
        axes.plot(list(x), list(y), marker="o", markersize=3, label=label)
    if reference is not None:
        axes.axhline(reference[0], color="grey", linestyle="--", linewidth=1, label=reference[1])
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        axes.set_title(title)
    axes.grid(True, alpha=0.3)
    axes.legend()
    write_figure(figure, path)
