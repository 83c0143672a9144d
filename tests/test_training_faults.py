"""Training under faults: crafted checkpoints, stray temporary files, early kills, full disks, global randomness."""

from __future__ import annotations

import errno

import numpy as np
import pytest
import torch

from inpaintbench import plugins, registry
from inpaintbench.errors import CheckpointError
from inpaintbench.methods import Method
from inpaintbench.testing import check_exact_resume
from inpaintbench.training import checkpoint, train
from inpaintbench.training.logs import read_losses

from plugin_doubles import registering
from training_fixtures import tiny_config


def test_resume_is_exact_for_a_recipe_that_draws_from_the_global_generator(tmp_path, monkeypatch):
    """Dropout and noise draw from torch's global generator: a resume must restore it exactly as it was."""
    recipe = registry.method_class("ours").recipe_class()
    original = recipe.training_step

    def noisy_step(self, images, masks, ctx):
        return original(self, images + 0.05 * torch.randn_like(images), masks, ctx)

    monkeypatch.setattr(recipe, "training_step", noisy_step)
    check_exact_resume(tiny_config, tmp_path, stop_after=3)


def test_a_temporary_file_left_by_a_kill_is_removed_on_the_next_start(tmp_path):
    run = tmp_path / "run"
    train(tiny_config(run, steps=2))
    stray = [run / f".{checkpoint.CHECKPOINT_FILE}.999999.tmp", run / f".{checkpoint.MODEL_FILE}.999998.tmp"]
    for path in stray:
        path.write_bytes(b"half a checkpoint")
    train(tiny_config(run, steps=2, resume=True))
    assert not any(path.exists() for path in stray)


def test_resume_of_a_run_killed_before_its_first_checkpoint_starts_afresh(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")  # what a run killed during its first steps leaves
    result = train(tiny_config(run, steps=3, resume=True))
    assert result.steps == 3 and list(read_losses(run)["step"]) == [0, 1, 2]
    assert "no checkpoint to resume" in capsys.readouterr().err


def _crafted(tmp_path, change) -> None:
    run = tmp_path / "run"
    train(tiny_config(run, steps=2))
    payload = torch.load(run / checkpoint.CHECKPOINT_FILE, weights_only=True)
    change(payload)
    torch.save(payload, run / checkpoint.CHECKPOINT_FILE)


@pytest.mark.parametrize("change, message", [
    (lambda p: p.pop("rng"), "has no 'rng'"),
    (lambda p: p.pop("config"), "has no 'config'"),
    (lambda p: p.pop("step"), "has no 'step'"),
    (lambda p: p["rng"].update(torch=torch.zeros(7, dtype=torch.uint8)), "RNG state"),
])
def test_a_crafted_checkpoint_is_one_line_on_resume(tmp_path, change, message):
    _crafted(tmp_path, change)
    with pytest.raises(CheckpointError, match=message) as error:
        train(tiny_config(tmp_path / "run", steps=2, resume=True))
    assert "\n" not in str(error.value)


def test_non_finite_weights_are_refused_at_load(tmp_path):
    run = tmp_path / "run"
    train(tiny_config(run, steps=1))
    payload = torch.load(run / checkpoint.MODEL_FILE, weights_only=True)
    name = next(iter(payload["networks"]))
    key = next(k for k, v in payload["networks"][name].items() if v.is_floating_point())
    payload["networks"][name][key].view(-1)[0] = float("nan")
    torch.save(payload, run / checkpoint.MODEL_FILE)
    with pytest.raises(CheckpointError, match=f"non-finite values .*{name}.{key}"):
        registry.create_method("ours", checkpoint=run / checkpoint.MODEL_FILE)
    state = torch.load(run / checkpoint.CHECKPOINT_FILE, weights_only=True)
    state["networks"][name][key].view(-1)[0] = float("inf")
    torch.save(state, run / checkpoint.CHECKPOINT_FILE)
    with pytest.raises(CheckpointError, match="non-finite values"):
        train(tiny_config(run, steps=2, resume=True))


def test_a_full_disk_while_checkpointing_says_so(tmp_path, monkeypatch):
    """torch.save on a full disk reports 'unexpected pos'; the user must read 'No space left on device'."""
    def full_disk_save(payload, handle):
        handle.write(b"some bytes")
        raise RuntimeError("[enforce fail at inline_container.cc:603] . unexpected pos 3111424 vs 3111318")

    monkeypatch.setattr(checkpoint.torch, "save", full_disk_save)
    monkeypatch.setattr(checkpoint, "_free_bytes", lambda path: 0)
    with pytest.raises(CheckpointError, match="No space left on device") as error:
        train(tiny_config(tmp_path / "run", steps=2))
    assert str(tmp_path / "run") in str(error.value)


def test_train_out_inside_the_dataset_root_is_refused(tmp_path):
    import cv2

    photos = tmp_path / "photos"
    photos.mkdir()
    for k in range(3):
        cv2.imwrite(str(photos / f"p{k}.png"), np.full((80, 80, 3), 40 * k, np.uint8))
    from inpaintbench.errors import InpaintbenchError

    with pytest.raises(InpaintbenchError, match="inside the dataset root"):
        train(tiny_config(photos / "runs" / "ours", dataset="folder", root=str(photos), steps=1))


class _Escape(Method):
    name = "../../escape"


class _Reserved(Method):
    name = "target"


def test_method_names_that_are_not_safe_file_names_are_refused_at_registration(fresh_plugins):
    fresh_plugins.register(registering("register_methods", _Escape, _Reserved), name="bad-names")
    names = {entry.name for entry in registry.list_methods()}
    assert "../../escape" not in names and "target" not in names and "telea" in names
    failures = " ".join(str(failure) for failure in plugins.plugin_failures())
    assert "'../../escape'" in failures and "'target'" in failures


def test_train_on_a_full_disk_is_one_line_from_the_command_line(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from inpaintbench.cli import main
    from inpaintbench.training import logs

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(self.path))

    monkeypatch.setattr(logs.LossLog, "write", full)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["train", "ours", "--steps", "2", "--batch-size", "4", "--workers", "0", "--device", "cpu",
                                       "-o", "width=0.0625", "-o", "bottleneck=16", "--out", "run"])
    assert result.exit_code == 2 and "No space left on device" in result.output and "losses.csv" in result.output
    assert "Traceback" not in result.output


def test_a_full_disk_under_the_loss_log_names_that_file(tmp_path):
    """A write into a full disk reports no file name; the run names the file it was writing."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "losses.csv").symlink_to("/dev/full")  # every flush fails with ENOSPC, as on a full disk
    with pytest.raises(OSError) as error:
        train(tiny_config(run, steps=2))
    assert error.value.errno == errno.ENOSPC and error.value.filename == str(run / "losses.csv")


def test_a_failing_dataset_read_is_not_blamed_on_the_run_directory(tmp_path, monkeypatch):
    from inpaintbench.datasets.sample import Sample

    def failing_disk(self, item_id):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(Sample, "read", failing_disk)
    with pytest.raises(OSError) as error:
        train(tiny_config(tmp_path / "run", steps=2))
    assert error.value.errno == errno.EIO and error.value.filename is None
    assert "run" not in str(error.value)
