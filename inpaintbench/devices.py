"""Where this process runs: its place among torchrun's processes, and the device it computes on.

The one place that reads torchrun's ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK`` and that turns ``--device auto|cpu|cuda`` into a device, so
evaluation, training and experiments agree.  torch is imported only when a
CUDA question is asked: listing methods or parsing options stays light.
"""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING

from .errors import InpaintbenchError

if TYPE_CHECKING:
    import torch

#: what ``--device`` accepts (``cuda:N`` too)
DEVICE_CHOICES = ("auto", "cpu", "cuda")


@dataclasses.dataclass(frozen=True)
class Ranks:
    """This process's place among the processes torchrun started; one process has rank 0 of 1."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    #: torchrun's rendezvous is there to join (``MASTER_ADDR``): the ranks can wait for each other
    rendezvous: bool = False

    @classmethod
    def from_environment(cls) -> Ranks:
        """torchrun's variables, or a single process when they are absent."""
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        if world_size <= 1:
            return cls()
        return cls(
            int(os.environ.get("RANK", "0")), world_size, int(os.environ.get("LOCAL_RANK", "0")), "MASTER_ADDR" in os.environ
        )

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 speaks for all ranks (messages, tables, merged results)."""
        return self.rank == 0

    @property
    def shard(self) -> tuple[int, int]:
        """The evaluation shard K/N this rank scores."""
        return (self.rank, self.world_size)

    def use_local_gpu(self) -> None:
        """Each rank on its own GPU: ``cuda`` then means ``cuda:LOCAL_RANK`` (no-op without CUDA)."""
        if self.distributed and cuda_available():
            import torch

            torch.cuda.set_device(self.local_rank % torch.cuda.device_count())


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def check_device(requested: str) -> None:
    """Refuse an unknown device, or CUDA on a machine without it, before any work starts (``auto`` never fails)."""
    if requested not in DEVICE_CHOICES and not requested.startswith("cuda:"):
        raise InpaintbenchError(f"--device {requested}: use cpu, cuda or auto")
    if requested.startswith("cuda") and not cuda_available():
        import torch

        build = "this torch is built without CUDA" if torch.version.cuda is None else "no CUDA device is visible"
        raise InpaintbenchError(f"--device {requested}: no CUDA on this machine ({build}); use --device cpu, or auto")


def pick_device(requested: str, supported: tuple[str, ...] = ("cpu", "cuda")) -> str:
    """``requested`` after :func:`check_device`; ``auto`` is CUDA when ``supported`` has it and the machine does."""
    check_device(requested)
    if requested != "auto":
        return requested
    return "cuda" if "cuda" in supported and cuda_available() else "cpu"


def torch_device(requested: str, ranks: Ranks | None = None) -> torch.device:
    """The torch device of ``requested`` (``auto`` resolved); plain ``cuda`` is this rank's local GPU."""
    import torch

    name = pick_device(requested)
    if name == "cuda":
        return torch.device("cuda", (ranks or Ranks()).local_rank % torch.cuda.device_count())
    return torch.device(name)
