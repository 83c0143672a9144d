"""One experiment, one directory: its settings are recorded once and a rerun must match them.

A reproduction runs for hours and is restarted after crashes, preemptions and
Ctrl-C.  Every stage writes under the experiment directory and knows from its
own outputs whether it is done (a finished training run has ``model.pt``,
scored pairs are in the results store), so rerunning the same command skips
finished stages and continues interrupted ones.  What makes that safe is that
the rerun is the *same* experiment: ``experiment.json`` keeps the settings of
the first run, and a rerun that changes one of them is refused instead of
silently mixing two experiments in one table.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ..errors import InpaintbenchError
from ..provenance import versions
from ..results import read_json_record, write_atomic

RECORD_FILE = "experiment.json"


class ExperimentDir:
    """The directory of one experiment (``table-vi``, ``table-vii``, ...) and its recorded settings."""

    def __init__(self, root: Path, experiment: str):
        self.root = Path(root)
        self.experiment = experiment

    @property
    def record_path(self) -> Path:
        return self.root / RECORD_FILE

    def begin(self, settings: dict[str, Any]) -> bool:
        """Record ``settings`` on the first run; on a rerun check they are unchanged.

        Returns True when the directory already held this experiment (a rerun).
        ``settings`` must be JSON-serialisable; it is compared as stored.
        """
        settings = json.loads(json.dumps(settings, sort_keys=True, default=str))
        stored = self._read()
        if stored is None:
            record = {"experiment": self.experiment, "settings": settings, "started": _now(), "versions": versions()}
            write_atomic(self.record_path, json.dumps(record, indent=2, sort_keys=True) + "\n")
            return False
        if stored.get("experiment") != self.experiment:
            raise InpaintbenchError(
                f"{self.root} holds experiment {stored.get('experiment')!r}, not {self.experiment!r}; choose another --out"
            )
        before = stored.get("settings", {})
        changed = sorted(key for key in {*before, *settings} if before.get(key) != settings.get(key))
        if changed:
            diffs = ", ".join(f"{key}: {before.get(key)!r} -> {settings.get(key)!r}" for key in changed)
            raise InpaintbenchError(
                f"{self.root} holds this experiment with other settings ({diffs}); "
                "rerun with the same settings to continue it, or choose another --out"
            )
        return True

    def finish(self, outputs: list[Path]) -> None:
        """Note when the experiment last completed and what it wrote (relative paths)."""
        record = self._read() or {}
        record["finished"] = _now()
        record["outputs"] = sorted(str(path.relative_to(self.root)) for path in outputs)
        write_atomic(self.record_path, json.dumps(record, indent=2, sort_keys=True) + "\n")

    def _read(self) -> dict[str, Any] | None:
        return read_json_record(self.record_path)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
