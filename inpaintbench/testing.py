"""Contract checks every method must pass, for the built-ins and for outside plugins.

An outside plugin's test suite can call :func:`check_method` on its own class::

    from inpaintbench.testing import check_method
    def test_contract():
        check_method(MyMethod)
"""

from __future__ import annotations

import numpy as np

from .masks import center_mask, item_rng, random_box_mask
from .methods import Method, check_output, composite


def contract_inputs(size: int = 64, count: int = 3, center_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Small masked images (smooth gradients plus texture) and masks of two protocols (or center only)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size]
    images, masks = [], []
    for k in range(count):
        base = np.stack([xx * 255 / size, yy * 255 / size, (xx + yy) * 127 / size], axis=-1)
        texture = 40 * np.sin(xx / (2 + k)) * np.cos(yy / (3 + k))
        image = np.clip(base + texture[..., None] + rng.normal(0, 5, base.shape), 0, 255).astype(np.uint8)
        box = not center_only and k % 2 == 1
        mask = random_box_mask(size, item_rng(k, "contract", "box")) if box else center_mask(size, size // 2)
        images.append(np.where(mask[..., None], 0, image).astype(np.uint8))
        masks.append(mask)
    return np.stack(images), np.stack(masks)


def check_method(method: Method | type[Method], size: int = 64, center_only: bool = False) -> None:
    """Assert the method contract; raises AssertionError naming what broke.

    ``center_only`` is for models trained for the center protocol (a context encoder), which refuse other holes.
    """
    if isinstance(method, type):
        method = method()
    name = method.name
    assert name and name == name.lower() and " " not in name, f"method name {name!r} must be lower-case without spaces"
    images, masks = contract_inputs(size, center_only=center_only)
    originals = images.copy()
    output = check_output(name, method.inpaint(images.copy(), masks.copy()), images)
    assert np.array_equal(images, originals), f"{name}: inpaint() modified its input in place"
    completed = composite(images, output, masks)
    assert np.array_equal(completed[~masks], originals[~masks]), f"{name}: compositing lost known pixels"
    again = method.inpaint(images.copy(), masks.copy())
    assert np.array_equal(output, again), f"{name}: two calls on the same input differ (not deterministic)"
    one_by_one = np.stack([method.inpaint(images[k : k + 1].copy(), masks[k : k + 1].copy())[0] for k in range(len(images))])
    assert np.array_equal(output[masks], one_by_one[masks]), f"{name}: a batch and one-by-one calls differ in the hole"


def layer_parameters(network) -> list[int]:
    """Parameters of each convolution, transposed convolution and linear layer, with the batch norm that follows it.

    The per-layer numbers a paper's layer table predicts (see :func:`expected_layer_parameters`).
    """
    from torch import nn

    counts: list[int] = []
    for module in network.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            counts.append(sum(p.numel() for p in module.parameters()))
        elif isinstance(module, nn.BatchNorm2d):
            counts[-1] += sum(p.numel() for p in module.parameters())
    return counts


def expected_layer_parameters(table: list[tuple], conv_bias: bool = False) -> list[int]:
    """Per-layer parameters of a layer table: rows ``(kind, kernel, in, out)`` or ``("fc", in, out)``.

    Any kind but ``"out"`` and ``"fc"`` is a (transposed) convolution followed by batch norm
    (scale and shift), with a bias too when ``conv_bias``; ``"out"`` is a last convolution with a
    bias and no norm; ``"fc"`` a linear layer with a bias.
    """
    counts = []
    for row in table:
        if row[0] == "fc":
            _, fan_in, out = row
            counts.append(fan_in * out + out)
        else:
            kind, kernel, cin, cout = row
            norm_and_bias = cout if kind == "out" else 2 * cout + (cout if conv_bias else 0)
            counts.append(kernel * kernel * cin * cout + norm_and_bias)
    return counts


def check_exact_resume(make_config, root, stop_after: int = 2, **resume_changes):
    """Assert that a run interrupted (Ctrl-C) after ``stop_after`` steps and resumed equals one never interrupted.

    ``make_config(run_dir, **changes)`` builds a small deterministic ``TrainConfig``;
    ``resume_changes`` are settings that may differ on resume (e.g. ``workers``).
    Returns the uninterrupted run's loss log for further checks.
    """
    straight, resumed = train_interrupted_and_resumed(make_config, root, stop_after, **resume_changes)
    return check_same_training(straight, resumed, make_config(root / "straight").method)


def train_interrupted_and_resumed(make_config, root, stop_after: int = 2, **resume_changes):
    """Train ``root/straight`` in one go, and ``root/resumed`` interrupted after ``stop_after`` steps then resumed.

    Asserts only that the interruption and the resume happened as asked;
    compare the two runs with :func:`check_same_training`.  Returns both run
    directories (straight, resumed).
    """
    from .training import TrainingInterrupted, checkpoint, train

    config = make_config(root / "straight")
    straight = train(config)

    def interrupt(step, _losses):
        if step == stop_after:
            raise KeyboardInterrupt

    try:
        train(make_config(root / "resumed"), on_step=interrupt)
    except TrainingInterrupted as stopped:
        assert f"after step {stop_after}" in str(stopped), stopped
    else:
        raise AssertionError(f"the run was not interrupted after step {stop_after}")
    assert checkpoint.read(root / "resumed" / checkpoint.CHECKPOINT_FILE, config.method)["step"] == stop_after
    resumed = train(make_config(root / "resumed", resume=True, **resume_changes))
    remaining = straight.total_steps - stop_after
    assert resumed.steps == remaining, f"the resumed run took {resumed.steps} steps, expected the remaining {remaining}"
    return straight.run_dir, resumed.run_dir


def check_same_training(first_run, second_run, method: str):
    """Assert that two runs of ``method`` logged the same losses and ended with the same weights, bit for bit.

    Compares the loss logs (all but the timing column) and every network in
    ``checkpoint.pt``; returns the first run's loss log.
    """
    import torch

    from .training import checkpoint
    from .training.logs import read_losses

    expected, got = read_losses(first_run), read_losses(second_run)
    assert expected.drop(columns="images_per_s").equals(got.drop(columns="images_per_s")), (expected, got)
    first, second = (checkpoint.read(run / checkpoint.CHECKPOINT_FILE, method)["networks"] for run in (first_run, second_run))
    assert first.keys() == second.keys()
    for net in first:
        assert all(torch.equal(first[net][k], second[net][k]) for k in first[net]), f"{net} weights differ between {first_run} and {second_run}"
    return expected
