"""How the context encoder trains: the released code's center-inpainting recipe, on the benchmark's input.

The release's README command (``overlapPred=4 wtl2=0.999 nBottleneck=4000
loadSize=350 fineSize=128``) trains on random 128 crops of images resized to a
350 shorter side, with the inner 56x56 of the center erased and a 4-px band
around it left visible.  The benchmark hides the whole 64x64 square and scores
at the evaluation's scale, so by default this recipe erases the whole square
(``overlap=0``) and crops from the image resized to the evaluation's 128 px,
like every other learned row; the 4-px outer band of the predicted patch
keeps the release's 10x weight in the L2 (``loss_band``).  ``-o overlap=4
--resize-to 350`` is the release's training, which meets an input at
evaluation that it never saw: its rows are marked not comparable.

Each step updates the discriminator on real vs. (detached) predicted
centers, then the generator on (1 - λ)·L2 + λ·adversarial with λ = 0.001.
Adam (β1 = 0.5) at 2e-4 for the discriminator and 10x that for the
generator; batch 64; random flips.
"""

from __future__ import annotations

import torch.nn.functional as F

from inpaintbench.training import Phase, Schedule, StepContext, TrainingRecipe, adam, center_box, dcgan_init, gan_loss, paste_center

from .hole import band_weights, fill_mean, shrink, weighted_l2
from .networks import Discriminator, Generator


class ContextEncoderRecipe(TrainingRecipe):
    batch_size = 64
    #: the discriminator's; the generator's is ``generator_lr_factor`` times it
    lr = 2e-4
    betas = (0.5, 0.999)
    masks = ("center",)
    image_sizes = (128,)
    loss_names = ("reconstruction", "mse", "adversarial", "discriminator", "total")

    def build_networks(self):
        o = self.options
        networks = {"generator": Generator(o.width, o.bottleneck)}
        if o.lambda_adv > 0:
            networks["discriminator"] = Discriminator(o.width)
        return {name: dcgan_init(net) for name, net in networks.items()}

    def build_optimizers(self, networks, lr):
        factor = self.options.generator_lr_factor
        return {name: adam(net.parameters(), lr * factor if name == "generator" else lr, self.betas) for name, net in networks.items()}

    def schedule(self) -> Schedule:
        adv = self.options.lambda_adv
        trains = ("generator", "discriminator") if adv > 0 else ("generator",)
        return Schedule([Phase("joint", 1.0, {"reconstruction": 1 - adv, "adversarial": adv}, trains)])

    def training_step(self, images, masks, ctx: StepContext):
        o = self.options
        offset, side = center_box(self.image_size)
        center = (..., slice(offset, offset + side), slice(offset, offset + side))
        net = ctx.networks
        erased = shrink(masks, o.overlap)  # with overlap > 0 a band stays visible, as in the release
        with ctx.autocast():
            patch = net["generator"](fill_mean(images, erased)).float()
        truth = images[center]
        losses = {}
        with_adversary = ctx.trains("discriminator")
        if with_adversary:
            with ctx.autocast():
                d_loss = gan_loss(net["discriminator"](truth), True) + gan_loss(net["discriminator"](patch.detach()), False)
            ctx.update("discriminator", d_loss)
            losses["discriminator"] = d_loss.detach()
        reconstruction = weighted_l2(patch, truth, band_weights(shrink(masks, o.loss_band)[center], o.band_weight))
        total = ctx.weights["reconstruction"] * reconstruction
        if with_adversary:
            with ctx.autocast():
                fooling = gan_loss(net["discriminator"](patch), True)
            total = total + ctx.weights["adversarial"] * fooling
            losses["adversarial"] = fooling.detach()
        ctx.update("generator", total)
        losses.update(reconstruction=reconstruction.detach(), mse=F.mse_loss(patch.detach(), truth), total=total.detach())
        return losses

    def complete(self, networks, masked, masks):
        """The whole hole is unknown here, band included: it is all mean colour (see docs/methods.md)."""
        offset, _ = center_box(masked.shape[-1])
        return paste_center(masked, networks["generator"](fill_mean(masked, masks)), masks, offset)
