"""The paper's networks (its Tables II-V; docs/methods.md), layer by layer.

Every convolution followed by batch norm has no bias (the norm's shift makes
it redundant); the decoder's last layer and the discriminators' FC layers keep
theirs.  ``width`` scales every channel count but the RGB ends (1.0 is the
paper; tests use small widths for speed), ``bottleneck`` is the 4000-d code.
Weights start from the DCGAN initialisation, N(0, 0.02) for convolutions and
N(1, 0.02) for batch-norm scales, which the decoder's DCGAN design assumes.
"""

from __future__ import annotations

from torch import nn


def _channels(base: int, width: float) -> int:
    return max(1, round(base * width))


def _conv_block(cin: int, cout: int, kernel: int, stride: int, padding: int, activation: nn.Module) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, kernel, stride, padding, bias=False), nn.BatchNorm2d(cout), activation]


class Encoder(nn.Sequential):
    """128x128x3 -> 1x1x``bottleneck``: 5 convolutions (the third is the 1x1 Network-in-Network layer), 2 max-pools."""

    def __init__(self, width: float = 1.0, bottleneck: int = 4000):
        c64, c128, c256, c512 = (_channels(c, width) for c in (64, 128, 256, 512))
        lrelu = lambda: nn.LeakyReLU(0.2, inplace=True)  # noqa: E731
        super().__init__(
            *_conv_block(3, c64, 4, 2, 1, lrelu()),  # 64x64
            nn.MaxPool2d(2),  # 32x32
            *_conv_block(c64, c128, 4, 2, 1, lrelu()),  # 16x16
            nn.MaxPool2d(2),  # 8x8
            *_conv_block(c128, c256, 1, 1, 0, lrelu()),  # 8x8, 1x1 conv
            *_conv_block(c256, c512, 4, 2, 1, lrelu()),  # 4x4
            *_conv_block(c512, bottleneck, 4, 1, 0, lrelu()),  # 1x1
        )


class UnitRangeEncoder(nn.Module):
    """The :class:`Encoder` for images in [0, 1] (the encoder study's input): rescaled to the [-1, 1] it trains on."""

    def __init__(self, encoder: Encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, images):
        return self.encoder(images * 2 - 1)


class Decoder(nn.Sequential):
    """1x1x``bottleneck`` -> 64x64x3 in [-1, 1]: the DCGAN generator's 5 transposed convolutions."""

    def __init__(self, width: float = 1.0, bottleneck: int = 4000):
        c64, c128, c256, c512 = (_channels(c, width) for c in (64, 128, 256, 512))
        layers: list[nn.Module] = []
        for cin, cout, stride, padding in ((bottleneck, c512, 1, 0), (c512, c256, 2, 1), (c256, c128, 2, 1), (c128, c64, 2, 1)):
            layers += [nn.ConvTranspose2d(cin, cout, 4, stride, padding, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
        layers += [nn.ConvTranspose2d(c64, 3, 4, 2, 1), nn.Tanh()]
        super().__init__(*layers)


class Generator(nn.Module):
    """The context encoder: masked 128x128 image -> predicted 64x64 center patch."""

    def __init__(self, width: float = 1.0, bottleneck: int = 4000):
        super().__init__()
        self.encoder = Encoder(width, bottleneck)
        self.decoder = Decoder(width, bottleneck)

    def forward(self, masked):
        return self.decoder(self.encoder(masked))


class Discriminator(nn.Module):
    """``convolutions`` 4x4/2 conv + BN + ReLU layers down to 4x4x512, then FC -> 1 logit.

    Four layers on the 64x64 hole patch make D_L (Table V); five on the whole
    128x128 image make D_G (Table IV).
    """

    def __init__(self, convolutions: int, width: float = 1.0):
        super().__init__()
        bases = (64, 128, 256, 512, 512)[:convolutions]
        channels = [3, *(_channels(c, width) for c in bases)]
        layers: list[nn.Module] = []
        for cin, cout in zip(channels, channels[1:]):
            layers += _conv_block(cin, cout, 4, 2, 1, nn.ReLU(inplace=True))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels[-1] * 4 * 4, 1)

    def forward(self, image):
        return self.classifier(self.features(image).flatten(1))


def local_discriminator(width: float = 1.0) -> Discriminator:
    return Discriminator(4, width)


def global_discriminator(width: float = 1.0) -> Discriminator:
    return Discriminator(5, width)
