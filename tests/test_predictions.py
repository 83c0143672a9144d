"""Scoring outside models: export the exact inputs, read completed images back as a row of the table."""

import json

import cv2
import numpy as np
import pandas as pd
import pytest

from inpaintbench.cli import main

SCORES = ["item", "psnr", "ssim", "psnr_hole", "ssim_hole", "l1_hole"]


def _outside_telea(inputs, masks, out, rename=lambda name: name):
    """What a user's own script does with the exported files: here OpenCV's Telea, as the built-in method runs it."""
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(inputs.iterdir()):
        image = cv2.imread(str(path))
        hole = cv2.imread(str(masks / path.name), cv2.IMREAD_GRAYSCALE) > 127
        cv2.imwrite(str(out / rename(path.name)), cv2.inpaint(image, hole.astype(np.uint8), 3, cv2.INPAINT_TELEA))


def test_exported_inputs_are_what_compare_gives_the_methods(runner, tmp_path):
    args = ["--mask", "random-box", "--limit", "5", "--seed", "4"]
    assert runner.invoke(main, ["masks", "export", *args, "--out", "ex"]).exit_code == 0
    result = runner.invoke(main, ["compare", "--methods", "mean-fill", *args, "--out", "res", "--grid-rows", "5"])
    assert result.exit_code == 0, result.output
    exported = sorted(p.name for p in (tmp_path / "ex" / "input").iterdir())
    assert exported == sorted(p.name for p in (tmp_path / "res" / "images" / "input").iterdir()) and len(exported) == 5
    for name in exported:
        for kind in ("input", "mask"):
            mine = cv2.imread(str(tmp_path / "ex" / kind / name), cv2.IMREAD_UNCHANGED)
            theirs = cv2.imread(str(tmp_path / "res" / "images" / kind / name), cv2.IMREAD_UNCHANGED)
            assert np.array_equal(mine, theirs), (kind, name)
    record = json.loads((tmp_path / "ex" / "export.json").read_text())
    assert record["seed"] == 4 and record["protocol"]["mask"] == "random-box" and len(record["item_ids"]) == 5
    assert not (tmp_path / "ex" / "target").exists()  # the truth is never exported


def test_predictions_of_an_outside_model_score_exactly_as_the_same_method_run_inside(runner, tmp_path):
    args = ["--mask", "irregular", "--limit", "6", "--seed", "2"]
    assert runner.invoke(main, ["masks", "export", *args, "--out", "ex"]).exit_code == 0
    _outside_telea(tmp_path / "ex" / "input", tmp_path / "ex" / "mask", tmp_path / "outside")
    result = runner.invoke(main, ["compare", "--methods", "telea", *args, "--predictions", "outside-telea=outside", "--out", "res", "--format", "md"])
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(tmp_path / "res" / "scores.csv")
    inside = scores[scores["method"] == "telea"][SCORES].sort_values("item").reset_index(drop=True)
    outside = scores[scores["method"] == "outside-telea"][SCORES].sort_values("item").reset_index(drop=True)
    assert len(outside) == 6
    pd.testing.assert_frame_equal(inside, outside)
    assert "| outside-telea (predictions) |" in result.output
    table = pd.read_csv(tmp_path / "res" / "table.csv").set_index("method")
    assert table.loc["outside-telea", "n"] == 6 and np.isnan(table.loc["outside-telea", "seconds"])
    assert json.loads((tmp_path / "res" / "run.json").read_text())["methods"]["outside-telea"]["options"]["folder"] == str(tmp_path / "outside")


def test_lama_layout_and_lama_style_output_names_pair_up(runner, tmp_path):
    """LaMa reads image.png beside image_mask.png and names its outputs after the mask."""
    args = ["--limit", "3"]
    assert runner.invoke(main, ["masks", "export", *args, "--layout", "lama", "--out", "lama-in"]).exit_code == 0
    folder = tmp_path / "lama-in"
    images = sorted(p for p in folder.glob("*.png") if not p.stem.endswith("_mask"))
    assert len(images) == 3 and all((folder / f"{p.stem}_mask.png").is_file() for p in images)
    out = tmp_path / "lama-out"
    out.mkdir()
    for path in images:
        hole = cv2.imread(str(folder / f"{path.stem}_mask.png"), cv2.IMREAD_GRAYSCALE) > 127
        image = cv2.imread(str(path))
        cv2.imwrite(str(out / f"{path.stem}_mask.png"), cv2.inpaint(image, hole.astype(np.uint8), 3, cv2.INPAINT_TELEA))
    result = runner.invoke(main, ["compare", "--methods", "telea", *args, "--predictions", "lama=lama-out", "--out", "res", "--format", "csv"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "res" / "table.csv").set_index("method")
    assert table.loc["lama", "psnr"] == pytest.approx(table.loc["telea", "psnr"])


def test_missing_and_wrongly_sized_predictions_are_named_and_counted(runner, tmp_path):
    args = ["--limit", "5"]
    assert runner.invoke(main, ["masks", "export", *args, "--out", "ex"]).exit_code == 0
    _outside_telea(tmp_path / "ex" / "input", tmp_path / "ex" / "mask", tmp_path / "outside")
    files = sorted((tmp_path / "outside").iterdir())
    files[0].unlink()
    cv2.imwrite(str(files[1]), np.zeros((100, 90, 3), np.uint8))
    result = runner.invoke(main, ["compare", "--methods", "mean-fill", *args, "--predictions", "mine=outside", "--out", "res", "--format", "md"])
    assert result.exit_code == 0, result.output
    text = result.output.replace("\n", " ")
    assert "mine: 2 prediction(s) missing or unusable" in text and files[0].name in text and files[1].name in text
    assert "methods scored different items (mean-fill 5, mine 3): every row averages the 3 items all scored" in text
    failures = [json.loads(line) for line in (tmp_path / "res" / "failures.jsonl").read_text().splitlines()]
    assert any("is 90x100, the benchmark image is 128x128" in f["error"] for f in failures)
    # the missing file appears later: a rerun scores it and nothing else
    _outside_telea(tmp_path / "ex" / "input", tmp_path / "ex" / "mask", tmp_path / "outside")
    again = runner.invoke(main, ["compare", "--methods", "mean-fill", *args, "--predictions", "mine=outside", "--out", "res", "--format", "csv"])
    assert again.exit_code == 0 and "missing" not in again.output
    assert pd.read_csv(tmp_path / "res" / "table.csv").set_index("method").loc["mine", "n"] == 5


@pytest.mark.parametrize("value, message", [
    ("telea=outside", "the row 'telea' is already taken"),
    ("../up=outside", "a row name must be letters"),
    ("target=outside", "not one of input, target, mask"),
    ("mine=nowhere", "nowhere is not a directory"),
])
def test_bad_prediction_rows_get_one_line(runner, tmp_path, value, message):
    (tmp_path / "outside").mkdir()
    cv2.imwrite(str(tmp_path / "outside" / "a.png"), np.zeros((8, 8, 3), np.uint8))
    result = runner.invoke(main, ["compare", "--methods", "telea", "--limit", "2", "--predictions", value])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_predictions_with_parallel_workers_are_read_by_the_parent(runner, tmp_path):
    args = ["--limit", "4"]
    assert runner.invoke(main, ["masks", "export", *args, "--out", "ex"]).exit_code == 0
    _outside_telea(tmp_path / "ex" / "input", tmp_path / "ex" / "mask", tmp_path / "outside")
    result = runner.invoke(main, ["compare", "--methods", "telea", *args, "--workers", "2", "--predictions", "mine=outside", "--out", "res", "--format", "csv"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "res" / "table.csv").set_index("method")
    assert table.loc["mine", "n"] == 4 and table.loc["mine", "psnr"] == pytest.approx(table.loc["telea", "psnr"])


def test_batches_without_any_prediction_file_are_missing_not_a_method_failure(runner, tmp_path):
    """Three batches in a row with no file at all: each item is reported missing, the row is neither failed nor stopped."""
    args = ["--limit", "8", "--batch-size", "2"]
    assert runner.invoke(main, ["masks", "export", *args, "--out", "ex"]).exit_code == 0
    _outside_telea(tmp_path / "ex" / "input", tmp_path / "ex" / "mask", tmp_path / "outside")
    for path in sorted((tmp_path / "outside").iterdir())[1:]:
        path.unlink()
    result = runner.invoke(main, ["compare", "--methods", "mean-fill", *args, "--predictions", "mine=outside", "--out", "res", "--format", "csv"])
    assert result.exit_code == 0, result.output
    text = result.output.replace("\n", " ")
    assert "mine: 7 prediction(s) missing or unusable" in text
    assert "method 'mine'" not in text and "stopped" not in text
    failures = [json.loads(line) for line in (tmp_path / "res" / "failures.jsonl").read_text().splitlines()]
    assert {f["stage"] for f in failures if f.get("method") == "mine"} == {"predictions"}
    assert pd.read_csv(tmp_path / "res" / "table.csv").set_index("method").loc["mine", "n"] == 1
