"""Masks the user drew: file formats, pairing by name, and the files:DIR protocol."""

import json
import os

import cv2
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from inpaintbench.cli import main
from inpaintbench.errors import InpaintbenchError
from inpaintbench.mask_files import read_mask_file
from inpaintbench.pairing import CompanionFolder, pairing_key
from inpaintbench.protocol import Protocol


def _hole(height=40, width=60):
    hole = np.zeros((height, width), bool)
    hole[10:25, 20:45] = True
    return hole


@pytest.mark.parametrize("name", ["street/photo.jpg", "street/photo.png", "street/photo_mask.png", "street/photo.jpg.png", "street/photo.jpg_mask.png"])
def test_every_common_naming_pairs_with_the_image(name):
    assert pairing_key(name) == "street/photo"


def test_two_files_for_one_image_are_reported_not_guessed(tmp_path):
    for name in ("a.png", "a.jpg"):
        cv2.imwrite(str(tmp_path / name), np.zeros((9, 9), np.uint8))
    with pytest.raises(InpaintbenchError, match="2 mask files .* match a.png: a.jpg, a.png"):
        CompanionFolder(tmp_path, "mask").find("a.png")
    with pytest.raises(InpaintbenchError, match=r"no mask for b.png in .*looked for b.png, b_mask.png"):
        CompanionFolder(tmp_path, "mask").find("b.png")


def test_a_folder_of_images_and_masks_pairs_only_the_masks(tmp_path):
    """LaMa's layout keeps photo.png and photo_mask.png together: the photo is never its own mask."""
    for name in ("photo.png", "photo_mask.png", "lonely.png"):
        cv2.imwrite(str(tmp_path / name), np.zeros((9, 9), np.uint8))
    masks = CompanionFolder(tmp_path, "mask", masks_only=True)
    assert masks.find("photo.png").name == "photo_mask.png"
    with pytest.raises(InpaintbenchError, match="no mask for lonely.png"):
        masks.find("lonely.png")
    assert CompanionFolder(tmp_path, "mask", prefer_masks=True).find("photo.png").name == "photo_mask.png"


def test_mask_files_of_every_common_format_read_as_the_same_hole(tmp_path):
    hole = _hole()
    Image.fromarray(hole).convert("1").save(tmp_path / "one-bit.png")  # 1-bit, as painting tools export
    cv2.imwrite(str(tmp_path / "eight-bit.png"), hole.astype(np.uint8) * 255)
    cv2.imwrite(str(tmp_path / "sixteen-bit.png"), hole.astype(np.uint16) * 65535)
    red = np.zeros((*hole.shape, 3), np.uint8)
    red[hole] = (0, 0, 255)  # BGR: red strokes on black
    cv2.imwrite(str(tmp_path / "red-strokes.png"), red)
    alpha = np.zeros((*hole.shape, 4), np.uint8)
    alpha[..., 3] = hole * 255  # a flat colour, the hole painted in the alpha channel
    cv2.imwrite(str(tmp_path / "alpha.png"), alpha)
    assert Image.open(tmp_path / "one-bit.png").mode == "1"
    for name in ("one-bit.png", "eight-bit.png", "sixteen-bit.png", "red-strokes.png", "alpha.png"):
        assert np.array_equal(read_mask_file(tmp_path / name), hole), name
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(InpaintbenchError, match="broken.png is not a decodable image"):
        read_mask_file(tmp_path / "broken.png")


def test_mask_files_get_the_image_readers_checks(tmp_path, monkeypatch):
    """A pipe named like a mask would block the run; a header claiming too many pixels is not decoded."""
    os.mkfifo(tmp_path / "pipe.png")
    with pytest.raises(InpaintbenchError, match="pipe.png: not a regular file"):
        read_mask_file(tmp_path / "pipe.png")
    cv2.imwrite(str(tmp_path / "large.png"), np.zeros((300, 400), np.uint8))
    monkeypatch.setenv("INPAINTBENCH_MAX_PIXELS", "100000")
    with pytest.raises(InpaintbenchError, match="large.png: 400x300 is 120,000 pixels, above the limit of 100,000"):
        read_mask_file(tmp_path / "large.png")


def test_a_mask_drawn_on_the_photograph_is_resized_and_cropped_like_the_photograph(tmp_path):
    photo_hole = np.zeros((300, 400), bool)
    photo_hole[100:200, 150:260] = True
    cv2.imwrite(str(tmp_path / "p.png"), photo_hole.astype(np.uint8) * 255)
    protocol = Protocol(image_size=128, mask=f"files:{tmp_path}")
    mask = protocol.make_mask("p.jpg", 0, source_shape=(300, 400))
    expected = Protocol(image_size=128).prepare(photo_hole.astype(np.float32)) >= 0.5
    assert mask.shape == (128, 128) and np.array_equal(mask, expected)
    assert abs(mask.mean() - photo_hole[:, 50:350].mean()) < 0.01  # the crop keeps the hole's share
    with pytest.raises(InpaintbenchError, match=r"p.png is 400x300; it must match the image \(500x300\) or the benchmark image \(128x128\)"):
        protocol.make_mask("p.jpg", 0, source_shape=(300, 500))


@pytest.mark.parametrize("mask", ["files", "files:/no/such/folder"])
def test_a_files_protocol_without_a_usable_folder_is_refused_up_front(mask):
    with pytest.raises(InpaintbenchError, match="needs the folder|not a directory"):
        Protocol(mask=mask)


def test_exported_masks_read_back_as_files_give_the_same_table(runner, tmp_path):
    """A user's own evaluation masks give the same scores as the built-in protocol that drew them."""
    common = ["--methods", "telea,mean-fill", "--limit", "6", "--seed", "3"]
    exported = runner.invoke(main, ["masks", "export", "--mask", "irregular", "--limit", "6", "--seed", "3", "--out", "ex"])
    assert exported.exit_code == 0, exported.output
    drawn = runner.invoke(main, ["compare", *common, "--mask", "irregular", "--out", "drawn", "--format", "csv"])
    read = runner.invoke(main, ["compare", *common, "--mask", f"files:{tmp_path / 'ex' / 'mask'}", "--out", "read", "--format", "csv"])
    assert drawn.exit_code == 0 and read.exit_code == 0, drawn.output + read.output
    columns = ["method", "item", "psnr", "ssim", "psnr_hole", "ssim_hole", "l1_hole", "hole_fraction"]
    first, second = (pd.read_csv(tmp_path / d / "scores.csv")[columns].sort_values(["method", "item"]).reset_index(drop=True) for d in ("drawn", "read"))
    assert len(first) == 12
    pd.testing.assert_frame_equal(first, second)
    recorded = json.loads((tmp_path / "read" / "run.json").read_text())["protocol"]["mask"]
    assert recorded == f"files:{(tmp_path / 'ex' / 'mask').resolve()}"


def test_items_without_a_mask_file_are_skipped_and_named(runner, tmp_path):
    exported = runner.invoke(main, ["masks", "export", "--limit", "3", "--out", "ex"])
    assert exported.exit_code == 0, exported.output
    kept = sorted((tmp_path / "ex" / "mask").iterdir())
    kept[0].unlink()
    result = runner.invoke(main, ["compare", "--methods", "telea", "--limit", "3", "--mask", f"files:{tmp_path / 'ex' / 'mask'}",
                                  "--out", "r", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert f"no mask for {kept[0].name}" in result.output.replace("\n", "")
    assert pd.read_csv(tmp_path / "r" / "table.csv").loc[0, "n"] == 2
