"""A fault campaign: attack compare and train as a careful user would, and check that no result is lost.

    python benchmarks/faults.py [--photos DIR] [--kills 12] [--train-kills 5]

What it does, each part against an uninterrupted run of the same command:

1. kill -9 ``compare`` (one process, and with ``--workers 2``) at random
   moments, rerun it until it finishes, and compare every stored row: rows
   lost, duplicated (a (method, item) pair stored twice) or changed;
2. kill -9 ``train`` at random moments, ``--resume`` until done, and compare
   the final weights bit for bit;
3. two ``compare`` runs with different seeds started into one directory at
   once: exactly one must be refused, whichever, and the table must hold the
   other's seed;
4. a full disk (a 1 MB tmpfs, where this machine lets us mount one; otherwise
   said and skipped): a one-line error naming the cause, no traceback;
5. a folder of hostile files (a decompression bomb's header, a FIFO named
   ``*.png``, a 240-byte name, a name that is not UTF-8, an empty file, a
   truncated PNG, a directory named ``*.png``, a tiny image): the run finishes
   and reports each one.

Photographs: ``--photos`` or the project's photo corpus beside the checkout
(``../shared/corpus/photos``), else the bundled sample set (said so).  Prints
a summary and exits 1 on any lost, duplicated, changed or extra row, differing
weight, failed resume, left temporary file or unhandled case.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import cv2
import numpy as np

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "photos"
METHODS = "telea,navier-stokes,mean-fill,patchmatch"


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "inpaintbench", *args]


def run(args: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(cli(*args), cwd=cwd, capture_output=True, text=True, timeout=timeout)


def kill_at(args: list[str], cwd: Path, seconds: float) -> bool:
    """Start the command, SIGKILL its whole process group after ``seconds``; True when it was still running."""
    process = subprocess.Popen(cli(*args), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        process.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the parent only would test less: workers must die with it anyway
        process.wait()
        return True


def stored_rows(out: Path) -> dict[tuple[str, str], list[dict]]:
    """Every stored score row by (method, item), duplicates kept, torn last lines ignored (as the reader does)."""
    rows: dict[tuple[str, str], list[dict]] = {}
    for path in sorted((out / "scores").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            rows.setdefault((path.stem, row["item"]), []).append(row)
    return rows


def compare_rows(reference: dict, attacked: dict) -> dict[str, int]:
    scores = ("psnr", "ssim", "psnr_hole", "ssim_hole", "l1_hole")
    lost = sum(1 for key in reference if key not in attacked)
    duplicated = sum(1 for rows in attacked.values() if len(rows) > 1)
    changed = sum(
        1 for key, rows in attacked.items()
        if key in reference and any(_differs(rows[0].get(s), reference[key][0].get(s)) for s in scores)
    )
    extra = sum(1 for key in attacked if key not in reference)
    return {"lost": lost, "duplicated": duplicated, "changed": changed, "extra": extra}


def _differs(a, b) -> bool:
    if a is None or b is None:
        return a is not b
    return not (a == b or (np.isnan(a) and np.isnan(b)))


def kill_campaign(photos: Path, work: Path, kills: int, rng: random.Random) -> dict:
    common = ["compare", "--methods", METHODS, "--dataset", "folder", "--root", str(photos), "--limit", "24", "--seed", "5", "--format", "csv"]
    started = time.perf_counter()
    reference = run([*common, "--out", str(work / "reference")], work)
    duration = time.perf_counter() - started  # the kills land anywhere in a run of this length
    assert reference.returncode == 0, reference.stderr
    expected = stored_rows(work / "reference")
    totals = {"kills": 0, "lost": 0, "duplicated": 0, "changed": 0, "extra": 0}
    for attempt in range(kills):
        out = work / f"killed-{attempt}"
        workers = ["--workers", "2"] if attempt % 3 == 2 else []
        for _ in range(rng.randint(1, 3)):  # kill it one to three times before letting it finish
            totals["kills"] += kill_at([*common, *workers, "--out", str(out)], work, rng.uniform(0.2, duration * 0.9))
        finished = run([*common, *workers, "--out", str(out)], work)
        if finished.returncode != 0:
            print(f"  rerun after kills failed: {finished.stderr.strip().splitlines()[-1:]}")
            totals["lost"] += len(expected)
            continue
        for key, value in compare_rows(expected, stored_rows(out)).items():
            totals[key] += value
    return {**totals, "rows per run": len(expected), "seconds per run": round(duration, 1)}


def train_campaign(work: Path, kills: int, rng: random.Random) -> dict:
    import torch

    base = ["train", "ours", "--dataset", "sample", "--steps", "24", "--batch-size", "4", "--workers", "0", "--device", "cpu",
            "--checkpoint-every", "3", "--sample-every", "1000", "-o", "width=0.0625"]
    started = time.perf_counter()
    reference = run([*base, "--out", str(work / "train-reference")], work)
    assert reference.returncode == 0, reference.stderr
    duration = time.perf_counter() - started
    expected = torch.load(work / "train-reference" / "model.pt", map_location="cpu", weights_only=True)["networks"]
    result = {"kills": 0, "runs": kills, "weights differ": 0, "failed resumes": 0}
    for attempt in range(kills):
        out = work / f"train-killed-{attempt}"
        result["kills"] += kill_at([*base, "--out", str(out)], work, rng.uniform(0.5, duration * 0.9))
        for _ in range(20):
            resumed = run([*base, "--out", str(out), "--resume"], work)
            if resumed.returncode == 0:
                break
            result["failed resumes"] += 1
            print(f"  resume failed: {resumed.stderr.strip().splitlines()[-1:]}")
        final = torch.load(out / "model.pt", map_location="cpu", weights_only=True)["networks"] if (out / "model.pt").exists() else {}
        same = set(final) == set(expected) and all(
            torch.equal(final[net][key], expected[net][key]) for net in expected for key in expected[net]
        )
        result["weights differ"] += not same
        leftovers = list(out.glob(".*.tmp"))
        result["temporary files left"] = result.get("temporary files left", 0) + len(leftovers)
    return {**result, "seconds per run": round(duration, 1)}


def two_writers(photos: Path, work: Path) -> dict:
    """Both runs start together; whichever takes the directory first must finish and the other be refused."""
    out = work / "shared-out"
    common = ["compare", "--methods", "patchmatch", "--dataset", "folder", "--root", str(photos), "--limit", "12", "--format", "csv", "--out", str(out)]
    runs = {seed: subprocess.Popen(cli(*common, "--seed", str(seed)), cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for seed in (1, 2)}
    errors = {seed: process.communicate()[1] for seed, process in runs.items()}
    refused = [seed for seed, process in runs.items() if process.returncode == 2 and "is in use by process" in errors[seed]]
    finished = [seed for seed, process in runs.items() if process.returncode == 0]
    seeds = {json.loads((out / "run.json").read_text())["seed"]} if (out / "run.json").exists() else set()
    return {"refused (seed)": refused, "finished (seed)": finished, "seeds in the table": sorted(seeds),
            "ok": len(refused) == 1 and len(finished) == 1 and seeds == set(finished)}


def full_disk(photos: Path, work: Path) -> dict:
    mount = work / "tiny-disk"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True, text=True)
    if mounted.returncode != 0:
        return {"skipped": f"cannot mount a small tmpfs here ({mounted.stderr.strip() or 'not permitted'})", "ok": True}
    try:
        (mount / "filler").write_bytes(b"\0" * (1024 * 1024 - 200 * 1024))  # leave ~200 kB: the probe passes, the run fills it
        result = run(["compare", "--methods", "telea,mean-fill", "--dataset", "folder", "--root", str(photos), "--limit", "40",
                      "--grid-rows", "40", "--format", "csv", "--out", str(mount / "res")], work)
        text = result.stderr
        one_line = "No space left on device" in text and "Traceback" not in text
        trained = run(["train", "ours", "--dataset", "sample", "--steps", "4", "--batch-size", "4", "--workers", "0", "--device", "cpu",
                       "-o", "width=0.25", "--out", str(mount / "run")], work)
        train_line = "No space left on device" in trained.stderr and "Traceback" not in trained.stderr
        return {"compare exit": result.returncode, "compare says no space": one_line,
                "compare message": next((line for line in text.splitlines() if "space" in line), "")[:160],
                "train exit": trained.returncode, "train says no space": train_line,
                "train message": next((line for line in trained.stderr.splitlines() if "space" in line), "")[:160],
                "ok": result.returncode == 2 and one_line and trained.returncode == 2 and train_line}
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


def _png_header(path: Path, width: int, height: int) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def hostile_files(photos: Path, work: Path) -> dict:
    folder = work / "hostile"
    folder.mkdir()
    sources = sorted(p for p in photos.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:3]
    for k, source in enumerate(sources):
        shutil.copy(source, folder / f"good{k}{source.suffix}")
    cases = {
        "bomb.png": lambda p: _png_header(p, 30000, 30000),
        "pipe.png": lambda p: os.mkfifo(p),
        "x" * 240 + ".png": lambda p: shutil.copy(sources[0], p),
        "empty.png": lambda p: p.write_bytes(b""),
        "truncated.png": lambda p: p.write_bytes(cv2.imencode(".png", np.full((80, 80, 3), 90, np.uint8))[1].tobytes()[:200]),
        "folder.png": lambda p: p.mkdir(),
        "tiny.png": lambda p: cv2.imwrite(str(p), np.full((20, 30, 3), 90, np.uint8)),
    }
    for name, make in cases.items():
        make(folder / name)
    latin1 = os.fsencode(folder) + b"/caf\xe9.png"
    shutil.copy(os.fsencode(sources[1]), latin1)
    try:
        result = run(["compare", "--methods", "telea,mean-fill", "--dataset", "folder", "--root", str(folder), "--format", "csv",
                      "--out", str(work / "hostile-out")], work, timeout=300)
    except subprocess.TimeoutExpired:
        return {"ok": False, "hung": True}
    report = result.stderr
    # reported by name: every case but the long name (scored like any photo) and the folder (not a file, not listed)
    handled = {name: (name in report) for name in cases if name not in ("folder.png",) and not name.startswith("xxxx")}
    rows = stored_rows(work / "hostile-out") if (work / "hostile-out" / "scores").exists() else {}
    scored = {item for _, item in rows}
    expected_scored = len(sources) + 2  # the good copies, the long name and the Latin-1 name
    return {"exit": result.returncode, "reported": handled, "items scored": len(scored), "expected scored": expected_scored,
            "ok": result.returncode == 0 and all(handled.values()) and len(scored) == expected_scored and "Traceback" not in report}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, help="folder of photographs (default: the project's photo corpus)")
    parser.add_argument("--kills", type=int, default=12)
    parser.add_argument("--train-kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="inpaintbench-faults-") as tmp:
        work = Path(tmp)
        photos = args.photos or (CORPUS if CORPUS.is_dir() else None)
        if photos is None:
            print(f"(the photo corpus is not at {CORPUS}; using the bundled sample photographs)")
            from inpaintbench import registry

            photos = Path(registry.open_dataset("sample", None, "test").root)
        print(f"photographs: {photos}")
        parts = {
            "compare killed at random": lambda: kill_campaign(photos, work, args.kills, rng),
            "train killed at random": lambda: train_campaign(work, args.train_kills, rng),
            "two writers into one --out": lambda: two_writers(photos, work),
            "full disk": lambda: full_disk(photos, work),
            "hostile files": lambda: hostile_files(photos, work),
        }
        failed = False
        for title, part in parts.items():
            started = time.perf_counter()
            result = part()
            print(f"\n{title} ({time.perf_counter() - started:.0f} s)")
            for key, value in result.items():
                print(f"  {key}: {value}")
            counted = ("lost", "duplicated", "changed", "extra", "weights differ", "failed resumes", "temporary files left")
            bad = result.get("ok") is False or any(result.get(k, 0) for k in counted)
            failed |= bad
            print(f"  -> {'FAIL' if bad else 'PASS'}")
    print("\nFAIL: see above" if failed else "\nPASS: no row lost, duplicated or changed; every case handled")
    return 1 if failed else 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
