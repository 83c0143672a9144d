"""The training engine shared by every trainable method (``inpaintbench train``).

A trainable method subclasses :class:`TrainableMethod` and supplies a
:class:`TrainingRecipe` (networks, schedule, one training step, inference);
:func:`train` does the rest.  ``__all__`` is what a method's plugin imports
from here; the submodules' other names are the engine's own.

The names below are imported from their modules on first use, so importing
this package (or a light submodule such as :mod:`.config` or :mod:`.schedule`)
does not import torch: the CLI reads ``PRECISIONS`` for its help text, and a
plugin's options module uses :func:`parse_fractions`, without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what __getattr__ loads, for type checkers; __all__ (built from _EXPORTS) re-exports it, which pyflakes cannot see
    from .config import PRECISIONS, TrainConfig, build_config  # noqa: F401
    from .data import TrainingStream  # noqa: F401
    from .engine import TrainingInterrupted, TrainResult, train  # noqa: F401
    from .gan import center_box, dcgan_init, gan_loss, paste_center, require_center_masks  # noqa: F401
    from .method import TrainableMethod  # noqa: F401
    from .numerics import AUTOCAST_DTYPES, autocast, autocast_dtype, grad_scaler, restore_rng_state, rng_state  # noqa: F401
    from .recipe import StepContext, TrainingRecipe, adam  # noqa: F401
    from .schedule import Phase, PhaseState, Ramp, Schedule, parse_fractions  # noqa: F401

#: exported name -> the submodule that defines it
_EXPORTS = {
    # the method and its recipe
    "TrainableMethod": "method",
    "TrainingRecipe": "recipe",
    "StepContext": "recipe",
    "adam": "recipe",
    # the phases of a run
    "Schedule": "schedule",
    "Phase": "schedule",
    "PhaseState": "schedule",
    "Ramp": "schedule",
    "parse_fractions": "schedule",
    # pieces GAN-style inpainting recipes share
    "center_box": "gan",
    "dcgan_init": "gan",
    "gan_loss": "gan",
    "paste_center": "gan",
    "require_center_masks": "gan",
    # the data a recipe may look at before its networks are built
    "TrainingStream": "data",
    # precision and random state, for any training loop
    "AUTOCAST_DTYPES": "numerics",
    "autocast": "numerics",
    "autocast_dtype": "numerics",
    "grad_scaler": "numerics",
    "rng_state": "numerics",
    "restore_rng_state": "numerics",
    # running it
    "PRECISIONS": "config",
    "TrainConfig": "config",
    "build_config": "config",
    "train": "engine",
    "TrainResult": "engine",
    "TrainingInterrupted": "engine",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
