"""Do the learned methods inpaint unseen photographs?  Table VI on a real photo collection, on 2 CPU cores.

Trains the reduced-size CPU configuration of ``ours``, ``context-encoder`` and
``glcic`` (docs/experiments.md, "Table VI on your own photographs") on the ``train`` split
of a folder of photographs with a split list, each on the same number of
training images, then scores them with PatchMatch, Telea and mean fill on its
held-back ``val`` split (centre protocol, 128 px).  It runs the documented
command itself (``inpaintbench experiment table-vi``), then prints:

* the table: every row's means with 95 % paired-bootstrap CIs, seconds per
  image and training images seen;
* each learned row's training time and loss curve (the mean of each logged
  loss over each tenth of the run; the plots are ``losses-<row>.png``);
* the bars: every learned row at least 1 dB above mean fill in hole PSNR, and
  ``ours`` above Telea.

The default collection is the project's photo corpus beside the checkout
(``../shared/corpus``: ``MANIFEST.tsv`` names each photo's split); without it,
pass ``--root`` a folder of your own with train/val split subfolders or a
split list.  Reruns into the same ``--out`` skip what is done.

    python benchmarks/bench_learned_cpu.py                        # ~40 min on 2 idle cores
    python benchmarks/bench_learned_cpu.py --root ~/photos --out /tmp/cpu-table
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
DEFAULT_ROOT = REPO.parent / "shared" / "corpus"

#: the reduced-size configuration, as docs/experiments.md gives it: one batch for every row, so
#: equal images are equal steps (2,000); widths chosen so that each row trains in under 20 min on
#: 2 idle cores (GLCIC's 17 full-resolution-ish layers cost ~2x the others' per image at equal width)
CPU_CONFIGURATION = [
    "--images", "64000", "--batch-size", "32",
    "-o", "ours.width=0.25",
    "-o", "context-encoder.width=0.25",
    "-o", "glcic.width=0.125",
]
METHODS = "ours,context-encoder,glcic,patchmatch,telea,mean-fill"
LEARNED = ("ours", "context-encoder", "glcic")


def command(root: Path, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "inpaintbench", "experiment", "table-vi", "--dataset", "folder", "--root", str(root),
        "--methods", METHODS, *CPU_CONFIGURATION, "--device", "cpu", "--workers", "1", "--format", "md", "--out", str(out),
    ]


def loss_curve(run_dir: Path, parts: int = 10) -> pd.DataFrame:
    """Each logged loss averaged over each tenth of the run (and the phase it ends in): the curve, in numbers."""
    losses = pd.read_csv(run_dir / "losses.csv")
    part = np.minimum(np.arange(len(losses)) * parts // max(len(losses), 1), parts - 1)
    weights = [c for c in losses if c.startswith("w_")]
    numeric = losses.drop(columns=["step", "images_per_s", *weights]).select_dtypes("number").dropna(axis=1, how="all")
    curve = numeric.groupby(part).mean()
    curve.insert(0, "phase", losses.groupby(part)["phase"].last())
    return curve.rename_axis("tenth")


def training_minutes(run_dir: Path) -> float:
    """Time spent in training steps: the logged images/s of every step, at the run's batch."""
    losses = pd.read_csv(run_dir / "losses.csv")
    batch = json.loads((run_dir / "config.json").read_text())["config"]["batch_size"]
    return float((batch / losses["images_per_s"]).sum()) / 60


def bars(table: pd.DataFrame) -> list[tuple[str, bool]]:
    hole = table.set_index("method")["psnr_hole"]
    checks = []
    if "mean-fill" in hole:
        for name in LEARNED:
            if name in hole:
                checks.append((f"{name} hole PSNR {hole[name]:.2f} >= mean-fill {hole['mean-fill']:.2f} + 1 dB", hole[name] >= hole["mean-fill"] + 1))
    if "ours" in hole and "telea" in hole:
        checks.append((f"ours hole PSNR {hole['ours']:.2f} > telea {hole['telea']:.2f}", hole["ours"] > hole["telea"]))
    return checks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="folder of photographs with train/val splits")
    parser.add_argument("--out", type=Path, default=Path("experiments/table-vi-cpu"), help="experiment directory")
    args = parser.parse_args()
    if not args.root.is_dir():
        print(f"no photo collection at {args.root}: this benchmark reads the project's photo corpus beside the checkout; "
              "pass --root with a folder of your own (train/val subfolders or a split list)")
        return 2
    run = command(args.root, args.out)
    print("$ " + shlex.join(run), flush=True)
    started = time.perf_counter()
    finished = subprocess.run(run)
    print(f"\nexperiment: exit {finished.returncode}, {time.perf_counter() - started:.0f} s (reruns skip finished stages)")
    if finished.returncode != 0:
        return finished.returncode

    table = pd.read_csv(args.out / "table.csv")
    print("\n" + (args.out / "table.md").read_text())
    for name in LEARNED:
        run_dir = args.out / "train" / name
        if not (run_dir / "losses.csv").exists():
            continue
        print(f"{name}: {training_minutes(run_dir):.1f} min of training steps (curves: {args.out / f'losses-{name}.png'})")
        print(loss_curve(run_dir).to_string(float_format=lambda v: f"{v:.4f}") + "\n")
    failed = 0
    for text, passed in bars(table):
        print(("PASS " if passed else "FAIL ") + text)
        failed += not passed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
