"""The command line on the bundled sample set, as a user would call it."""

import json

import pandas as pd
import pytest

from inpaintbench import TrainableMethod, registry
from inpaintbench.cli import main

from plugin_doubles import registering


def test_compare_writes_every_output(runner, tmp_path):
    result = runner.invoke(main, ["compare", "--methods", "telea,mean-fill", "--limit", "4", "--seed", "7", "--out", "res", "--grid-rows", "3"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "res"
    for name in ("run.json", "table.csv", "table.md", "table.tex", "scores.csv", "grid.png"):
        assert (out / name).exists(), name
    record = json.loads((out / "run.json").read_text())
    assert record["seed"] == 7 and record["protocol"]["mask"] == "center" and record["items"] == 4
    assert record["methods"]["telea"]["options"] == {"radius": 3}
    assert len(record["manifest_sha256"]) == 16 and "numpy" in record["versions"]
    table = pd.read_csv(out / "table.csv")
    assert list(table["method"]) == ["telea", "mean-fill"]
    assert (table["n"] == 4).all() and (table["psnr_low"] <= table["psnr"]).all()
    scores = pd.read_csv(out / "scores.csv")
    assert len(scores) == 8
    import cv2

    grid = cv2.imread(str(out / "grid.png"))
    assert grid.shape[0] > 3 * 128 and grid.shape[1] == 4 * 128 + 3 * 2  # input | 2 methods | truth


def test_compare_with_no_arguments_runs_every_method_on_the_whole_sample_set(runner, tmp_path):
    result = runner.invoke(main, ["compare"])  # the README's main job
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "results" / "sample-test-center-s0" / "table.csv")
    assert set(table["method"]) >= {"telea", "navier-stokes", "biharmonic", "mean-fill", "patchmatch"}
    assert (table["n"] >= 40).all()
    untrained = [entry.name for entry in registry.list_methods() if entry.cls.needs_checkpoint]
    assert "ours" in untrained
    for name in untrained:  # ours and the learned baselines: under the table with the command to train them
        assert name not in set(table["method"])
        assert f"not in the table: {name}: not trained" in result.output
        assert f"inpaintbench train {name}" in result.output
    assert "Table VI" in result.output


def test_rerun_skips_scored_pairs_and_table_retabulates(runner, tmp_path):
    args = ["compare", "--methods", "telea", "--limit", "3", "--out", "res", "--format", "csv"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    second = runner.invoke(main, args[:-2] + ["--format", "csv", "--methods", "telea,mean-fill"])
    assert second.exit_code == 0, second.output
    lines = (tmp_path / "res" / "scores" / "telea.jsonl").read_text().splitlines()
    assert len(lines) == 3  # telea was not rerun
    for fmt, marker in (("md", "| Method |"), ("csv", "method,"), ("latex", r"\toprule")):
        shown = runner.invoke(main, ["table", "res", "--format", fmt])
        assert shown.exit_code == 0 and marker in shown.output
        assert "mean-fill" in shown.output


def test_run_saves_every_completed_image(runner, tmp_path):
    result = runner.invoke(main, ["run", "navier-stokes", "--limit", "3", "--mask", "irregular", "--out", "one"])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "one" / "images" / "navier-stokes").glob("*.png"))) == 3


def test_listings(runner):
    methods = runner.invoke(main, ["methods", "--verbose"])
    assert methods.exit_code == 0
    for name in ("telea", "navier-stokes", "biharmonic", "mean-fill", "radius=3"):
        assert name in methods.output
    datasets = runner.invoke(main, ["datasets"])
    assert datasets.exit_code == 0
    for name in ("sample", "imagenet", "paris-streetview", "dtd", "deepfashion", "lsun", "cifar10", "folder"):
        assert name in datasets.output
    scorers = runner.invoke(main, ["scorers"], terminal_width=200)
    assert scorers.exit_code == 0
    assert "psnr-ssim" in scorers.output and "PSNR (dB) ↑" in scorers.output and "hole L1 (%) ↓" in scorers.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["compare", "--methods", "telia"], "did you mean 'telea'"),
        (["compare", "--dataset", "imagenet"], "has no root"),
        (["compare", "--dataset", "folder", "--root", "/nonexistent/x"], "not a directory"),
        (["compare", "--mask", "centre"], "unknown mask protocol"),
        (["compare", "--methods", "telea", "-o", "radius=3"], "name the method"),
        (["table", "."], "not an inpaintbench results directory"),
    ],
)
def test_bad_input_gets_one_clear_line(runner, args, message):
    result = runner.invoke(main, args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


class _GreyNet(TrainableMethod):
    """A method that needs a checkpoint (a file holding one grey level)."""

    name = "grey-net"
    summary = "fills the hole with the grey level stored in its checkpoint"

    def load_checkpoint(self, path):
        self.level = int(path.read_text())

    def inpaint(self, images, masks):
        return images * 0 + self.level


@pytest.fixture
def weighted_plugin(fresh_plugins):
    fresh_plugins.register(registering("register_methods", _GreyNet), name="weighted")


def test_untrained_methods_are_listed_not_dropped(runner, tmp_path, weighted_plugin):
    result = runner.invoke(main, ["compare", "--methods", "grey-net,telea", "--limit", "2", "--out", "res", "--format", "md"])
    assert result.exit_code == 1, result.output  # asked for by name and not scored: the run fails, after the table
    assert "not in the table: grey-net: not trained" in result.output and "inpaintbench train grey-net" in result.output
    table = pd.read_csv(tmp_path / "res" / "table.csv")
    assert list(table["method"]) == ["telea"] and table.loc[0, "n"] == 2
    assert "grey-net" not in (tmp_path / "res" / "table.md").read_text()


def test_checkpoints_are_loaded_and_hashed(runner, tmp_path, weighted_plugin):
    import hashlib

    (tmp_path / "weights.txt").write_text("128")
    result = runner.invoke(main, ["compare", "--methods", "grey-net", "--limit", "2", "--out", "res", "--checkpoint", "grey-net=weights.txt"])
    assert result.exit_code == 0, result.output
    entry = json.loads((tmp_path / "res" / "run.json").read_text())["methods"]["grey-net"]
    assert entry["checkpoint_sha256"] == hashlib.sha256(b"128").hexdigest()
    scores = pd.read_csv(tmp_path / "res" / "scores.csv")
    assert len(scores) == 2 and scores["l1_hole"].gt(0).all()


def test_irregular_masks_get_a_table_per_area_bin(runner, tmp_path):
    result = runner.invoke(main, ["compare", "--methods", "telea,mean-fill", "--mask", "irregular", "--limit", "12", "--out", "irr"])
    assert result.exit_code == 0, result.output
    by_area = pd.read_csv(tmp_path / "irr" / "table_by_area.csv")
    scores = pd.read_csv(tmp_path / "irr" / "scores.csv")
    assert set(by_area["method"]) == {"telea", "mean-fill"}
    assert by_area.groupby("method")["n"].sum().eq(12).all()  # every item in exactly one bin
    assert by_area["area"].nunique() == len({int(f * 10) for f in scores["hole_fraction"]})
    shown = runner.invoke(main, ["table", "irr", "--by-area", "--format", "md"])
    assert shown.exit_code == 0 and shown.output.count("| Method |") == by_area["area"].nunique()
