"""The paper's Table VI, every learned method next to PatchMatch and Telea.

Tiny networks trained for two steps stand in for real checkpoints; what is
checked is the plumbing: `inpaintbench train` writes each run where `compare`
finds it, every method is scored on the same items, and the table names the
GLCIC variant it scored.
"""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner

from inpaintbench.cli import main

TINY_TRAINING = {
    "ours": ["-o", "width=0.0625", "-o", "bottleneck=16"],
    "context-encoder": ["-o", "width=0.0625", "-o", "bottleneck=16"],
    "glcic": ["-o", "width=0.0625"],
}
TABLE_VI = "ours,context-encoder,glcic,patchmatch,telea"


def test_table_vi_with_every_learned_method(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    for method, options in TINY_TRAINING.items():
        trained = runner.invoke(main, ["train", method, "--steps", "2", "--batch-size", "2", "--workers", "0", *options])
        assert trained.exit_code == 0, trained.output
        assert (tmp_path / "runs" / f"{method}-sample-s0" / "model.pt").is_file()

    found = runner.invoke(main, ["compare", "--methods", TABLE_VI, "--limit", "3", "--format", "md", "--out", "found"])
    assert found.exit_code == 0, found.output
    table = pd.read_csv(tmp_path / "found" / "table.csv")
    assert list(table["method"]) == TABLE_VI.split(",")  # the user's order, every method present
    assert (table["n"] == 3).all() and (table["scored"] == table["n"]).all()
    assert "| glcic (post-processed) |" in found.output and "| Method | PSNR (dB) ↑ | SSIM ↑ |" in found.output
    seen = table.set_index("method")["images_seen"]
    assert (seen[list(TINY_TRAINING)] == 4).all() and seen[["patchmatch", "telea"]].isna().all()  # 2 steps x batch 2

    given = [f"--checkpoint={m}=runs/{m}-sample-s0" for m in TINY_TRAINING]
    explicit = runner.invoke(main, ["compare", "--methods", TABLE_VI, "--limit", "3", "--format", "csv", "--out", "given", *given])
    assert explicit.exit_code == 0, explicit.output
    again = pd.read_csv(tmp_path / "given" / "table.csv")
    pd.testing.assert_frame_equal(table.drop(columns="seconds"), again.drop(columns="seconds"))
