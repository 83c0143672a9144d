"""Scorers as registered plugins: the docs' example installed with pip, and throw-away scorers in-process."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from inpaintbench import ScoreColumn, Scorer, registry
from inpaintbench.cli import main
from inpaintbench.errors import DuplicateNameError, ResultsError
from inpaintbench.images import read_image
from inpaintbench.metrics import SCORE_SETTINGS, score_batch
from inpaintbench.protocol import Protocol
from inpaintbench.results import ResultsStore
from inpaintbench.runner import RunSpec, evaluate
from inpaintbench.scoring import registered_scorers, score_completed
from inpaintbench.tables import summarize, to_latex, to_markdown, to_rich

from doc_examples import install_example, run_cli
from plugin_doubles import registering

BUILT_IN_HEADERS = ["PSNR (dB) ↑", "SSIM ↑", "hole PSNR (dB) ↑", "hole SSIM ↑", "hole L1 (%) ↓"]


# --- the example plugin of docs/plugins.md, as a user installs it ---------------------------------


@pytest.fixture(scope="module")
def maxerr_run(tmp_path_factory):
    """``compare`` with the docs' maxerr scorer pip-installed: (results directory, CSV printed)."""
    root = tmp_path_factory.mktemp("maxerr")
    site = install_example("maxerr", root, root / "site")
    result = run_cli(["compare", "--methods", "telea,mean-fill", "--limit", "2", "--out", "res", "--format", "csv"], site, root)
    assert result.returncode == 0, result.stderr
    return root / "res", result.stdout


def test_the_docs_scorer_adds_its_column_to_every_table(maxerr_run):
    out, printed = maxerr_run
    header = printed.splitlines()[0].split(",")
    assert {"maxerr", "maxerr_low", "maxerr_high", "maxerr_n"} <= set(header)
    assert header.index("l1_hole") < header.index("maxerr")  # the built-in scorer's columns come first
    markdown = (out / "table.md").read_text().splitlines()[0]
    assert [label for label in [*BUILT_IN_HEADERS, "hole max error ↓"] if label in markdown] == [*BUILT_IN_HEADERS, "hole max error ↓"]
    assert markdown.index("hole L1 (%) ↓") < markdown.index("hole max error ↓")
    latex = (out / "table.tex").read_text()
    assert r"hole max error $\downarrow$" in latex and r"PSNR (dB) $\uparrow$" in latex
    assert "hole max error: the largest |completed - target| in the hole" in (out / "table.md").read_text()
    assert "hole max error" in (out / "report.html").read_text()


def test_the_docs_scorer_records_its_settings_and_the_builtin_keeps_metrics(maxerr_run):
    out, _ = maxerr_run
    record = json.loads((out / "run.json").read_text())
    assert record["metrics"] == SCORE_SETTINGS  # results directories keep their key
    assert set(record["scorers"]) == {"psnr-ssim", "maxerr"}
    assert record["scorers"]["psnr-ssim"]["settings"] == SCORE_SETTINGS
    maxerr = record["scorers"]["maxerr"]
    assert "grey levels 0-255" in maxerr["settings"]["maxerr"]
    assert maxerr["distribution"] == "inpaintbench-maxerr 0.1.0" and maxerr["columns"] == ["maxerr"]


def test_the_docs_scorer_values_match_the_saved_images_and_the_builtin_is_unchanged(maxerr_run):
    out, printed = maxerr_run
    store = ResultsStore(out)
    table = pd.read_csv(out / "table.csv").set_index("method")
    for method in ("telea", "mean-fill"):
        rows = [json.loads(line) for line in store.scores_path(method).read_text().splitlines()]
        assert len(rows) == 2
        for row in rows:
            completed = read_image(store.image_path(method, row["item"]))
            target = read_image(store.image_path("target", row["item"]))
            mask = store.read_mask(row["item"])
            error = np.abs(completed.astype(int) - target.astype(int)).max(axis=2)
            assert row["maxerr"] == error[mask].max() and error[mask].max() > 0
            builtin = score_batch(completed[None], target[None], mask[None])
            for key, values in builtin.items():
                assert row[key] == float(values[0])  # bit for bit, through the registry
        assert table.loc[method, "maxerr"] == pytest.approx(np.mean([row["maxerr"] for row in rows]))
        assert table.loc[method, "maxerr_n"] == 2


# --- throw-away scorers registered on the plugin manager ------------------------------------------


class MeanBrightness(Scorer):
    """Whole-image mean grey level (higher is not better; it is a test)."""

    name = "brightness"
    columns = (ScoreColumn("brightness", "brightness", higher_is_better=False, decimals=1),)
    seen_masks: list = []

    def score(self, completed, targets, masks):
        MeanBrightness.seen_masks.append(masks)
        return {"brightness": completed.reshape(len(completed), -1).mean(axis=1)}


class HoleShare(Scorer):
    name = "hole-share"
    columns = (ScoreColumn("hole_share", "hole share (%)", higher_is_better=True, scale=100.0, decimals=1),)
    needs_mask = True

    def score(self, completed, targets, masks):
        return {"hole_share": masks.reshape(len(masks), -1).mean(axis=1)}


class Flaky(Scorer):
    """Fails on any batch holding the first sample item (alphabetically)."""

    name = "flaky"
    columns = (ScoreColumn("flaky", "flaky", higher_is_better=True),)
    needs_mask = True

    def score(self, completed, targets, masks):
        if any(np.array_equal(target, _FIRST.get("image")) for target in targets):
            raise RuntimeError("GPU fell over")
        return {"flaky": np.ones(len(completed))}


_FIRST: dict = {}


def _sample_run(tmp_path, limit=3, batch_size=1):
    dataset = registry.open_dataset("sample")
    spec = RunSpec(dataset, Protocol(), limit=limit, batch_size=batch_size)
    return spec, {"mean-fill": registry.create_method("mean-fill")}, ResultsStore(tmp_path / "out")


def test_headers_carry_each_columns_direction_in_every_renderer(fresh_plugins):
    fresh_plugins.register(registering("register_scorers", MeanBrightness, HoleShare), name="throwaway")
    rows = [{"method": m, "item": i, "psnr": 20.0 + k, "ssim": 0.5, "psnr_hole": 15.0, "ssim_hole": 0.3, "l1_hole": 0.1,
             "brightness": 100.0 + k, "hole_share": 0.25, "seconds": 0.01}
            for k, m in enumerate(["a", "b"]) for i in "xyz"]
    record = {"dataset": "d", "split": "s", "seed": 0, "protocol": {}, "method_order": ["a", "b"],
              "methods": {"a": {"status": "ok"}, "b": {"status": "ok"}}}
    summary = summarize(pd.DataFrame(rows), record).set_index("method")
    assert summary.loc["b", "brightness"] == pytest.approx(101.0) and summary.loc["a", "hole_share"] == pytest.approx(25.0)
    header = to_markdown(summary.reset_index(), record).splitlines()[0]
    expected = [*BUILT_IN_HEADERS, "brightness ↓", "hole share (%) ↑"]
    assert [cell.strip() for cell in header.strip("|").split("|")] == ["Method", *expected, "s/image", "n"]
    latex = to_latex(summary.reset_index(), record)
    assert r"brightness $\downarrow$ & hole share (\%) $\uparrow$" in latex and "↓" not in latex
    assert [column.header for column in to_rich(summary.reset_index(), record).columns][1:8] == expected


def test_a_scorer_that_raises_loses_only_its_own_scores_and_is_named(fresh_plugins, tmp_path):
    fresh_plugins.register(registering("register_scorers", Flaky, HoleShare), name="throwaway")
    spec, methods, store = _sample_run(tmp_path)
    first = spec.selected()[0]
    _FIRST["image"] = spec.protocol.prepare(spec.dataset.read(first))
    try:
        report = evaluate(spec, methods, store)
    finally:
        _FIRST.clear()
    assert report.scored == {"mean-fill": 3} and report.method_errors == {}  # the method did not fail
    assert list(report.scorer_errors) == ["flaky"] and report.scorer_errors["flaky"] == [(1, "RuntimeError: GPU fell over")]
    failure = next(f for f in store.failures() if f["stage"] == "score")
    assert failure["method"] == "mean-fill" and failure["items"] == [first] and "'flaky'" in failure["error"]
    rows = store.scores().set_index("item")
    assert np.isnan(rows.loc[first, "flaky"]) and (rows.drop(first)["flaky"] == 1).all()
    assert rows["psnr"].notna().all() and rows["hole_share"].notna().all()  # the other scores are kept
    summary = summarize(store.scores(), store.read_record())
    assert int(summary.loc[0, "flaky_n"]) == 2 and int(summary.loc[0, "psnr_n"]) == 3
    assert "flaky averages 2 of the 3 items (the others have none" in to_markdown(summary, store.read_record())


def test_compare_names_a_failing_scorer_after_the_run(fresh_plugins, tmp_path, monkeypatch):
    class Broken(Scorer):
        name = "broken"
        columns = (ScoreColumn("broken", "broken", higher_is_better=True),)

        def score(self, completed, targets, masks):
            return {"wrong_key": np.zeros(len(completed))}

    fresh_plugins.register(registering("register_scorers", Broken), name="throwaway")
    monkeypatch.chdir(tmp_path)
    result = CliRunner(env={"COLUMNS": "200"}).invoke(main, ["compare", "--methods", "mean-fill", "--limit", "2", "--out", "res", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert "scorer 'broken' failed on 2 (image, method) pair(s)" in result.output
    assert "returned ['wrong_key']; it declares the columns ['broken']" in result.output
    table = pd.read_csv(tmp_path / "res" / "table.csv")
    assert table.loc[0, "broken_n"] == 0 and np.isnan(table.loc[0, "broken"]) and table.loc[0, "psnr_n"] == 2


def test_a_scorer_without_needs_mask_gets_none_and_read_only_images(fresh_plugins):
    class Scribbler(Scorer):
        name = "scribbler"
        columns = (ScoreColumn("scribble", "scribble", higher_is_better=True),)

        def score(self, completed, targets, masks):
            completed[:] = 0
            return {"scribble": np.zeros(len(completed))}

    fresh_plugins.register(registering("register_scorers", MeanBrightness, Scribbler), name="throwaway")
    MeanBrightness.seen_masks.clear()
    completed = np.full((2, 32, 32, 3), 7, np.uint8)
    scores, errors = score_completed(completed, completed.copy(), np.ones((2, 32, 32), bool))
    assert MeanBrightness.seen_masks == [None]
    assert scores["brightness"].tolist() == [7.0, 7.0] and "scribble" not in scores
    assert "read-only" in errors["scribbler"] and (completed == 7).all()


def test_a_scorer_name_registered_twice_stops_the_run_naming_the_plugin(fresh_plugins, tmp_path):
    class Impostor(MeanBrightness):
        name = "psnr-ssim"
        columns = (ScoreColumn("impostor", "impostor", higher_is_better=True),)

    fresh_plugins.register(registering("register_scorers", Impostor), name="impostor-plugin")
    with pytest.raises(DuplicateNameError, match="impostor-plugin"):
        registered_scorers()
    spec, methods, store = _sample_run(tmp_path)
    with pytest.raises(DuplicateNameError, match="'psnr-ssim' is registered by several plugins"):
        evaluate(spec, methods, store)
    assert not store.scores_path("mean-fill").exists()  # nothing scored without the built-in columns
    result = CliRunner().invoke(main, ["compare", "--methods", "mean-fill", "--limit", "1", "--out", str(tmp_path / "cli")])
    assert result.exit_code == 2 and "impostor-plugin" in result.output and "Traceback" not in result.output


def test_a_column_declared_by_two_scorers_stops_the_run_naming_both(fresh_plugins):
    class Twin(HoleShare):
        name = "twin"

    fresh_plugins.register(registering("register_scorers", HoleShare, Twin), name="throwaway")
    with pytest.raises(DuplicateNameError, match="'hole-share' and 'twin' .* both make the column 'hole_share'"):
        registered_scorers()


def test_a_rerun_with_other_scorer_settings_is_refused_and_new_scorers_accumulate(tmp_path):
    store = ResultsStore(tmp_path)
    base = {"dataset": "sample", "split": "test", "protocol": {}, "seed": 0, "metrics": {}}
    store.write_record({**base, "scorers": {"maxerr": {"settings": {"unit": "grey levels"}}}})
    store.check_compatible({**base, "scorers": {"other": {"settings": {}}}})  # a new scorer may join
    store.write_record({**base, "scorers": {"other": {"settings": {}}}})
    assert set(store.read_record()["scorers"]) == {"maxerr", "other"}
    with pytest.raises(ResultsError, match="scorer 'maxerr' with other settings"):
        store.check_compatible({**base, "scorers": {"maxerr": {"settings": {"unit": "percent"}}}})
