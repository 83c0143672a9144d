import json

import numpy as np
import pytest

from inpaintbench.errors import ResultsError
from inpaintbench.results import ResultsStore, append_jsonl, item_filename, read_jsonl, write_atomic


def test_a_torn_last_line_is_ignored_and_cut_before_the_next_append(tmp_path):
    path = tmp_path / "scores.jsonl"
    append_jsonl(path, [{"item": "a"}, {"item": "b"}])
    with open(path, "a") as handle:
        handle.write('{"item": "c", "ps')  # a crash mid-write
    assert [row["item"] for row in read_jsonl(path)] == ["a", "b"]
    append_jsonl(path, [{"item": "d"}])
    assert [row["item"] for row in read_jsonl(path)] == ["a", "b", "d"]
    assert all(json.loads(line) for line in path.read_text().splitlines())


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    write_atomic(tmp_path / "t.md", "x")
    write_atomic(tmp_path / "t.md", "y")
    assert (tmp_path / "t.md").read_text() == "y"
    assert [p.name for p in tmp_path.iterdir()] == ["t.md"]


def test_item_ids_map_to_files_inside_the_results_directory():
    assert str(item_filename("n01/x.JPEG")) == "n01/x.JPEG.png"
    assert str(item_filename("astronaut-0.png")) == "astronaut-0.png"
    assert str(item_filename("../../etc/passwd")) == "etc/passwd.png"


def test_a_rerun_with_another_seed_or_options_is_refused(tmp_path):
    store = ResultsStore(tmp_path)
    record = {"dataset": "sample", "split": "test", "protocol": {"mask": "center"}, "seed": 0, "metrics": {},
              "methods": {"telea": {"options": {"radius": 3}}}}
    store.write_record(record)
    store.check_compatible(record)
    with pytest.raises(ResultsError, match="different seed"):
        store.check_compatible({**record, "seed": 1})
    with pytest.raises(ResultsError, match="other options"):
        store.check_compatible({**record, "methods": {"telea": {"options": {"radius": 5}}}})


def test_scores_frame_keeps_one_row_per_pair(tmp_path):
    store = ResultsStore(tmp_path)
    store.append_scores("m", [{"item": "a", "psnr": 1.0}, {"item": "a", "psnr": 2.0}])
    frame = store.scores()
    assert len(frame) == 1 and frame.iloc[0]["psnr"] == 1.0
    store.save_image("m", "a", np.zeros((4, 4, 3), np.uint8))
    assert store.image_path("m", "a").exists()


def test_a_method_that_cannot_start_on_a_rerun_keeps_its_scored_entry(tmp_path):
    store = ResultsStore(tmp_path)
    base = {"dataset": "sample", "split": "test", "protocol": {}, "seed": 0, "metrics": {}}
    scored = {**base, "methods": {"net": {"options": {}, "checkpoint_sha256": "abc", "status": "ok"}}}
    store.write_record(scored)
    rerun = {**base, "methods": {"net": {"status": "unavailable", "reason": "not trained"}}}
    store.check_compatible(rerun)
    store.write_record(rerun)
    assert store.read_record()["methods"]["net"]["checkpoint_sha256"] == "abc"
