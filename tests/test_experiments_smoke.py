"""Smoke versions of the paper's experiments on the bundled sample set, on CPU (slow: a few minutes).

Run with ``python -m pytest -m slow -s tests/test_experiments_smoke.py``; the
tables are printed.  Networks are at a fraction of the paper's width and train
for a few hundred steps, so the numbers show that each experiment runs end to
end and that training moves the losses, not what the paper's models reach.
"""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from inpaintbench.cli import main
from inpaintbench.training.logs import read_losses

SMALL = {
    "ours": ["-o", "ours.width=0.25", "-o", "ours.bottleneck=500"],
    "context-encoder": ["-o", "context-encoder.width=0.25", "-o", "context-encoder.bottleneck=500"],
    "glcic": ["-o", "glcic.width=0.125"],
}
RUN = ["--dataset", "sample", "--batch-size", "16", "--device", "cpu", "--workers", "1", "--format", "md"]


def invoke(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    print(result.output)
    return result


def falls(run_dir, column: str = "reconstruction") -> bool:
    losses = read_losses(run_dir)[column].dropna()
    tenth = max(len(losses) // 10, 1)
    return losses.iloc[-tenth:].mean() < losses.iloc[:tenth].mean()


@pytest.mark.slow
def test_every_experiment_runs_on_the_sample_set(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    small = [flag for flags in SMALL.values() for flag in flags]

    invoke("experiment", "table-vi", *RUN, "--steps", "150", *small, "--out", "vi")
    table = pd.read_csv(tmp_path / "vi" / "table.csv")
    assert list(table["method"]) == ["patchmatch", "context-encoder", "glcic", "ours"]
    assert (table["n"] == 9).all() and (table["scored"] == table["n"]).all()  # sample:val, every held-back crop
    for method in SMALL:
        assert falls(tmp_path / "vi" / "train" / method), method
        assert (tmp_path / "vi" / f"fig10-{method}.png").is_file() and (tmp_path / "vi" / f"losses-{method}.png").is_file()
    assert (tmp_path / "vi" / "fig11.png").is_file() and (tmp_path / "vi" / "table.tex").is_file()

    invoke("experiment", "table-vii", *RUN, "--steps", "200", *SMALL["ours"], "--out", "vii")
    table = pd.read_csv(tmp_path / "vii" / "table.csv")
    assert list(table["method"]) == ["ours-ce", "ours-local", "ours-full"] and (table["scored"] == table["n"]).all()
    assert falls(tmp_path / "vii" / "train" / "ours-full", "d_global")  # the global discriminator learns
    assert (tmp_path / "vii" / "fig12.png").is_file()

    # Figs. 14-16: the run trained on sample:train, scored on held-back photographs and on a folder of other images
    invoke("experiment", "generalise", "--checkpoint", "ours=vi/train/ours", "--methods", "telea",
           "--on", "sample:val", "--on", f"folder={tmp_path / 'vii' / 'eval' / 'images' / 'target'}", "--device", "cpu", "--format", "md")
    general = pd.read_csv(tmp_path / "experiments" / "generalisation" / "table.csv")
    assert set(general["dataset"]) == {"sample:val", "folder:all"} and (general["n"] > 0).all()
    # the same checkpoint on the same images scores the same as in Table VI
    vi_ours = pd.read_csv(tmp_path / "vi" / "table.csv").set_index("method").loc["ours", "psnr"]
    assert general.set_index(["dataset", "method"]).loc[("sample:val", "ours"), "psnr"] == pytest.approx(vi_ours, abs=1e-6)

    again = invoke("experiment", "table-vi", *RUN, "--steps", "150", *small, "--out", "vi")
    assert "not retraining" in again.output and "pairs were already scored" in again.output
