"""grid.png: the hole outline, the hole-PSNR corner labels and the row names, on a synthetic results store.

The expected outline is computed here independently (a hole pixel with a known
pixel among its 8 neighbours), so a change in how grid.py draws it is caught.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from inpaintbench.grid import OUTLINE_COLOUR, comparison_grid, tile, untile
from inpaintbench.results import ResultsStore

SIZE = 128


def border_of(mask: np.ndarray) -> np.ndarray:
    """Hole pixels next to a known pixel; the image frame counts as hole (a hole is open at the edge)."""
    padded = np.pad(mask, 1, mode="edge")
    known_neighbour = np.zeros_like(mask)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            known_neighbour |= ~padded[1 + dy : 1 + dy + SIZE, 1 + dx : 1 + dx + SIZE]
    return mask & known_neighbour


def store_with(tmp_path, images: dict[str, np.ndarray], mask: np.ndarray, hole_psnr: dict[str, float], item="photos/a.png"):
    """A results store holding one kept item: input, each method's completion, truth, the mask and scores."""
    store = ResultsStore(tmp_path / "out")
    for kind, image in images.items():
        store.save_image(kind, item, image)
    store.save_mask(item, mask)
    for method, value in hole_psnr.items():
        store.append_scores(method, [{"item": item, "psnr": value + 5, "psnr_hole": value}])
    return store


def is_outline(cell: np.ndarray) -> np.ndarray:
    return np.all(cell == OUTLINE_COLOUR, axis=-1)


def test_the_outline_lies_exactly_on_the_hole_border_in_every_cell(tmp_path):
    """A black image with a black hole: only the outline tells the hole apart, and it is drawn nowhere else."""
    black = np.zeros((SIZE, SIZE, 3), np.uint8)
    mask = np.zeros((SIZE, SIZE), bool)
    mask[20:60, 40:100] = True  # inside the image
    mask[90:, 100:] = True  # reaching the bottom and right edges: no line along the frame
    mask[30:34, 0:12] = True  # touching the left edge
    store = store_with(tmp_path, {"input": black, "m": black, "target": black}, mask, {"m": 12.5})

    grid = comparison_grid(store, ["m"])
    [[input_cell, method_cell, target_cell]] = untile(grid, 3, row_labels=True)
    expected = border_of(mask)
    assert expected.sum() > 200 and expected[-1, 100] and not expected[-1, 101:].any()  # open along the frame
    for cell in (input_cell, target_cell):
        assert np.array_equal(is_outline(cell), expected)
        assert not cell[~expected].any()  # everything else is the black image, untouched
    # the method cell has the same outline, except where the corner label covers the bottom-left
    corner = np.zeros_like(mask)
    corner[-20:, : SIZE // 2] = True
    assert np.array_equal(is_outline(method_cell) & ~corner, expected & ~corner)


def test_the_hole_psnr_label_changes_only_a_small_bottom_left_corner(tmp_path):
    rng = np.random.default_rng(0)
    images = {kind: rng.integers(40, 200, (SIZE, SIZE, 3), dtype=np.uint8) for kind in ("input", "good", "bad", "target")}
    mask = np.zeros((SIZE, SIZE), bool)
    mask[30:70, 30:70] = True
    store = store_with(tmp_path, images, mask, {"good": 31.25, "bad": 9.5})

    [row] = untile(comparison_grid(store, ["good", "bad"]), 4, row_labels=True)
    for kind, cell in zip(("input", "good", "bad", "target"), row):
        drawn = images[kind].copy()
        drawn[border_of(mask)] = OUTLINE_COLOUR
        changed = np.any(cell != drawn, axis=-1)
        if kind in ("input", "target"):
            assert not changed.any(), f"{kind} has no label"
            continue
        ys, xs = np.nonzero(changed)
        assert len(ys) > 50, f"{kind} shows its hole PSNR"
        assert ys.min() >= SIZE - 20 and xs.max() < SIZE // 2, f"{kind}'s label stays in the bottom-left corner"
        assert (cell[changed] > 200).all(axis=-1).any(), "white text"
    assert not np.array_equal(row[1][-20:, :64], row[2][-20:, :64])  # each cell its own number


def test_rows_are_labelled_with_item_names_and_long_names_are_shortened(tmp_path):
    gray = np.full((SIZE, SIZE, 3), 128, np.uint8)
    mask = np.zeros((SIZE, SIZE), bool)
    mask[50:60, 50:60] = True
    long_name = "deep/" * 40 + "x.png"
    store = store_with(tmp_path, {"input": gray, "m": gray, "target": gray}, mask, {"m": 20.0}, item=long_name)
    for item in ("a.png", "b.png"):
        for kind in ("input", "m", "target"):
            store.save_image(kind, item, gray)
        store.save_mask(item, mask)
        store.append_scores("m", [{"item": item, "psnr": 25.0, "psnr_hole": 20.0}])

    grid = comparison_grid(store, ["m"], max_rows=3)
    rows = untile(grid, 3, row_labels=True)
    assert len(rows) == 3 and grid.shape[1] == 3 * SIZE + 2 * 2  # row names add height, never width
    bands = [grid[20 + r * (14 + SIZE + 2) : 20 + r * (14 + SIZE + 2) + 14] for r in range(3)]
    for band in bands:
        ink = np.nonzero((band < 128).all(axis=-1))[1]
        assert len(ink) > 20 and ink.max() < grid.shape[1] - 1  # text, inside the grid
    assert not np.array_equal(bands[0], bands[1])  # a.png and b.png are named apart
    assert (np.nonzero((bands[2] < 128).all(axis=-1))[1].max()) > grid.shape[1] * 0.8  # the long name fills the line


def test_untile_inverts_tile_with_row_labels():
    rng = np.random.default_rng(1)
    rows = [[rng.integers(0, 256, (16, 16, 3), dtype=np.uint8) for _ in range(3)] for _ in range(2)]
    grid = tile(rows, ["a", "b", "c"], row_labels=["first", "second"])
    back = untile(grid, 3, row_labels=True)
    assert len(back) == 2 and all(np.array_equal(x, y) for row, again in zip(rows, back) for x, y in zip(row, again))
    assert grid.shape[1] == tile(rows, ["a", "b", "c"]).shape[1]
    with pytest.raises(ValueError, match="not a grid of 4 columns"):
        untile(grid, 4, row_labels=True)


def test_training_logs_draw_grids_without_importing_pandas():
    """Every training process imports the grid for its sample images; pandas is only for the results' grid."""
    code = "import sys, inpaintbench.training.logs; print('pandas' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "False"
