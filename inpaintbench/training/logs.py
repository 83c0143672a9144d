"""What a run leaves behind besides checkpoints: losses per step, TensorBoard events, sample grids.

``losses.csv`` has one row per step.  On resume the rows after the
checkpoint's step are dropped first, so the file always reads as one
uninterrupted run.  TensorBoard events are written when ``tensorboard`` is
installed (it is optional).  Sample grids are the paper's Fig. 10: input |
prediction | ground truth for a fixed set of images, every N steps.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..grid import tile
from ..results import write_png_atomic

log = logging.getLogger(__name__)

LOSSES_FILE = "losses.csv"


@contextlib.contextmanager
def naming(path: Path) -> Iterator[None]:
    """Attach ``path`` to an OSError raised without a file name.

    A write into a full disk reports only "No space left on device"; the
    user needs to read which file of the run could not be written.
    """
    try:
        yield
    except OSError as error:
        if error.filename is None and error.strerror:
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise


class LossLog:
    """Appends one CSV row per step with fixed columns (a loss not computed in a phase is left empty)."""

    def __init__(self, run_dir: Path, columns: list[str], resume_step: int, tensorboard: bool = True):
        self.path = run_dir / LOSSES_FILE
        self.columns = ["step", "phase", *columns]
        self._events_dir = run_dir / "tensorboard"
        with naming(self.path):
            fresh = True
            if resume_step > 0 and self.path.exists():
                fresh = not self._truncate_after(resume_step)
            self._handle = open(self.path, "w" if fresh else "a", newline="")
            self._csv = csv.writer(self._handle)
            if fresh:
                self._csv.writerow(self.columns)
        with naming(self._events_dir):
            self._events = _tensorboard_writer(self._events_dir) if tensorboard else None

    def _truncate_after(self, step: int) -> bool:
        """Keep the header and rows of steps < ``step`` (0-based steps already done); False if unusable."""
        rows = list(csv.reader(io.StringIO(self.path.read_text())))
        if not rows or rows[0] != self.columns:
            return False
        header, kept = rows[0], []
        for row in rows[1:]:
            if len(row) == len(header):  # a torn last line from a kill is dropped too
                try:
                    if int(row[0]) < step:
                        kept.append(row)
                except ValueError:
                    pass
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(kept)
        self.path.write_text(buffer.getvalue())
        return True

    def write(self, step: int, phase: str, values: dict[str, float]) -> None:
        row = {"step": step, "phase": phase, **values}
        with naming(self.path):
            self._csv.writerow([_format(row.get(column, "")) for column in self.columns])
            self._handle.flush()  # one small write per step; `tail -f losses.csv` follows the run
        if self._events is not None:
            with naming(self._events_dir):
                for name, value in values.items():
                    self._events.add_scalar(name, value, step)

    def flush(self) -> None:
        with naming(self.path):
            self._handle.flush()
        if self._events is not None:
            with naming(self._events_dir):
                self._events.flush()

    def close(self) -> None:
        with naming(self.path):
            self._handle.close()
        if self._events is not None:
            with naming(self._events_dir):
                self._events.close()


def _format(value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _tensorboard_writer(folder: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional
        return None
    return SummaryWriter(str(folder))


def read_losses(run_dir: Path):
    """The loss log as a pandas DataFrame (for plots and tests)."""
    import pandas as pd

    return pd.read_csv(Path(run_dir) / LOSSES_FILE)


def save_samples(path: Path, masked: np.ndarray, predicted: np.ndarray, truth: np.ndarray) -> None:
    """One Fig. 10 grid: a row per image, columns input | prediction | ground truth."""
    rows = [[m, p, t] for m, p, t in zip(masked, predicted, truth)]
    with naming(path):
        write_png_atomic(path, tile(rows, ["input", "prediction", "ground truth"]))
