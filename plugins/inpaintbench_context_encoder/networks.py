"""Context Encoder networks as the authors' released Torch code builds them (center inpainting).

* encoder: 4x4/2 convolutions 3→64→64→128→256→512 (batch norm from the
  second on, LeakyReLU(0.2) after each), then a 4x4 valid convolution to the
  ``bottleneck``-d code with batch norm and LeakyReLU;
* decoder: the DCGAN generator, 4x4 transposed convolutions
  ``bottleneck``→512→256→128→64 (batch norm + ReLU) and 64→3 with Tanh: the
  64x64 center patch;
* discriminator, on that patch: 4x4/2 convolutions 3→64→128→256→512 (batch norm
  from the second on, LeakyReLU(0.2)), then a 4x4 valid convolution to one logit.

No convolution has a bias: the released training loop zeroes every
convolution's bias before each forward pass, so its networks compute as if
they had none.  ``width`` scales every channel count but the RGB ends (1.0 is
the release; tests use small widths), ``bottleneck`` is the 4000-d code.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn


def _channels(base: int, width: float) -> int:
    return max(1, round(base * width))


def _downsampling(channels: list[int]) -> list[nn.Module]:
    """4x4/2 convolutions between consecutive ``channels``, batch norm from the second, LeakyReLU(0.2)."""
    layers: list[nn.Module] = []
    for index, (cin, cout) in enumerate(zip(channels, channels[1:])):
        layers.append(nn.Conv2d(cin, cout, 4, 2, 1, bias=False))
        if index > 0:  # DCGAN: no batch norm on the layer that sees the image
            layers.append(nn.BatchNorm2d(cout))
        layers.append(nn.LeakyReLU(0.2, inplace=True))
    return layers


class Encoder(nn.Sequential):
    """128x128x3 context -> 1x1x``bottleneck`` code."""

    def __init__(self, width: float = 1.0, bottleneck: int = 4000):
        channels = [3, *(_channels(c, width) for c in (64, 64, 128, 256, 512))]
        super().__init__(
            *_downsampling(channels),  # 4x4
            nn.Conv2d(channels[-1], bottleneck, 4, bias=False),  # 1x1
            nn.BatchNorm2d(bottleneck),
            nn.LeakyReLU(0.2, inplace=True),
        )


class Decoder(nn.Sequential):
    """1x1x``bottleneck`` code -> 64x64x3 patch in [-1, 1]."""

    def __init__(self, width: float = 1.0, bottleneck: int = 4000):
        channels = [bottleneck, *(_channels(c, width) for c in (512, 256, 128, 64))]
        layers: list[nn.Module] = []
        for index, (cin, cout) in enumerate(zip(channels, channels[1:])):
            stride, padding = (1, 0) if index == 0 else (2, 1)  # 1 -> 4, then doubling to 32
            layers += [nn.ConvTranspose2d(cin, cout, 4, stride, padding, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
        layers += [nn.ConvTranspose2d(channels[-1], 3, 4, 2, 1, bias=False), nn.Tanh()]
        super().__init__(*layers)


class Generator(nn.Sequential):
    """The context encoder: 128x128 context with the hole filled -> predicted 64x64 center patch."""

    def __init__(self, width: float = 1.0, bottleneck: int = 4000):
        super().__init__(OrderedDict(encoder=Encoder(width, bottleneck), decoder=Decoder(width, bottleneck)))


class Discriminator(nn.Sequential):
    """64x64x3 patch -> one logit (real or predicted center)."""

    def __init__(self, width: float = 1.0):
        channels = [3, *(_channels(c, width) for c in (64, 128, 256, 512))]
        super().__init__(*_downsampling(channels), nn.Conv2d(channels[-1], 1, 4, bias=False), nn.Flatten())
