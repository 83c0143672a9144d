"""A short real training run of ``ours`` on the bundled photographs (marked slow: minutes on 2 cores).

Run deliberately:  python -m pytest -m slow tests/test_training_quality.py -s
It trains on the ``sample`` train split and evaluates on ``val``, whose three
photographs (chelsea, coffee, brick) no training crop comes from.
"""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from inpaintbench.cli import main

#: quarter width and a 1000-d code keep it to minutes; random crops of 128 from
#: 192-px images with flips give 36 training photographs some variety
QUICK = ["-o", "width=0.25", "-o", "bottleneck=1000", "--resize-to", "192", "--flip", "--batch-size", "16", "--workers", "1"]
STEPS = 4000


@pytest.mark.slow
def test_short_cpu_run_learns_and_beats_mean_fill_on_held_back_photographs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    trained = runner.invoke(main, ["train", "ours", "--steps", str(STEPS), "--out", "run", "--sample-every", "1000", *QUICK])
    assert trained.exit_code == 0, trained.output
    losses = pd.read_csv(tmp_path / "run" / "losses.csv")
    tenth = STEPS // 10
    first, last = losses["reconstruction"][:tenth].mean(), losses["reconstruction"][-tenth:].mean()
    compared = runner.invoke(
        main, ["compare", "--methods", "ours,mean-fill,telea", "--split", "val", "--checkpoint", "ours=run", "--out", "res", "--format", "md"]
    )
    assert compared.exit_code == 0, compared.output
    table = pd.read_csv(tmp_path / "res" / "table.csv").set_index("method")
    print(f"\nreconstruction loss: first tenth {first:.4f}, last tenth {last:.4f}")
    print(compared.output)
    assert last < 0.7 * first
    assert table.loc["ours", "psnr_hole"] > table.loc["mean-fill", "psnr_hole"]
