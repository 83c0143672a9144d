"""Competing CPU load for the benchmarks' contended figures: another user's job on a shared machine."""

from __future__ import annotations

import os
import subprocess
import sys
import time


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask where the OS has one), not every core of the machine."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class BusyLoops:
    """``count`` CPU-bound Python processes (one per usable core by default) for the duration of a ``with`` block."""

    def __init__(self, count: int | None = None):
        self.count = usable_cores() if count is None else count
        self.processes: list[subprocess.Popen] = []

    def __enter__(self) -> BusyLoops:
        loop = "while True:\n    pass\n"
        self.processes = [subprocess.Popen([sys.executable, "-c", loop]) for _ in range(self.count)]
        time.sleep(0.5)  # let them reach the loop before timing starts
        return self

    def __exit__(self, *exc) -> None:
        for process in self.processes:
            process.kill()
        for process in self.processes:
            process.wait()
