"""Shards, their merge, parallel workers and torchrun: all must give the table of one process.

A tiny folder dataset (seven generated images, 64 px protocol) keeps every
run short.  ``seconds`` (per image) is a measurement, so it is the one column
allowed to differ between a sharded or parallel run and one process.
"""

import json
import os
import socket
import subprocess
import sys

import cv2
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from inpaintbench.cli import main
from inpaintbench.datasets.folder import FolderDataset
from inpaintbench.errors import InpaintbenchError, ResultsError
from inpaintbench.parallel import MethodSpec, evaluate_parallel
from inpaintbench.protocol import Protocol
from inpaintbench.results import ResultsStore
from inpaintbench.runner import RunSpec, evaluate
from inpaintbench.sharding import merge_shards, parse_shard, shard_dir

#: PatchMatch with a cheap schedule (~0.1 s per 64 px image)
PATCHMATCH = ["-o", "patchmatch.levels=2", "-o", "patchmatch.em_iterations_per_level=0", "-o", "patchmatch.search_iterations=1",
              "-o", "patchmatch.patch_size=5"]
CLASSICAL = "telea,mean-fill,biharmonic"


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Seven generated images of different sizes: gradients, noise and a disc."""
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for k in range(7):
        height, width = 72 + 8 * k, 96
        y, x = np.mgrid[0:height, 0:width]
        base = np.stack([(x * (k + 1)) % 256, (y * 3 + 40 * k) % 256, ((x + y) * 2) % 256], -1).astype(np.float64)
        image = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
        cv2.circle(image, (20 + 5 * k, 30), 12, (255, 40 * k % 256, 0), -1)
        cv2.imwrite(str(folder / f"img{k}.png"), image)
    return folder


def compare(images, out, *args, expect=0):
    argv = ["compare", "--dataset", "folder", "--root", str(images), "--image-size", "64", "--batch-size", "3",
            "--grid-rows", "4", "--out", str(out), "--format", "csv", *args]
    result = CliRunner(env={"COLUMNS": "200"}).invoke(main, argv)
    assert result.exit_code == expect, result.output
    return result


def table(out):
    """table.csv without the measured seconds."""
    return pd.read_csv(out / "table.csv").drop(columns="seconds")


def scores(out):
    """scores.csv without the measured seconds."""
    return pd.read_csv(out / "scores.csv").drop(columns="seconds")


def image_files(out):
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted((out / "images").rglob("*.png"))}


def snapshot(out):
    """Every file of a results directory except the shards, by content."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file() and "shards" not in p.parts}


@pytest.fixture(scope="module")
def single(images, tmp_path_factory):
    """The reference: classical methods and PatchMatch in one process."""
    out = tmp_path_factory.mktemp("single") / "out"
    compare(images, out, "--methods", f"{CLASSICAL},patchmatch", *PATCHMATCH)
    return out


def test_shards_partition_the_seeded_selection_exactly_once(images):
    dataset = FolderDataset(images)
    for limit in (None, 5):
        whole = RunSpec(dataset, Protocol(image_size=64), seed=3, limit=limit)
        selected = whole.selected()
        for count in (1, 2, 3, 8):
            parts = [RunSpec(dataset, Protocol(image_size=64), seed=3, limit=limit, shard=(k, count)) for k in range(count)]
            own = [item for part in parts for item in part.own_items(part.selected())]
            assert sorted(own) == sorted(selected) and len(own) == len(set(own))
            sizes = [len(part.own_items(selected)) for part in parts]
            assert max(sizes) - min(sizes) <= 1  # interleaved: balanced
    with pytest.raises(InpaintbenchError, match="shard 2/2"):
        RunSpec(dataset, Protocol(), shard=(2, 2))
    assert parse_shard("1/4") == (1, 4)
    for bad in ("4/4", "1", "a/b", "-1/2"):
        with pytest.raises(InpaintbenchError, match="K/N"):
            parse_shard(bad)


def test_two_merged_shards_give_the_table_of_one_process(images, single, tmp_path):
    out = tmp_path / "sharded"
    for k in (0, 1):
        done = compare(images, out, "--methods", f"{CLASSICAL},patchmatch", *PATCHMATCH, "--shard", f"{k}/2")
        assert f"shard {k}/2 done; merge with: inpaintbench merge {out}" in done.output
        assert not (out / "table.csv").exists()
    shard = json.loads((shard_dir(out, (1, 2)) / "run.json").read_text())
    reference = json.loads((single / "run.json").read_text())
    assert shard["shard"] == "1/2" and shard["items"] == 7 and shard["manifest_sha256"] == reference["manifest_sha256"]
    assert len(ResultsStore(shard_dir(out, (1, 2))).scored_items("telea")) == 3  # items 1, 3, 5 of 7

    merged = CliRunner().invoke(main, ["merge", str(out), "--format", "csv", "--grid-rows", "4"])
    assert merged.exit_code == 0, merged.output
    assert "merged 2 shard(s)" in merged.output
    pd.testing.assert_frame_equal(table(out), table(single))  # every mean and CI bound
    pd.testing.assert_frame_equal(scores(out), scores(single))  # same rows in the same order
    assert image_files(out) == image_files(single)  # the grid keeps the same images
    record = json.loads((out / "run.json").read_text())
    assert "shard" not in record and record["method_order"] == reference["method_order"]
    assert record["methods"]["patchmatch"]["options"] == reference["methods"]["patchmatch"]["options"]

    before = snapshot(out)
    again = merge_shards(out)
    assert sum(again.rows.values()) == 0 and again.images == 0 and again.failures == 0
    assert snapshot(out) == before  # idempotent: merging twice changes nothing


def test_a_shard_of_another_run_is_refused_by_name(images, tmp_path):
    out = tmp_path / "mixed"
    compare(images, out, "--methods", "mean-fill", "--shard", "0/2")
    compare(images, out, "--methods", "mean-fill", "--shard", "1/2", "--seed", "1")
    result = CliRunner().invoke(main, ["merge", str(out)])
    assert result.exit_code == 2
    line = result.output.strip()
    assert "\n" not in line and str(shard_dir(out, (1, 2))) in line and "different seed (0, now 1)" in line
    assert "rerun that shard" in line
    assert not (out / "scores").exists()  # nothing was merged

    compare(images, tmp_path / "opts", "--methods", "telea", "--shard", "0/2")
    compare(images, tmp_path / "opts", "--methods", "telea", "-o", "telea.radius=5", "--shard", "1/2")
    with pytest.raises(ResultsError, match="1-of-2.*'telea' results with other options"):  # a method's options, too
        merge_shards(tmp_path / "opts")


def test_a_shard_is_checked_against_the_merged_run_before_it_starts(images, tmp_path):
    out = tmp_path / "out"
    compare(images, out, "--methods", "mean-fill")
    result = compare(images, out, "--methods", "mean-fill", "--shard", "0/2", "--mask", "random-box", expect=2)
    assert "different protocol" in result.output
    assert not shard_dir(out, (0, 2)).exists()
    both = compare(images, out, "--methods", "mean-fill", "--shard", "0/2", "--workers", "2", expect=2)
    assert "drop --workers" in both.output


def test_parallel_workers_give_the_table_of_one_process(images, single, tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # a machine without CUDA: auto means cpu
    out = tmp_path / "parallel"
    result = compare(images, out, "--methods", f"{CLASSICAL},patchmatch", *PATCHMATCH, "--workers", "2", "--device", "auto")
    assert "telea, mean-fill, biharmonic, patchmatch on folder" in result.output  # the progress bar
    pd.testing.assert_frame_equal(table(out), table(single))
    pd.testing.assert_frame_equal(scores(out), scores(single))
    assert image_files(out) == image_files(single)
    record = json.loads((out / "run.json").read_text())
    assert record["methods"]["patchmatch"]["device"] == "cpu"
    for k in (0, 1):  # the CPU methods ran in the workers, one shard each
        assert len(ResultsStore(shard_dir(out, (k, 2))).scored_items("patchmatch")) == (4, 3)[k]


def test_an_interrupted_parallel_run_continues_and_scores_nothing_twice(images, tmp_path):
    out = tmp_path / "resumed"
    compare(images, out, "--methods", "telea,mean-fill", "--shard", "0/2")
    partial = ResultsStore(shard_dir(out, (0, 2))).scores_path("telea")
    first = json.loads(partial.read_text().splitlines()[0])
    partial.write_text(json.dumps({**first, "seconds": 123.0}) + "\n")  # interrupted after one pair; a marked row

    compare(images, out, "--methods", "telea,mean-fill", "--workers", "2")
    for k, size in ((0, 4), (1, 3)):
        for method in ("telea", "mean-fill"):
            rows = [json.loads(line)["item"] for line in ResultsStore(shard_dir(out, (k, 2))).scores_path(method).read_text().splitlines()]
            assert len(rows) == len(set(rows)) == size  # every pair of the shard once
    stored = ResultsStore(out).scores()
    assert len(stored) == 14 and not stored.duplicated(["method", "item"]).any()
    assert stored.set_index(["method", "item"]).loc[("telea", first["item"]), "seconds"] == 123.0  # kept, not redone

    # a rerun with the shards gone skips what the results directory already holds
    import shutil

    shutil.rmtree(out / "shards")
    again = compare(images, out, "--methods", "telea,mean-fill", "--workers", "2")
    assert "resumed: 14 (image, method) pairs" in again.output
    assert not ResultsStore(shard_dir(out, (0, 2))).scores_path("telea").exists()
    assert len(ResultsStore(out).scores()) == 14


def test_a_crashed_worker_is_reported_by_name_and_the_rest_is_kept(images, tmp_path):
    out = tmp_path / "crash"
    shard_dir(out, (1, 2)).mkdir(parents=True)
    (shard_dir(out, (1, 2)) / "run.json").write_text("{torn")
    result = compare(images, out, "--methods", "mean-fill", "--workers", "2")
    assert "worker for shard 1/2 crashed: ResultsError:" in result.output and "not valid JSON" in result.output
    assert len(ResultsStore(out).scored_items("mean-fill")) == 4  # shard 0's items, merged
    assert pd.read_csv(out / "table.csv").loc[0, "n"] == 4


def test_row_labels_flow_through_parallel_evaluation(images, tmp_path):
    spec = RunSpec(FolderDataset(images), Protocol(image_size=64), batch_size=3, keep_images=2)
    methods = {"telea-5": MethodSpec("telea", {"radius": "5"}), "fill": MethodSpec("mean-fill")}
    ticks = []
    store = ResultsStore(tmp_path / "labels")
    report = evaluate_parallel(spec, methods, store, workers=2, advance=ticks.append)
    assert report.scored == {"telea-5": 7, "fill": 7} and not report.crashed_workers
    assert sum(ticks) == 14  # progress from both workers
    assert store.read_record()["methods"]["telea-5"]["options"] == {"radius": 5}
    assert len(list((store.root / "images" / "telea-5").glob("*.png"))) == 2
    one = ResultsStore(tmp_path / "one")
    evaluate(spec, {name: method.build() for name, method in methods.items()}, one)
    columns = ["method", "item", "psnr", "ssim", "psnr_hole", "ssim_hole", "l1_hole"]
    pd.testing.assert_frame_equal(store.scores()[columns].reset_index(drop=True), one.scores()[columns].reset_index(drop=True))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_torchrun_ranks_shard_the_run_and_rank_0_prints_the_table(images, single, tmp_path):
    out = tmp_path / "torchrun"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", str(_free_port()),
               "-m", "inpaintbench", "compare", "--dataset", "folder", "--root", str(images), "--image-size", "64",
               "--batch-size", "3", "--grid-rows", "4", "--methods", CLASSICAL, "--out", str(out), "--format", "csv"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("method,variant") == 1  # rank 0 alone prints the table
    assert "merge with" not in done.stdout
    assert sorted(p.name for p in (out / "shards").iterdir()) == ["0-of-2", "1-of-2"]
    methods = CLASSICAL.split(",")
    expected = table(single)
    pd.testing.assert_frame_equal(table(out), expected[expected["method"].isin(methods)].reset_index(drop=True), check_dtype=False)


def test_run_is_one_process_even_beside_torchrun_variables(images, tmp_path, monkeypatch):
    """``run`` saves every completed image of one method: torchrun's variables do not make it a shard."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    out = tmp_path / "run"
    argv = ["run", "mean-fill", "--dataset", "folder", "--root", str(images), "--image-size", "64", "--out", str(out)]
    result = CliRunner(env={"COLUMNS": "200"}).invoke(main, argv)
    assert result.exit_code == 0, result.output
    assert not (out / "shards").exists()
    assert len(pd.read_csv(out / "scores.csv")) == 7 and len(list((out / "images" / "mean-fill").glob("*.png"))) == 7
