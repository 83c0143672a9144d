"""Misuse and faults: hostile files, misbehaving plugins, bad output folders, reruns that must be refused.

Each test reproduces one way a careful user broke a run; none may lose,
duplicate or silently change a scored row.
"""

import errno
import os
import signal
import struct
import subprocess
import sys
import time
import zlib

import cv2
import numpy as np
import pandas as pd
import pytest

from inpaintbench.cli import main
from inpaintbench.methods import Method
from inpaintbench.results import ResultsStore

from plugin_doubles import registering


def _photo(seed, size=96):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size]
    base = np.stack([x * 2, y * 2, (x + y)], axis=-1) + seed * 10
    return np.clip(base + rng.normal(0, 6, (size, size, 3)), 0, 255).astype(np.uint8)


def _folder(path, count=4, offset=0):
    path.mkdir(parents=True, exist_ok=True)
    for k in range(count):
        cv2.imwrite(str(path / f"img{k}.png"), _photo(k + offset))
    return path


def _compare(runner, *args):
    return runner.invoke(main, ["compare", "--methods", "telea,mean-fill", "--format", "csv", *args])


# -- hostile files -----------------------------------------------------------------------
def _png_header_claiming(path, width, height):
    """A PNG whose header claims width x height but holds one tiny IDAT: a decompression bomb's header."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def test_a_decompression_bomb_is_skipped_from_its_header_not_decoded(runner, tmp_path):
    folder = _folder(tmp_path / "photos")
    _png_header_claiming(folder / "bomb.png", 30000, 30000)
    result = _compare(runner, "--dataset", "folder", "--root", "photos", "--out", "res")
    assert result.exit_code == 0, result.output
    assert "bomb.png" in result.output and "900,000,000 pixels" in result.output and "--max-pixels" in result.output
    assert list(pd.read_csv(tmp_path / "res" / "table.csv")["n"]) == [4, 4]


def test_the_pixel_limit_is_an_option(runner, tmp_path):
    _folder(tmp_path / "photos")
    result = _compare(runner, "--dataset", "folder", "--root", "photos", "--out", "res", "--max-pixels", "5000")
    assert result.exit_code == 1 and "9,216 pixels" in result.output and "above the limit of 5,000" in result.output
    assert "INPAINTBENCH_MAX_PIXELS" not in os.environ  # set for the command's workers, gone when it ends


def test_a_malformed_pixel_limit_in_the_environment_stops_the_command_once(runner, tmp_path, monkeypatch):
    _folder(tmp_path / "photos")
    monkeypatch.setenv("INPAINTBENCH_MAX_PIXELS", "2e8")
    result = _compare(runner, "--dataset", "folder", "--root", "photos", "--out", "res")
    assert result.exit_code == 2 and "INPAINTBENCH_MAX_PIXELS='2e8' is not a positive whole number" in result.output
    assert not (tmp_path / "res" / "scores").exists()  # refused before any item was read


def test_a_fifo_named_like_an_image_is_skipped_not_waited_on(tmp_path):
    folder = _folder(tmp_path / "photos")
    os.mkfifo(folder / "pipe.png")
    command = [sys.executable, "-m", "inpaintbench", "compare", "--methods", "mean-fill", "--dataset", "folder",
               "--root", str(folder), "--out", str(tmp_path / "res"), "--format", "csv"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "pipe.png" in done.stderr and "not a regular file" in done.stderr


def test_very_long_and_non_utf8_file_names_are_scored(runner, tmp_path):
    folder = _folder(tmp_path / "photos", count=2)
    long_name = "x" * 240 + ".png"
    cv2.imwrite(str(folder / "img0.png"), _photo(7))
    os.rename(folder / "img0.png", folder / long_name)
    os.rename(os.fsencode(folder / "img1.png"), os.fsencode(folder) + b"/caf\xe9.png")  # Latin-1, not UTF-8
    result = runner.invoke(main, ["compare", "--methods", "mean-fill", "--dataset", "folder", "--root", "photos",
                                  "--out", "res", "--format", "csv", "--grid-rows", "2"])
    assert result.exit_code == 0, result.output
    assert list(pd.read_csv(tmp_path / "res" / "table.csv")["n"]) == [2]
    again = runner.invoke(main, ["table", "res", "--format", "csv"])
    assert again.exit_code == 0, again.output


# -- plugins that misbehave --------------------------------------------------------------
class _Exits(Method):
    name = "exits"

    def inpaint_one(self, image, mask):
        sys.exit(3)


@pytest.fixture
def exiting_plugin(fresh_plugins):
    fresh_plugins.register(registering("register_methods", _Exits), name="exits-plugin")


def test_a_plugin_calling_sys_exit_is_isolated_like_any_failure(runner, tmp_path, exiting_plugin):
    result = runner.invoke(main, ["compare", "--methods", "exits,telea", "--limit", "3", "--out", "res", "--format", "csv"])
    assert result.exit_code == 1, result.output  # a requested method that scored nothing fails the run, after the table
    assert "method 'exits' failed on 3 item(s): SystemExit: 3" in result.output and "failed: no row for exits" in result.output
    assert list(pd.read_csv(tmp_path / "res" / "table.csv")["method"]) == ["telea"]


# -- loud failures -----------------------------------------------------------------------
def test_a_method_that_scored_nothing_fails_the_run(runner, tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    for k in range(3):
        (folder / f"img{k}.png").write_bytes(b"not an image")
    result = _compare(runner, "--dataset", "folder", "--root", "broken", "--out", "res")
    assert result.exit_code == 1 and "scored no item" in result.output


def test_cuda_on_a_machine_without_it_is_refused_before_any_work(runner, tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = runner.invoke(main, ["compare", "--methods", "telea", "--device", "cuda", "--out", "res"])
    assert result.exit_code == 2 and "--device cuda" in result.output and "no CUDA" in result.output
    assert not (tmp_path / "res").exists()


@pytest.mark.parametrize("where, message", [
    ("taken", "is a file, not a directory"),
    ("taken/below", "Not a directory"),
])
def test_an_unusable_out_is_one_line_before_methods_load(runner, tmp_path, where, message):
    """--out names a file, or a folder under a file."""
    (tmp_path / "taken").write_text("a file")
    out = tmp_path / where
    result = _compare(runner, "--limit", "2", "--out", str(out))
    assert result.exit_code == 2 and message in result.output and str(out) in result.output
    assert "Traceback" not in result.output


def test_a_full_disk_is_the_harness_error_not_the_methods(runner, tmp_path, monkeypatch):
    from inpaintbench import results

    original = results.append_jsonl

    def full(path, rows):
        if path.name == "mean-fill.jsonl":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return original(path, rows)

    monkeypatch.setattr(results, "append_jsonl", full)
    result = _compare(runner, "--limit", "2", "--out", "res")
    assert result.exit_code == 2 and "cannot write" in result.output and "No space left on device" in result.output
    assert "mean-fill.jsonl" in result.output
    failures = (tmp_path / "res" / "failures.jsonl")
    assert not failures.exists() or "mean-fill" not in failures.read_text()  # never charged to the method


def test_out_inside_the_dataset_root_is_refused(runner, tmp_path):
    _folder(tmp_path / "photos")
    result = _compare(runner, "--dataset", "folder", "--root", "photos", "--out", "photos/results")
    assert result.exit_code == 2 and "inside the dataset root" in result.output
    assert not (tmp_path / "photos" / "results").exists()


# -- reruns that must be refused ---------------------------------------------------------
def test_a_rerun_on_another_root_with_the_same_file_names_is_refused(runner, tmp_path):
    _folder(tmp_path / "a")
    _folder(tmp_path / "b", offset=20)
    assert _compare(runner, "--dataset", "folder", "--root", "a", "--out", "res").exit_code == 0
    before = (tmp_path / "res" / "scores" / "telea.jsonl").read_text()
    result = _compare(runner, "--dataset", "folder", "--root", "b", "--out", "res")
    assert result.exit_code == 2 and "dataset root" in result.output and str(tmp_path / "a") in result.output
    assert (tmp_path / "res" / "scores" / "telea.jsonl").read_text() == before


def test_a_rerun_after_an_image_changed_is_refused_naming_it(runner, tmp_path):
    folder = _folder(tmp_path / "a")
    assert _compare(runner, "--dataset", "folder", "--root", "a", "--out", "res").exit_code == 0
    cv2.imwrite(str(folder / "img2.png"), _photo(99))
    result = runner.invoke(main, ["compare", "--methods", "telea,navier-stokes", "--dataset", "folder", "--root", "a", "--out", "res"])
    assert result.exit_code == 2 and "img2.png" in result.output and "changed" in result.output


def test_a_second_run_into_the_same_out_is_refused_while_the_first_holds_it(runner, tmp_path):
    store = ResultsStore(tmp_path / "res")
    with store.lock():
        result = _compare(runner, "--limit", "2", "--out", "res")
    assert result.exit_code == 2 and f"process {os.getpid()}" in result.output
    assert _compare(runner, "--limit", "2", "--out", "res").exit_code == 0  # released


def _children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_their_parent(tmp_path):
    command = [sys.executable, "-m", "inpaintbench", "compare", "--methods", "patchmatch", "--workers", "2",
               "--image-size", "256", "--out", str(tmp_path / "res")]
    parent = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    workers = []
    while time.time() < deadline and len(workers) < 2:
        workers = [pid for pid in _children(parent.pid) if "spawn_main" in open(f"/proc/{pid}/cmdline").read().replace("\0", " ")]
        time.sleep(0.2)
    assert len(workers) == 2, "the workers did not start"
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.time() + 20
    while time.time() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers)
