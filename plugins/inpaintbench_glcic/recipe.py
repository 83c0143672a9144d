"""How ``glcic`` trains: completion network alone, then the discriminators alone, then both (the paper's Algorithm 1).

Phase 1 (T_C, 90k of the paper's 500k iterations) trains the completion
network with the MSE over the hole; phase 2 (T_D, 10k) trains the context
discriminator on real images vs. completions of the frozen network; phase 3
(400k) trains both, the completion network on MSE + α·adversarial (α =
0.0004).  The phases are fractions of the run, so the proportions hold at
any length.  Optimiser: ADADELTA, as in the paper.

Crops come from the image resized to the evaluation's scale, with flips, as
for every learned row of the benchmark (the paper rescales to a random
shorter side in [1, 1.5] x the crop: ``--resize-to 160`` is the middle of
that range).  Holes come from the engine's seeded stream (``random-box`` by default: sides
in [3/8, 1/2] of the image, the paper's [96, 128] at 256), and the local
patch is centred on each hole, so a step draws no random numbers of its own
and a resumed run repeats an uninterrupted one exactly.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from inpaintbench.errors import ImageReadError, InpaintbenchError
from inpaintbench.training import Phase, Schedule, StepContext, TrainingRecipe, TrainingStream, gan_loss, parse_fractions

from .networks import CompletionEncoder, CompletionNetwork, ContextDiscriminator
from .options import GlcicOptions
from .patches import crop, local_boxes, patch_side

log = logging.getLogger(__name__)


class GlcicRecipe(TrainingRecipe):
    #: the paper's batch of 96 images
    batch_size = 96
    #: ADADELTA's step scale (1.0 is ADADELTA itself; torch's and Torch7's default)
    lr = 1.0
    #: ADADELTA's decay and epsilon: the defaults of torch and of Torch7's ``optim.adadelta`` (the paper gives none)
    rho, eps = 0.9, 1e-6
    masks = ("random-box", "center")
    image_sizes = None
    loss_names = ("reconstruction", "adversarial", "discriminator", "total")

    def __init__(self, options: GlcicOptions, image_size: int = 128):
        super().__init__(options, image_size)
        #: set by :meth:`prepare` before training; otherwise the network's buffer is loaded from a checkpoint
        self.mean_pixel: list[float] | None = None

    def prepare(self, stream: TrainingStream) -> None:
        """Average the training images' pixels: the colour the hole is filled with."""
        self.mean_pixel = training_mean_pixel(stream, self.options.mean_images)
        log.info("glcic: mean pixel of the training images (RGB, [0, 1]): %s", [round(v, 4) for v in self.mean_pixel])

    def build_networks(self):
        generator = self._completion_network()
        discriminator = ContextDiscriminator(self.image_size, patch_side(self.image_size), self.options.width)
        return {"generator": generator, "discriminator": discriminator}

    def _completion_network(self) -> CompletionNetwork:
        generator = CompletionNetwork(self.options.width)
        if self.mean_pixel is not None:
            generator.mean_pixel.copy_(torch.tensor(self.mean_pixel))
        return generator

    def encoder(self):
        """The completion network's layers before its first transposed convolution (see :class:`CompletionEncoder`).

        Without :meth:`prepare` the hole colour is the network's default mean
        pixel (0.5 grey); the batch norm after the first convolution removes
        most of a constant shift of the input (all but its effect at the zero-padded border).
        """
        return CompletionEncoder(self._completion_network())

    def build_optimizers(self, networks, lr):
        return {name: torch.optim.Adadelta(net.parameters(), lr=lr, rho=self.rho, eps=self.eps) for name, net in networks.items()}

    def schedule(self) -> Schedule:
        completion, discriminators, joint = parse_fractions(self.options.phases, 3)
        return Schedule([
            Phase("completion", completion, {"reconstruction": 1.0, "adversarial": 0.0}, ("generator",)),
            Phase("discriminator", discriminators, {}, ("discriminator",)),
            Phase("joint", joint, {"adversarial": self.options.alpha}, ("generator", "discriminator")),
        ])

    def training_step(self, images, masks, ctx: StepContext):
        net = ctx.networks
        truth = (images + 1) / 2  # the completion network works in [0, 1] (sigmoid output)
        known = truth * (1 - masks)  # the hole hidden from the networks; truth goes only to the losses
        side = patch_side(self.image_size)
        boxes = local_boxes(masks, side)
        completes = ctx.trains("generator")
        with torch.set_grad_enabled(completes), ctx.autocast():
            output = net["generator"](known, masks).float()
        completed = known + output * masks
        losses = {}
        if ctx.trains("discriminator"):
            fake = completed.detach()
            with ctx.autocast():
                real_logits = net["discriminator"](crop(truth, boxes, side), truth)
                fake_logits = net["discriminator"](crop(fake, boxes, side), fake)
            d_loss = gan_loss(real_logits, True) + gan_loss(fake_logits, False)
            ctx.update("discriminator", d_loss)
            losses["discriminator"] = d_loss.detach()
        reconstruction = ((output - truth) ** 2 * masks).sum() / (3 * masks.sum()).clamp(min=1)
        losses["reconstruction"] = reconstruction.detach()
        if completes:
            total = ctx.weights["reconstruction"] * reconstruction
            if ctx.weights["adversarial"] > 0:
                with ctx.autocast():
                    adversarial = gan_loss(net["discriminator"](crop(completed, boxes, side), completed), True)
                total = total + ctx.weights["adversarial"] * adversarial
                losses["adversarial"] = adversarial.detach()
            ctx.update("generator", total)
            losses["total"] = total.detach()
        return losses

    def complete(self, networks, masked, masks):
        known = (masked + 1) / 2 * (1 - masks)  # the engine's hole is 0 in [-1, 1]: 0.5 here, so zero it again
        output = networks["generator"](known, masks).float()
        return (known + output * masks) * 2 - 1


def training_mean_pixel(stream: TrainingStream, limit: int) -> list[float]:
    """Mean RGB in [0, 1] of up to ``limit`` training images (the first of the seeded order), as the protocol crops them."""
    total, count = np.zeros(3), 0
    for position in range(min(limit, len(stream))):
        try:
            image = stream.dataset.read(stream.item_at(position))
        except ImageReadError:
            continue  # the stream reports unreadable images when it meets them
        total += stream.protocol.prepare(image).reshape(-1, 3).mean(axis=0)
        count += 1
    if not count:
        raise InpaintbenchError(f"method 'glcic': none of the first {limit} training images could be read for the mean pixel")
    return (total / count / 255.0).tolist()
