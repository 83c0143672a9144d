"""Precision and random state: what every training loop needs to get the same numbers twice.

The engine and any other loop (an experiment's own training) take their
autocast, grad scaler and RNG capture from here, so ``--precision`` means the
same thing everywhere and a resumed run continues bit for bit.
``PRECISIONS`` (the choices) lives in :mod:`.config`, which the CLI reads
without torch.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch

from .config import PRECISIONS

#: the autocast dtype of each ``--precision`` (None: plain fp32, no autocast)
AUTOCAST_DTYPES: dict[str, torch.dtype | None] = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
assert tuple(AUTOCAST_DTYPES) == PRECISIONS, "every --precision choice needs an autocast dtype"


def autocast_dtype(precision: str) -> torch.dtype | None:
    """The dtype forward passes run in under ``precision``; None for fp32."""
    try:
        return AUTOCAST_DTYPES[precision]
    except KeyError:
        raise ValueError(f"precision {precision!r}: choose one of {', '.join(PRECISIONS)}") from None


def autocast(device: torch.device | str, precision: str) -> contextlib.AbstractContextManager:
    """Mixed precision for a forward pass on ``device`` under a ``--precision`` name; a no-op in fp32."""
    return autocast_as(device, autocast_dtype(precision))


def autocast_as(device: torch.device | str, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    """:func:`autocast` for a dtype already looked up (None: fp32, a no-op).

    A no-op rather than a disabled autocast, so that an fp32 pass inside an
    outer autocast region is not forced back to fp32.
    """
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=dtype)


def grad_scaler(device: torch.device | str, precision: str) -> torch.amp.GradScaler:
    """A loss scaler that is active only in fp16 (bf16 has fp32's range and needs none)."""
    autocast_dtype(precision)  # refuse an unknown precision here too
    return torch.amp.GradScaler(torch.device(device).type, enabled=precision == "fp16")


def rng_state(device: torch.device | str) -> dict[str, Any]:
    """The random state a resumed run must restore: torch's CPU generator, and CUDA's on a CUDA device.

    Python's and numpy's global generators are not captured: training data is
    drawn from seeds addressed by position (:mod:`.data`), never from them.
    """
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.device(device).type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any], device: torch.device | str) -> None:
    """Put back what :func:`rng_state` captured (CUDA's only on a CUDA device, when it was saved).

    Raises KeyError, TypeError or RuntimeError for a state that is not one;
    the caller says which file held it.
    """
    torch.set_rng_state(state["torch"])
    if torch.device(device).type == "cuda" and state.get("cuda"):
        torch.cuda.set_rng_state_all(state["cuda"])
