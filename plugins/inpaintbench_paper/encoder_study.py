"""Fig. 13: each method's encoder with a linear head, trained to classify CIFAR-10; test accuracy per epoch.

The paper claims its simplified encoder converges faster than GLCIC's.  To
let only the encoder differ, every encoder gets the same treatment: the same
seed (for the initial weights of encoder and head), the same data order and
horizontal flips (drawn per epoch from ``(seed, epoch)``), Adam with the same
rate and betas, the same batch and the same number of epochs.  CIFAR's 32x32
images are upsampled (bilinear, on the device) to the inpainting input size,
because the encoders are built for it (``ours`` takes only 128).  The head is
a global average pool and one linear layer: ``ours`` ends in a 1x1 map, so
its head is linear on the 4000-d code; GLCIC's 1/4-resolution map is pooled.

A trainable method takes part when its recipe has an ``encoder()`` method:
a convention of this study, which asks for it with ``getattr`` (the core's
:class:`~inpaintbench.training.TrainingRecipe` knows nothing of it).
``recipe.encoder()`` returns a freshly initialised module mapping images in
[0, 1] (NCHW float, ``image_size`` square, no hole) to a feature map
(N, C, h, w), doing the method's own input preparation inside and built as
``build_networks()`` builds the generator's first half; None means "no
encoder to study".  docs/experiments.md shows an example.

Layout of the experiment directory::

    experiment.json               the settings a rerun must keep (seed, batch, rate, data...), versions
    study.json                    what the last run resolved: config, dataset root and manifests, encoders, device
    encoders/<method>/experiment.json   that encoder's method options (a rerun must keep them too)
    encoders/<method>/state.pt    weights, optimiser, RNG, epoch and per-epoch rows; after every epoch
    accuracy.csv / .md / .png     derived from those rows; rewritten after every epoch

A rerun continues each encoder after its last saved epoch and skips those that
are done.  There is no learning-rate schedule, so the first N epochs do not
depend on ``epochs``: a rerun may ask for more epochs (training continues) or
fewer (the reports show the first N), and may add methods.  Any other change
is refused (see :mod:`inpaintbench.experiments.directory`).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from inpaintbench import registry
from inpaintbench.datasets.base import manifest_hash
from inpaintbench.datasets.cifar10 import CIFAR10
from inpaintbench.devices import torch_device
from inpaintbench.errors import CheckpointError, InpaintbenchError
from inpaintbench.experiments.directory import ExperimentDir
from inpaintbench.methods import parse_options
from inpaintbench.provenance import versions
from inpaintbench.results import write_atomic
from inpaintbench.training import checkpoint
from inpaintbench.training.method import TrainableMethod
from inpaintbench.training.numerics import autocast, restore_rng_state, rng_state
from inpaintbench.training.recipe import TrainingRecipe, adam

from .accuracy_report import write_accuracy_reports
from .cifar import DATASET, split_arrays
from .encoder_study_config import StudyConfig  # apart, so that --help shows its defaults without torch

EXPERIMENT = "encoder-study"
#: what the last run resolved (root, device, epochs, methods, feature shapes); experiment.json holds what must not change
STUDY_RECORD = "study.json"
STATE_FILE = "state.pt"
STATE_FORMAT = "inpaintbench-encoder-study"
STATE_VERSION = 1
#: how the study treats every encoder alike, recorded in study.json
PROTOCOL = {
    "augmentation": "random horizontal flip, p=0.5, order and flips drawn from (seed, epoch)",
    "resize": "bilinear upsampling of the 32x32 images to image_size",
    "head": "global average pool over space, then one linear layer to 10 classes",
    "optimizer": "Adam, no learning-rate schedule, no weight decay",
    "loss": "cross-entropy",
}


@dataclasses.dataclass(frozen=True)
class EpochResult:
    """One finished epoch of one encoder, as passed to ``on_epoch``."""

    method: str
    #: the row of accuracy.csv (method, epoch, train_loss, train_accuracy, test_accuracy, seconds)
    row: dict[str, Any]
    #: predicted class of every test image, in the split's order
    predictions: np.ndarray


@dataclasses.dataclass
class StudyResult:
    directory: Path
    #: per-epoch rows of every method, the first ``epochs`` of each
    histories: dict[str, list[dict[str, Any]]]
    #: epochs trained by this call, per method (0: it was already done)
    trained: dict[str, int]
    reports: list[Path]


class Progress(Protocol):
    """The train command's display: ``start(total, done)``, ``advance(step, phase, losses, images_per_s)``, ``stop()``."""

    def start(self, total: int, done: int) -> None: ...

    def advance(self, step: int, phase: str, losses: dict[str, float], images_per_s: float) -> None: ...

    def stop(self) -> None: ...


class StudyInterrupted(InpaintbenchError):
    """Ctrl-C during the study; every finished epoch is saved."""

    def __init__(self, directory: Path, method: str, epoch: int):
        super().__init__(f"interrupted in {method!r} after epoch {epoch}; finished epochs are saved in {directory}; rerun the same command to continue")


class EncoderClassifier(nn.Module):
    """An encoder, a global average pool over its feature map and a linear layer to the class logits."""

    def __init__(self, encoder: nn.Module, channels: int, classes: int = 10):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(channels, classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(images).mean(dim=(2, 3)))


@dataclasses.dataclass
class _Split:
    images: torch.Tensor  # (N, 3, 32, 32) uint8, on the device
    labels: torch.Tensor  # (N,) int64, on the device
    record: dict[str, Any]


@dataclasses.dataclass
class _Study:
    """A config resolved against the registry and the dataset: what will actually run."""

    config: StudyConfig
    #: per method, its recipe's encoder(): builds a fresh encoder
    make_encoder: dict[str, Callable[[], nn.Module]]
    encoders: dict[str, dict[str, Any]]  # per method: options, feature shape, parameters
    train: _Split
    test: _Split
    device: torch.device
    #: the dataset root that was read (recorded, not compared: a copy may move)
    root: str

    @property
    def directory(self) -> Path:
        return self.config.directory

    def settings(self) -> dict[str, Any]:
        """What makes two runs' numbers comparable: all but where, how far, which methods and on which device."""
        c = self.config
        return {
            "dataset": DATASET, "train": self.train.record, "test": self.test.record, "seed": c.seed,
            "batch_size": c.batch_size, "lr": c.lr, "betas": list(c.betas), "image_size": c.image_size,
            "precision": c.precision, **PROTOCOL,
        }

    def encoder_settings(self, method: str) -> dict[str, Any]:
        """One encoder's options: a rerun may add a method, not change one's options."""
        return {"method": method, **self.encoders[method]["options"]}

    def record(self) -> dict[str, Any]:
        c = self.config
        return {
            "experiment": "encoder-study (Fig. 13)",
            **self.settings(),
            "epochs": c.epochs,
            "methods": list(c.methods),
            "encoders": self.encoders,
            "root": self.root,
            "device": str(self.device),
            "versions": versions(),
        }

    def caption(self) -> str:
        c = self.config
        return (
            f"Top-1 test accuracy on CIFAR-10 after each epoch ({self.train.record['images']} training / "
            f"{self.test.record['images']} test images); encoder + global average pool + linear head; "
            f"images upsampled to {c.image_size}x{c.image_size}; Adam lr {c.lr:g}, batch {c.batch_size}, seed {c.seed}, "
            f"{c.precision}. Best: the highest accuracy; epochs to best: the first epoch that reached it."
        )


class _NoEncoder(Exception):
    """Why a method has no encoder to study; the caller names the method and those that have one."""


def _encoder(cls: type, options: Any, image_size: int) -> tuple[TrainingRecipe, Callable[[], nn.Module], nn.Module]:
    """The method's recipe, its ``encoder`` method, and one encoder built on the meta device (no memory, no RNG).

    This study's convention, checked in order: a trainable method, whose
    recipe has an ``encoder()`` method, which returns a module.
    """
    if not (isinstance(cls, type) and issubclass(cls, TrainableMethod)) or getattr(cls, "Recipe", None) is None:
        raise _NoEncoder("it is not a trainable network")
    recipe = cls.recipe_class()(options, image_size)
    make = getattr(recipe, "encoder", None)
    if not callable(make):
        raise _NoEncoder("its recipe has no encoder() method")
    with torch.device("meta"):
        encoder = make()
    if encoder is None:
        raise _NoEncoder("its recipe's encoder() returns None")
    return recipe, make, encoder


def studied_methods() -> list[str]:
    """Registered methods with an encoder to study, at their default options and the study's default image size."""
    names = []
    for entry in registry.list_methods():
        try:
            _encoder(entry.cls, parse_options(entry.cls, {}), StudyConfig.image_size)
        except _NoEncoder:
            continue
        names.append(entry.name)
    return names


def _resolve_encoders(config: StudyConfig) -> tuple[dict[str, Callable[[], nn.Module]], dict[str, dict[str, Any]]]:
    """Each method's recipe, and its encoder's feature shape measured on the meta device (no memory, no RNG)."""
    makers: dict[str, Callable[[], nn.Module]] = {}
    encoders: dict[str, dict[str, Any]] = {}
    for name in config.methods:
        cls = registry.method_class(name)
        options = parse_options(cls, config.options.get(name, {}))
        try:
            recipe, make_encoder, encoder = _encoder(cls, options, config.image_size)
        except _NoEncoder as why:
            raise InpaintbenchError(
                f"method {name!r} has no encoder to study ({why}); methods with one: {', '.join(studied_methods()) or 'none'}"
            ) from None
        recipe.check_image_size(name)
        features = encoder(torch.empty(2, 3, config.image_size, config.image_size, device="meta")).shape
        if len(features) != 4:
            raise InpaintbenchError(f"method {name!r}: encoder() returned a {len(features)}-d output, not a (N, C, h, w) feature map")
        makers[name] = make_encoder
        encoders[name] = {
            "options": dataclasses.asdict(options),
            "features": list(features[1:]),
            "parameters": sum(p.numel() for p in encoder.parameters()),
        }
    return makers, encoders


def _load_split(config: StudyConfig, split: str, limit: int | None, device: torch.device) -> tuple[_Split, str]:
    """One split's images and labels on the device (CIFAR-10 fits in 0.2 GB), and the root it came from."""
    dataset = cast(CIFAR10, registry.open_dataset(DATASET, config.root, split))  # the loader registered as cifar10
    images, labels = split_arrays(dataset)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    if split == "train" and len(images) < 2:
        raise InpaintbenchError(f"dataset {DATASET!r}: the train split has {len(images)} image(s); the study needs at least 2")
    record = {"images": len(images), "manifest": manifest_hash(dataset.item_ids()[: len(images)])}
    as_tensor = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
    return _Split(as_tensor.to(device), torch.from_numpy(labels).to(device), record), str(dataset.root)


def plan(config: StudyConfig) -> _Study:
    """Check everything that can be checked before any encoder is trained."""
    makers, encoders = _resolve_encoders(config)
    device = torch_device(config.device)
    train, root = _load_split(config, "train", config.limit_train, device)
    test, _ = _load_split(config, "test", config.limit_test, device)
    return _Study(config, makers, encoders, train, test, device, root)


def run_study(
    config: StudyConfig,
    on_epoch: Callable[[EpochResult], None] | None = None,
    progress: Callable[[str], Progress] | None = None,
) -> StudyResult:
    """Train (or continue) every encoder, then write the reports; returns where they are.

    ``on_epoch`` is called after each finished and saved epoch (raising there
    stops the study; a rerun continues it); ``progress(method)`` makes the
    display for one encoder.
    """
    study = plan(config)
    _begin(study)
    histories = {method: _saved(study, method)[1] for method in config.methods}
    trained = {}
    for method in config.methods:
        trained[method] = _Trainer(study, method, histories, on_epoch, progress).run()
    shown = _first_epochs(histories, config.epochs)
    reports = write_accuracy_reports(study.directory, shown, study.caption())
    ExperimentDir(study.directory, EXPERIMENT).finish(reports)
    return StudyResult(study.directory, shown, trained, reports)


def _first_epochs(histories: dict[str, list[dict[str, Any]]], epochs: int) -> dict[str, list[dict[str, Any]]]:
    return {method: [row for row in history if row["epoch"] <= epochs] for method, history in histories.items()}


def _begin(study: _Study) -> None:
    """Refuse a directory that holds another study (settings kept in experiment.json), then record this run in study.json.

    The shared settings live at the top; each encoder's options in its own
    folder, so a rerun may add a method but not change one's options.
    """
    ExperimentDir(study.directory, EXPERIMENT).begin(study.settings())
    for method in study.config.methods:
        ExperimentDir(study.directory / "encoders" / method, f"{EXPERIMENT}/{method}").begin(study.encoder_settings(method))
    write_atomic(study.directory / STUDY_RECORD, json.dumps(study.record(), indent=2, sort_keys=True) + "\n")


def _state_path(study: _Study, method: str) -> Path:
    return study.directory / "encoders" / method / STATE_FILE


def _saved(study: _Study, method: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The saved state of one encoder and its per-epoch rows; (None, []) if none."""
    path = _state_path(study, method)
    if not path.exists():
        return None, []
    fix = f"delete {path.parent} to retrain that encoder"
    state = checkpoint.load(path, fix)
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT or state.get("method") != method:
        raise CheckpointError(f"{path} is not the encoder-study state of {method!r}; {fix}")
    if state.get("version", 0) > STATE_VERSION:
        raise CheckpointError(f"{path} has format version {state['version']}; upgrade inpaintbench to read it")
    return state, list(state["history"])


def model_input(images: torch.Tensor, flips: torch.Tensor | None, size: int) -> torch.Tensor:
    """uint8 NCHW -> float in [0, 1], flipped where ``flips`` says, upsampled (bilinear) to ``size``."""
    x = images.float().div_(255)
    if flips is not None:
        x = torch.where(flips.view(-1, 1, 1, 1), x.flip(-1), x)
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return x


def batch_bounds(count: int, batch_size: int) -> list[tuple[int, int]]:
    """(start, end) of each batch; a last batch of one image joins the one before (batch norm cannot train on one)."""
    bounds = [(start, min(start + batch_size, count)) for start in range(0, count, batch_size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2:] = [(bounds[-2][0], count)]
    return bounds


def epoch_order(seed: int, epoch: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The order of the training images and which of them are flipped: the same for every encoder."""
    rng = np.random.default_rng([seed, epoch])
    return rng.permutation(count), rng.random(count) < 0.5


class _Trainer:
    """Trains one encoder from its last saved epoch to ``epochs``, saving and reporting after each."""

    def __init__(self, study: _Study, method: str, histories, on_epoch, progress):
        self.study = study
        self.config = study.config
        self.method = method
        self.histories = histories
        self.on_epoch = on_epoch
        self.make_progress = progress
        self.path = _state_path(study, method)

    def run(self) -> int:
        """Epochs trained by this call (0 when the encoder was already done)."""
        if len(self.histories[self.method]) >= self.config.epochs:
            return 0
        state, history = _saved(self.study, self.method)
        self._build(state)
        start = len(history)
        bounds = batch_bounds(len(self.study.train.labels), self.config.batch_size)
        display = self.make_progress(self.method) if self.make_progress is not None else None
        try:
            if display is not None:
                display.start(self.config.epochs * len(bounds), start * len(bounds))
            for epoch in range(start + 1, self.config.epochs + 1):
                tick = time.perf_counter()
                train_loss, train_accuracy = self._train_epoch(epoch, bounds, display)
                predictions = self._predict()
                test_accuracy = float((predictions == self.study.test.labels.cpu().numpy()).mean())
                row = {
                    "method": self.method, "epoch": epoch, "train_loss": train_loss, "train_accuracy": train_accuracy,
                    "test_accuracy": test_accuracy, "seconds": time.perf_counter() - tick,
                }
                history.append(row)
                self.histories[self.method] = history
                # the epoch counts as done once its state is on disk; the reports follow the state
                checkpoint.save_atomic(checkpoint.to_cpu(self._state(epoch, history)), self.path)
                write_accuracy_reports(self.study.directory, _first_epochs(self.histories, self.config.epochs), self.study.caption())
                if self.on_epoch is not None:
                    self.on_epoch(EpochResult(self.method, dict(row), predictions))
        except KeyboardInterrupt:
            raise StudyInterrupted(self.study.directory, self.method, len(history)) from None
        finally:
            if display is not None:
                display.stop()
        return self.config.epochs - start

    def _build(self, state: dict[str, Any] | None) -> None:
        torch.manual_seed(self.config.seed)  # the same initial weights for every rerun
        encoder = self.study.make_encoder[self.method]()
        channels = self.study.encoders[self.method]["features"][0]
        self.model = EncoderClassifier(encoder, channels).to(self.study.device)
        self.optimizer = adam(self.model.parameters(), self.config.lr, self.config.betas)
        if state is None:
            return
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            restore_rng_state(state["rng"], self.study.device)
        except (KeyError, RuntimeError, TypeError, ValueError) as error:
            raise CheckpointError(
                f"{self.path} does not fit {self.method!r}'s encoder ({type(error).__name__}: {str(error).splitlines()[0][:200]}); "
                f"delete {self.path.parent} to retrain it"
            ) from None

    def _autocast(self):
        return autocast(self.study.device, self.config.precision)

    def _train_epoch(self, epoch: int, bounds: list[tuple[int, int]], display: Progress | None) -> tuple[float, float]:
        """One pass over the training images in this epoch's order; mean loss and accuracy over the pass."""
        train, device, size = self.study.train, self.study.device, self.config.image_size
        order_array, flips_array = epoch_order(self.config.seed, epoch, len(train.labels))
        order, flips = torch.from_numpy(order_array).to(device), torch.from_numpy(flips_array).to(device)
        self.model.train()
        loss_sum, correct, seen = 0.0, 0, 0
        done_before = (epoch - 1) * len(bounds)
        for index, (start, end) in enumerate(bounds, 1):
            tick = time.perf_counter()
            chosen = order[start:end]
            labels = train.labels[chosen]
            with self._autocast():
                logits = self.model(model_input(train.images[chosen], flips[start:end], size))
            loss = F.cross_entropy(logits.float(), labels)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            loss_sum += loss.item() * (end - start)
            correct += int((logits.argmax(1) == labels).sum())
            seen += end - start
            if display is not None:
                speed = (end - start) / max(time.perf_counter() - tick, 1e-9)
                losses = {"loss": loss_sum / seen, "accuracy": correct / seen}
                display.advance(done_before + index, f"epoch {epoch}/{self.config.epochs}", losses, speed)
        return loss_sum / seen, correct / seen

    @torch.no_grad()
    def _predict(self) -> np.ndarray:
        """The predicted class of every test image (batch norm in inference mode)."""
        test = self.study.test
        self.model.eval()
        predictions = []
        for start, end in batch_bounds(len(test.labels), self.config.batch_size):
            with self._autocast():
                logits = self.model(model_input(test.images[start:end], None, self.config.image_size))
            predictions.append(logits.argmax(1))
        return torch.cat(predictions).cpu().numpy()

    def _state(self, epoch: int, history: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "method": self.method,
            "epoch": epoch,
            "history": [dict(row) for row in history],
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "rng": rng_state(self.study.device),
        }
