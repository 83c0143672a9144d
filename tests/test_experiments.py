"""The experiments' assembly logic on tiny inputs: experiment directories, Tables VI/VII, Fig. 10, loss plots, Figs. 14-16.

Networks are tiny and trained for a few steps, so the numbers mean nothing;
what is checked is that each experiment trains what is untrained, skips what
is done, resumes what was interrupted, and writes the tables and figures.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from inpaintbench.cli import main
from inpaintbench.errors import InpaintbenchError
from inpaintbench.experiments.directory import ExperimentDir
from inpaintbench.experiments.figures import plot_losses, training_progress
from inpaintbench.experiments.stages import Hooks, Runtime
from inpaintbench.grid import tile, untile
from inpaintbench.images import read_image
from inpaintbench.registry import held_out_split
from inpaintbench.training.logs import LOSSES_FILE, save_samples
from inpaintbench_paper.comparison import run_comparison, table_vi, table_vii
from inpaintbench_paper.generalisation import Generalisation, Target, entries_for

TINY_OURS = {"width": "0.0625", "bottleneck": "16"}
RUNTIME = Runtime(device="cpu", workers=0, eval_workers=1, grid_rows=2)


class CountingHooks(Hooks):
    """Silent hooks that remember which stages ran."""

    def __init__(self):
        self.trained, self.evaluated = [], []

    def train(self, config):
        self.trained.append((config.out, config.resume))
        return super().train(config)

    def evaluate(self, spec, methods, store, unavailable, run):
        report = super().evaluate(spec, methods, store, unavailable, run)
        self.evaluated.append(sum(report.scored.values()))
        return report


def tiny_table_vii(**changes):
    settings = dict(dataset="sample", steps=3, batch_size=2, limit=2, sample_every=1)
    return table_vii(dict(TINY_OURS), **{**settings, **changes})


# -- figures --------------------------------------------------------------------------
def test_untile_inverts_tile():
    rng = np.random.default_rng(0)
    rows = [[rng.integers(0, 256, (16, 16, 3), dtype=np.uint8) for _ in range(3)] for _ in range(2)]
    back = untile(tile(rows, ["a", "b", "c"]), 3)
    assert len(back) == 2 and all(np.array_equal(x, y) for row, again in zip(rows, back) for x, y in zip(row, again))
    with pytest.raises(ValueError, match="not a grid of 4 columns"):
        untile(tile(rows, ["a", "b", "c"]), 4)


def test_fig10_shows_each_step_prediction_between_input_and_truth(tmp_path):
    size, images = 8, 3
    truth = np.full((images, size, size, 3), 200, np.uint8)
    masked = np.zeros_like(truth)
    for step in (10, 20, 30):
        predicted = np.full_like(truth, step)
        predicted[:, 0, 0] = np.arange(images)[:, None]  # each row's own prediction
        save_samples(tmp_path / "samples" / f"step-{step:07d}.png", masked, predicted, truth)

    figure = training_progress(tmp_path, images=2, columns=2)
    rows = untile(figure, 4)  # input | two steps (first and last kept) | ground truth
    assert len(rows) == 2
    assert [int(rows[0][c][4, 4, 0]) for c in range(4)] == [0, 10, 30, 200]
    assert [int(row[1][0, 0, 0]) for row in rows] == [0, 1]  # rows stay in order

    with pytest.raises(InpaintbenchError, match="no samples"):
        training_progress(tmp_path / "elsewhere")


def test_loss_plot_is_a_png_with_a_panel_per_loss(tmp_path):
    steps = np.arange(40)
    phases = ["reconstruction"] * 20 + ["+local"] * 20
    frame = pd.DataFrame({"step": steps, "phase": phases, "reconstruction": 1 / (1 + steps), "d_local": [np.nan] * 20 + [0.7] * 20,
                          "w_local": 0.0, "images_per_s": 5.0})
    frame.to_csv(tmp_path / LOSSES_FILE, index=False)
    two_panels = read_image(plot_losses(tmp_path, tmp_path / "losses.png"))
    frame.drop(columns="d_local").to_csv(tmp_path / LOSSES_FILE, index=False)
    one_panel = read_image(plot_losses(tmp_path, tmp_path / "losses.png"))
    assert two_panels.shape[0] > one_panel.shape[0] and two_panels.shape[1] == one_panel.shape[1]
    with pytest.raises(InpaintbenchError, match="no losses.csv"):
        plot_losses(tmp_path / "nowhere", tmp_path / "x.png")


# -- the experiment directory ------------------------------------------------------------
def test_experiment_dir_records_settings_and_refuses_changes(tmp_path):
    directory = ExperimentDir(tmp_path, "table-vi")
    assert directory.begin({"steps": 10, "dataset": "sample"}) is False
    assert directory.begin({"dataset": "sample", "steps": 10}) is True
    with pytest.raises(InpaintbenchError, match=r"other settings \(steps: 10 -> 20\)"):
        directory.begin({"dataset": "sample", "steps": 20})
    with pytest.raises(InpaintbenchError, match="holds experiment 'table-vi', not 'table-vii'"):
        ExperimentDir(tmp_path, "table-vii").begin({})
    (tmp_path / "experiment.json").write_text("{broken")
    with pytest.raises(InpaintbenchError, match="not valid JSON"):
        directory.begin({})


def test_evaluation_split_is_held_out_from_training():
    assert held_out_split("sample", "train") == "val"  # sample's default split, test, holds every image
    assert held_out_split("paris-streetview", "train") == "test"
    assert held_out_split("imagenet", "train") == "val"
    with pytest.raises(InpaintbenchError, match="no split that is held out"):
        held_out_split("folder", "all")


def test_images_seen_sets_each_rows_steps_from_its_own_batch():
    """Equal training for rows whose batches differ (ours 100, context-encoder 64, glcic 96)."""
    comparison = table_vi(("ours", "context-encoder", "glcic", "telea"), dataset="sample", images=9600)
    steps = {entry.label: comparison.steps_for(entry) for entry in comparison.entries if entry.method != "telea"}
    assert steps == {"ours": 96, "context-encoder": 150, "glcic": 100}
    same_batch = table_vi(("ours", "glcic"), dataset="sample", images=100, batch_size=32)
    assert [same_batch.steps_for(entry) for entry in same_batch.entries] == [4, 4]  # rounded up: at least 100 images
    with pytest.raises(InpaintbenchError, match="give --images .* or --steps, not both"):
        table_vi(("ours",), dataset="sample", images=100, steps=3)
    with pytest.raises(InpaintbenchError, match="give --images"):
        table_vi(("ours",), dataset="sample")


def test_settings_are_checked_before_any_training():
    with pytest.raises(InpaintbenchError, match="unknown method|no method"):
        table_vi(("ours", "no-such-method"), dataset="sample", steps=3)
    with pytest.raises(InpaintbenchError, match="drop -o ours.variant"):
        table_vii({"variant": "ce"}, dataset="sample", steps=3)
    with pytest.raises(InpaintbenchError, match="--checkpoint given for our, which is not a row"):
        table_vi(("ours",), checkpoints={"our": "runs/x"}, dataset="sample", steps=3)
    with pytest.raises(InpaintbenchError, match="-o given for glcic, which is not a row"):
        table_vi(("ours", "telea"), options={"glcic": {"width": "0.5"}}, dataset="sample", steps=3)
    with pytest.raises(InpaintbenchError, match="--checkpoint given for ours, which is not a row"):
        table_vii(checkpoints={"ours": "runs/x"}, dataset="sample", steps=3)


# -- Table VII: train, skip, resume -------------------------------------------------------
def test_table_vii_trains_each_variant_then_skips_what_is_done(tmp_path):
    hooks = CountingHooks()
    result = run_comparison(tiny_table_vii(), tmp_path, RUNTIME, hooks)
    assert [out.rsplit("/", 1)[-1] for out, resume in hooks.trained] == ["ours-ce", "ours-local", "ours-full"]
    table = pd.read_csv(tmp_path / "table.csv")
    assert list(table["method"]) == ["ours-ce", "ours-local", "ours-full"]
    assert list(table["variant"].fillna("")) == ["encoder-decoder only", "+ local discriminator", ""]
    assert (table["n"] == 2).all() and (table["scored"] == table["n"]).all()
    for name in ("table.md", "table.tex", "fig12.png", "fig10-ours-full.png", "losses-ours-ce.png"):
        assert (tmp_path / name).is_file(), name
    config = json.loads((tmp_path / "train" / "ours-local" / "config.json").read_text())["config"]
    assert config["options"]["variant"] == "local" and config["steps"] == 3 and config["split"] == "train"
    assert json.loads((tmp_path / "eval" / "run.json").read_text())["split"] == "val"
    assert set(map(str, result.outputs)) >= {str(tmp_path / "table.md"), str(tmp_path / "fig12.png")}

    again = CountingHooks()
    run_comparison(tiny_table_vii(), tmp_path, RUNTIME, again)
    assert again.trained == [] and again.evaluated == [0]  # nothing trained, nothing re-scored
    pd.testing.assert_frame_equal(table, pd.read_csv(tmp_path / "table.csv"))

    (tmp_path / "train" / "ours-local" / "model.pt").unlink()  # as if killed after its last checkpoint
    resumed = CountingHooks()
    run_comparison(tiny_table_vii(), tmp_path, RUNTIME, resumed)
    assert resumed.trained == [(str(tmp_path / "train" / "ours-local"), True)]
    assert (tmp_path / "train" / "ours-local" / "model.pt").is_file()

    with pytest.raises(InpaintbenchError, match="other settings"):
        run_comparison(tiny_table_vii(steps=4), tmp_path, RUNTIME, CountingHooks())


# -- Table VI through the CLI, and Figs. 14-16 -------------------------------------------------
def test_table_vi_cli_trains_the_untrained_and_uses_given_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    tiny = [f"-o ours.{key}={value}" for key, value in TINY_OURS.items()]
    common = ["experiment", "table-vi", "--dataset", "sample", "--steps", "2", "--batch-size", "2", "--limit", "2",
              "--methods", "telea,ours", "--device", "cpu", "--workers", "0", "--format", "md", *tiny]
    first = runner.invoke(main, common)
    assert first.exit_code == 0, first.output
    out = tmp_path / "experiments" / "table-vi-sample-s0"
    assert (out / "train" / "ours" / "model.pt").is_file() and not (out / "train" / "telea").exists()
    assert "| telea |" in first.output and "| ours |" in first.output and (out / "fig11.png").is_file()

    given = runner.invoke(main, [*common, "--checkpoint", f"ours={out / 'train' / 'ours'}", "--out", "given"])
    assert given.exit_code == 0, given.output
    assert not (tmp_path / "given" / "train").exists()  # nothing trained: the given run is scored
    before, after = (pd.read_csv(path / "table.csv").drop(columns="seconds") for path in (out, tmp_path / "given"))
    pd.testing.assert_frame_equal(before, after)

    generalised = runner.invoke(main, [
        "experiment", "generalise", "--checkpoint", f"ours={out / 'train' / 'ours'}", "--methods", "telea",
        "--on", "sample:val", "--on", f"folder={tmp_path / 'given' / 'eval' / 'images' / 'target'}", "--limit", "2",
        "--device", "cpu", "--format", "md", "--out", "general",
    ])
    assert generalised.exit_code == 0, generalised.output
    table = pd.read_csv(tmp_path / "general" / "table.csv")
    assert list(zip(table["dataset"], table["method"], table["trained_on"].fillna("—"))) == [
        ("sample:val", "ours", "sample:train"), ("sample:val", "telea", "—"),
        ("folder:all", "ours", "sample:train"), ("folder:all", "telea", "—"),
    ]
    assert "| Evaluated on | Trained on | Method |" in generalised.output
    assert (tmp_path / "general" / "fig-folder-all.png").is_file() and (tmp_path / "general" / "fig-sample-val.png").is_file()


def test_fig10_command_and_target_parsing(tmp_path):
    save_samples(tmp_path / "samples" / "step-0000001.png", *(np.zeros((1, 8, 8, 3), np.uint8),) * 3)
    pd.DataFrame({"step": [0], "phase": ["reconstruction"], "reconstruction": [0.5]}).to_csv(tmp_path / LOSSES_FILE, index=False)
    result = CliRunner().invoke(main, ["experiment", "fig10", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "fig10.png").is_file() and (tmp_path / "losses.png").is_file()

    assert Target.parse("dtd:test=/data/dtd") == Target("dtd", "test", "/data/dtd")
    assert Target.parse("lsun") == Target("lsun")
    with pytest.raises(InpaintbenchError, match="NAME"):
        Target.parse(":x")
    with pytest.raises(InpaintbenchError, match="named twice"):
        Generalisation(entries_for([], ["telea"], {}), (Target("sample", "val"), Target("sample", "val")))


def test_table_vii_under_torchrun_trains_with_ddp_and_shards_the_evaluation(tmp_path):
    """One process group serves every stage (torchrun's rendezvous cannot be joined twice); rank 0 writes."""
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = tmp_path / "vii"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", str(port),
               "-m", "inpaintbench", "experiment", "table-vii", "--dataset", "sample", "--steps", "2", "--batch-size", "4",
               "-o", "ours.width=0.0625", "-o", "ours.bottleneck=16", "--limit", "3", "--device", "cpu", "--workers", "0",
               "--format", "csv", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("method,variant") == 1  # rank 0 alone prints the table
    table = pd.read_csv(out / "table.csv")
    assert list(table["method"]) == ["ours-ce", "ours-local", "ours-full"] and (table["n"] == 3).all()
    assert sorted(p.name for p in (out / "eval" / "shards").iterdir()) == ["0-of-2", "1-of-2"]
    assert json.loads((out / "train" / "ours-full" / "config.json").read_text())["config"]["batch_size"] == 4
    assert (out / "fig12.png").is_file() and (out / "fig10-ours-local.png").is_file()
