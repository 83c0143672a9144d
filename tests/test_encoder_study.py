"""Fig. 13's encoder study on a tiny CIFAR-10 copy: encoders, resumable runs, reports, errors."""

from __future__ import annotations

import json
import pickle
import re
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner
from torch import nn

from inpaintbench import TrainableMethod
from inpaintbench.cli import main
from inpaintbench.datasets.cifar10 import CIFAR10
from inpaintbench.errors import CheckpointError, InpaintbenchError
from inpaintbench.methods import parse_options
from inpaintbench.registry import method_class
from inpaintbench.training import TrainingRecipe
from inpaintbench_glcic.networks import ENCODER_LAYERS, CompletionNetwork, channels, network_input
from inpaintbench_paper.cifar import split_arrays
from inpaintbench_paper.encoder_study import StudyConfig, batch_bounds, epoch_order, run_study, studied_methods

from cifar_fixture import make_cifar, make_learnable_cifar
from plugin_doubles import registering

#: small enough that two epochs of both encoders at 128x128 take seconds on a CPU
TINY = {"ours": {"width": "0.0625", "bottleneck": "32"}, "glcic": {"width": "0.0625"}}
NUMBERS = ["method", "epoch", "train_loss", "train_accuracy", "test_accuracy"]  # every column but seconds


def recipe(name: str, image_size: int = 128, **options: str):
    cls = method_class(name)
    return cls.recipe_class()(parse_options(cls, options), image_size)


@pytest.fixture(scope="module")
def cifar(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar")
    labels, _ = make_learnable_cifar(root / "cifar-10-batches-py", train=20, test=10)
    return root, labels


def tiny_config(cifar, out, **changes) -> StudyConfig:
    return StudyConfig(**{"root": cifar[0], "options": TINY, "epochs": 2, "batch_size": 8, "device": "cpu", "out": out, **changes})


@pytest.fixture(scope="module")
def reference(cifar, tmp_path_factory):
    """An uninterrupted two-epoch study of both encoders, and the predictions passed to on_epoch."""
    out = tmp_path_factory.mktemp("reference") / "study"
    epochs = []
    result = run_study(tiny_config(cifar, out), on_epoch=epochs.append)
    return result, epochs


def numbers(directory) -> pd.DataFrame:
    return pd.read_csv(directory / "accuracy.csv")[NUMBERS]


# --- the encoders ----------------------------------------------------------------------


def test_ours_encoder_is_the_paper_encoder_on_unit_range_input():
    with torch.device("meta"):  # shape at the paper's width without allocating 33 M weights
        assert recipe("ours").encoder()(torch.empty(2, 3, 128, 128)).shape == (2, 4000, 1, 1)
    encoder = recipe("ours", width="0.0625", bottleneck="24").encoder()
    images = torch.rand(2, 3, 128, 128)
    encoder.eval()
    features = encoder(images)
    assert features.shape == (2, 24, 1, 1)
    assert encoder.encoder[0].out_channels == 4  # 64 x width
    torch.testing.assert_close(features, encoder.encoder(images * 2 - 1))


def test_glcic_encoder_is_the_completion_network_before_its_first_deconv():
    assert ENCODER_LAYERS == 12
    torch.manual_seed(3)
    encoder = recipe("glcic", 64, width="0.125").encoder()
    torch.manual_seed(3)
    network = CompletionNetwork(0.125)
    assert isinstance(network.layers[3 * ENCODER_LAYERS], nn.ConvTranspose2d)
    full = network.state_dict()
    mine = encoder.state_dict()
    first_twelve = {key for key in full if key.startswith("layers.") and int(key.split(".")[1]) < 3 * ENCODER_LAYERS}
    assert set(mine) == first_twelve | {"mean_pixel"}
    for key, value in mine.items():
        torch.testing.assert_close(value, full[key])
    images = torch.rand(2, 3, 64, 64)
    encoder.eval()
    network.eval()
    features = encoder(images)
    assert features.shape == (2, channels(256, 0.125), 16, 16)  # C at a quarter of the side
    expected = network.layers[: 3 * ENCODER_LAYERS](network_input(images, torch.zeros(2, 1, 64, 64), network.mean_pixel))
    torch.testing.assert_close(features, expected)
    with torch.device("meta"):
        assert recipe("glcic").encoder()(torch.empty(1, 3, 128, 128)).shape == (1, 256, 32, 32)


def test_the_builtin_encoders_are_listed():
    assert studied_methods() == ["glcic", "ours"]
    assert not hasattr(recipe("context-encoder"), "encoder")  # no encoder() method: nothing to study


# --- data -----------------------------------------------------------------------------


def test_split_arrays_are_the_split_in_item_order(tmp_path):
    batches = make_cifar(tmp_path)
    train = CIFAR10(tmp_path, "train")
    images, labels = split_arrays(train)
    assert images.shape == (15, 32, 32, 3) and images.dtype == np.uint8 and labels.dtype == np.int64
    for index, item in enumerate(train.item_ids()):
        np.testing.assert_array_equal(images[index], train.read(item))
        batch, _, row = item.partition("/")
        assert labels[index] == pickle.loads((tmp_path / batch).read_bytes(), encoding="bytes")[b"labels"][int(row)]
    test_images, test_labels = split_arrays(CIFAR10(tmp_path))
    np.testing.assert_array_equal(test_images, batches["test_batch"])
    assert test_labels.tolist() == pickle.loads((tmp_path / "test_batch").read_bytes(), encoding="bytes")[b"labels"]


# --- data order -----------------------------------------------------------------------


def test_order_and_flips_depend_on_seed_and_epoch_only():
    order, flips = epoch_order(0, 1, 50)
    again = epoch_order(0, 1, 50)
    np.testing.assert_array_equal(order, again[0])
    np.testing.assert_array_equal(flips, again[1])
    assert sorted(order) == list(range(50)) and 0 < flips.sum() < 50
    assert not np.array_equal(order, epoch_order(0, 2, 50)[0]) and not np.array_equal(order, epoch_order(1, 1, 50)[0])


def test_a_last_batch_of_one_joins_the_one_before():
    assert batch_bounds(20, 8) == [(0, 8), (8, 16), (16, 20)]
    assert batch_bounds(17, 8) == [(0, 8), (8, 17)]
    assert batch_bounds(1, 8) == [(0, 1)]


# --- a run ----------------------------------------------------------------------------


def test_a_run_writes_every_output(reference, cifar):
    result, epochs = reference
    directory = result.directory
    table = pd.read_csv(directory / "accuracy.csv")
    assert list(table.columns) == ["method", "epoch", "train_loss", "train_accuracy", "test_accuracy", "seconds"]
    assert list(zip(table.method, table.epoch)) == [("ours", 1), ("ours", 2), ("glcic", 1), ("glcic", 2)]
    assert table[["train_accuracy", "test_accuracy"]].stack().between(0, 1).all()
    assert (table.seconds > 0).all() and np.isfinite(table.train_loss).all()
    labels = cifar[1]
    for epoch in epochs:  # the recorded accuracy is the accuracy of the predictions
        assert epoch.predictions.shape == labels.shape
        assert epoch.row["test_accuracy"] == pytest.approx((epoch.predictions == labels).mean())
    markdown = (directory / "accuracy.md").read_text()
    assert markdown.startswith("| epoch | ours | glcic |") and "| 2 |" in markdown and "epochs to best" in markdown
    assert (directory / "accuracy.png").read_bytes().startswith(b"\x89PNG")
    for method in ("ours", "glcic"):
        assert (directory / "encoders" / method / "state.pt").is_file()
        assert json.loads((directory / "encoders" / method / "experiment.json").read_text())["settings"]["method"] == method
    settings = json.loads((directory / "experiment.json").read_text())
    assert settings["settings"]["lr"] == 0.001 and "accuracy.png" in settings["outputs"]
    record = json.loads((directory / "study.json").read_text())
    assert record["seed"] == 0 and record["train"] == {"images": 20, "manifest": record["train"]["manifest"]}
    assert record["encoders"]["ours"]["features"] == [32, 1, 1] and record["encoders"]["glcic"]["options"]["width"] == 0.0625
    assert result.trained == {"ours": 2, "glcic": 2}


def test_a_rerun_skips_finished_encoders(reference, cifar, tmp_path):
    directory = tmp_path / "study"
    shutil.copytree(reference[0].directory, directory)
    state = directory / "encoders" / "ours" / "state.pt"
    before = state.stat().st_mtime_ns
    calls = []
    result = run_study(tiny_config(cifar, directory), on_epoch=calls.append)
    assert result.trained == {"ours": 0, "glcic": 0} and not calls
    assert state.stat().st_mtime_ns == before
    pd.testing.assert_frame_equal(numbers(directory), numbers(reference[0].directory))
    shorter = run_study(tiny_config(cifar, directory, epochs=1))  # fewer epochs: the first ones, nothing retrained
    assert shorter.trained == {"ours": 0, "glcic": 0} and list(numbers(directory).epoch) == [1, 1]


class _Stop(Exception):
    pass


def test_an_interrupted_run_resumes_to_the_same_numbers(reference, cifar, tmp_path):
    directory = tmp_path / "study"

    def stop_after_first_epoch(epoch):
        if epoch.method == "ours" and epoch.row["epoch"] == 1:
            raise _Stop

    with pytest.raises(_Stop):
        run_study(tiny_config(cifar, directory), on_epoch=stop_after_first_epoch)
    assert list(numbers(directory).epoch) == [1]  # the reports already show the finished epoch
    result = run_study(tiny_config(cifar, directory))
    assert result.trained == {"ours": 1, "glcic": 2}
    pd.testing.assert_frame_equal(numbers(directory), numbers(reference[0].directory))


def test_more_epochs_continue_where_a_shorter_run_stopped(reference, cifar, tmp_path):
    """No learning-rate schedule: 1 epoch then --epochs 2 is the 2-epoch run (and identical runs agree exactly)."""
    directory = tmp_path / "study"
    assert run_study(tiny_config(cifar, directory, epochs=1)).trained == {"ours": 1, "glcic": 1}
    assert run_study(tiny_config(cifar, directory)).trained == {"ours": 1, "glcic": 1}
    pd.testing.assert_frame_equal(numbers(directory), numbers(reference[0].directory))


# --- errors ---------------------------------------------------------------------------


def test_a_changed_config_is_refused(reference, cifar, tmp_path):
    directory = tmp_path / "study"
    shutil.copytree(reference[0].directory, directory)
    with pytest.raises(InpaintbenchError, match=rf"{directory} holds this experiment with other settings \(lr: 0.001 -> 0.01\).*--out"):
        run_study(tiny_config(cifar, directory, lr=0.01))
    changed = {**TINY, "ours": {**TINY["ours"], "bottleneck": "16"}}
    with pytest.raises(InpaintbenchError, match=r"encoders/ours holds this experiment with other settings \(bottleneck: 32 -> 16\)"):
        run_study(tiny_config(cifar, directory, options=changed))
    glcic_only = tiny_config(cifar, directory, methods=("glcic",), options={"glcic": TINY["glcic"]}, device="auto")
    assert run_study(glcic_only).trained == {"glcic": 0}  # another method list and device are the same study


def test_a_broken_state_is_one_line(reference, cifar, tmp_path):
    directory = tmp_path / "study"
    shutil.copytree(reference[0].directory, directory)
    state = directory / "encoders" / "glcic" / "state.pt"
    state.write_bytes(state.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match=rf"{state} is corrupted or truncated.*delete {state.parent} to retrain"):
        run_study(tiny_config(cifar, directory))
    outcome = CliRunner().invoke(main, [
        "experiment", "encoder-study", "--root", str(cifar[0]), "--out", str(directory), "--epochs", "2", "--batch-size", "8",
        "--device", "cpu", "-o", "ours.width=0.0625", "-o", "ours.bottleneck=32", "-o", "glcic.width=0.0625",
    ])
    assert outcome.exit_code == 2 and "Traceback" not in outcome.output
    assert outcome.output.count("\n") == 1 and "corrupted or truncated" in outcome.output


@pytest.mark.parametrize("name, reason", [
    ("telea", "it is not a trainable network"),
    ("patchmatch", "it is not a trainable network"),
    ("context-encoder", "its recipe has no encoder() method"),
    ("tiny-none", "its recipe's encoder() returns None"),  # a plugin's, below
])
def test_a_method_without_an_encoder_is_refused_before_any_file_is_written(cifar, tmp_path, fresh_plugins, name, reason):
    fresh_plugins.register(registering("register_methods", _NoEncoder), name="tiny-none")
    expected = rf"method '{name}' has no encoder to study \({re.escape(reason)}\); methods with one: glcic, ours$"
    with pytest.raises(InpaintbenchError, match=expected):
        run_study(StudyConfig(root=cifar[0], methods=(name,), out=tmp_path))
    assert not (tmp_path / "study.json").exists() and not (tmp_path / "experiment.json").exists()
    assert studied_methods() == ["glcic", "ours"]  # listed by the same check that refused it


def test_the_command_line_runs_and_reruns(reference, cifar, tmp_path):
    directory = tmp_path / "study"
    shutil.copytree(reference[0].directory, directory)
    arguments = [
        "experiment", "encoder-study", "--root", str(cifar[0]), "--out", str(directory), "--epochs", "2", "--batch-size", "8",
        "--device", "cpu", "-o", "ours.width=0.0625", "-o", "ours.bottleneck=32", "-o", "glcic.width=0.0625",
    ]
    outcome = CliRunner().invoke(main, arguments)
    assert outcome.exit_code == 0, outcome.output
    assert "| epoch | ours | glcic |" in outcome.output and "ours: 2 epochs already trained" in outcome.output
    outcome = CliRunner().invoke(main, [*arguments, "-o", "telea.x=1"])
    assert outcome.exit_code == 2 and "options given for 'telea', which is not among --methods (ours, glcic)" in outcome.output


# --- a third-party method joins by implementing encoder() ---------------------------------


class _TinyRecipe(TrainingRecipe):
    image_sizes = None

    def encoder(self):
        return nn.Sequential(nn.Conv2d(3, 4, 3, stride=4), nn.BatchNorm2d(4), nn.ReLU())

    def build_networks(self):
        raise NotImplementedError

    def schedule(self):
        raise NotImplementedError

    def training_step(self, images, masks, ctx):
        raise NotImplementedError

    def complete(self, networks, masked, masks):
        raise NotImplementedError


class _Tiny(TrainableMethod):
    name = "tiny-cnn"
    Recipe = _TinyRecipe


def test_a_plugin_method_joins_the_study(cifar, tmp_path, fresh_plugins):
    fresh_plugins.register(registering("register_methods", _Tiny), name="tiny")
    result = run_study(StudyConfig(root=cifar[0], methods=("tiny-cnn",), epochs=1, batch_size=8, image_size=32, device="cpu", out=tmp_path))
    assert "tiny-cnn" in studied_methods()
    assert result.trained == {"tiny-cnn": 1} and len(result.histories["tiny-cnn"]) == 1


class _NoEncoderRecipe(_TinyRecipe):
    def encoder(self):
        return None


class _NoEncoder(TrainableMethod):
    name = "tiny-none"
    Recipe = _NoEncoderRecipe


# --- the smoke run --------------------------------------------------------------------


@pytest.mark.slow
def test_smoke_both_encoders_learn_a_learnable_cifar(tmp_path, capsys):
    """300 class-coloured images, 3 epochs, both encoders at width 1/8: both end clearly above chance (0.1)."""
    make_learnable_cifar(tmp_path / "cifar", train=300, test=100)
    options = {"ours": {"width": "0.125"}, "glcic": {"width": "0.125"}}
    config = StudyConfig(root=tmp_path / "cifar", options=options, epochs=3, batch_size=16, device="cpu", out=tmp_path / "study")
    result = run_study(config)
    with capsys.disabled():
        print("\n" + (result.directory / "accuracy.md").read_text())
    for method, history in result.histories.items():
        assert len(history) == 3
        assert history[-1]["test_accuracy"] > 0.3, f"{method}: {history}"
