"""The training engine shared by every trainable method.

One loop for all GAN-style inpainting models: it resolves the config, builds
the method's networks and optimisers (from its :class:`TrainingRecipe`), feeds
seeded training batches, follows the recipe's phase schedule, handles device,
mixed precision and DDP, and writes logs, sample grids and checkpoints.  The
recipe's ``training_step`` is the only method-specific code in a step.

Resuming restores networks, optimisers, grad scaler, RNG state and the step;
the data stream is addressed by position (see :mod:`.data`), so a resumed run
continues exactly where an uninterrupted one would be.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import registry
from ..datasets.base import manifest_hash
from ..errors import CheckpointError, DatasetError, ImageReadError, InpaintbenchError
from ..mask_protocols import parse_mask
from ..methods import parse_options
from ..protocol import Protocol
from ..provenance import versions
from ..results import write_atomic
from . import checkpoint, distributed, numerics
from .config import TrainConfig
from .data import StepBatches, TrainingStream, make_loader, to_model_input
from .logs import LossLog, naming, save_samples
from .method import TrainableMethod, predict
from .recipe import StepContext, TrainingRecipe

#: config fields that may change when resuming (they do not change the numbers)
_RESUMABLE_CHANGES = ("out", "root", "device", "workers", "checkpoint_every", "sample_every", "resume")
_PREVIEW_IMAGES = 8


class TrainingInterrupted(InpaintbenchError):
    """Ctrl-C during training; the checkpoint of the last finished step has been written."""

    def __init__(self, run_dir: Path, step: int):
        super().__init__(f"interrupted after step {step}; checkpoint saved in {run_dir}; continue with --resume")
        self.run_dir = run_dir
        self.step = step


@dataclasses.dataclass
class TrainResult:
    run_dir: Path
    #: steps run by this call (fewer than total_steps when resumed)
    steps: int
    total_steps: int
    seconds: float
    #: the trained networks (unwrapped from DDP), for callers that go on in-process
    networks: dict = dataclasses.field(default_factory=dict, repr=False)


@dataclasses.dataclass
class Plan:
    """A config resolved against the method, its recipe and the dataset: what will actually run."""

    config: TrainConfig
    method_cls: type[TrainableMethod]
    options: Any
    recipe: TrainingRecipe
    stream: TrainingStream
    split: str
    manifest: str
    batch_size: int
    lr: float
    total_steps: int

    @property
    def run_dir(self) -> Path:
        return self.config.run_dir()

    def record(self) -> dict[str, Any]:
        """The resolved config, written to config.json and into every checkpoint."""
        resolved = self.config.to_record()
        resolved.update(
            split=self.split, batch_size=self.batch_size, lr=self.lr, steps=self.total_steps, epochs=None,
            resize_to=self.stream.resize_to, flip=self.stream.flip,
        )
        resolved["options"] = dataclasses.asdict(self.options)
        del resolved["resume"]  # how this call started, not what the run is: a resumed run's files equal an uninterrupted one's
        return {
            "config": resolved,
            "manifest": self.manifest,
            "images": len(self.stream.item_ids),
            "schedule": self.recipe.schedule().describe(self.total_steps),
        }


def plan(config: TrainConfig) -> Plan:
    """Check everything that can be checked before any network is built."""
    method_cls = registry.method_class(config.method)
    if not (isinstance(method_cls, type) and issubclass(method_cls, TrainableMethod)):
        trainable = ", ".join(e.name for e in registry.list_methods() if getattr(e.cls, "trainable", False)) or "none"
        raise InpaintbenchError(f"method {config.method!r} is not trainable (trainable methods: {trainable})")
    options = parse_options(method_cls, config.options)
    recipe = method_cls.recipe_class()(options, config.image_size)
    mask = config.mask or recipe.masks[0]
    config = dataclasses.replace(config, mask=mask)
    mask_kind = parse_mask(mask).name
    if mask_kind not in recipe.masks:
        raise InpaintbenchError(f"method {config.method!r} trains with --mask {' or '.join(recipe.masks)}, not {config.mask!r}")
    recipe.check_image_size(config.method)
    split = config.split or registry.training_split(config.dataset, config.root)
    dataset = registry.open_dataset(config.dataset, config.root, split)
    run_dir = config.run_dir()
    if dataset.lists_files_under(run_dir):
        raise InpaintbenchError(
            f"--out {run_dir} is inside the dataset root {dataset.root}: its sample grids would become training images "
            "and the run could never resume; choose an --out outside it"
        )
    item_ids = dataset.item_ids()
    resize_to = config.resize_to or recipe.resize_to
    flip = recipe.flip if config.flip is None else config.flip
    stream = TrainingStream(dataset, item_ids, Protocol(config.image_size, mask), config.seed, resize_to, flip)
    batch_size = config.batch_size or recipe.batch_size
    return Plan(
        config=config,
        method_cls=method_cls,
        options=options,
        recipe=recipe,
        stream=stream,
        split=split,
        manifest=manifest_hash(item_ids),
        batch_size=batch_size,
        lr=config.lr or recipe.lr,
        total_steps=config.total_steps(len(item_ids), batch_size),
    )


def train(
    config: TrainConfig,
    on_step: Callable[[int, dict[str, float]], None] | None = None,
    progress: Any = None,
) -> TrainResult:
    """Run (or resume) training; returns where the checkpoint is.

    ``on_step(step, losses)`` is called after every finished step (tests and
    tools use it); ``progress`` is an object with ``start(total, done)`` and
    ``advance(step, phase, losses, images_per_s)`` (the CLI's rich display).
    """
    checked = plan(config)
    processes = distributed.start(config.device)
    try:
        return _Run(checked, processes, on_step, progress).run()
    finally:
        distributed.stop(processes)


class _Run:
    """One training run's state; split into steps so each is short enough to read."""

    def __init__(self, plan: Plan, processes: distributed.Processes, on_step, progress):
        self.plan = plan
        self.config = plan.config
        self.processes = processes
        self.device = processes.device
        self.on_step = on_step
        self.progress = progress if processes.is_main else None
        self.run_dir = plan.run_dir
        self.schedule = plan.recipe.schedule()
        self.writer = checkpoint.BackgroundWriter()

    # -- set-up --------------------------------------------------------------------
    def _existing_checkpoint(self) -> dict[str, Any] | None:
        path = self.run_dir / checkpoint.CHECKPOINT_FILE
        if not self.config.resume:
            if path.exists():
                raise InpaintbenchError(
                    f"{self.run_dir} already holds a training run; pass --resume to continue it or choose another --out"
                )
            return None
        if not path.exists():  # killed before its first checkpoint: nothing was lost, start it
            if self.processes.is_main:
                print(f"note: {self.run_dir} has no checkpoint to resume; starting the run from step 0", file=sys.stderr)
            return None
        saved = checkpoint.read(path, self.config.method, (checkpoint.FORMAT,))
        checkpoint.require(saved, path, ("step", "config", "manifest", "rng", "networks", "optimizers"))
        checkpoint.check_finite(saved["networks"], path)
        self._check_same_run(saved)
        return saved

    def _check_same_run(self, saved: dict[str, Any]) -> None:
        current = self.plan.record()
        if saved.get("manifest") != current["manifest"]:
            raise CheckpointError(
                f"--resume: the dataset's image list changed since the checkpoint in {self.run_dir} "
                f"(manifest {saved.get('manifest')} -> {current['manifest']}); start a new run"
            )
        before, now = saved["config"], current["config"]
        changed = [k for k in now if k not in _RESUMABLE_CHANGES and before.get(k) != now[k]]
        if changed:
            diffs = ", ".join(f"{k}: {before.get(k)!r} -> {now[k]!r}" for k in changed)
            raise CheckpointError(f"--resume: the config differs from the checkpoint's in {self.run_dir} ({diffs})")

    def _build(self, saved: dict[str, Any] | None) -> None:
        recipe, config = self.plan.recipe, self.config
        if config.deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.benchmark = False
        elif self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        recipe.prepare(self.plan.stream)
        torch.manual_seed(config.seed)  # identical initial weights on every rank and every rerun
        networks = recipe.build_networks()
        memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
        for name, network in networks.items():
            network.to(self.device, memory_format=memory_format)  # type: ignore[call-overload]  # torch documents memory_format; its overloads omit it
            networks[name] = distributed.sync_batch_norm(network, self.processes)
        self.plain = networks
        self.optimizers = recipe.build_optimizers(networks, self.plan.lr)
        self.scaler = numerics.grad_scaler(self.device, config.precision)
        self.start_step = 0
        if saved is not None:
            self._restore(saved)
        self.networks = {name: distributed.wrap(net, self.processes) for name, net in networks.items()}

    def _restore(self, saved: dict[str, Any]) -> None:
        try:
            for name, network in self.plain.items():
                network.load_state_dict(saved["networks"][name])
            for name, optimizer in self.optimizers.items():
                optimizer.load_state_dict(saved["optimizers"][name])
            if saved.get("scaler"):
                self.scaler.load_state_dict(saved["scaler"])
        except (KeyError, RuntimeError, ValueError) as error:
            raise CheckpointError(
                f"checkpoint in {self.run_dir} does not fit this method's networks ({type(error).__name__}: {str(error)[:200]})"
            ) from None
        try:
            numerics.restore_rng_state(saved["rng"], self.device)
        except (KeyError, TypeError, RuntimeError) as error:
            raise CheckpointError(
                f"checkpoint in {self.run_dir} holds no usable RNG state ({type(error).__name__}: {str(error)[:120]}); "
                "it was crafted or damaged: resume from another copy or start a new run"
            ) from None
        self.start_step = int(saved["step"])

    # -- the loop --------------------------------------------------------------------
    def run(self) -> TrainResult:
        if self.processes.is_main:
            checkpoint.remove_stale_temporaries(self.run_dir)  # a killed write's half file (~1 GB at paper size)
        saved = self._existing_checkpoint()
        self._build(saved)
        total = self.plan.total_steps
        started = time.perf_counter()
        if self.processes.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            with naming(self.run_dir / "config.json"):
                write_atomic(self.run_dir / "config.json", json.dumps(self.plan.record(), indent=2, default=str))
        recipe = self.plan.recipe
        weight_names = sorted({name for phase in self.schedule.phases for name in phase.weights})
        columns = [*recipe.loss_names, *(f"w_{name}" for name in weight_names), "images_per_s"]
        log = LossLog(self.run_dir, columns, self.start_step) if self.processes.is_main else None
        preview = self._preview_inputs() if self.processes.is_main else None
        sampler = StepBatches(self.start_step, total, self.plan.batch_size, self.processes.rank, self.processes.world_size)
        loader = make_loader(self.plan.stream, sampler, self.config.workers, pin_memory=self.device.type == "cuda")
        ctx = StepContext(self.networks, self.optimizers, self.scaler, numerics.autocast_dtype(self.config.precision), self.device)
        if self.progress is not None:
            self.progress.start(total, self.start_step)
        done = self.start_step
        try:
            tick = time.perf_counter()
            for step, (images, masks) in zip(range(self.start_step, total), loader):
                ctx.state = self.schedule.at(step, total)
                images, masks = to_model_input(images, masks, self.device, self.config.channels_last)
                for network in self.plain.values():
                    network.train()
                losses = recipe.training_step(images, masks, ctx)
                self.scaler.update()
                values = self._gather(losses)
                done = step + 1
                now = time.perf_counter()
                speed = self.plan.batch_size / max(now - tick, 1e-9)
                tick = now
                if log is not None:
                    weights = {f"w_{k}": v for k, v in ctx.state.weights.items()}
                    log.write(step, ctx.state.name, {**values, **weights, "images_per_s": speed})
                if self.progress is not None:
                    self.progress.advance(done, ctx.state.name, values, speed)
                if self.on_step is not None:
                    self.on_step(done, values)
                if done % self.config.sample_every == 0 and preview is not None:
                    self._save_samples(preview, done)
                if done % self.config.checkpoint_every == 0 and done < total:
                    self._save(done, ctx.state.name, final=False)
                    if log is not None:
                        log.flush()
        except KeyboardInterrupt:
            if done > self.start_step:
                self._save(done, ctx.state.name if ctx.state else "", final=False)
            self.writer.wait()
            raise TrainingInterrupted(self.run_dir, done) from None
        except BaseException:
            try:  # a checkpoint being written when the run failed is finished, not torn
                self.writer.wait()
            except CheckpointError:
                pass  # the run's own error is the one to report
            raise
        finally:
            if log is not None:
                log.close()
        if done < total:  # the loader ran dry: impossible unless the stream is broken
            raise InpaintbenchError(f"training stopped early at step {done} of {total}")
        if preview is not None and total % self.config.sample_every:
            self._save_samples(preview, total)
        # the schedule, not the loop, names the last phase: a resumed finished run runs no step
        self._save(total, self.schedule.at(total - 1, total).name, final=True)
        self.writer.wait()
        distributed.barrier(self.processes)
        return TrainResult(self.run_dir, total - self.start_step, total, time.perf_counter() - started, self.plain)

    def _gather(self, losses: dict[str, torch.Tensor]) -> dict[str, float]:
        """Losses as floats, averaged over ranks under DDP."""
        names = [name for name in self.plan.recipe.loss_names if name in losses]
        if not names:
            return {}
        stacked = torch.stack([losses[name].detach().float().reshape(()) for name in names])
        stacked = distributed.mean_over_ranks(stacked, self.processes)
        return dict(zip(names, stacked.tolist()))

    # -- outputs ---------------------------------------------------------------------
    def _save(self, step: int, phase: str, final: bool) -> None:
        """Checkpoint (and at the end the exported model), written by rank 0 in the background."""
        distributed.share_buffers(self.plain, self.processes)  # every rank then holds what is saved
        if not self.processes.is_main:
            return
        record = self.plan.record()
        common = {
            "version": checkpoint.VERSION,
            "method": self.config.method,
            "options": record["config"]["options"],
            "image_size": self.config.image_size,
            "mask": self.config.mask,
            "step": step,
            "total_steps": self.plan.total_steps,
            "phase": phase,
            "config": record["config"],
            "manifest": record["manifest"],
            "versions": versions(),
        }
        files = {
            self.run_dir / checkpoint.CHECKPOINT_FILE: {
                **common,
                "format": checkpoint.FORMAT,
                "networks": {name: net.state_dict() for name, net in self.plain.items()},
                "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
                "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else None,
                "rng": numerics.rng_state(self.device),
            }
        }
        if final:
            files[self.run_dir / checkpoint.MODEL_FILE] = {
                **common,
                "format": checkpoint.MODEL_FORMAT,
                "networks": {name: self.plain[name].state_dict() for name in self.plan.recipe.inference_networks},
            }
        self.writer.save(files)

    def _preview_inputs(self) -> tuple[np.ndarray, np.ndarray]:
        """A fixed set of evaluation-style inputs (center crop, the protocol's mask) for Fig. 10 grids."""
        stream = self.plan.stream
        protocol = stream.protocol
        truths, masks = [], []
        for item_id in stream.item_ids:
            try:
                truths.append(protocol.prepare(stream.dataset.read(item_id)))
            except ImageReadError:
                continue  # the stream logs unreadable images when it meets them
            masks.append(protocol.make_mask(item_id, self.config.seed))
            if len(truths) == _PREVIEW_IMAGES:
                break
        if not truths:
            raise DatasetError(f"dataset {stream.dataset.name!r}: no image of split {stream.dataset.split!r} could be read")
        return np.stack(truths), np.stack(masks)

    def _save_samples(self, preview: tuple[np.ndarray, np.ndarray], step: int) -> None:
        truths, masks = preview
        masked = np.where(masks[..., None], 0, truths).astype(np.uint8)
        completed = predict(self.plan.recipe, self.plain, masked, masks, self.device)
        for network in self.plain.values():
            network.train()
        save_samples(self.run_dir / "samples" / f"step-{step:07d}.png", masked, completed, truths)

