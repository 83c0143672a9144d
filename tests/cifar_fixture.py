"""Tiny CIFAR-10 copies in the official pickle format, for the loader and encoder-study tests."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]


def write_cifar_batch(path: Path, images: np.ndarray, labels: list[int]) -> None:
    """A batch in the official format: a protocol-2 pickle naming numpy.core, bytes keys."""
    batch = {
        b"batch_label": b"testing batch 1 of 1",
        b"labels": labels,
        b"data": images.transpose(0, 3, 1, 2).reshape(len(images), 3072),  # HWC -> CHW planes
        b"filenames": [f"img_{i}.png".encode() for i in range(len(images))],
    }
    data = pickle.dumps(batch, protocol=2).replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def make_cifar(folder: Path, per_batch: int = 3) -> dict[str, np.ndarray]:
    """Random images in every batch file; labels cycle through the classes."""
    rng = np.random.default_rng(0)
    batches = {}
    for index, name in enumerate(TRAIN_BATCHES + ["test_batch"]):
        images = rng.integers(0, 256, (per_batch, 32, 32, 3), dtype=np.uint8)
        write_cifar_batch(folder / name, images, [(index + row) % 10 for row in range(per_batch)])
        batches[name] = images
    return batches


#: a distinct colour per class, far enough apart that a classifier can learn them through the noise
PALETTE = np.array(
    [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
     (145, 30, 180), (70, 240, 240), (240, 50, 230), (128, 128, 128), (20, 20, 20)],
    dtype=np.float64,
)


def learnable_images(rng: np.random.Generator, labels: np.ndarray, noise: float = 40.0) -> np.ndarray:
    """Images whose class shows: the class colour in the top half, its colour rotated in the bottom half, plus noise."""
    images = np.empty((len(labels), 32, 32, 3))
    images[:, :16] = PALETTE[labels][:, None, None, :]
    images[:, 16:] = PALETTE[(labels + 3) % 10][:, None, None, :]
    images += rng.normal(0.0, noise, images.shape)
    return np.clip(np.rint(images), 0, 255).astype(np.uint8)


def make_learnable_cifar(folder: Path, train: int, test: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``train`` images spread over the five training batches and ``test`` in the test batch; returns the test labels and images."""
    rng = np.random.default_rng(seed)
    for name, count in zip(TRAIN_BATCHES, np.array_split(np.arange(train), len(TRAIN_BATCHES))):
        labels = rng.integers(0, 10, len(count))
        write_cifar_batch(folder / name, learnable_images(rng, labels), labels.tolist())
    labels = rng.integers(0, 10, test)
    images = learnable_images(rng, labels)
    write_cifar_batch(folder / "test_batch", images, labels.tolist())
    return labels, images
