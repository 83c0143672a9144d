"""Multi-process training: DistributedDataParallel as launched by ``torchrun``.

``torchrun --nproc-per-node 8 -m inpaintbench train METHOD ...`` sets RANK,
WORLD_SIZE and LOCAL_RANK (read by :class:`inpaintbench.devices.Ranks`);
without them training runs in one process and this module does nothing.  NCCL is used on GPUs, gloo on CPUs.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.distributed as dist
from torch import nn

from ..devices import Ranks, torch_device


@dataclasses.dataclass(frozen=True)
class Processes:
    """This process's place among the training processes, and its device."""

    rank: int
    world_size: int
    device: torch.device
    #: whether :func:`start` created the process group (and :func:`stop` should end it); an
    #: experiment that trains several runs keeps one group, since torchrun's rendezvous is one-shot
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def start(requested_device: str) -> Processes:
    """Join the process group when launched by torchrun; otherwise a single process."""
    ranks = Ranks.from_environment()
    device = torch_device(requested_device, ranks)
    owns = ranks.distributed and not dist.is_initialized()
    if owns:
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Processes(ranks.rank, ranks.world_size, device, owns)


def stop(processes: Processes) -> None:
    if processes.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def sync_batch_norm(network: nn.Module, processes: Processes) -> nn.Module:
    """On several GPUs, batch norm over the global batch (as one GPU with the paper's batch 100 would).

    torch's SyncBatchNorm is GPU-only; on CPU each rank normalises its own
    slice and :func:`share_buffers` keeps the running statistics identical.
    """
    if processes.distributed and processes.device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(network)
    return network


def share_buffers(networks: dict[str, nn.Module], processes: Processes) -> None:
    """Copy rank 0's buffers (batch-norm running statistics) to every rank, so the replicas are identical.

    DDP broadcasts buffers before each forward, so they drift apart only by the
    last step's update; this runs before checkpoints and at the end.
    """
    if not processes.distributed:
        return
    for network in networks.values():
        for buffer in unwrap(network).buffers():
            dist.broadcast(buffer, src=0)


def wrap(network: nn.Module, processes: Processes) -> nn.Module:
    """DDP around a network when there are several processes (gradients averaged across ranks)."""
    if not processes.distributed:
        return network
    device_ids = [processes.device.index] if processes.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(network, device_ids=device_ids)


def unwrap(network: nn.Module) -> nn.Module:
    return network.module if isinstance(network, nn.parallel.DistributedDataParallel) else network


def mean_over_ranks(values: torch.Tensor, processes: Processes) -> torch.Tensor:
    """Average a small tensor of logged values over all ranks (identity in one process)."""
    if processes.distributed:
        values = values.clone()
        dist.all_reduce(values)
        values /= processes.world_size
    return values


def barrier(processes: Processes) -> None:
    if processes.distributed:
        dist.barrier()
