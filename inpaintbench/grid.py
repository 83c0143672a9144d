"""The comparison grid (the paper's Fig. 11): input | each method | ground truth, one row per image."""

from __future__ import annotations

import cv2
import numpy as np

from .images import read_image
from .results import ResultsStore

_LABEL_HEIGHT = 20
_GAP = 2


def comparison_grid(store: ResultsStore, methods: list[str], max_rows: int = 8) -> np.ndarray | None:
    """Assemble the grid from the images the run saved; None when no item has all columns."""
    columns = ["input", *methods, "target"]
    target_dir = store.root / "images" / "target"
    items = sorted(p.relative_to(target_dir).as_posix() for p in target_dir.rglob("*.png"))
    rows = []
    for relative in items:
        paths = [store.root / "images" / kind / relative for kind in columns]
        if all(path.exists() for path in paths):
            rows.append([read_image(path) for path in paths])
        if len(rows) == max_rows:
            break
    if not rows:
        return None
    return tile(rows, ["input", *methods, "ground truth"])


def tile(rows: list[list[np.ndarray]], labels: list[str]) -> np.ndarray:
    """Lay out equal-sized RGB images as a labelled grid: one list per row, one label per column."""
    size = rows[0][0].shape[0]
    width = len(labels) * (size + _GAP) - _GAP
    grid = np.full((_LABEL_HEIGHT + len(rows) * (size + _GAP), width, 3), 255, np.uint8)
    for c, label in enumerate(labels):
        _put_label(grid, label, c * (size + _GAP), size)
    for r, row in enumerate(rows):
        top = _LABEL_HEIGHT + r * (size + _GAP)
        for c, image in enumerate(row):
            left = c * (size + _GAP)
            grid[top : top + size, left : left + size] = image
    return grid


def _put_label(grid: np.ndarray, text: str, left: int, width: int) -> None:
    """Center ``text`` above a column, shrunk to fit the column's width."""
    scale = 0.45
    (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    if w > width - 4:
        scale *= (width - 4) / w
        (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    origin = (left + max(0, (width - w) // 2), (_LABEL_HEIGHT + h) // 2)
    cv2.putText(grid, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)


def untile(grid: np.ndarray, columns: int) -> list[list[np.ndarray]]:
    """The images of a grid made by :func:`tile` with ``columns`` columns, row by row (its inverse)."""
    size = (grid.shape[1] + _GAP) // columns - _GAP
    rows = (grid.shape[0] - _LABEL_HEIGHT + _GAP) // (size + _GAP)
    if size < 1 or rows < 1 or columns * (size + _GAP) - _GAP != grid.shape[1]:
        raise ValueError(f"a {grid.shape[1]}x{grid.shape[0]} image is not a grid of {columns} columns")
    images = []
    for r in range(rows):
        top = _LABEL_HEIGHT + r * (size + _GAP)
        images.append([grid[top : top + size, c * (size + _GAP) : c * (size + _GAP) + size].copy() for c in range(columns)])
    return images
