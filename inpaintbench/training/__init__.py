"""The training engine shared by every trainable method (``inpaintbench train``).

A trainable method supplies a :class:`TrainingRecipe` (networks, schedule, one
training step, inference); :func:`train` does the rest.
"""

from .config import TrainConfig, build_config
from .engine import TrainingInterrupted, TrainResult, train
from .recipe import StepContext, TrainingRecipe
from .schedule import Phase, Ramp, Schedule

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
