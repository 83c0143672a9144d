"""The paper's model: layer shapes and parameter counts at the real sizes (docs/methods.md), variants,
the training step's inputs, and what the trained model refuses in the harness (the method contract,
the exported model and exact resume are checked for every trainable method in test_trainable_methods.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from inpaintbench import registry
from inpaintbench.cli import main
from inpaintbench.errors import InpaintbenchError
from inpaintbench.testing import expected_layer_parameters, layer_parameters
from inpaintbench.training import TrainConfig, train
from inpaintbench_ours.networks import Decoder, Encoder, Generator, global_discriminator, local_discriminator
from inpaintbench_ours.options import OursOptions
from inpaintbench_ours.recipe import OursRecipe

TINY = {"width": "0.0625", "bottleneck": "16"}

# the paper's layers as (kind, kernel, in, out): conv/deconv followed by BN have no bias, the last ones do
ENCODER_TABLE = [("conv", 4, 3, 64), ("conv", 4, 64, 128), ("conv", 1, 128, 256), ("conv", 4, 256, 512), ("conv", 4, 512, 4000)]
DECODER_TABLE = [("deconv", 4, 4000, 512), ("deconv", 4, 512, 256), ("deconv", 4, 256, 128), ("deconv", 4, 128, 64), ("out", 4, 64, 3)]
LOCAL_TABLE = [("conv", 4, 3, 64), ("conv", 4, 64, 128), ("conv", 4, 128, 256), ("conv", 4, 256, 512), ("fc", 4 * 4 * 512, 1)]
GLOBAL_TABLE = [("conv", 4, 3, 64), ("conv", 4, 64, 128), ("conv", 4, 128, 256), ("conv", 4, 256, 512), ("conv", 4, 512, 512), ("fc", 4 * 4 * 512, 1)]


def test_parameter_counts_follow_the_layer_tables():
    assert layer_parameters(Encoder()) == expected_layer_parameters(ENCODER_TABLE)
    assert layer_parameters(Decoder()) == expected_layer_parameters(DECODER_TABLE)
    assert layer_parameters(local_discriminator()) == expected_layer_parameters(LOCAL_TABLE)
    assert layer_parameters(global_discriminator()) == expected_layer_parameters(GLOBAL_TABLE)
    counts = registry.method_class("ours").parameter_counts()  # what `methods --verbose` prints
    generator = sum(expected_layer_parameters(ENCODER_TABLE) + expected_layer_parameters(DECODER_TABLE))
    assert counts == {
        "generator": generator,
        "local": sum(expected_layer_parameters(LOCAL_TABLE)),
        "global": sum(expected_layer_parameters(GLOBAL_TABLE)),
    }
    assert 70e6 < generator < 72e6  # ~71 M, as measured on this model


@torch.no_grad()
def test_layer_shapes_at_the_real_sizes():
    encoder = Encoder().eval()
    x = torch.zeros(2, 3, 128, 128)
    sizes = []
    for layer in encoder:
        x = layer(x)
        if isinstance(layer, (torch.nn.Conv2d, torch.nn.MaxPool2d)):
            sizes.append(tuple(x.shape[1:]))
    assert sizes == [(64, 64, 64), (64, 32, 32), (128, 16, 16), (128, 8, 8), (256, 8, 8), (512, 4, 4), (4000, 1, 1)]
    generator = Generator().eval()
    patch = generator(torch.zeros(2, 3, 128, 128))
    assert patch.shape == (2, 3, 64, 64) and patch.abs().max() <= 1  # tanh
    assert local_discriminator().eval()(patch).shape == (2, 1)
    assert global_discriminator().eval()(torch.zeros(2, 3, 128, 128)).shape == (2, 1)


def test_variants_choose_networks_and_phases():
    networks = {v: set(OursRecipe(OursOptions(variant=v, width=0.0625, bottleneck=8)).build_networks()) for v in ("ce", "local", "full")}
    assert networks == {"ce": {"generator"}, "local": {"generator", "local"}, "full": {"generator", "local", "global"}}
    local = OursRecipe(OursOptions(variant="local")).schedule()
    assert all("global" not in phase.trains for phase in local.phases)
    assert local.at(99, 100).weights["local"] == pytest.approx(0.001)
    with pytest.raises(InpaintbenchError, match="must have 3 values"):
        OursOptions(phases="0.5,0.5")


def test_the_generator_never_sees_the_hole(tmp_path):
    seen = []
    recipe_cls = registry.method_class("ours").recipe_class()
    original = recipe_cls.build_networks

    def spying_build(self):
        networks = original(self)
        networks["generator"].register_forward_hook(lambda module, args, out: seen.append(args[0].detach().clone()))
        return networks

    recipe_cls.build_networks = spying_build
    try:
        train(TrainConfig(method="ours", out=str(tmp_path / "run"), steps=2, batch_size=4, workers=0, options=dict(TINY)))
    finally:
        recipe_cls.build_networks = original
    assert len(seen) >= 2
    for inputs in seen:
        assert torch.all(inputs[:, :, 32:96, 32:96] == 0)  # the hole is zero ([-1, 1] scale)
        assert inputs.abs().sum() > 0


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("ours") / "run"
    train(TrainConfig(method="ours", out=str(run), steps=2, batch_size=4, workers=0, options=dict(TINY)))
    return run


def test_trained_model_refuses_other_holes_and_sizes(trained_run):
    """The contract, loading and resume are checked for every trainable method (test_trainable_methods.py)."""
    method = registry.create_method("ours", checkpoint=trained_run)
    images = np.zeros((1, 128, 128, 3), np.uint8)
    box = np.zeros((1, 128, 128), bool)
    box[:, 10:40, 10:40] = True
    with pytest.raises(InpaintbenchError, match="center 64x64 square only"):
        method.inpaint(images, box)
    with pytest.raises(InpaintbenchError, match="--image-size 128"):
        method.inpaint(np.zeros((1, 64, 64, 3), np.uint8), np.zeros((1, 64, 64), bool))


def test_inpaint_on_a_photograph_refuses_with_what_the_model_takes(trained_run, tmp_path, monkeypatch):
    """`inpaintbench inpaint` works at the photograph's size: a 128-px center-hole model says what it accepts."""
    import cv2
    from click.testing import CliRunner

    from inpaintbench.cli import main

    monkeypatch.chdir(tmp_path)
    photo, hole = np.full((200, 300, 3), 90, np.uint8), np.zeros((200, 300), np.uint8)
    hole[50:90, 60:120] = 255
    cv2.imwrite("photo.png", photo)
    cv2.imwrite("photo_mask.png", hole)
    result = CliRunner().invoke(main, ["inpaint", "ours", "photo.png", "--mask", "photo_mask.png", "--out", "out", "--checkpoint", str(trained_run)])
    assert result.exit_code == 2 and "completes only 128x128 images with the center 64x64 hole" in result.output
    assert "e.g. patchmatch, telea or glcic" in result.output and not (tmp_path / "out" / "photo.png").exists()
    center = np.zeros((128, 128), np.uint8)
    center[32:96, 32:96] = 255  # the one input it was trained for is accepted
    cv2.imwrite("small.png", photo[:128, :128])
    cv2.imwrite("small_mask.png", center)
    accepted = CliRunner().invoke(main, ["inpaint", "ours", "small.png", "--mask", "small_mask.png", "--out", "out", "--checkpoint", str(trained_run)])
    assert accepted.exit_code == 0, accepted.output
    assert cv2.imread(str(tmp_path / "out" / "small.png")).shape == (128, 128, 3)


def test_train_then_compare_from_the_command_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    trained = runner.invoke(main, ["train", "ours", "--steps", "2", "--batch-size", "4", "--workers", "0", "-o", "width=0.0625", "-o", "bottleneck=16"])
    assert trained.exit_code == 0, trained.output
    assert (tmp_path / "runs" / "ours-sample-s0" / "model.pt").is_file()  # the conventional place
    again = runner.invoke(main, ["train", "ours", "--steps", "2", "--batch-size", "4", "--workers", "0"])
    assert again.exit_code == 2 and "pass --resume" in again.output
    # compare finds the run in runs/ without --checkpoint
    compared = runner.invoke(main, ["compare", "--methods", "ours,telea", "--split", "val", "--out", "res", "--format", "csv"])
    assert compared.exit_code == 0, compared.output
    assert "using the trained run" in compared.output
    table = pd.read_csv(tmp_path / "res" / "table.csv").set_index("method")
    assert table.loc["ours", "n"] == 9 and table.loc["ours", "scored"] == 9
    assert "not on held-out images" not in compared.output  # val holds back other photographs
    on_training_images = runner.invoke(main, ["compare", "--methods", "ours", "--limit", "2", "--out", "res3"])
    assert on_training_images.exit_code == 0, on_training_images.output
    assert "trained on sample:train, which shares images with the evaluated split sample:test" in " ".join(on_training_images.output.split())
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"\x00" * 100)
    failed = runner.invoke(main, ["compare", "--methods", "ours", "--checkpoint", f"ours={broken}", "--out", "res2"])
    assert failed.exit_code == 2 and "corrupted or truncated" in failed.output
