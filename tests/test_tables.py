"""Summaries from per-image rows: pairing, NaN hole scores, unavailable methods, renderers."""

import numpy as np
import pandas as pd
import pytest

from inpaintbench.tables import summarize, to_latex, to_markdown

COLUMNS = ("psnr", "ssim", "psnr_hole", "ssim_hole", "l1_hole")


def _rows(method, values, items):
    return [{"method": method, "item": item, **{c: v for c in COLUMNS}, "seconds": 0.01} for item, v in zip(items, values)]


RECORD = {
    "dataset": "sample", "split": "test", "seed": 0, "items": 4,
    "protocol": {"mask": "center", "image_size": 128},
    "method_order": ["b", "a", "net"],
    "methods": {"a": {"status": "ok"}, "b": {"status": "ok"}, "net": {"status": "unavailable", "reason": "not trained"}},
}


def test_means_use_items_every_method_scored_and_keep_the_users_order():
    scores = pd.DataFrame(_rows("a", [1, 2, 3, 4], "wxyz") + _rows("b", [10, 20, 30], "wxy"))
    summary = summarize(scores, RECORD).set_index("method")
    assert list(summary.index) == ["b", "a", "net"]
    assert summary.loc["a", "psnr"] == pytest.approx(2.0)  # item z, which b lacks, is left out
    assert summary.loc["a", "n"] == 3 and summary.loc["net", "status"] == "not trained"
    assert summary.loc["a", "l1_hole"] == pytest.approx(200.0)  # shown in percent


def test_a_nan_hole_score_drops_that_item_from_that_column_only():
    scores = pd.DataFrame(_rows("a", [1, 2, 3], "xyz") + _rows("b", [4, 5, 6], "xyz"))
    scores.loc[scores["item"] == "x", "ssim_hole"] = np.nan  # hole wholly in SSIM's cropped border
    summary = summarize(scores, RECORD).set_index("method")
    assert summary.loc["a", "ssim_hole"] == pytest.approx(2.5)
    assert summary.loc["a", "psnr"] == pytest.approx(2.0)
    assert np.isfinite(summary.loc["a", ["ssim_hole_low", "ssim_hole_high"]].astype(float)).all()


def test_renderers_show_reasons_and_escape_latex():
    scores = pd.DataFrame(_rows("a", [1, 2], "xy") + _rows("b", [3, 4], "xy"))
    summary = summarize(scores, RECORD)
    markdown, latex = to_markdown(summary, RECORD), to_latex(summary, RECORD)
    assert "| net |" in markdown and "not trained" in markdown
    assert r"95 \% paired-bootstrap" in latex and r"\toprule" in latex and "%" not in latex.replace(r"\%", "")
