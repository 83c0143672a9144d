"""The comparison grid (the paper's Fig. 11): input | each method | ground truth, one row per image.

A grid is read at a glance, so each cell carries what is needed to read it:
the hole is outlined (a hole filled with dark content, or the input's black
hole, looks like any dark region otherwise), each method's cell shows its hole
PSNR in a corner, and each row is headed by the item's name.  All of this is
drawn with OpenCV onto the saved PNGs, so the grid stays one plain image.

:func:`tile` lays out any rows of equal-sized images (the training samples and
Fig. 10 use it too) and :func:`untile` is its exact inverse, so a grid can be
read back into its cells.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import cv2
import numpy as np

from .images import read_image
from .results import ResultsStore

if TYPE_CHECKING:  # annotations only: training draws its sample grids with tile() and need not pay for pandas
    import pandas as pd

_LABEL_HEIGHT = 20
#: the band above each row that holds the row's label, when a grid has row labels
_ROW_LABEL_HEIGHT = 14
_GAP = 2
#: the hole's outline: magenta is rare in photographs and stands out on black and on grey fills
OUTLINE_COLOUR = (255, 0, 255)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def comparison_grid(
    store: ResultsStore, methods: list[str], max_rows: int = 8, scores: pd.DataFrame | None = None
) -> np.ndarray | None:
    """Assemble the grid from the images the run saved; None when no item has all columns.

    ``scores`` (the store's rows, read when not given) supply each cell's hole PSNR
    and the item ids that label the rows.
    """
    scores = store.scores() if scores is None else scores
    psnr_of = hole_psnr(scores)
    kinds = ["input", *methods, "target"]
    rows, names = [], []
    for item in sorted(set(scores["item"])) if "item" in scores else []:
        paths = [store.image_path(kind, item) for kind in kinds]
        if not all(path.exists() for path in paths):
            continue
        mask = store.read_mask(item)
        row = []
        for kind, path in zip(kinds, paths):
            image = read_image(path)
            if mask is not None and mask.shape == image.shape[:2]:
                image = outline_hole(image, mask)
            if kind in methods:
                put_corner_label(image, psnr_text(psnr_of.get((kind, item))))
            row.append(image)
        rows.append(row)
        names.append(item)
        if len(rows) == max_rows:
            break
    if not rows:
        return None
    return tile(rows, ["input", *methods, "ground truth"], row_labels=names)


def hole_outline(mask: np.ndarray) -> np.ndarray:
    """The hole's pixels that touch a known pixel (8-neighbourhood): a closed 1-px line along its border.

    The image frame is not a border: a hole that reaches the edge is open there.
    """
    hole = mask.astype(np.uint8)
    inner = cv2.erode(hole, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)
    return mask.astype(bool) & ~inner.astype(bool)


def outline_hole(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A copy of an RGB image with the border of ``mask`` (True = hole) drawn in :data:`OUTLINE_COLOUR`."""
    outlined = image.copy()
    outlined[hole_outline(mask)] = OUTLINE_COLOUR
    return outlined


def put_corner_label(image: np.ndarray, text: str | None) -> None:
    """Write ``text`` in white on a darkened box in the image's bottom-left corner (in place).

    The box is as small as the text; nothing outside it changes.  Text that does
    not fit in half the image's width is left out rather than covering the image.
    """
    if not text:
        return
    scale, pad = 0.35, 2
    (w, h), base = cv2.getTextSize(text, _FONT, scale, 1)
    height, width = image.shape[:2]
    if w + 2 * pad > width // 2 or h + base + 2 * pad > height // 3:
        return
    top, right = height - (h + base + 2 * pad), w + 2 * pad
    image[top:, :right] = (image[top:, :right] * 0.3).astype(np.uint8)
    cv2.putText(image, text, (pad, height - pad - base), _FONT, scale, (255, 255, 255), 1, cv2.LINE_AA)


def tile(rows: list[list[np.ndarray]], labels: list[str], row_labels: list[str] | None = None) -> np.ndarray:
    """Lay out equal-sized RGB images as a labelled grid: one list per row, one label per column.

    With ``row_labels`` each row gets a line above it holding its label (left-aligned,
    shortened from the front to fit); :func:`untile` needs ``row_labels=True`` then.
    """
    size = rows[0][0].shape[0]
    band = _ROW_LABEL_HEIGHT if row_labels is not None else 0
    width = len(labels) * (size + _GAP) - _GAP
    grid = np.full((_LABEL_HEIGHT + len(rows) * (band + size + _GAP), width, 3), 255, np.uint8)
    for c, label in enumerate(labels):
        _put_label(grid, label, c * (size + _GAP), size)
    for r, row in enumerate(rows):
        top = _LABEL_HEIGHT + r * (band + size + _GAP)
        if row_labels is not None:
            _put_row_label(grid, row_labels[r], top, width)
        for c, image in enumerate(row):
            left = c * (size + _GAP)
            grid[top + band : top + band + size, left : left + size] = image
    return grid


def _put_label(grid: np.ndarray, text: str, left: int, width: int) -> None:
    """Center ``text`` above a column, shrunk to fit the column's width."""
    scale = 0.45
    (w, h), _ = cv2.getTextSize(text, _FONT, scale, 1)
    if w > width - 4:
        scale *= (width - 4) / w
        (w, h), _ = cv2.getTextSize(text, _FONT, scale, 1)
    origin = (left + max(0, (width - w) // 2), (_LABEL_HEIGHT + h) // 2)
    cv2.putText(grid, text, origin, _FONT, scale, (0, 0, 0), 1, cv2.LINE_AA)


def _put_row_label(grid: np.ndarray, text: str, top: int, width: int) -> None:
    """Write a row's name in its band; a long name keeps its end (the file name) behind '...'."""
    scale = 0.38
    text = "".join(ch if " " <= ch <= "~" else "?" for ch in text)  # Hershey fonts draw ASCII only
    shown = text
    while len(shown) > 1 and cv2.getTextSize(shown, _FONT, scale, 1)[0][0] > width - 4:
        text = text[1:]
        shown = "..." + text
    (_, h), _ = cv2.getTextSize(shown, _FONT, scale, 1)
    cv2.putText(grid, shown, (2, top + (_ROW_LABEL_HEIGHT + h) // 2), _FONT, scale, (0, 0, 0), 1, cv2.LINE_AA)


def untile(grid: np.ndarray, columns: int, row_labels: bool = False) -> list[list[np.ndarray]]:
    """The images of a grid made by :func:`tile` with ``columns`` columns, row by row (its inverse).

    ``row_labels`` says whether the grid was made with row labels (a band above each row).
    """
    band = _ROW_LABEL_HEIGHT if row_labels else 0
    size = (grid.shape[1] + _GAP) // columns - _GAP
    rows = (grid.shape[0] - _LABEL_HEIGHT + _GAP) // (band + size + _GAP)
    if size < 1 or rows < 1 or columns * (size + _GAP) - _GAP != grid.shape[1]:
        raise ValueError(f"a {grid.shape[1]}x{grid.shape[0]} image is not a grid of {columns} columns")
    images = []
    for r in range(rows):
        top = _LABEL_HEIGHT + r * (band + size + _GAP) + band
        images.append([grid[top : top + size, c * (size + _GAP) : c * (size + _GAP) + size].copy() for c in range(columns)])
    return images


def hole_psnr(scores: pd.DataFrame) -> dict[tuple[str, str], float]:
    """(method, item) -> hole PSNR, from a results directory's score rows."""
    if "psnr_hole" not in scores:
        return {}
    return {(m, i): float(v) for m, i, v in zip(scores["method"], scores["item"], scores["psnr_hole"])}


def psnr_text(value: float | None) -> str | None:
    """A hole PSNR as the grid and report.html label it ("23.41 dB"); None when there is none to show."""
    if value is None or not math.isfinite(value):
        return None
    return f"{value:.2f} dB"
