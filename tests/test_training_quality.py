"""A short real training run of ``ours`` on the bundled photographs (marked slow: minutes on 2 cores).

Run deliberately:  python -m pytest -m slow tests/test_training_quality.py -s

It trains the full three-phase curriculum on the ``sample`` train split (36
crops of 12 photographs) and checks that the reconstruction loss falls and
that, on those photographs, the model fills the hole better than the
mean-colour floor.  It also prints the scores on ``val`` (3 held-back
photographs, chelsea, coffee and brick): at this data size no run we tried
beat mean fill there (best: 16.50 against 16.62 dB hole PSNR; see the issue
notes), so that figure is reported, not asserted.  Generalisation needs a real
training set (Paris StreetView, ImageNet) and a GPU.
"""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from inpaintbench.cli import main

#: quarter width and a 1000-d code keep it to minutes; random crops of 128 from
#: 192-px images with flips give the 12 photographs some variety
QUICK = ["-o", "width=0.25", "-o", "bottleneck=1000", "--resize-to", "192", "--flip", "--batch-size", "16", "--workers", "1"]
STEPS = 1500


def _hole_psnr(runner, split: str, out: str) -> tuple[pd.DataFrame, str]:
    result = runner.invoke(
        main, ["compare", "--methods", "ours,mean-fill,telea", "--split", split, "--checkpoint", "ours=run", "--out", out, "--format", "md"]
    )
    assert result.exit_code == 0, result.output
    return pd.read_csv(f"{out}/table.csv").set_index("method"), result.output


@pytest.mark.slow
def test_short_cpu_run_learns_and_beats_mean_fill(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    trained = runner.invoke(main, ["train", "ours", "--steps", str(STEPS), "--out", "run", "--sample-every", "500", *QUICK])
    assert trained.exit_code == 0, trained.output
    losses = pd.read_csv(tmp_path / "run" / "losses.csv")
    tenth = STEPS // 10
    first, last = losses["reconstruction"][:tenth].mean(), losses["reconstruction"][-tenth:].mean()
    on_train, train_output = _hole_psnr(runner, "train", "res-train")
    on_val, val_output = _hole_psnr(runner, "val", "res-val")
    print(f"\nreconstruction loss: first tenth {first:.4f}, last tenth {last:.4f}")
    print(f"sample:train (the photographs it learned from)\n{train_output}\nsample:val (held-back photographs)\n{val_output}")
    assert last < 0.7 * first
    assert on_train.loc["ours", "psnr_hole"] > on_train.loc["mean-fill", "psnr_hole"] + 0.5
