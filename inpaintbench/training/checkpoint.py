"""Checkpoints: written atomically in the background, read without unpickling code.

Two files live in a run directory:

* ``checkpoint.pt`` — everything needed to resume exactly: every network,
  optimiser and grad-scaler state, the torch RNG states, the step, the phase,
  the resolved config and the dataset's manifest hash;
* ``model.pt`` — what evaluation needs: the inference networks' weights, the
  method's options and the training provenance.

Both are plain ``torch.save`` dictionaries of tensors and primitive values, and
are always read with ``torch.load(weights_only=True)``: a file that would need
arbitrary Python objects to load is refused, never executed.
"""

from __future__ import annotations

import errno
import os
import pickle
import re
import shutil
import threading
import zipfile
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError

FORMAT = "inpaintbench-checkpoint"
MODEL_FORMAT = "inpaintbench-model"
VERSION = 1
CHECKPOINT_FILE = "checkpoint.pt"
MODEL_FILE = "model.pt"


def to_cpu(value: Any) -> Any:
    """A deep copy of a state tree with every tensor detached and cloned to CPU (a snapshot)."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {key: to_cpu(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_cpu(item) for item in value)
    return value


def save_atomic(payload: dict[str, Any], path: Path) -> None:
    """Write to a temporary file beside ``path``, flush to disk, then rename over it.

    torch reports a full disk as "unexpected pos ..."; that case is raised as
    the ``OSError`` it is, so the user reads "No space left on device".
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            torch.save(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except Exception as error:
        if not (isinstance(error, OSError) and error.errno == errno.ENOSPC) and _free_bytes(path.parent) < _FULL_DISK_BYTES:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)) from error
        raise
    finally:
        temporary.unlink(missing_ok=True)


#: less free space than this after a failed write means the disk filled up
_FULL_DISK_BYTES = 1 << 20


def _free_bytes(folder: Path) -> int:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return _FULL_DISK_BYTES


def remove_stale_temporaries(run_dir: Path) -> list[Path]:
    """Delete the temporary files of checkpoint writes that a killed process left (``.checkpoint.pt.<pid>.tmp``).

    At paper size each is about a gigabyte.  A file of a process that is still
    running (another writer in the same directory) is left alone.
    """
    removed = []
    for path in Path(run_dir).glob(".*.pt.*.tmp"):
        pid = path.name.rsplit(".", 2)[-2]
        if pid.isdigit() and int(pid) != os.getpid() and _running(int(pid)):
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def check_finite(networks: dict[str, dict[str, Any]], path: Path) -> None:
    """Refuse weights holding NaN or infinity: they would score as garbage, or poison a resumed run."""
    for network, state in networks.items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor) and value.is_floating_point() and not torch.isfinite(value).all():
                raise CheckpointError(
                    f"checkpoint {path} holds non-finite values (NaN or infinity) in {network}.{key}; "
                    "the run diverged or the file is damaged: use an earlier checkpoint or retrain"
                )


def require(payload: dict[str, Any], path: Path, keys: tuple[str, ...]) -> None:
    """One line naming the first missing entry of a checkpoint (crafted or damaged), instead of a KeyError later."""
    for key in keys:
        if key not in payload:
            raise CheckpointError(
                f"checkpoint {path} has no {key!r}: it was not written whole by inpaintbench train (crafted or "
                "damaged); resume from another copy or start a new run"
            )


class BackgroundWriter:
    """Writes snapshots on a thread so that training goes on while the disk works.

    At most one write is in flight; the next save (or :meth:`wait`) waits for it
    and re-raises its error, so a failed write is never silently lost.
    """

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def save(self, files: dict[Path, dict[str, Any]]) -> None:
        self.wait()
        snapshot = {path: to_cpu(payload) for path, payload in files.items()}

        def write() -> None:
            try:
                for path, payload in snapshot.items():
                    save_atomic(payload, path)
            except BaseException as error:  # surfaced by wait()
                self._error = error

        self._thread = threading.Thread(target=write, name="checkpoint-writer", daemon=False)
        self._thread.start()

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            if isinstance(error, OSError) and error.strerror:
                raise CheckpointError(
                    f"could not write checkpoint {error.filename or ''}: {error.strerror}; the last complete checkpoint "
                    "is kept: fix that and continue with --resume"
                ) from error
            raise CheckpointError(f"could not write checkpoint: {type(error).__name__}: {error}") from error


def resolve(path: Path, prefer: str = MODEL_FILE) -> Path:
    """A checkpoint file from a file or a run directory (``model.pt``, else ``checkpoint.pt``)."""
    path = Path(path)
    if path.is_dir():
        candidates = [path / prefer, path / (CHECKPOINT_FILE if prefer == MODEL_FILE else MODEL_FILE)]
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        raise CheckpointError(f"run directory {path} has no {MODEL_FILE} or {CHECKPOINT_FILE}; train first or pass the file")
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist")
    return path


def read(path: Path, method: str, formats: tuple[str, ...] = (FORMAT, MODEL_FORMAT)) -> dict[str, Any]:
    """Load and validate a checkpoint or model file of ``method``; one-line errors for every failure."""
    payload = load(path)
    if not isinstance(payload, dict) or payload.get("format") not in formats:
        raise CheckpointError(f"{path} is not an inpaintbench checkpoint (a foreign file?); train with: inpaintbench train {method}")
    if payload.get("version", 0) > VERSION:
        raise CheckpointError(f"checkpoint {path} has format version {payload['version']}; upgrade inpaintbench to read it")
    if payload.get("method") != method:
        raise CheckpointError(f"checkpoint {path} belongs to method {payload.get('method')!r}, not {method!r}")
    return payload


def load(path: Path, fix: str = "re-copy it or retrain") -> Any:
    """``torch.load(weights_only=True)`` of a file; a truncated, corrupted or unsafe one is a one-line error ending in ``fix``."""
    if not zipfile.is_zipfile(path):  # torch.save writes a zip; a cut-off copy loses its directory at the end
        raise CheckpointError(f"checkpoint {path} is corrupted or truncated (not a complete torch zip file); {fix}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(error))
        what = found.group(1) if found else "a non-tensor object"
        raise CheckpointError(
            f"checkpoint {path} is not a plain weights file: it needs {what} unpickled, which could run code; refusing"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as error:
        raise CheckpointError(f"checkpoint {path} is corrupted or truncated ({type(error).__name__}); {fix}") from None
