"""The results store: one directory per evaluation, safe to interrupt and resume.

Layout of ``OUT/``::

    run.json                  what was run: versions, seed, protocol, dataset, manifest, methods
    scores/<method>.jsonl     one JSON row per scored image, appended batch by batch
    failures.jsonl            unreadable items and method errors, with the reason
    items.jsonl               a fingerprint of each item's benchmark image: a rerun on changed images is refused
    .lock                     held by the run writing here (names its process)
    images/<method>/<item>.png  completed images (all for ``run``, the grid's for ``compare``)
    images/{input,mask,target}/<item>.png  what the methods saw, the hole (white) and the truth, for the same items
    table.{csv,md,tex}, scores.csv, grid.png, report.html   derived; rewritten atomically at the end

Rows are appended and flushed per batch; a crash can at worst leave one torn
last line, which the reader ignores and the next append cuts off.  Whole files
are written to a temporary name and renamed, so they are never half-written.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import socket
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from .errors import ResultsError

if TYPE_CHECKING:  # pandas takes a fifth of a second to import: only where a table is built
    import pandas as pd

RUN_RECORD = "run.json"
#: the fingerprint of every scored item's benchmark image, so that a rerun on changed images is refused
ITEMS_FILE = "items.jsonl"
#: held (flock) by the run writing into the directory
LOCK_FILE = ".lock"
#: images/<kind>/ folders the harness writes itself; no method may take these names
MASK_KIND = "mask"
REFERENCE_KINDS = ("input", "target", MASK_KIND)
#: a row's name becomes file and folder names here (scores/<name>.jsonl, images/<name>/): no separators
ROW_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
#: run.json fields that must match for a rerun to add to stored results
COMPATIBILITY_KEYS = ("dataset", "split", "protocol", "seed", "metrics")


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write a whole file so that readers see the old content or the new, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    # a short prefix: the file's own name may already be near the 255-byte limit
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{_short(path.name, 40)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.chmod(tmp, 0o644)  # mkstemp creates files private to the owner; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_png_atomic(path: Path, rgb: np.ndarray) -> None:
    """An RGB (H, W, 3) image, or a one-channel (H, W) one such as a mask, as PNG."""
    pixels = rgb if rgb.ndim == 2 else cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".png", pixels)
    if not ok:
        raise ResultsError(f"could not encode {path} as PNG")
    write_atomic(path, encoded.tobytes())


def is_row_name(name: object) -> bool:
    """Whether ``name`` can name a table row: a plain file name (not starting with a dot) and no harness folder."""
    return isinstance(name, str) and bool(ROW_NAME.match(name)) and name not in REFERENCE_KINDS


def mask_pixels(mask: np.ndarray) -> np.ndarray:
    """A boolean hole as the one-channel 8-bit image that mask files hold: 255 = hole, 0 = known."""
    return np.where(mask, np.uint8(255), np.uint8(0))


#: longest file name component written (most file systems allow 255 bytes; temporary names need a few more)
MAX_NAME_BYTES = 200


def item_filename(item_id: str) -> PurePosixPath:
    """A relative PNG path for an item id; ids never escape the results directory.

    A name too long for the file system is cut and given a hash of the whole
    id, so two long ids stay apart.
    """
    parts = [part for part in PurePosixPath(item_id).parts if part not in ("", ".", "..", "/")]
    if not parts:
        parts = ["item"]
    name = parts[-1] if parts[-1].lower().endswith(".png") else parts[-1] + ".png"
    parts = [_fit_name(part) for part in parts[:-1]] + [_fit_name(name, ".png")]
    return PurePosixPath(*parts)


def _fit_name(name: str, suffix: str = "") -> str:
    if len(name.encode("utf-8", "surrogateescape")) <= MAX_NAME_BYTES:
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return f"{_short(name, MAX_NAME_BYTES - 40)}~{digest}{suffix}"


def _short(name: str, limit: int) -> str:
    """The longest prefix of ``name`` that takes at most ``limit`` bytes (never cutting a character)."""
    encoded = name.encode("utf-8", "surrogateescape")[:limit]
    return encoded.decode("utf-8", "ignore") if len(encoded) == limit else name


def read_json_record(path: Path) -> dict[str, Any] | None:
    """A whole-file JSON record (run.json, experiment.json); None when absent, a one-line error when broken."""
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ResultsError(f"{path} is not valid JSON ({error}); move it away to start afresh") from None


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """All complete rows of a JSONL file; a torn final line (crash mid-write) is ignored."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def append_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Append rows and flush them to disk, first cutting off any torn last line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size:
        with open(path, "rb+") as handle:
            content = handle.read()
            if not content.endswith(b"\n"):
                handle.truncate(content.rfind(b"\n") + 1)
    text = "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows)
    with open(path, "a") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _writes(function):
    """A write of the results directory that fails (full disk, lost permission) is the harness's
    one-line error naming the file, never a method's failure."""

    @functools.wraps(function)
    def wrapper(self, *args, **kwargs):
        try:
            return function(self, *args, **kwargs)
        except OSError as error:
            where = error.filename or self.root
            raise ResultsError(
                f"cannot write {where}: {error.strerror or error}; what was scored before is kept, "
                "rerun the same command once that is fixed"
            ) from None

    return wrapper


def prepare_directory(root: Path, option: str = "--out") -> None:
    """Create ``root`` and prove it writable before any work, or raise a one-line error naming it."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise ResultsError(f"{option} {root} is a file, not a directory; choose another path")
    probe = root / f".write-test-{os.getpid()}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        with open(probe, "wb") as handle:  # a few blocks: a full disk fails here, not after an hour of work
            handle.write(b"\0" * 65536)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        raise ResultsError(f"{option} {root}: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(OSError):
            probe.unlink(missing_ok=True)


class ResultsStore:
    """Reads and writes one results directory."""

    def __init__(self, root: Path):
        self.root = Path(root)

    @contextlib.contextmanager
    def lock(self, part: str = "") -> Iterator[None]:
        """Hold the directory (or one ``part`` of it, e.g. a shard) for one run: a second run gets a
        one-line error naming this process.

        An advisory ``flock`` on ``OUT/.lock[-part]``, released by the kernel
        when the process ends however it ends, so a killed run never leaves it stuck.
        """
        prepare_directory(self.root)
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; runs are not protected from each other
            yield
            return
        with open(self.root / (f"{LOCK_FILE}-{part}" if part else LOCK_FILE), "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                what = f"{self.root} ({part})" if part else str(self.root)
                raise ResultsError(
                    f"{what} is in use by {holder}, which is writing results there; wait for it to finish "
                    "or use another --out"
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"process {os.getpid()} on {socket.gethostname()}\n")
            handle.flush()
            try:
                yield
            finally:
                handle.seek(0)
                handle.truncate()
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- the run record ----------------------------------------------------------------
    @property
    def record_path(self) -> Path:
        return self.root / RUN_RECORD

    def read_record(self) -> dict[str, Any] | None:
        return read_json_record(self.record_path)

    def check_compatible(self, record: dict[str, Any]) -> None:
        """Refuse to mix results of another dataset root, dataset, protocol, seed or scorer settings into one table."""
        stored = self.read_record()
        why = incompatibility(stored, record) if stored is not None else None
        before, now = (stored or {}).get("dataset_root"), record.get("dataset_root")
        if not why and before and now and Path(before).is_absolute() and before != now:
            why = f"results of the dataset root {before} (now {now}): the same file names may be other images"
        if why:
            raise ResultsError(f"{self.root} holds {why}; use another --out or remove that directory")

    @_writes
    def write_record(self, record: dict[str, Any]) -> None:
        """Merge this run's record into the stored one (methods accumulate across reruns)."""
        stored = self.read_record() or {}
        methods = dict(stored.get("methods", {}))
        for name, entry in record.get("methods", {}).items():
            # a method that could not start this time keeps the entry of the run that scored it
            if entry.get("status") != "unavailable" or methods.get(name, {}).get("status") in (None, "unavailable"):
                methods[name] = entry
        # scorers accumulate too: rows scored by a scorer that is no longer installed keep its settings
        scorers = {**stored.get("scorers", {}), **record.get("scorers", {})}
        merged = {**stored, **record, "methods": methods, **({"scorers": scorers} if scorers else {})}
        write_atomic(self.record_path, json.dumps(merged, indent=2, sort_keys=True) + "\n")

    # -- per-image scores --------------------------------------------------------------
    def scores_path(self, method: str) -> Path:
        return self.root / "scores" / f"{method}.jsonl"

    def scored_items(self, method: str) -> set[str]:
        return {row["item"] for row in read_jsonl(self.scores_path(method))}

    @_writes
    def append_scores(self, method: str, rows: list[dict[str, Any]]) -> None:
        append_jsonl(self.scores_path(method), rows)

    def scores(self) -> pd.DataFrame:
        """Every stored per-image row, one per (method, item); the first row wins on duplicates."""
        import pandas as pd

        frames = []
        for path in sorted((self.root / "scores").glob("*.jsonl")):
            rows = read_jsonl(path)
            if rows:
                frames.append(pd.DataFrame(rows).assign(method=path.stem))
        if not frames:
            return pd.DataFrame(columns=["method", "item"])
        return pd.concat(frames, ignore_index=True).drop_duplicates(["method", "item"])

    # -- failures and images -----------------------------------------------------------
    @_writes
    def append_failure(self, stage: str, error: str, method: str | None = None, items: list[str] | None = None) -> None:
        append_jsonl(self.root / "failures.jsonl", [{"stage": stage, "method": method, "items": items or [], "error": error}])

    def failures(self) -> list[dict[str, Any]]:
        return read_jsonl(self.root / "failures.jsonl")

    # -- what each item was ------------------------------------------------------------
    def item_fingerprints(self) -> dict[str, str]:
        """item id -> fingerprint of the benchmark image it was scored on (first one recorded wins)."""
        found: dict[str, str] = {}
        for row in read_jsonl(self.root / ITEMS_FILE):
            found.setdefault(row["item"], row["fingerprint"])
        return found

    @_writes
    def append_fingerprints(self, fingerprints: dict[str, str]) -> None:
        append_jsonl(self.root / ITEMS_FILE, [{"item": item, "fingerprint": value} for item, value in fingerprints.items()])

    def image_path(self, kind: str, item_id: str) -> Path:
        """Where the PNG of ``kind`` (a method name, ``input``, ``target`` or ``mask``) for an item lives."""
        return self.root / "images" / kind / item_filename(item_id)

    @_writes
    def save_image(self, kind: str, item_id: str, rgb: np.ndarray) -> None:
        write_png_atomic(self.image_path(kind, item_id), rgb)

    @_writes
    def save_mask(self, item_id: str, mask: np.ndarray) -> None:
        """The item's hole as a one-channel PNG, white = hole (the layout of LaMa's and most tools' masks)."""
        write_png_atomic(self.image_path(MASK_KIND, item_id), mask_pixels(mask))

    def read_mask(self, item_id: str) -> np.ndarray | None:
        """The hole saved by :meth:`save_mask` as (H, W) bool; None when the run kept no images of the item."""
        from .mask_files import read_mask_file

        path = self.image_path(MASK_KIND, item_id)
        return read_mask_file(path) if path.exists() else None


def incompatibility(stored: dict[str, Any], record: dict[str, Any], keys: tuple[str, ...] = COMPATIBILITY_KEYS) -> str | None:
    """Why results recorded as ``stored`` cannot share a table with those of ``record``; None when they can.

    One wording for reruns into a directory and for merging shards (which also compare the manifest).
    """
    stored, record = (json.loads(json.dumps(r)) for r in (stored, record))  # compare as stored: tuples become lists
    for key in keys:
        if stored.get(key) != record.get(key):
            return f"results with a different {key} ({stored.get(key)!r}, now {record.get(key)!r})"
    for name, method in record.get("methods", {}).items():
        before = stored.get("methods", {}).get(name)
        if before is None or "unavailable" in (before.get("status"), method.get("status")):
            continue
        if _method_identity(before) != _method_identity(method):
            return f"{name!r} results with other options or checkpoint ({_method_identity(before)} vs {_method_identity(method)})"
    for name, scorer in record.get("scorers", {}).items():
        before = stored.get("scorers", {}).get(name)
        if before is not None and before.get("settings") != scorer.get("settings"):
            return f"scores of the scorer {name!r} with other settings ({before.get('settings')!r}, now {scorer.get('settings')!r})"
    return None


def _method_identity(entry: dict[str, Any]) -> tuple:
    return (json.dumps(entry.get("options", {}), sort_keys=True), entry.get("checkpoint_sha256"))
