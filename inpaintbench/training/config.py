"""The training configuration: one typed record of everything that shapes a run.

Values come from, in increasing priority: the recipe's defaults (the method's
paper values), a TOML file (``--config``), and the command line.  The resolved
config is written into every checkpoint, so a run can be resumed, audited and
compared without the command that started it.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from pathlib import Path
from typing import Any

from ..errors import InpaintbenchError

PRECISIONS = ("fp32", "bf16", "fp16")
#: where ``train`` puts runs by default, and where ``compare`` looks for them
_RUNS_DIR = Path("runs")


def default_run_dir(method: str, dataset: str, seed: int | str) -> Path:
    """``runs/<method>-<dataset>-s<seed>``; ``seed="*"`` gives the glob pattern of every seed."""
    return _RUNS_DIR / f"{method}-{dataset}-s{seed}"


@dataclasses.dataclass
class TrainConfig:
    """What ``inpaintbench train`` was asked to do."""

    method: str
    dataset: str = "sample"
    root: str | None = None
    #: default: the dataset's ``train`` split when it has one, else its default split
    split: str | None = None
    #: run directory; default ``runs/<method>-<dataset>-s<seed>``
    out: str | None = None
    steps: int | None = None
    epochs: float | None = None
    #: global batch (summed over processes); default: the recipe's (its paper's value)
    batch_size: int | None = None
    #: default: the recipe's learning rate
    lr: float | None = None
    device: str = "auto"
    precision: str = "fp32"
    workers: int = 2
    seed: int = 0
    image_size: int = 128
    #: training mask protocol (default: the recipe's first)
    mask: str | None = None
    #: shorter side before the random crop (default: the recipe's; every built-in recipe: image_size, the evaluation's scale)
    resize_to: int | None = None
    #: random horizontal flips (default: the recipe's)
    flip: bool | None = None
    checkpoint_every: int = 1000
    sample_every: int = 500
    #: continue the run in ``out`` from its checkpoint
    resume: bool = False
    #: method options, as ``-o key=value`` strings
    options: dict[str, str] = dataclasses.field(default_factory=dict)
    #: bit-exact runs (torch deterministic algorithms); on CPU runs already are
    deterministic: bool = False
    #: use channels_last memory format (a win on recent GPUs, a loss on CPU)
    channels_last: bool = False

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise InpaintbenchError(f"--precision {self.precision!r}: choose one of {', '.join(PRECISIONS)}")
        if self.steps is not None and self.epochs is not None:
            raise InpaintbenchError("give --steps or --epochs, not both")
        for name in ("steps", "batch_size", "checkpoint_every", "sample_every"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise InpaintbenchError(f"--{name.replace('_', '-')} must be at least 1 (got {value})")
        if self.epochs is not None and self.epochs <= 0:
            raise InpaintbenchError(f"--epochs must be positive (got {self.epochs})")
        if self.workers < 0:
            raise InpaintbenchError(f"--workers must be 0 or more (got {self.workers})")

    def run_dir(self) -> Path:
        return Path(self.out) if self.out else default_run_dir(self.method, self.dataset, self.seed)

    def total_steps(self, dataset_size: int, batch_size: int) -> int:
        """``--steps``, or enough steps for ``--epochs`` passes over the data (default: 1 epoch)."""
        if self.steps is not None:
            return self.steps
        return max(1, math.ceil((self.epochs or 1.0) * dataset_size / batch_size))

    def to_record(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _load_config_file(path: Path) -> dict[str, Any]:
    """Read a TOML training config; its keys are TrainConfig's field names (``batch-size`` works too)."""
    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise InpaintbenchError(f"training config {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise InpaintbenchError(f"training config {path} is not valid TOML: {error}") from None
    known = {field.name for field in dataclasses.fields(TrainConfig)}
    values = {key.replace("-", "_"): value for key, value in raw.items()}
    unknown = sorted(set(values) - known)
    if unknown:
        raise InpaintbenchError(f"training config {path}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    if "options" in values:
        if not isinstance(values["options"], dict):
            raise InpaintbenchError(f"training config {path}: 'options' must be a table of method options")
        values["options"] = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in values["options"].items()}
    return values


def build_config(method: str, file: Path | None, overrides: dict[str, Any]) -> TrainConfig:
    """Defaults < config file < command line (``None`` on the command line means "not given")."""
    values: dict[str, Any] = _load_config_file(file) if file else {}
    options = dict(values.pop("options", {}))
    options.update(overrides.pop("options", None) or {})
    values.update({key: value for key, value in overrides.items() if value is not None})
    for key in ("root", "out"):  # plain strings: checkpoints hold only primitive values
        if values.get(key) is not None:
            values[key] = str(values[key])
    if "method" in values and values["method"] != method:
        raise InpaintbenchError(f"training config {file} is for method {values['method']!r}, not {method!r}")
    values["method"] = method
    return TrainConfig(**values, options=options)
