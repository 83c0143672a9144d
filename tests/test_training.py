"""The shared training engine: schedules, configs, the data stream, checkpoints, resume and DDP.

Runs use ``ours`` at a tiny width (the engine is method-agnostic; ``ours`` is
the trainable method that ships with the core) so each takes about a second.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from inpaintbench.errors import CheckpointError, InpaintbenchError
from inpaintbench.testing import check_exact_resume
from inpaintbench.training import Phase, Ramp, Schedule, TrainConfig, TrainingInterrupted, build_config, checkpoint, numerics, train
from inpaintbench.training.config import PRECISIONS
from inpaintbench.training.data import StepBatches
from inpaintbench.training.engine import plan
from inpaintbench.training.logs import read_losses

from training_fixtures import TINY, tiny_config


# -- schedule ------------------------------------------------------------------------
def test_schedule_phases_ramps_and_carried_weights():
    schedule = Schedule([
        Phase("rec", 0.4, {"rec": 1.0}, ("g",)),
        Phase("local", 0.3, {"local": Ramp(0.0, 0.001)}, ("g", "dl")),
        Phase("global", 0.3, {"global": Ramp(0.0, 0.001)}, ("g", "dl", "dg")),
    ])
    assert schedule.boundaries(100) == [0, 40, 70, 100]
    first = schedule.at(0, 100)
    assert first.name == "rec" and first.weights == {"rec": 1.0, "local": 0.0, "global": 0.0}
    assert first.trains == {"g"}
    assert schedule.at(40, 100).weights["local"] == pytest.approx(0.001 / 30)
    end_of_local = schedule.at(69, 100)
    assert end_of_local.weights["local"] == pytest.approx(0.001) and end_of_local.weights["global"] == 0
    late = schedule.at(99, 100)
    assert late.name == "global" and late.weights["local"] == pytest.approx(0.001)  # carried over
    assert late.weights["global"] == pytest.approx(0.001) and late.trains == {"g", "dl", "dg"}
    with pytest.raises(InpaintbenchError, match="sum to 1"):
        Schedule([Phase("a", 0.5, {}, ())])


# -- config ---------------------------------------------------------------------------
def test_config_file_is_overridden_by_the_command_line(tmp_path):
    file = tmp_path / "train.toml"
    file.write_text('dataset = "sample"\nbatch-size = 12\nseed = 3\n[options]\nvariant = "local"\nwidth = 0.5\n')
    config = build_config("ours", file, {"seed": 7, "lr": None, "options": {"width": "0.25"}})
    assert (config.batch_size, config.seed, config.lr) == (12, 7, None)
    assert config.options == {"variant": "local", "width": "0.25"}
    file.write_text("batchsize = 3\n")
    with pytest.raises(InpaintbenchError, match="unknown key"):
        build_config("ours", file, {})
    with pytest.raises(InpaintbenchError, match="not both"):
        TrainConfig(method="ours", steps=3, epochs=1)


def test_plan_resolves_recipe_defaults_and_checks_the_method(tmp_path):
    resolved = plan(TrainConfig(method="ours", dataset="sample", epochs=2, options=dict(TINY)))
    assert resolved.batch_size == 100 and resolved.lr == 3e-4  # the paper's values
    assert resolved.config.mask == "center"  # --mask not given: the recipe's first protocol
    assert resolved.split == "train" and resolved.total_steps == 1  # 2 epochs of 36 images fit one batch of 100
    with pytest.raises(InpaintbenchError, match="not trainable"):
        plan(TrainConfig(method="telea"))
    with pytest.raises(InpaintbenchError, match="--mask center"):
        plan(TrainConfig(method="ours", mask="irregular"))
    with pytest.raises(InpaintbenchError, match="variant"):
        plan(TrainConfig(method="ours", options={"variant": "both"}))


def test_recipes_see_the_training_stream_before_their_networks_are_built(tmp_path, monkeypatch):
    """``TrainingRecipe.prepare`` runs before ``build_networks`` on a start and again on a resume."""
    from inpaintbench_ours.options import OursOptions
    from inpaintbench_ours.recipe import OursRecipe

    calls = []
    build = OursRecipe.build_networks
    monkeypatch.setattr(OursRecipe, "prepare", lambda self, stream: calls.append(("prepare", len(stream.item_ids))))
    monkeypatch.setattr(OursRecipe, "build_networks", lambda self: calls.append(("build",)) or build(self))

    def stop_after_one(step, losses):
        if step == 1:
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted):
        train(tiny_config(tmp_path / "run", steps=2), on_step=stop_after_one)
    train(tiny_config(tmp_path / "run", steps=2, resume=True))
    assert calls == [("prepare", 36), ("build",)] * 2
    monkeypatch.undo()
    assert OursRecipe(OursOptions()).prepare(plan(tiny_config("unused")).stream) is None  # the default does nothing


# -- data stream --------------------------------------------------------------------------
def test_stream_is_addressed_by_position_and_split_across_ranks():
    stream = plan(tiny_config("unused")).stream
    image, mask = stream[5]
    again_image, again_mask = stream[5]
    assert image.shape == (128, 128, 3) and image.dtype == np.uint8 and mask.sum() == 64 * 64
    assert np.array_equal(image, again_image) and np.array_equal(mask, again_mask)
    n = len(stream)
    epoch0 = [stream.item_at(p) for p in range(n)]
    assert sorted(epoch0) == sorted(stream.item_ids)  # each epoch is a permutation
    assert epoch0 != [stream.item_at(p) for p in range(n, 2 * n)]  # reshuffled per epoch
    whole = list(StepBatches(0, 3, 8))
    ranks = [list(StepBatches(0, 3, 8, rank, 2)) for rank in (0, 1)]
    assert [a + b for a, b in zip(*ranks)] == whole
    assert list(StepBatches(2, 3, 8)) == whole[2:]  # resuming skips, it does not replay


# -- checkpoints ---------------------------------------------------------------------------
def test_training_writes_checkpoint_model_logs_and_samples(tmp_path):
    result = train(tiny_config(tmp_path / "run", sample_every=3))
    run = result.run_dir
    assert (run / "checkpoint.pt").is_file() and (run / "model.pt").is_file() and (run / "config.json").is_file()
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step-0000003.png", "step-0000006.png"]
    losses = read_losses(run)
    assert list(losses["step"]) == list(range(6))
    assert list(losses["phase"]) == ["reconstruction"] * 2 + ["+local"] * 2 + ["+global"] * 2
    assert losses["d_global"].isna().sum() == 4 and losses["d_global"].notna().sum() == 2
    model = checkpoint.read(run / "model.pt", "ours")
    assert set(model["networks"]) == {"generator"} and model["options"]["width"] == 0.0625
    full = checkpoint.read(run / "checkpoint.pt", "ours")
    assert set(full["networks"]) == {"generator", "local", "global"} and full["step"] == 6


def test_bad_checkpoints_get_one_line_errors(tmp_path):
    run = train(tiny_config(tmp_path / "run", steps=1)).run_dir
    data = (run / "model.pt").read_bytes()
    (tmp_path / "truncated.pt").write_bytes(data[: len(data) // 2])
    (tmp_path / "garbage.pt").write_bytes(b"not a checkpoint at all")
    torch.save({"state_dict": {}}, tmp_path / "foreign.pt")
    torch.save({"format": "inpaintbench-model", "version": 1, "method": "ours", "x": np.dtype("float64").type}, tmp_path / "pickled.pt")
    cases = {
        "truncated.pt": "corrupted or truncated",
        "garbage.pt": "corrupted or truncated",
        "foreign.pt": "not an inpaintbench checkpoint",
        "pickled.pt": "needs numpy.float64 unpickled, which could run code",
    }
    for name, message in cases.items():
        with pytest.raises(CheckpointError, match=message):
            checkpoint.read(tmp_path / name, "ours")
    with pytest.raises(CheckpointError, match="belongs to method 'ours', not 'glcic'"):
        checkpoint.read(run / "model.pt", "glcic")
    with pytest.raises(CheckpointError, match="does not exist"):
        checkpoint.resolve(tmp_path / "missing.pt")


# -- resume ---------------------------------------------------------------------------
def test_resume_continues_exactly(tmp_path):
    """A run interrupted after step 3 and resumed logs the same losses as one never interrupted."""
    losses = check_exact_resume(tiny_config, tmp_path, stop_after=3, workers=1)  # the worker count does not matter
    assert list(losses["step"]) == list(range(6))  # the log reads as one run


def test_resume_after_a_crash_restarts_from_the_last_periodic_checkpoint(tmp_path):
    """A crash (not Ctrl-C) at step 3 leaves the step-2 checkpoint; the log's extra row is dropped on resume."""
    straight = read_losses(train(tiny_config(tmp_path / "straight")).run_dir)

    def crash_after_three(step, losses):
        if step == 3:
            raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError, match="simulated crash"):
        train(tiny_config(tmp_path / "crashed", checkpoint_every=2), on_step=crash_after_three)
    assert len(read_losses(tmp_path / "crashed")) == 3  # steps 0-2 were logged
    assert checkpoint.read(tmp_path / "crashed" / "checkpoint.pt", "ours")["step"] == 2
    resumed = train(tiny_config(tmp_path / "crashed", checkpoint_every=2, resume=True))
    assert resumed.steps == 4
    again = read_losses(resumed.run_dir)
    assert again.drop(columns="images_per_s").equals(straight.drop(columns="images_per_s"))


def test_resume_refuses_a_different_run_and_fresh_runs_refuse_to_overwrite(tmp_path):
    train(tiny_config(tmp_path / "run", steps=2))
    with pytest.raises(InpaintbenchError, match="pass --resume"):
        train(tiny_config(tmp_path / "run", steps=2))
    with pytest.raises(CheckpointError, match="seed: 0 -> 1"):
        train(tiny_config(tmp_path / "run", steps=2, seed=1, resume=True))
    assert train(tiny_config(tmp_path / "empty", steps=1, resume=True)).steps == 1  # nothing to resume: it starts


# -- DDP ---------------------------------------------------------------------------------
DDP_SCRIPT = textwrap.dedent('''
    import os, sys, torch
    from inpaintbench.training import TrainConfig, train
    config = TrainConfig(method="ours", dataset="sample", out=sys.argv[1], steps=3, batch_size=4, workers=0,
                         device="cpu", options={"width": "0.0625", "bottleneck": "16"})
    result = train(config)
    rank = int(os.environ["RANK"])
    torch.save({k: v for name, net in result.networks.items() for k, v in
                ((f"{name}.{key}", value) for key, value in net.state_dict().items())},
               os.path.join(sys.argv[1], f"rank{rank}.pt"))
''')


def test_ddp_with_two_cpu_processes_keeps_replicas_identical(tmp_path):
    script = tmp_path / "ddp_train.py"
    script.write_text(DDP_SCRIPT)
    run = tmp_path / "run"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(script), str(run)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    rank0, rank1 = (torch.load(run / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert rank0.keys() == rank1.keys() and any("global" in k for k in rank0)
    different = [k for k in rank0 if not torch.equal(rank0[k], rank1[k])]
    assert not different, different
    initial = train(tiny_config(tmp_path / "single", steps=1)).networks["generator"].state_dict()
    assert not torch.equal(initial["encoder.0.weight"], rank0["generator.encoder.0.weight"])  # they did train
    assert len(read_losses(run)) == 3  # one log, written by rank 0


# -- precision and bad data -----------------------------------------------------------
def test_numerics_map_each_precision_and_restore_the_random_state():
    assert set(numerics.AUTOCAST_DTYPES) == set(PRECISIONS)
    assert [numerics.autocast_dtype(p) for p in PRECISIONS] == [None, torch.bfloat16, torch.float16]
    with pytest.raises(ValueError, match="fp32, bf16, fp16"):
        numerics.autocast_dtype("fp8")
    layer = torch.nn.Linear(4, 4)
    with numerics.autocast("cpu", "bf16"):
        assert layer(torch.ones(1, 4)).dtype == torch.bfloat16
    with numerics.autocast("cpu", "fp32"):
        assert layer(torch.ones(1, 4)).dtype == torch.float32
    assert [numerics.grad_scaler("cpu", p).is_enabled() for p in PRECISIONS] == [False, False, True]
    torch.manual_seed(5)
    state = numerics.rng_state("cpu")
    assert set(state) == {"torch"}  # CUDA's generators only on a CUDA device
    drawn = torch.rand(3)
    torch.rand(7)
    numerics.restore_rng_state(state, torch.device("cpu"))
    assert torch.equal(torch.rand(3), drawn)


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_trains_and_checkpoints_the_scaler(tmp_path, precision):
    run = train(tiny_config(tmp_path / precision, steps=3, precision=precision)).run_dir
    losses = read_losses(run)
    assert np.isfinite(losses["reconstruction"]).all() and len(losses) == 3
    saved = checkpoint.read(run / "checkpoint.pt", "ours")
    assert (saved["scaler"] is not None) == (precision == "fp16")  # fp16 needs loss scaling, bf16 does not


def test_unreadable_training_images_are_replaced_not_fatal(tmp_path):
    import cv2

    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for k in range(3):
        cv2.imwrite(str(folder / f"{k}.png"), rng.integers(0, 256, (40, 60, 3), dtype=np.uint8))
    (folder / "broken.png").write_bytes(b"\x89PNG truncated")
    stream = plan(tiny_config(tmp_path / "unused", dataset="folder", root=str(folder))).stream
    assert "broken.png" in stream.item_ids
    samples = [stream[p] for p in range(2 * len(stream))]  # two epochs: the broken item comes up twice
    assert all(image.shape == (128, 128, 3) for image, _ in samples)
    run = train(tiny_config(tmp_path / "run", dataset="folder", root=str(folder), steps=1, sample_every=1)).run_dir
    assert (run / "samples" / "step-0000001.png").is_file()  # the Fig. 10 grid skips the broken image
    (folder / "0.png").write_bytes(b"")
    (folder / "1.png").write_bytes(b"")
    (folder / "2.png").write_bytes(b"")
    with pytest.raises(InpaintbenchError, match="no image of split"):
        plan(tiny_config(tmp_path / "unused", dataset="folder", root=str(folder))).stream[0]
