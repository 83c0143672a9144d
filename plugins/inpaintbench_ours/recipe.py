"""How ``ours`` trains: reconstruction first, then the local, then the global adversary (Table I).

L = λ1·L_r + λ2·L_local + λ3·L_global, with L_r the MSE between the predicted
and true 64x64 center patch and non-saturating GAN losses.  A discriminator
starts training in the phase that introduces its loss, while its weight ramps
up from 0, so the generator meets a discriminator that has already learnt
something by the time the weight matters.  Each step updates the active
discriminators on real vs. (detached) predicted samples, then the generator.
"""

from __future__ import annotations

import torch.nn.functional as F

from inpaintbench.training import Phase, Ramp, Schedule, StepContext, TrainingRecipe, center_box, dcgan_init, gan_loss, parse_fractions, paste_center

from .networks import Encoder, Generator, UnitRangeEncoder, global_discriminator, local_discriminator


class OursRecipe(TrainingRecipe):
    batch_size = 100
    lr = 3e-4
    betas = (0.5, 0.999)
    masks = ("center",)
    image_sizes = (128,)
    loss_names = ("reconstruction", "local_adv", "global_adv", "d_local", "d_global", "total")

    def build_networks(self):
        o = self.options
        networks = {"generator": Generator(o.width, o.bottleneck)}
        if o.variant in ("local", "full"):
            networks["local"] = local_discriminator(o.width)
        if o.variant == "full":
            networks["global"] = global_discriminator(o.width)
        return {name: dcgan_init(net) for name, net in networks.items()}

    def encoder(self):
        """The generator's encoder (128x128 -> 1x1x``bottleneck``), DCGAN-initialised as in :meth:`build_networks`."""
        return UnitRangeEncoder(dcgan_init(Encoder(self.options.width, self.options.bottleneck)))

    def schedule(self) -> Schedule:
        o = self.options
        if o.variant == "ce":
            return Schedule([Phase("reconstruction", 1.0, {"reconstruction": 1.0}, ("generator",))])
        f1, f2, f3 = parse_fractions(o.phases, 3)
        local = ("generator", "local")
        phases = [
            Phase("reconstruction", f1, {"reconstruction": 1.0, "local": 0.0}, ("generator",)),
            Phase("+local", f2, {"local": Ramp(0.0, o.lambda_local)}, local),
        ]
        if o.variant == "full":
            phases.append(Phase("+global", f3, {"global": Ramp(0.0, o.lambda_global)}, (*local, "global")))
        else:  # same length of run as ``full``, with the local weight held
            phases.append(Phase("+local", f3, {}, local))
        return Schedule(phases)

    def training_step(self, images, masks, ctx: StepContext):
        offset, side = center_box(self.image_size)
        net = ctx.networks
        truth_patch = images[:, :, offset : offset + side, offset : offset + side]
        masked = images * (1 - masks)  # the hole is 0 in [-1, 1]: the paper's zero-centred input
        with ctx.autocast():
            patch = net["generator"](masked).float()
        completed = paste_center(masked, patch, masks, offset)
        losses = {}
        adversaries = [(name, real, fake) for name, real, fake in (
            ("local", truth_patch, patch),
            ("global", images, completed),
        ) if ctx.trains(name)]
        for name, real, fake in adversaries:
            with ctx.autocast():
                d_loss = gan_loss(net[name](real), True) + gan_loss(net[name](fake.detach()), False)
            ctx.update(name, d_loss)
            losses[f"d_{name}"] = d_loss.detach()
        reconstruction = F.mse_loss(patch, truth_patch)
        total = ctx.weights["reconstruction"] * reconstruction
        losses["reconstruction"] = reconstruction.detach()
        for name, _, fake in adversaries:
            with ctx.autocast():
                adversarial = gan_loss(net[name](fake), True)
            total = total + ctx.weights[name] * adversarial
            losses[f"{name}_adv"] = adversarial.detach()
        ctx.update("generator", total)
        losses["total"] = total.detach()
        return losses

    def complete(self, networks, masked, masks):
        offset, _ = center_box(masked.shape[-1])
        return paste_center(masked, networks["generator"](masked), masks, offset)

