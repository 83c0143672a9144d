"""Dataset loaders: the contract (:mod:`.base`), root resolution (:mod:`.config`) and the built-ins.

The plugin manager registers this module as a default plugin, so the built-in
loaders arrive through the same ``register_datasets`` hook an outside package uses.
"""

from __future__ import annotations

from ..hookspecs import hookimpl
from .base import Dataset, env_var, manifest_hash
from .cifar10 import CIFAR10
from .config import cache_dir, resolve_root
from .deepfashion import DeepFashion
from .dtd import DTD
from .folder import FolderDataset, ImageTreeDataset
from .imagenet import ImageNet
from .lsun import LSUN
from .paris_streetview import ParisStreetView
from .sample import Sample

BUILTIN_DATASETS: tuple[type[Dataset], ...] = (
    ParisStreetView,
    ImageNet,
    DeepFashion,
    DTD,
    LSUN,
    CIFAR10,
    FolderDataset,
    Sample,
)


@hookimpl
def register_datasets(register):
    """Register every built-in loader."""
    for dataset in BUILTIN_DATASETS:
        register(dataset)


__all__ = [
    "BUILTIN_DATASETS",
    "CIFAR10",
    "DTD",
    "Dataset",
    "DeepFashion",
    "FolderDataset",
    "ImageNet",
    "ImageTreeDataset",
    "LSUN",
    "ParisStreetView",
    "Sample",
    "cache_dir",
    "env_var",
    "manifest_hash",
    "register_datasets",
    "resolve_root",
]
