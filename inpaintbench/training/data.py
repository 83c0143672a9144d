"""Training data: an endless, seeded stream of (random crop, hole) samples.

Sample ``p`` of the stream is item ``perm(seed, epoch)[p mod n]`` with
``epoch = p div n``, cropped and masked with a generator seeded by (seed, p).
Nothing depends on which worker or which process decodes it, so

* resuming at step k reads exactly the samples an uninterrupted run would,
  without replaying the first k batches;
* the stream is the same for any ``--workers``;
* under DDP each rank takes its own slice of every global batch, and the
  union over ranks is the single-process batch.

A batch larger than the dataset simply runs into the next epoch's permutation.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler

from ..datasets.base import Dataset
from ..errors import DatasetError, ImageReadError
from ..protocol import Protocol

log = logging.getLogger(__name__)

_STREAM = 0x7EA1  # separates the training stream's seeds from evaluation masks


class TrainingStream(torch.utils.data.Dataset):
    """Map-style view of the stream: ``stream[p]`` is sample ``p`` as uint8 image (H, W, 3) and bool mask (H, W)."""

    def __init__(
        self,
        dataset: Dataset,
        item_ids: list[str],
        protocol: Protocol,
        seed: int,
        resize_to: int | None = None,
        flip: bool = False,
    ):
        if not item_ids:
            raise DatasetError(f"dataset {dataset.name!r} split {dataset.split!r} has no images to train on")
        self.dataset = dataset
        self.item_ids = item_ids
        self.protocol = protocol
        self.seed = seed
        self.resize_to = resize_to
        self.flip = flip
        self._permutations: dict[int, np.ndarray] = {}

    def __len__(self) -> int:  # one epoch; the sampler indexes beyond it
        return len(self.item_ids)

    def permutation(self, epoch: int) -> np.ndarray:
        if epoch not in self._permutations:
            if len(self._permutations) > 4:
                self._permutations.clear()
            rng = np.random.default_rng([self.seed, _STREAM, epoch])
            self._permutations[epoch] = rng.permutation(len(self.item_ids))
        return self._permutations[epoch]

    def item_at(self, position: int) -> str:
        epoch, offset = divmod(position, len(self.item_ids))
        return self.item_ids[self.permutation(epoch)[offset]]

    def __getitem__(self, position: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self.seed, _STREAM, 1 << 40, position])
        image = self._read(position)
        crop = self.protocol.prepare_for_training(image, rng, self.resize_to, self.flip)
        return crop, self.protocol.training_mask(rng)

    def _read(self, position: int) -> np.ndarray:
        """Decode the item at ``position``; an unreadable item is replaced by the next one of the epoch."""
        for attempt in range(len(self.item_ids)):
            item_id = self.item_at(position + attempt)
            try:
                return self.dataset.read(item_id)
            except ImageReadError as error:
                log.warning("skipping unreadable training image: %s", error)
        raise DatasetError(f"dataset {self.dataset.name!r}: no image of split {self.dataset.split!r} could be read")


class StepBatches(Sampler):
    """Yields, for each step from ``start_step`` on, this rank's positions of the global batch."""

    def __init__(self, start_step: int, total_steps: int, batch_size: int, rank: int = 0, world_size: int = 1):
        if batch_size % world_size:
            raise DatasetError(f"--batch-size {batch_size} must be divisible by the number of processes ({world_size})")
        self.start_step = start_step
        self.total_steps = total_steps
        self.batch_size = batch_size
        self.per_rank = batch_size // world_size
        self.rank = rank

    def __len__(self) -> int:
        return max(0, self.total_steps - self.start_step)

    def __iter__(self) -> Iterator[list[int]]:
        for step in range(self.start_step, self.total_steps):
            first = step * self.batch_size + self.rank * self.per_rank
            yield list(range(first, first + self.per_rank))


def _collate(samples: list[tuple[np.ndarray, np.ndarray]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack to uint8 (N, H, W, 3) and bool (N, H, W): small to copy, converted on the device."""
    images = torch.from_numpy(np.stack([image for image, _ in samples]))
    masks = torch.from_numpy(np.stack([mask for _, mask in samples]))
    return images, masks


def _worker_init(_: int) -> None:
    import cv2

    cv2.setNumThreads(1)  # each worker decodes one image at a time; OpenCV threads would oversubscribe
    torch.set_num_threads(1)


def make_loader(stream: TrainingStream, sampler: StepBatches, workers: int, pin_memory: bool) -> DataLoader:
    """A DataLoader over the stream that prefetches a few batches per worker.

    Workers are spawned, not forked: a child forked from a process whose
    OpenCV (or CUDA) thread pool is running can deadlock on its first call.
    The loader gets a generator of its own: by default it draws its workers'
    base seed from torch's global generator, which would shift the global
    state a resumed run restores (and so any dropout or noise after it).
    Samples do not depend on that seed: they are addressed by position.
    """
    return DataLoader(
        stream,
        batch_sampler=sampler,
        num_workers=workers,
        collate_fn=_collate,
        pin_memory=pin_memory,
        worker_init_fn=_worker_init if workers else None,
        prefetch_factor=4 if workers else None,
        persistent_workers=False,
        multiprocessing_context="spawn" if workers else None,
        generator=torch.Generator().manual_seed(stream.seed),
    )


def to_model_input(images: torch.Tensor, masks: torch.Tensor, device: torch.device, channels_last: bool = False):
    """uint8 NHWC -> float NCHW in [-1, 1] and a float (N, 1, H, W) mask, on ``device``."""
    images = images.to(device, non_blocking=True).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)
    masks = masks.to(device, non_blocking=True).unsqueeze(1).float()
    if channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    else:
        images = images.contiguous()
    return images, masks


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """float NCHW in [-1, 1] -> uint8 NHWC numpy (rounded, clipped)."""
    scaled = (images.detach().float().clamp(-1, 1) + 1.0) * 127.5
    return scaled.round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
