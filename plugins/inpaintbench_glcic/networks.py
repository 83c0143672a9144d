"""GLCIC's networks (Iizuka et al. 2017, Tables 1-3), layer by layer.

The completion network is fully convolutional: 17 layers, every one but the
last followed by batch norm and ReLU (in that order), four dilated 3x3
convolutions at a quarter of the resolution, a sigmoid output in [0, 1].  It
works at any image side that is a multiple of 4.  Its input is the image with
the training set's mean pixel subtracted and the hole set to 0 (so the hole
holds the mean pixel), plus the mask as a fourth channel, as the authors'
``inpaint.lua`` builds it; the mean pixel is a buffer of the network, so it
travels with the weights as ``data.mean`` does in their released model file.

Convolutions keep their bias even before batch norm, as in the released
model, so the layer table and parameter counts match it.  ``width`` scales
every channel count but the RGB ends (1.0 is the paper; tests use less).
"""

from __future__ import annotations

import torch
from torch import nn

#: the paper's Table 1: (kind, kernel, stride or dilation, output channels); "deconv" is 4x4 with stride 1/2
COMPLETION_LAYERS: tuple[tuple[str, int, int, int], ...] = (
    ("conv", 5, 1, 64),
    ("conv", 3, 2, 128),
    ("conv", 3, 1, 128),
    ("conv", 3, 2, 256),
    ("conv", 3, 1, 256),
    ("conv", 3, 1, 256),
    ("dilated", 3, 2, 256),
    ("dilated", 3, 4, 256),
    ("dilated", 3, 8, 256),
    ("dilated", 3, 16, 256),
    ("conv", 3, 1, 256),
    ("conv", 3, 1, 256),
    ("deconv", 4, 2, 128),
    ("conv", 3, 1, 128),
    ("deconv", 4, 2, 64),
    ("conv", 3, 1, 32),
)
#: GLCIC's encoder: the layers before the first "deconv" (12), everything that runs at full, 1/2 or 1/4 resolution
ENCODER_LAYERS = next(index for index, (kind, *_) in enumerate(COMPLETION_LAYERS) if kind == "deconv")
#: discriminator convolutions (5x5, stride 2): the local one has five, the global one a sixth
DISCRIMINATOR_CHANNELS = (64, 128, 256, 512, 512, 512)
LOCAL_CONVOLUTIONS, GLOBAL_CONVOLUTIONS = 5, 6
#: each discriminator ends in a fully-connected layer to this many features
FEATURES = 1024


def channels(base: int, width: float) -> int:
    return max(1, round(base * width))


def _layer(kind: str, kernel: int, step: int, cin: int, cout: int) -> nn.Module:
    if kind == "deconv":
        return nn.ConvTranspose2d(cin, cout, kernel, stride=step, padding=1)
    dilation, stride = (step, 1) if kind == "dilated" else (1, step)
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=dilation * (kernel // 2), dilation=dilation)


def network_input(images: torch.Tensor, masks: torch.Tensor, mean_pixel: torch.Tensor) -> torch.Tensor:
    """RGB minus the mean pixel with the hole at 0 (the mean pixel, centred), then the mask: (N, 4, H, W).

    ``images`` are in [0, 1]; whatever they hold inside the hole is discarded here.
    """
    centred = (images - mean_pixel.view(1, 3, 1, 1)) * (1 - masks)
    return torch.cat([centred, masks.to(centred.dtype)], dim=1)


class CompletionNetwork(nn.Module):
    """Image in [0, 1] and hole mask -> the completed image in [0, 1] (every pixel predicted)."""

    mean_pixel: torch.Tensor  # a registered buffer (see __init__)

    def __init__(self, width: float = 1.0):
        super().__init__()
        layers: list[nn.Module] = []
        cin = 4
        for kind, kernel, step, base in COMPLETION_LAYERS:
            cout = channels(base, width)
            layers += [_layer(kind, kernel, step, cin, cout), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
            cin = cout
        layers += [nn.Conv2d(cin, 3, 3, padding=1), nn.Sigmoid()]
        self.layers = nn.Sequential(*layers)
        #: the training set's mean pixel, RGB in [0, 1]; set before training (see recipe.prepare)
        self.register_buffer("mean_pixel", torch.full((3,), 0.5))

    def forward(self, images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        return self.layers(network_input(images, masks, self.mean_pixel))


class CompletionEncoder(nn.Module):
    """The completion network's first :data:`ENCODER_LAYERS` layers: image in [0, 1] -> (N, 256·width, H/4, W/4).

    These are the down-sampling convolutions, the four dilated convolutions
    and the two convolutions after them: every layer before the first
    transposed convolution.  The network has no bottleneck vector; it encodes
    into a 1/4-resolution feature map, and the transposed convolutions that
    follow are where it starts decoding back to the image, so the cut goes
    there.  The input is built as the full network builds it (mean pixel
    subtracted, mask channel) with an empty hole: the study's images have none.
    The layer modules are shared with ``network``, not copied.
    """

    mean_pixel: torch.Tensor  # a registered buffer (see __init__)

    def __init__(self, network: CompletionNetwork):
        super().__init__()
        self.layers = network.layers[: 3 * ENCODER_LAYERS]  # each layer is conv, batch norm, ReLU
        self.register_buffer("mean_pixel", network.mean_pixel.clone())

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        no_hole = images.new_zeros(images.shape[0], 1, *images.shape[2:])
        return self.layers(network_input(images, no_hole, self.mean_pixel))


def _side_after(side: int, convolutions: int) -> int:
    """Spatial side after ``convolutions`` 5x5 stride-2 convolutions with padding 2."""
    for _ in range(convolutions):
        side = (side + 1) // 2
    return side


class _ContextBranch(nn.Module):
    """5x5 stride-2 conv + BN + ReLU layers, then FC -> 1024 features (+ ReLU)."""

    def __init__(self, convolutions: int, input_side: int, width: float):
        super().__init__()
        widths = [3, *(channels(c, width) for c in DISCRIMINATOR_CHANNELS[:convolutions])]
        layers: list[nn.Module] = []
        for cin, cout in zip(widths, widths[1:]):
            layers += [nn.Conv2d(cin, cout, 5, stride=2, padding=2), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*layers)
        side = _side_after(input_side, convolutions)
        self.fc = nn.Linear(widths[-1] * side * side, channels(FEATURES, width))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc(self.features(image).flatten(1)))


class ContextDiscriminator(nn.Module):
    """The local (hole patch) and global (whole image) discriminators, concatenated -> FC -> 1 logit.

    The sigmoid of the paper is applied in the loss (binary cross-entropy on logits).
    """

    def __init__(self, image_size: int, patch_size: int, width: float = 1.0):
        super().__init__()
        self.local_branch = _ContextBranch(LOCAL_CONVOLUTIONS, patch_size, width)
        self.global_branch = _ContextBranch(GLOBAL_CONVOLUTIONS, image_size, width)
        self.classifier = nn.Linear(2 * channels(FEATURES, width), 1)

    def forward(self, patches: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.cat([self.local_branch(patches), self.global_branch(images)], dim=1))
