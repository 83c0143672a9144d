"""The training engine shared by every trainable method (``inpaintbench train``).

A trainable method supplies a :class:`TrainingRecipe` (networks, schedule, one
training step, inference); :func:`train` does the rest.

The names below are imported from their modules on first use, so importing
this package (or a light submodule such as :mod:`.config` or :mod:`.schedule`)
does not import torch: the CLI reads ``PRECISIONS`` for its help text, and a
plugin's options module uses :func:`.schedule.parse_fractions`, without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import TrainConfig, build_config
    from .engine import TrainingInterrupted, TrainResult, train
    from .recipe import StepContext, TrainingRecipe
    from .schedule import Phase, Ramp, Schedule

#: exported name -> the submodule that defines it
_EXPORTS = {
    "Phase": "schedule",
    "Ramp": "schedule",
    "Schedule": "schedule",
    "StepContext": "recipe",
    "TrainConfig": "config",
    "TrainResult": "engine",
    "TrainingInterrupted": "engine",
    "TrainingRecipe": "recipe",
    "build_config": "config",
    "train": "engine",
}

__all__ = [
    "Phase",
    "Ramp",
    "Schedule",
    "StepContext",
    "TrainConfig",
    "TrainResult",
    "TrainingInterrupted",
    "TrainingRecipe",
    "build_config",
    "train",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value
