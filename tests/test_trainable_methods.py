"""Every registered trainable method, trained a few steps on a tiny dataset: the method contract,
the exported model, exact resume and checkpoint ownership.

The tests are parametrised over the registry, so a new trainable method gets them by registering.
Each method trains with its ``test_options`` (tiny networks) at its smallest image size
(64 px for a fully convolutional one); method-specific checks stay in each method's own test file.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from inpaintbench import registry
from inpaintbench.errors import CheckpointError
from inpaintbench.methods import parse_options
from inpaintbench.testing import check_method, check_same_training, train_interrupted_and_resumed
from inpaintbench.training import TrainConfig, checkpoint, train
from inpaintbench.training.logs import read_losses

TRAINABLE = [entry.name for entry in registry.list_methods() if entry.cls.trainable]
STEPS, STOP_AFTER, BATCH = 4, 2, 4


def test_the_built_in_trainable_methods_are_covered():
    assert {"ours", "glcic", "context-encoder"} <= set(TRAINABLE)


def image_size(name: str) -> int:
    """The smallest size the method's networks take."""
    sizes = registry.method_class(name).recipe_class().image_sizes
    return min(sizes) if sizes else 64


@dataclasses.dataclass(frozen=True)
class TrainedRuns:
    #: trained in one go
    straight: Path
    #: the same run, interrupted after STOP_AFTER steps and resumed
    resumed: Path
    image_size: int


@pytest.fixture(scope="session")
def images(tmp_path_factory) -> Path:
    """Eight textured photographs, 80x96, as a ``folder`` dataset (training resizes and crops them)."""
    root = tmp_path_factory.mktemp("trainable-images")
    yy, xx = np.mgrid[0:80, 0:96]
    rng = np.random.default_rng(0)
    for k in range(8):
        base = np.stack([xx * 255 / 96, yy * 255 / 80, (xx + yy) * (40 + 10 * k) / 176], axis=-1)
        texture = 50 * np.sin(xx / (2 + k)) * np.cos(yy / (3 + k))
        image = np.clip(base + texture[..., None] + rng.normal(0, 8, base.shape), 0, 255).astype(np.uint8)
        cv2.imwrite(str(root / f"photo{k}.png"), image)
    return root


@pytest.fixture(scope="session")
def trained(images, tmp_path_factory):
    """``trained(name)``: the method's runs, trained on first request and kept for the session."""

    @functools.cache
    def runs(name: str) -> TrainedRuns:
        cls = registry.method_class(name)
        size = image_size(name)

        def config(out, **changes) -> TrainConfig:
            values = dict(
                method=name, dataset="folder", root=str(images), out=str(out), steps=STEPS, batch_size=BATCH,
                workers=0, device="cpu", image_size=size, checkpoint_every=1000, sample_every=1000,
                options=dict(cls.test_options),
            )
            return TrainConfig(**{**values, **changes})

        straight, resumed = train_interrupted_and_resumed(config, tmp_path_factory.mktemp(name), STOP_AFTER)
        return TrainedRuns(straight, resumed, size)

    return runs


@pytest.mark.parametrize("name", TRAINABLE)
def test_test_options_are_valid_options(name):
    cls = registry.method_class(name)
    assert all(isinstance(value, str) for value in cls.test_options.values()), "test_options holds -o strings"
    parse_options(cls, cls.test_options)


@pytest.mark.parametrize("name", TRAINABLE)
def test_trained_model_meets_the_method_contract(name, trained):
    runs = trained(name)
    method = registry.create_method(name, checkpoint=runs.straight)
    check_method(method, size=runs.image_size, center_only=tuple(method.recipe.masks) == ("center",))


@pytest.mark.parametrize("name", TRAINABLE)
def test_the_exported_model_loads_the_trained_weights_and_options(name, trained):
    runs = trained(name)
    cls = registry.method_class(name)
    method = registry.create_method(name, checkpoint=runs.straight)  # no options given: the checkpoint's apply
    assert method.checkpoint == runs.straight / checkpoint.MODEL_FILE
    architecture = {k: v for k, v in cls.test_options.items() if k not in cls.inference_options}
    assert method.options == parse_options(cls, architecture)
    assert method.image_size == runs.image_size
    assert method.trained_on["dataset"] == "folder"
    assert (method.trained_on["steps"], method.trained_on["images_seen"]) == (STEPS, STEPS * BATCH)
    final = checkpoint.read(runs.straight / checkpoint.CHECKPOINT_FILE, name)["networks"]
    assert set(method.networks) == set(method.recipe.inference_networks)
    for network, loaded in method.networks.items():
        state = loaded.state_dict()
        assert state.keys() == final[network].keys()
        assert all(torch.equal(state[key], final[network][key]) for key in state), f"{network} is not the trained one"


@pytest.mark.parametrize("name", TRAINABLE)
def test_resume_continues_exactly(name, trained):
    runs = trained(name)
    losses = check_same_training(runs.straight, runs.resumed, name)
    assert list(losses["step"]) == list(range(STEPS))  # the resumed log is whole: no step lost or repeated
    names = [loss for loss in registry.method_class(name).recipe_class().loss_names if loss in losses]
    values = losses[names].to_numpy(float)
    assert (~np.isnan(values)).any(axis=1).all() and np.isfinite(values[~np.isnan(values)]).all()


@pytest.mark.parametrize("name", TRAINABLE)
def test_a_checkpoint_is_refused_by_any_other_method(name, trained, images):
    runs = trained(name)
    cls = registry.method_class(name)
    renamed = type("Renamed", (cls,), {"name": f"{name}-renamed", "__module__": cls.__module__})
    with pytest.raises(CheckpointError, match=f"belongs to method {name!r}"):
        renamed().load_checkpoint(runs.straight)  # the same networks would fit: the name is what refuses
    for other in TRAINABLE:
        if other == name:
            continue
        with pytest.raises(CheckpointError, match=f"belongs to method {name!r}, not {other!r}"):
            registry.create_method(other, checkpoint=runs.straight)
        resume = TrainConfig(method=other, dataset="folder", root=str(images), out=str(runs.straight),
                             image_size=image_size(other), steps=STEPS, workers=0, device="cpu", resume=True)
        with pytest.raises(CheckpointError, match=f"belongs to method {name!r}, not {other!r}"):
            train(resume)
    assert len(read_losses(runs.straight)) == STEPS  # nothing was appended to the run
