"""Summaries from per-image rows: pairing, NaN hole scores, unavailable methods, renderers."""

import numpy as np
import pandas as pd
import pytest

from inpaintbench.tables import left_out, summarize, to_csv, to_latex, to_markdown

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
    assert list(summary.index) == ["b", "a"]
    assert summary.loc["a", "psnr"] == pytest.approx(2.0)  # item z, which b lacks, is left out
    assert summary.loc["a", "n"] == 3 and summary.loc["a", "scored"] == 4
    assert summary.loc["a", "l1_hole"] == pytest.approx(200.0)  # shown in percent


def test_a_method_that_lacks_items_is_named_under_the_table():
    """Pairing shrinks every row to the common items; the caption says who scored how many."""
    scores = pd.DataFrame(_rows("a", [1, 2, 3, 4], "wxyz") + _rows("b", [10, 20, 30], "wxy"))
    markdown = to_markdown(summarize(scores, RECORD), RECORD)
    assert "methods scored different items (b 3, a 4): every row averages the 3 items all scored" in markdown
    even = pd.DataFrame(_rows("a", [1, 2, 3], "wxy") + _rows("b", [10, 20, 30], "wxy"))
    assert "different items" not in to_markdown(summarize(even, RECORD), RECORD)


def test_a_nan_hole_score_drops_that_item_from_that_column_only():
    scores = pd.DataFrame(_rows("a", [1, 2, 3], "xyz") + _rows("b", [4, 5, 6], "xyz"))
    scores.loc[scores["item"] == "x", "ssim_hole"] = np.nan  # hole wholly in SSIM's cropped border
    summary = summarize(scores, RECORD).set_index("method")
    assert summary.loc["a", "ssim_hole"] == pytest.approx(2.5)
    assert summary.loc["a", "psnr"] == pytest.approx(2.0)
    assert np.isfinite(summary.loc["a", ["ssim_hole_low", "ssim_hole_high"]].astype(float)).all()


def test_methods_without_scores_are_left_out_of_every_rendering_with_their_reason():
    scores = pd.DataFrame(_rows("a", [1, 2], "xy") + _rows("b", [3, 4], "xy"))
    record = {**RECORD, "method_order": ["b", "a", "net", "broken"], "methods": {**RECORD["methods"], "broken": {"status": "ok"}}}
    summary = summarize(scores, record)
    markdown, latex, csv = to_markdown(summary, record), to_latex(summary, record), to_csv(summary)
    for text in (markdown, latex, csv):
        assert "net" not in text and "not trained" not in text and "broken" not in text
    reasons = left_out(record, summary)
    assert reasons["net"] == "not trained" and "every item failed" in reasons["broken"] and list(reasons) == ["net", "broken"]
    assert r"95 \% paired-bootstrap" in latex and r"\toprule" in latex and "%" not in latex.replace(r"\%", "")


def test_each_column_says_how_many_items_it_averages():
    """n is the paired set; a column that averages fewer items says so under the table."""
    scores = pd.DataFrame(_rows("a", [1, 2, 3], "xyz") + _rows("b", [4, 5, 6], "xyz"))
    summary = summarize(scores, RECORD).set_index("method")
    assert summary.loc["a", "n"] == 3 and summary.loc["a", "ssim_hole_n"] == 3
    assert "averages" not in to_markdown(summary.reset_index(), RECORD)
    scores.loc[scores["item"] == "x", "ssim_hole"] = np.nan
    summary = summarize(scores, RECORD)
    assert summary.set_index("method").loc["b", "ssim_hole_n"] == 2 and summary.set_index("method").loc["b", "psnr_n"] == 3
    assert "hole SSIM averages 2 of the 3 items" in to_markdown(summary, RECORD)


def test_captions_name_the_hole_ssim_definition():
    scores = pd.DataFrame(_rows("a", [1, 2], "xy") + _rows("b", [3, 4], "xy"))
    summary = summarize(scores, RECORD)
    for text in (to_markdown(summary, RECORD), to_latex(summary, RECORD)):
        assert "SSIM map averaged over hole pixels" in text and "cropped hole" in text


def test_learned_rows_show_the_training_images_they_saw():
    record = {**RECORD, "methods": {
        "a": {"status": "ok", "trained_on": {"dataset": "folder", "images_seen": 48000}},
        "b": {"status": "ok"},
        "net": {"status": "unavailable", "reason": "not trained"},
    }}
    scores = pd.DataFrame(_rows("a", [1, 2], "xy") + _rows("b", [3, 4], "xy"))
    summary = summarize(scores, record)
    assert summary.set_index("method").loc["a", "images_seen"] == 48000
    lines = to_markdown(summary, record).splitlines()
    assert lines[0].rstrip(" |").endswith("images seen")
    assert next(line for line in lines if line.startswith("| a ")).rstrip(" |").endswith("48,000")
    assert next(line for line in lines if line.startswith("| b ")).rstrip(" |").endswith("—")
    assert "images seen" not in to_markdown(summarize(scores, RECORD), RECORD)  # no learned row: no column
