"""GLCIC: layer table and parameter counts at the real size, the local patch, the mean-pixel input,
the post-processing (which must never see the ground truth), the three phases, and a trained model
in the harness (the method contract, the exported model and exact resume are checked for every
trainable method in test_trainable_methods.py).

Training runs use 64x64 images and a sixteenth of the channels, so each takes a second or two.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from inpaintbench import registry
from inpaintbench.cli import main
from inpaintbench.errors import InpaintbenchError
from inpaintbench.masks import center_mask, item_rng, random_box_mask
from inpaintbench.protocol import Protocol
from inpaintbench.runner import Batch, RunSpec, run_record
from inpaintbench.tables import summarize, to_markdown
from inpaintbench.testing import check_method, expected_layer_parameters, layer_parameters
from inpaintbench.training import TrainConfig, checkpoint, train
from inpaintbench.training.engine import plan
from inpaintbench.training.logs import read_losses
from inpaintbench_glcic.networks import CompletionNetwork, ContextDiscriminator, network_input
from inpaintbench_glcic.options import GlcicOptions
from inpaintbench_glcic.patches import crop, local_boxes, patch_side
from inpaintbench_glcic.postprocess import blend_into_surroundings
from inpaintbench_glcic.recipe import GlcicRecipe

TINY = {"width": "0.0625"}
#: 1 completion step, 1 discriminator step, 2 joint steps in a run of 4
THREE_PHASES = {**TINY, "phases": "0.25,0.25,0.5"}


def tiny_config(out, **changes) -> TrainConfig:
    values = dict(
        method="glcic", dataset="sample", out=str(out), steps=4, batch_size=4, workers=0, image_size=64,
        checkpoint_every=1000, sample_every=1000, options=dict(THREE_PHASES),
    )
    values.update(changes)
    return TrainConfig(**values)


# -- networks ----------------------------------------------------------------------------
# the paper's Table 1 as (kind, kernel, in, out); every layer but the output has BN; all keep their bias (as released)
COMPLETION_TABLE = [
    ("conv", 5, 4, 64), ("conv", 3, 64, 128), ("conv", 3, 128, 128), ("conv", 3, 128, 256),
    ("conv", 3, 256, 256), ("conv", 3, 256, 256),
    *[("conv", 3, 256, 256)] * 4,  # dilated 2, 4, 8, 16
    ("conv", 3, 256, 256), ("conv", 3, 256, 256), ("conv", 4, 256, 128), ("conv", 3, 128, 128),
    ("conv", 4, 128, 64), ("conv", 3, 64, 32), ("out", 3, 32, 3),
]
# Tables 2 and 3 at 128x128: 5x5 stride-2 convolutions, each FC -> 1024; 2x2x512 after both stacks
LOCAL_TABLE = [("conv", 5, 3, 64), ("conv", 5, 64, 128), ("conv", 5, 128, 256), ("conv", 5, 256, 512), ("conv", 5, 512, 512), ("fc", 2 * 2 * 512, 1024)]
GLOBAL_TABLE = [*LOCAL_TABLE[:5], ("conv", 5, 512, 512), ("fc", 2 * 2 * 512, 1024)]
CONCATENATION = [("fc", 2048, 1)]


def test_parameter_counts_follow_the_layer_tables():
    with torch.device("meta"):
        completion = CompletionNetwork()
        discriminator = ContextDiscriminator(128, 64)
    assert layer_parameters(completion) == expected_layer_parameters(COMPLETION_TABLE, conv_bias=True)
    assert layer_parameters(discriminator.local_branch) == expected_layer_parameters(LOCAL_TABLE, conv_bias=True)
    assert layer_parameters(discriminator.global_branch) == expected_layer_parameters(GLOBAL_TABLE, conv_bias=True)
    assert layer_parameters(discriminator.classifier) == expected_layer_parameters(CONCATENATION, conv_bias=True)
    counts = registry.method_class("glcic").parameter_counts()  # what `methods --verbose` prints
    assert counts == {
        "generator": sum(expected_layer_parameters(COMPLETION_TABLE, conv_bias=True)),
        "discriminator": sum(expected_layer_parameters(LOCAL_TABLE + GLOBAL_TABLE + CONCATENATION, conv_bias=True)),
    }
    assert 6.0e6 < counts["generator"] < 6.1e6  # the released model's 6.07 M


@torch.no_grad()
def test_layer_shapes_at_the_real_size_and_any_multiple_of_four():
    network = CompletionNetwork().eval()
    shapes = []
    for layer in network.layers:
        if isinstance(layer, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            layer.register_forward_hook(lambda module, args, out: shapes.append(tuple(out.shape[1:])))
    images, masks = torch.rand(1, 3, 128, 128), torch.from_numpy(center_mask(128, 64)).float()[None, None]
    output = network(images, masks)
    assert shapes == [
        (64, 128, 128), (128, 64, 64), (128, 64, 64), (256, 32, 32), (256, 32, 32), (256, 32, 32),
        *[(256, 32, 32)] * 6, (128, 64, 64), (128, 64, 64), (64, 128, 128), (32, 128, 128), (3, 128, 128),
    ]
    dilations = [layer.dilation[0] for layer in network.layers if isinstance(layer, torch.nn.Conv2d)]
    assert dilations == [1] * 6 + [2, 4, 8, 16] + [1] * 5
    assert output.shape == (1, 3, 128, 128) and 0 <= output.min() and output.max() <= 1  # sigmoid
    narrow = CompletionNetwork(width=0.0625).eval()
    assert narrow(torch.rand(1, 3, 96, 160), torch.zeros(1, 1, 96, 160)).shape == (1, 3, 96, 160)
    with torch.device("meta"):  # the discriminators at the real size, without the compute
        discriminator = ContextDiscriminator(128, 64)
        logits = discriminator(torch.zeros(2, 3, 64, 64), torch.zeros(2, 3, 128, 128))
    assert logits.shape == (2, 1)


def test_network_input_holds_the_mean_pixel_in_the_hole_and_the_mask_channel():
    mean = torch.tensor([0.4, 0.5, 0.6])
    images = torch.rand(2, 3, 32, 32)
    masks = torch.zeros(2, 1, 32, 32)
    masks[0, :, 4:20, 8:24] = 1
    masks[1, :, 10:30, 0:12] = 1
    inputs = network_input(images, masks, mean)
    assert inputs.shape == (2, 4, 32, 32)
    restored = inputs[:, :3] + mean.view(1, 3, 1, 1)  # back to image values
    hole = masks.expand(-1, 3, -1, -1).bool()
    assert torch.allclose(restored[hole], mean.view(1, 3, 1, 1).expand(2, 3, 32, 32)[hole])  # the mean pixel
    assert torch.allclose(restored[~hole], images[~hole])
    assert torch.equal(inputs[:, 3:], masks)


# -- the local patch ---------------------------------------------------------------------
def test_local_patch_contains_the_hole_and_stays_inside_the_image():
    for size in (64, 128, 256):
        side = patch_side(size)
        masks = [random_box_mask(size, item_rng(k, "patch", str(size))) for k in range(200)]
        edge = np.zeros((size, size), bool)
        edge[: side // 2, size - side :] = True  # a corner hole
        masks += [center_mask(size, size // 2), edge, np.zeros((size, size), bool)]
        tensor = torch.from_numpy(np.stack(masks)).float()[:, None]
        boxes = local_boxes(tensor, side)
        assert (boxes >= 0).all() and (boxes <= size - side).all()
        patches = crop(tensor, boxes, side)
        assert patches.shape == (len(masks), 1, side, side)
        assert torch.equal(patches.sum(dim=(1, 2, 3)), tensor.sum(dim=(1, 2, 3)))  # every hole pixel inside
        assert boxes[-1].tolist() == [(size - side) // 2] * 2  # no hole: the middle
    center = local_boxes(torch.from_numpy(center_mask(128, 64)).float()[None, None], 64)
    assert center.tolist() == [[32, 32]]  # the benchmark's hole: exactly its own square
    too_big = torch.zeros(1, 1, 128, 128)
    too_big[..., 10:90, 10:20] = 1
    with pytest.raises(InpaintbenchError, match="more than the 64 px local patch"):
        local_boxes(too_big, 64)


# -- post-processing ------------------------------------------------------------------------
def _texture(size=128, seed=0):
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(0, 256, (size, size, 3)).astype(np.uint8), (0, 0), 1.0)


def test_post_processing_cannot_receive_the_ground_truth():
    assert list(inspect.signature(blend_into_surroundings).parameters) == ["completed", "mask"]


def test_post_processing_lands_on_the_hole_and_keeps_known_pixels():
    texture = _texture()
    for top, bottom, left, right in ((32, 96, 32, 96), (10, 58, 70, 121), (40, 91, 33, 90)):
        mask = np.zeros((128, 128), bool)
        mask[top:bottom, left:right] = True
        before = texture.copy()
        blended = blend_into_surroundings(texture, mask)
        assert np.array_equal(texture, before)  # inputs untouched
        assert np.array_equal(blended, blend_into_surroundings(texture, mask))  # OpenCV's mask mutation guarded
        assert np.array_equal(blended[~mask], texture[~mask])
        # the clone is aligned with the hole: a consistent completion keeps its texture (off by one pixel: ~13)
        assert np.abs(blended.astype(int) - texture)[mask].mean() < 10
    assert np.array_equal(blend_into_surroundings(texture, np.zeros((128, 128), bool)), texture)


# -- recipe ---------------------------------------------------------------------------------
def test_plan_uses_the_papers_settings():
    resolved = plan(TrainConfig(method="glcic", options=dict(TINY)))
    assert (resolved.batch_size, resolved.lr) == (96, 1.0)
    assert resolved.config.mask == "random-box"  # the paper's random holes by default
    assert resolved.stream.resize_to is None and resolved.stream.flip is True  # the benchmark's crops, as every learned row
    schedule = resolved.recipe.schedule()
    assert schedule.boundaries(500_000) == [0, 90_000, 100_000, 500_000]  # the paper's T_C, T_D, total
    assert [set(phase.trains) for phase in schedule.phases] == [{"generator"}, {"discriminator"}, {"generator", "discriminator"}]
    assert schedule.at(99_999, 500_000).weights["adversarial"] == 0
    assert schedule.at(100_000, 500_000).weights == {"reconstruction": 1.0, "adversarial": 0.0004}
    optimizers = resolved.recipe.build_optimizers(resolved.recipe.build_networks(), 1.0)
    for optimizer in optimizers.values():
        assert isinstance(optimizer, torch.optim.Adadelta)
        group = optimizer.param_groups[0]
        assert (group["lr"], group["rho"], group["eps"]) == (1.0, 0.9, 1e-6)
    with pytest.raises(InpaintbenchError, match="--mask random-box or center"):
        plan(TrainConfig(method="glcic", mask="irregular"))
    with pytest.raises(InpaintbenchError, match="multiple of 4"):
        plan(TrainConfig(method="glcic", image_size=130))
    with pytest.raises(InpaintbenchError, match="must have 3 values"):
        GlcicOptions(phases="0.5,0.5")


def test_four_steps_pass_through_all_three_phases(tmp_path):
    """Resuming across these phases is checked for every trainable method (test_trainable_methods.py)."""
    losses = read_losses(train(tiny_config(tmp_path / "run")).run_dir)
    assert list(losses["phase"]) == ["completion", "discriminator", "joint", "joint"]
    assert losses["discriminator"].notna().tolist() == [False, True, True, True]
    assert losses["adversarial"].notna().tolist() == [False, False, True, True]

DDP_SCRIPT = """
import os, sys, torch
from inpaintbench.training import TrainConfig, train
config = TrainConfig(method="glcic", dataset="sample", out=sys.argv[1], steps=4, batch_size=4, workers=0, image_size=64,
                     device="cpu", options={"width": "0.0625", "phases": "0.25,0.25,0.5"})
result = train(config)
state = {f"{name}.{key}": value for name, net in result.networks.items() for key, value in net.state_dict().items()}
torch.save(state, os.path.join(sys.argv[1], f"rank{os.environ['RANK']}.pt"))
"""


@pytest.mark.slow
def test_ddp_with_two_cpu_processes_keeps_replicas_identical(tmp_path):
    """All three phases under DDP (the discriminator-only phase included): both ranks end with the same weights."""
    script = tmp_path / "ddp_train.py"
    script.write_text(DDP_SCRIPT)
    run = tmp_path / "run"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(script), str(run)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    rank0, rank1 = (torch.load(run / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert rank0.keys() == rank1.keys() and any(k.startswith("discriminator.") for k in rank0)
    different = [k for k in rank0 if not torch.equal(rank0[k], rank1[k])]
    assert not different, different
    assert list(read_losses(run)["phase"]) == ["completion", "discriminator", "joint", "joint"]


# -- the trained model in the harness ---------------------------------------------------------
@pytest.fixture(scope="module")
def spied_run(tmp_path_factory):
    """A 2-step run, with every input the completion network received."""
    run = tmp_path_factory.mktemp("glcic") / "run"
    seen = []
    original = GlcicRecipe.build_networks

    def spying_build(self):
        networks = original(self)
        first = networks["generator"].layers[0]
        first.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
        return networks

    GlcicRecipe.build_networks = spying_build
    try:
        train(tiny_config(run, steps=2, options=dict(TINY)))
    finally:
        GlcicRecipe.build_networks = original
    return run, seen


@pytest.fixture(scope="module")
def trained_run(spied_run):
    return spied_run[0]


def test_the_completion_network_sees_the_mean_pixel_in_the_hole(spied_run, tmp_path):
    """During training the network's input holds the training set's mean pixel in the hole, and the mask."""
    run, seen = spied_run
    # the mean pixel, recomputed independently from the training images
    stream = plan(tiny_config(tmp_path / "unused")).stream
    images = [Protocol(64).prepare(stream.dataset.read(item)) for item in stream.item_ids]
    expected = np.stack(images).reshape(-1, 3).mean(axis=0) / 255
    saved = checkpoint.read(run / "model.pt", "glcic")["networks"]["generator"]["mean_pixel"]
    assert np.allclose(saved.numpy(), expected, atol=1e-6)
    assert [len(inputs) for inputs in seen] == [4, 4, 8]  # two training batches, then the final sample grid
    for inputs in seen:
        mask = inputs[:, 3:]
        assert set(mask.unique().tolist()) == {0.0, 1.0}
        areas = mask.sum(dim=(1, 2, 3))
        assert ((areas >= 24 * 24) & (areas <= 32 * 32)).all() and len(areas.unique()) > 1  # random boxes at 64
        hole = mask.expand(-1, 3, -1, -1).bool()
        assert torch.all(inputs[:, :3][hole] == 0)  # image minus mean pixel, hole at 0: the mean pixel
        assert inputs[:, :3][~hole].abs().sum() > 0


def test_trained_model_meets_the_contract_without_post_processing_and_at_any_size(trained_run):
    """The contract with the defaults, loading and resume are checked for every trainable method (test_trainable_methods.py)."""
    check_method(registry.create_method("glcic", {"postprocess": "false"}, checkpoint=trained_run), size=64)
    method = registry.create_method("glcic", checkpoint=trained_run)
    images = np.zeros((2, 96, 96, 3), np.uint8)  # fully convolutional: another size works too
    assert method.inpaint(images, np.stack([center_mask(96, 48)] * 2)).shape == images.shape
    odd = np.full((1, 66, 70, 3), 120, np.uint8)  # any size: padded to multiples of 4 inside, cropped back
    hole = np.zeros((1, 66, 70), bool)
    hole[:, 20:40, 30:50] = True
    completed = method.inpaint(np.where(hole[..., None], 0, odd), hole)
    assert completed.shape == odd.shape and np.array_equal(completed[~hole], odd[~hole])
    method.check_input(66, 70, hole)  # takes any size and hole


def test_inpaint_completes_a_photograph_at_its_own_size(trained_run, tmp_path, monkeypatch):
    import cv2
    from click.testing import CliRunner

    from inpaintbench.cli import main

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (150, 211, 3), dtype=np.uint8)
    hole = np.zeros((150, 211), np.uint8)
    hole[40:80, 100:150] = 255
    cv2.imwrite("photo.png", photo)
    cv2.imwrite("photo_mask.png", hole)
    result = CliRunner().invoke(main, ["inpaint", "glcic", "photo.png", "--mask", "photo_mask.png", "--out", "out", "--checkpoint", str(trained_run)])
    assert result.exit_code == 0, result.output
    completed = cv2.imread(str(tmp_path / "out" / "photo.png"))
    assert completed.shape == photo.shape and np.array_equal(completed[hole == 0], photo[hole == 0])


@torch.no_grad()
def test_inference_puts_the_network_output_in_the_hole_and_keeps_the_input_elsewhere():
    recipe = GlcicRecipe(GlcicOptions(width=0.0625), 64)
    networks = {name: net.eval() for name, net in recipe.build_networks().items()}
    images = torch.rand(2, 3, 64, 64) * 2 - 1
    masks = torch.zeros(2, 1, 64, 64)
    masks[:, :, 16:48, 20:44] = 1
    masked = images * (1 - masks)  # as the engine hands it over: the hole is 0 in [-1, 1]
    completed = recipe.complete(networks, masked, masks)
    output = networks["generator"]((images + 1) / 2, masks) * 2 - 1
    hole = masks.expand(-1, 3, -1, -1).bool()
    assert torch.allclose(completed[hole], output[hole], atol=1e-6)
    assert torch.allclose(completed[~hole], images[~hole], atol=1e-6)


def _batches_with_different_truths():
    """Two harness batches whose ground truths differ only inside the holes: their masked inputs are equal."""
    truth = np.stack([_texture(64, seed) for seed in range(3)])
    masks = np.stack([center_mask(64, 32), random_box_mask(64, item_rng(1, "x", "y")), center_mask(64, 32)])
    other = np.where(masks[..., None], 255 - truth, truth).astype(np.uint8)
    first, second = (Batch(["a", "b", "c"], t, masks, []) for t in (truth, other))
    assert np.array_equal(first.masked, second.masked) and not np.array_equal(first.targets, second.targets)
    return first, second


def test_post_processing_on_off_and_never_the_ground_truth(trained_run):
    blended = registry.create_method("glcic", checkpoint=trained_run)
    raw = registry.create_method("glcic", {"postprocess": "false"}, checkpoint=trained_run)
    assert blended.options.postprocess and not raw.options.postprocess  # the user's choice beats the checkpoint's
    first, second = _batches_with_different_truths()
    outputs = {}
    for name, method in (("blended", blended), ("raw", raw)):
        a = method.inpaint(first.masked.copy(), first.masks.copy())
        b = method.inpaint(second.masked.copy(), second.masks.copy())
        assert np.array_equal(a, b), name  # a different truth changes nothing
        outputs[name] = a
    assert not np.array_equal(outputs["blended"], outputs["raw"])
    expected = [blend_into_surroundings(image, mask) for image, mask in zip(outputs["raw"], first.masks)]
    assert np.array_equal(outputs["blended"], np.stack(expected))  # post-processing of the method's own output
    # the results record which was used
    spec = RunSpec(dataset=registry.open_dataset("sample", split="val"), protocol=Protocol(64))
    record = json.loads(json.dumps(run_record(spec, ["x"], {"glcic": blended, "glcic-raw": raw}, {})))
    options = {name: entry["options"] for name, entry in record["methods"].items()}
    assert options["glcic"]["postprocess"] is True and options["glcic-raw"]["postprocess"] is False
    assert len(options["glcic"]["mean_pixel"]) == 3 and options["glcic"]["width"] == 0.0625
    # ... and the table says it next to the method's name
    scores = pd.DataFrame([
        {"item": "x", "method": name, "psnr": 20.0, "ssim": 0.5, "psnr_hole": 15.0, "ssim_hole": 0.3, "l1_hole": 10.0, "seconds": 0.1}
        for name in ("glcic", "glcic-raw")
    ])
    markdown = to_markdown(summarize(scores, record, n_resamples=10), record)
    assert "| glcic (post-processed) |" in markdown and "| glcic-raw (no post-processing) |" in markdown


# -- a short real training run (marked slow: minutes on 2 cores) ---------------------------------
#: 64x64 images (holes of 24-32 px, the center protocol's 32x32 at evaluation), an eighth of the
#: channels and batch 8 keep it to about five minutes on 2 shared cores; random 64 crops of 96-px
#: images with flips give the 12 training photographs some variety
QUICK = ["-o", "width=0.125", "--image-size", "64", "--resize-to", "96", "--flip", "--batch-size", "8", "--workers", "1"]
QUICK_STEPS = 300


def _compare(runner, split: str, out: str, *options: str):
    result = runner.invoke(main, [
        "compare", "--methods", "glcic,mean-fill,telea", "--split", split, "--checkpoint", "glcic=run",
        "--image-size", "64", "--out", out, "--format", "md", *options,
    ])
    assert result.exit_code == 0, result.output
    return pd.read_csv(f"{out}/table.csv").set_index("method"), result.output


@pytest.mark.slow
def test_short_cpu_run_learns(tmp_path, monkeypatch):
    """Run deliberately:  python -m pytest -m slow tests/test_glcic.py -s

    Trains the three phases in the paper's proportions on ``sample:train`` and
    checks that the hole MSE falls; prints hole PSNR on ``sample:val`` (three
    held-back photographs) against mean fill and Telea, with and without the
    post-processing.  Beating mean fill there is reported, not asserted: one
    run measured 17.87 dB post-processed and 15.82 dB raw, against 17.28 for
    mean fill and 17.63 for Telea (docs/methods.md).
    """
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    trained = runner.invoke(main, ["train", "glcic", "--steps", str(QUICK_STEPS), "--out", "run", "--sample-every", "100", *QUICK])
    assert trained.exit_code == 0, trained.output
    losses = read_losses(tmp_path / "run")
    tenth = QUICK_STEPS // 10
    first, last = losses["reconstruction"][:tenth].mean(), losses["reconstruction"][-tenth:].mean()
    on_val, val_output = _compare(runner, "val", "res-val")
    raw_val, raw_output = _compare(runner, "val", "res-val-raw", "-o", "glcic.postprocess=false")
    on_train, train_output = _compare(runner, "train", "res-train")
    print(f"\nhole MSE ([0, 1] scale): first tenth {first:.4f}, last tenth {last:.4f}")
    print(f"sample:val, post-processed\n{val_output}\nsample:val, raw network output\n{raw_output}")
    print(f"sample:train (the photographs it learned from), post-processed\n{train_output}")
    print(
        f"hole PSNR on sample:val: glcic {on_val.loc['glcic', 'psnr_hole']:.2f} dB "
        f"(raw {raw_val.loc['glcic', 'psnr_hole']:.2f}), mean-fill {on_val.loc['mean-fill', 'psnr_hole']:.2f}, "
        f"telea {on_val.loc['telea', 'psnr_hole']:.2f}"
    )
    assert last < 0.7 * first
