"""What ``inpaintbench experiment encoder-study`` runs (:class:`StudyConfig`), importable without torch.

The command's ``--help`` shows these defaults, so they live apart from the
study itself (:mod:`.encoder_study`), which needs torch.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from inpaintbench import registry
from inpaintbench.errors import InpaintbenchError

#: the --precision choices (autocast dtypes)
PRECISIONS = ("fp32", "bf16")


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """What ``inpaintbench experiment encoder-study`` runs; the defaults are the study's."""

    #: CIFAR-10 root (else its environment variable or the config file)
    root: str | Path | None = None
    methods: tuple[str, ...] = ("ours", "glcic")
    #: method options as command-line strings, per method: ``{"ours": {"width": "0.25"}}``
    options: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    seed: int = 0
    #: the encoders' input side (CIFAR's 32x32 images are upsampled to it)
    image_size: int = 128
    device: str = "auto"
    precision: str = "fp32"
    #: use only the first N training / test images (quick runs)
    limit_train: int | None = None
    limit_test: int | None = None
    #: experiment directory (default: experiments/encoder-study-s<seed>)
    out: str | Path | None = None

    def __post_init__(self) -> None:
        if not self.methods or len(set(self.methods)) != len(self.methods):
            raise InpaintbenchError(f"--methods {','.join(self.methods)!r}: name each method once")
        for name in self.methods:
            registry.method_class(name)  # an unknown name fails before the study imports torch
        unused = [name for name in self.options if name not in self.methods]
        if unused:
            raise InpaintbenchError(f"options given for {unused[0]!r}, which is not among --methods ({', '.join(self.methods)})")
        if self.precision not in PRECISIONS:
            raise InpaintbenchError(f"--precision {self.precision!r}: choose one of {', '.join(PRECISIONS)}")
        if self.epochs < 1 or self.batch_size < 2 or self.lr <= 0:
            raise InpaintbenchError("--epochs must be at least 1, --batch-size at least 2 and --lr positive")
        if (self.limit_train is not None and self.limit_train < 2) or (self.limit_test is not None and self.limit_test < 1):
            raise InpaintbenchError("--limit-train must be at least 2 (batch norm needs two images) and --limit-test at least 1")

    @property
    def directory(self) -> Path:
        return Path(self.out) if self.out is not None else Path("experiments") / f"encoder-study-s{self.seed}"
