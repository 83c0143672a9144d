"""The results store: one directory per evaluation, safe to interrupt and resume.

Layout of ``OUT/``::

    run.json                  what was run: versions, seed, protocol, dataset, manifest, methods
    scores/<method>.jsonl     one JSON row per scored image, appended batch by batch
    failures.jsonl            unreadable items and method errors, with the reason
    images/<method>/<item>.png  completed images (all for ``run``, the grid's for ``compare``)
    images/{input,mask,target}/<item>.png  what the methods saw, the hole (white) and the truth, for the same items
    table.{csv,md,tex}, scores.csv, grid.png   derived; rewritten atomically at the end

Rows are appended and flushed per batch; a crash can at worst leave one torn
last line, which the reader ignores and the next append cuts off.  Whole files
are written to a temporary name and renamed, so they are never half-written.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

import cv2
import numpy as np
import pandas as pd

from .errors import ResultsError

RUN_RECORD = "run.json"
#: images/<kind>/ folders the harness writes itself; no method may take these names
MASK_KIND = "mask"
REFERENCE_KINDS = ("input", "target", MASK_KIND)
#: run.json fields that must match for a rerun to add to stored results
COMPATIBILITY_KEYS = ("dataset", "split", "protocol", "seed", "metrics")


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write a whole file so that readers see the old content or the new, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
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


def mask_pixels(mask: np.ndarray) -> np.ndarray:
    """A boolean hole as the one-channel 8-bit image that mask files hold: 255 = hole, 0 = known."""
    return np.where(mask, np.uint8(255), np.uint8(0))


def item_filename(item_id: str) -> PurePosixPath:
    """A relative PNG path for an item id; ids never escape the results directory."""
    parts = [part for part in PurePosixPath(item_id).parts if part not in ("", ".", "..", "/")]
    if not parts:
        parts = ["item"]
    stem = PurePosixPath(*parts)
    return stem.with_name(stem.name + ".png") if stem.suffix.lower() not in {".png"} else stem


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


class ResultsStore:
    """Reads and writes one results directory."""

    def __init__(self, root: Path):
        self.root = Path(root)

    # -- the run record ----------------------------------------------------------------
    @property
    def record_path(self) -> Path:
        return self.root / RUN_RECORD

    def read_record(self) -> dict[str, Any] | None:
        return read_json_record(self.record_path)

    def check_compatible(self, record: dict[str, Any]) -> None:
        """Refuse to mix results of a different dataset, protocol, seed or metric into one table."""
        stored = self.read_record()
        why = incompatibility(stored, record) if stored is not None else None
        if why:
            raise ResultsError(f"{self.root} holds {why}; use another --out or remove that directory")

    def write_record(self, record: dict[str, Any]) -> None:
        """Merge this run's record into the stored one (methods accumulate across reruns)."""
        stored = self.read_record() or {}
        methods = dict(stored.get("methods", {}))
        for name, entry in record.get("methods", {}).items():
            # a method that could not start this time keeps the entry of the run that scored it
            if entry.get("status") != "unavailable" or methods.get(name, {}).get("status") in (None, "unavailable"):
                methods[name] = entry
        merged = {**stored, **record, "methods": methods}
        write_atomic(self.record_path, json.dumps(merged, indent=2, sort_keys=True) + "\n")

    # -- per-image scores --------------------------------------------------------------
    def scores_path(self, method: str) -> Path:
        return self.root / "scores" / f"{method}.jsonl"

    def scored_items(self, method: str) -> set[str]:
        return {row["item"] for row in read_jsonl(self.scores_path(method))}

    def append_scores(self, method: str, rows: list[dict[str, Any]]) -> None:
        append_jsonl(self.scores_path(method), rows)

    def scores(self) -> pd.DataFrame:
        """Every stored per-image row, one per (method, item); the first row wins on duplicates."""
        frames = []
        for path in sorted((self.root / "scores").glob("*.jsonl")):
            rows = read_jsonl(path)
            if rows:
                frames.append(pd.DataFrame(rows).assign(method=path.stem))
        if not frames:
            return pd.DataFrame(columns=["method", "item"])
        return pd.concat(frames, ignore_index=True).drop_duplicates(["method", "item"])

    # -- failures and images -----------------------------------------------------------
    def append_failure(self, stage: str, error: str, method: str | None = None, items: list[str] | None = None) -> None:
        append_jsonl(self.root / "failures.jsonl", [{"stage": stage, "method": method, "items": items or [], "error": error}])

    def failures(self) -> list[dict[str, Any]]:
        return read_jsonl(self.root / "failures.jsonl")

    def image_path(self, kind: str, item_id: str) -> Path:
        """Where the PNG of ``kind`` (a method name, ``input``, ``target`` or ``mask``) for an item lives."""
        return self.root / "images" / kind / item_filename(item_id)

    def save_image(self, kind: str, item_id: str, rgb: np.ndarray) -> None:
        write_png_atomic(self.image_path(kind, item_id), rgb)

    def save_mask(self, item_id: str, mask: np.ndarray) -> None:
        """The item's hole as a one-channel PNG, white = hole (the layout of LaMa's and most tools' masks)."""
        write_png_atomic(self.image_path(MASK_KIND, item_id), mask_pixels(mask))

    def read_mask(self, item_id: str) -> np.ndarray | None:
        """The hole saved by :meth:`save_mask` as (H, W) bool; None when the run kept no images of the item."""
        path = self.image_path(MASK_KIND, item_id)
        if not path.exists():
            return None
        return cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_GRAYSCALE) > 127


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
    return None


def _method_identity(entry: dict[str, Any]) -> tuple:
    return (json.dumps(entry.get("options", {}), sort_keys=True), entry.get("checkpoint_sha256"))
