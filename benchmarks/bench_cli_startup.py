"""How long the CLI takes to answer when it does no work: help, listings and argument errors.

Each command is started ``--repeats`` times as a fresh process and the median
wall time is reported, first on an idle machine, then with one CPU-bound busy
loop per core competing for the CPU (a loaded workstation or a shared CI
runner).  Then the slowest imports of ``import inpaintbench.cli``, by
cumulative time, from ``python -X importtime``.  The target is well under a
second; PASS means under ``--target`` seconds (0.5 by default) on the idle
machine.

    .venv/bin/python benchmarks/bench_cli_startup.py --repeats 5
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _load import BusyLoops, usable_cores

#: argv after ``inpaintbench``; the last one is an error (exit status 2) reported by the registry
COMMANDS = (
    ("--help",),
    ("compare", "--help"),
    ("methods",),
    ("compare", "--methods", "no-such-method"),
)


def inpaintbench_argv() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m inpaintbench``."""
    script = Path(sys.executable).parent / "inpaintbench"
    if script.exists():
        return [str(script)]
    found = shutil.which("inpaintbench")
    return [found] if found else [sys.executable, "-m", "inpaintbench"]


def time_command(argv: list[str], repeats: int) -> tuple[float, int]:
    """Median wall seconds of ``repeats`` fresh runs, and the exit status of the last one."""
    seconds = []
    status = 0
    for _ in range(repeats):
        started = time.perf_counter()
        status = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), status


def time_all(repeats: int) -> dict[tuple[str, ...], tuple[float, int]]:
    base = inpaintbench_argv()
    return {args: time_command(base + list(args), repeats) for args in COMMANDS}


def slowest_imports(module: str, top: int) -> list[tuple[float, str]]:
    """(cumulative seconds, module) of the ``top`` slowest imports, nested ones indented as importtime does."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"], capture_output=True, text=True, check=True
    )
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line[len("import time:") :].split("|")
        rows.append((int(cumulative) / 1e6, name.rstrip()))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per command (the median is reported)")
    parser.add_argument("--target", type=float, default=0.5, help="PASS below this many idle seconds")
    parser.add_argument("--busy", type=int, default=usable_cores(), help="busy loops for the loaded figures (0: skip)")
    parser.add_argument("--top", type=int, default=15, help="slowest imports to list")
    args = parser.parse_args()

    idle = time_all(args.repeats)
    busy = {}
    if args.busy:
        with BusyLoops(args.busy):
            busy = time_all(args.repeats)

    label = f"busy ({args.busy} loops)" if args.busy else "busy"
    width = max(len(" ".join(command)) for command in COMMANDS) + len("inpaintbench ")
    print(f"median of {args.repeats} runs, {usable_cores()} cores; PASS: idle < {args.target:g} s")
    print(f"{'command':<{width}}  {'exit':>4}  {'idle s':>7}  {label:>16}  result")
    failed = False
    for command in COMMANDS:
        seconds, status = idle[command]
        loaded = f"{busy[command][0]:.3f}" if busy else "-"
        verdict = "PASS" if seconds < args.target else "FAIL"
        failed |= verdict == "FAIL"
        print(f"{'inpaintbench ' + ' '.join(command):<{width}}  {status:>4}  {seconds:>7.3f}  {loaded:>16}  {verdict}")

    print("\nslowest imports of `import inpaintbench.cli` (cumulative, python -X importtime):")
    for seconds, name in slowest_imports("inpaintbench.cli", args.top):
        print(f"{seconds:7.3f} s {name}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
