"""The experiments' figures: line plots written as PNG with matplotlib's Agg backend.

A :class:`~matplotlib.figure.Figure` is drawn on its own Agg canvas, never
through ``pyplot``, so no global figure state or GUI backend is involved and a
headless server draws exactly what a laptop does.  The PNG is written
atomically like every other output, so a reader never sees half a figure.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from ..results import write_atomic


def line_plot(
    path: Path,
    series: dict[str, tuple[Sequence[float], Sequence[float]]],
    xlabel: str,
    ylabel: str,
    title: str = "",
    reference: tuple[float, str] | None = None,
) -> None:
    """One line (with markers) per named series of (x, y), a legend and labelled axes; ``reference`` adds a dashed level."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(6.4, 4.2), dpi=100)
    FigureCanvasAgg(figure)
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
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    write_atomic(path, buffer.getvalue())
