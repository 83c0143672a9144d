"""``inpaintbench inpaint``: the user's photographs and masks, completed at their own size."""

import cv2
import numpy as np
import pandas as pd
import pytest

from inpaintbench.cli import main


def _photo(height, width, seed=0):
    """A smooth colour gradient with texture: something a fill can be judged on."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 200 / width, y * 200 / height, (x + y) * 100 / (width + height)], axis=-1)
    return np.clip(base + rng.normal(0, 4, (height, width, 3)), 0, 255).astype(np.uint8)


def _hole(height, width, top, left, size):
    mask = np.zeros((height, width), np.uint8)
    mask[top : top + size, left : left + size] = 255
    return mask


@pytest.fixture
def lama_folder(tmp_path):
    """LaMa's layout: photo.png beside photo_mask.png, in sub-folders too, and one photo without a mask."""
    folder = tmp_path / "photos"
    (folder / "trip").mkdir(parents=True)
    cv2.imwrite(str(folder / "wide.png"), _photo(150, 333))
    cv2.imwrite(str(folder / "wide_mask.png"), _hole(150, 333, 40, 100, 50))
    cv2.imwrite(str(folder / "trip" / "tall.jpg"), _photo(301, 180, 1), [cv2.IMWRITE_JPEG_QUALITY, 98])
    cv2.imwrite(str(folder / "trip" / "tall_mask.png"), _hole(301, 180, 120, 60, 40))
    cv2.imwrite(str(folder / "unmasked.png"), _photo(90, 90, 2))
    return folder


def test_a_folder_is_completed_at_full_size_with_names_kept(runner, tmp_path, lama_folder):
    result = runner.invoke(main, ["inpaint", "telea", "photos", "--mask", "photos", "--out", "done"])
    assert result.exit_code == 0, result.output
    assert "completed 2 of 3" in result.output and "no mask for unmasked.png" in result.output
    wide_in, wide_out = (cv2.imread(str(tmp_path / d / "wide.png")) for d in ("photos", "done"))
    assert wide_out.shape == (150, 333, 3)  # no crop, no resize
    hole = cv2.imread(str(lama_folder / "wide_mask.png"), cv2.IMREAD_GRAYSCALE) > 127
    assert np.array_equal(wide_out[~hole], wide_in[~hole])  # known pixels untouched
    assert np.abs(wide_out[hole].astype(int) - wide_in[hole].astype(int)).mean() < 25  # and the hole filled, not black
    assert cv2.imread(str(tmp_path / "done" / "trip" / "tall.jpg")).shape == (301, 180, 3)  # same name, same format
    assert not (tmp_path / "done" / "wide_mask.png").exists() and not (tmp_path / "done" / "unmasked.png").exists()


def test_a_rerun_keeps_finished_outputs_unless_asked(runner, tmp_path, lama_folder):
    assert runner.invoke(main, ["inpaint", "telea", "photos", "--mask", "photos", "--out", "done"]).exit_code == 0
    stamp = (tmp_path / "done" / "wide.png").stat().st_mtime_ns
    again = runner.invoke(main, ["inpaint", "telea", "photos", "--mask", "photos", "--out", "done"])
    assert "kept 2 completed image(s)" in again.output and (tmp_path / "done" / "wide.png").stat().st_mtime_ns == stamp
    redo = runner.invoke(main, ["inpaint", "navier-stokes", "photos", "--mask", "photos", "--out", "done", "--overwrite"])
    assert "completed 2 of 3" in redo.output


def test_a_single_photo_takes_a_single_mask_file_of_any_name(runner, tmp_path):
    cv2.imwrite(str(tmp_path / "me.png"), _photo(120, 160))
    cv2.imwrite(str(tmp_path / "drawn.png"), _hole(120, 160, 30, 30, 30))
    result = runner.invoke(main, ["inpaint", "patchmatch", "me.png", "--mask", "drawn.png", "--out", "out"])
    assert result.exit_code == 0, result.output
    assert cv2.imread(str(tmp_path / "out" / "me.png")).shape == (120, 160, 3)


@pytest.mark.parametrize("mask, message", [
    ("small.png", "mask small.png is 80x60 but image me.png is 160x120"),
    ("empty.png", "mask empty.png has no hole pixels"),
    ("nowhere.png", "--mask nowhere.png: no such mask file or folder"),
])
def test_a_single_photo_with_an_unusable_mask_gets_one_line(runner, tmp_path, mask, message):
    cv2.imwrite(str(tmp_path / "me.png"), _photo(120, 160))
    cv2.imwrite(str(tmp_path / "small.png"), _hole(60, 80, 10, 10, 10))
    cv2.imwrite(str(tmp_path / "empty.png"), np.zeros((120, 160), np.uint8))
    result = runner.invoke(main, ["inpaint", "telea", "me.png", "--mask", mask, "--out", "out"])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_writing_over_the_inputs_is_refused(runner, lama_folder):
    result = runner.invoke(main, ["inpaint", "telea", "photos", "--mask", "photos", "--out", "photos"])
    assert result.exit_code == 2 and "would replace the originals" in result.output


def test_a_single_photo_is_not_written_over_itself(runner, tmp_path):
    cv2.imwrite(str(tmp_path / "me.png"), _photo(120, 160))
    cv2.imwrite(str(tmp_path / "me_mask.png"), _hole(120, 160, 30, 30, 30))
    before = (tmp_path / "me.png").read_bytes()
    result = runner.invoke(main, ["inpaint", "telea", "me.png", "--mask", "me_mask.png", "--out", "."])
    assert result.exit_code == 2 and "would replace the originals" in result.output
    assert (tmp_path / "me.png").read_bytes() == before


def test_nothing_completed_is_a_failure(runner, tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "masks").mkdir()
    for name in ("a.png", "c.png"):
        cv2.imwrite(str(tmp_path / "photos" / name), _photo(50, 50))
    cv2.imwrite(str(tmp_path / "masks" / "b.png"), _hole(50, 50, 5, 5, 5))
    result = runner.invoke(main, ["inpaint", "telea", "photos", "--mask", "masks", "--out", "out"])
    assert result.exit_code == 1 and "no mask for a.png" in result.output and "no mask for c.png" in result.output


def test_a_tiny_image_is_skipped_and_reported_not_upscaled(runner, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    cv2.imwrite(str(folder / "big.png"), _photo(140, 150))
    cv2.imwrite(str(folder / "thumb.png"), _photo(40, 60))
    result = runner.invoke(main, ["compare", "--dataset", "folder", "--root", "mixed", "--methods", "telea", "--out", "res", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert "thumb.png: too small (60x40)" in result.output and "at least 64 px" in result.output
    assert list(pd.read_csv(tmp_path / "res" / "table.csv")["n"]) == [1]
