"""What a trainable method gives the engine: its networks, schedule and one training step.

The engine owns everything that is the same for every GAN-style inpainting
method (data, devices, precision, DDP, optimiser bookkeeping, checkpoints,
logs, progress); a :class:`TrainingRecipe` owns only what differs.  A recipe's
class attributes are its paper defaults, overridden from the command line.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import torch
from torch import nn

from ..errors import InpaintbenchError
from .data import TrainingStream
from .numerics import autocast_as
from .schedule import PhaseState, Schedule


class StepContext:
    """What a training step may use: networks, the schedule's state, and optimiser updates."""

    def __init__(self, networks, optimizers, scaler, autocast_dtype, device, state: PhaseState | None = None):
        self.networks: dict[str, nn.Module] = networks
        self.optimizers: dict[str, torch.optim.Optimizer] = optimizers
        self.scaler = scaler
        self.autocast_dtype = autocast_dtype
        self.device = device
        self.state = state

    @property
    def weights(self) -> dict[str, float]:
        """Loss weights at this step (the curriculum's λ values)."""
        assert self.state is not None, "the engine sets the phase state before each step"
        return self.state.weights

    def trains(self, network: str) -> bool:
        """Whether ``network`` is updated in the current phase."""
        assert self.state is not None, "the engine sets the phase state before each step"
        return network in self.state.trains

    def autocast(self):
        """Mixed precision for the forward pass (a no-op in fp32)."""
        return autocast_as(self.device, self.autocast_dtype)

    def update(self, network: str, loss: torch.Tensor) -> None:
        """Back-propagate ``loss`` and step ``network``'s optimiser (gradients cleared first)."""
        optimizer = self.optimizers[network]
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)


class TrainingRecipe(ABC):
    """The method-specific half of training; subclass one per trainable method."""

    #: global batch size when ``--batch-size`` is not given
    batch_size: ClassVar[int] = 64
    #: learning rate when ``--lr`` is not given
    lr: ClassVar[float] = 2e-4
    #: Adam betas (the DCGAN setting most inpainting GANs use)
    betas: ClassVar[tuple[float, float]] = (0.5, 0.999)
    #: shorter side the image is resized to before the random crop (None: the image size, the
    #: evaluation's scale; every built-in recipe keeps it so that their rows compare fairly)
    resize_to: ClassVar[int | None] = None
    #: random horizontal flips (on for every built-in recipe: one augmentation for all rows)
    flip: ClassVar[bool] = True
    #: mask protocols the method can train with; the first is the default of ``--mask``
    masks: ClassVar[tuple[str, ...]] = ("center",)
    #: image sizes the networks accept (None: fully convolutional, trained at any multiple of ``side_multiple``)
    image_sizes: ClassVar[tuple[int, ...] | None] = (128,)
    #: a fully convolutional recipe's sides must divide by this (two stride-2 downsamplings and the matching
    #: upsamplings); training sizes must be multiples, evaluation pads other sizes up to one
    side_multiple: ClassVar[int] = 4
    #: names of the losses ``training_step`` may return, in log-column order
    loss_names: ClassVar[tuple[str, ...]] = ()
    #: networks needed at inference time (saved in the exported model)
    inference_networks: ClassVar[tuple[str, ...]] = ("generator",)

    def __init__(self, options: Any, image_size: int = 128):
        self.options = options
        self.image_size = image_size

    def check_image_size(self, method: str) -> None:
        """Refuse an ``image_size`` the networks are not built for, naming the sizes they take."""
        if self.image_sizes is not None and self.image_size not in self.image_sizes:
            sizes = ", ".join(map(str, self.image_sizes))
            raise InpaintbenchError(f"method {method!r} is built for --image-size {sizes}, not {self.image_size}")
        if self.image_sizes is None and self.image_size % self.side_multiple:
            raise InpaintbenchError(
                f"method {method!r} needs an --image-size that is a multiple of {self.side_multiple}, not {self.image_size}"
            )

    def prepare(self, stream: TrainingStream) -> None:  # noqa: B027 -- optional hook, empty by design
        """Look at the training data before the networks are built (e.g. a dataset's mean pixel, as Iizuka et al. 2017 subtract); default: nothing.

        Called on every start and resume, before :meth:`build_networks`.  What
        it learns must end up in the networks (a buffer), so that checkpoints
        and the exported model carry it.
        """

    @abstractmethod
    def build_networks(self) -> dict[str, nn.Module]:
        """Freshly initialised networks by name (``generator`` plus any discriminators)."""

    def build_optimizers(self, networks: dict[str, nn.Module], lr: float) -> dict[str, torch.optim.Optimizer]:
        """One Adam per network; override for other optimisers or per-network rates."""
        return {name: adam(net.parameters(), lr, self.betas) for name, net in networks.items()}

    @abstractmethod
    def schedule(self) -> Schedule:
        """The phases of a run and the loss weights in each."""

    @abstractmethod
    def training_step(self, images: torch.Tensor, masks: torch.Tensor, ctx: StepContext) -> dict[str, torch.Tensor]:
        """One optimisation step on a batch; returns the losses to log (detached scalars).

        ``images`` are NCHW in [-1, 1] (ground truth); ``masks`` are (N, 1, H, W), 1 in the hole.
        The step must hide the hole from its networks itself: ground truth goes only to losses.
        """

    @abstractmethod
    def complete(self, networks: dict[str, nn.Module], masked: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        """Inference: completed images (NCHW, [-1, 1]) from masked inputs (hole already zeroed)."""


def adam(parameters, lr: float, betas: tuple[float, float]) -> torch.optim.Adam:
    """Adam with the fused kernel where this torch has it (a third faster on CPU at batch 16)."""
    parameters = list(parameters)
    try:
        return torch.optim.Adam(parameters, lr=lr, betas=betas, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(parameters, lr=lr, betas=betas)
