"""CIFAR-10 as a classification set: a whole split's images and labels at once, for the encoder study.

The core's ``cifar10`` loader serves images one id at a time, as inpainting
needs them.  Training a classifier reads every image every epoch, and 50,000
reads by id would cost more than the arithmetic, so the study reads the
split's batch files whole, through the loader's own (safe, cached) reader.
"""

from __future__ import annotations

import numpy as np

from inpaintbench.datasets.cifar10 import CIFAR10, load_batch

#: the registered name of the dataset the study classifies
DATASET = "cifar10"


def split_arrays(dataset: CIFAR10) -> tuple[np.ndarray, np.ndarray]:
    """The whole split in item order: images (N, 32, 32, 3) uint8 and labels (N,) int64 (0-9, as in ``batches.meta``)."""
    batches = [load_batch(path) for path in dataset.batch_paths()]
    images = np.concatenate([images for images, _ in batches])
    labels = np.concatenate([np.asarray(labels, dtype=np.int64) for _, labels in batches])
    return images, labels
