"""The batched scorers against scikit-image, the oracle, on random and real images."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import skimage.data
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from inpaintbench import metrics
from inpaintbench.metrics import PSNR_CAP_DB, SCORE_SETTINGS, psnr, score_batch, ssim

#: the agreement the spec asks of the batched SSIM (float64 planes give ~1e-13)
ATOL = 1e-6

SKIMAGE_SETTINGS = {
    "gaussian": dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False),
    "uniform": dict(win_size=7),  # scikit-image's defaults: 7x7 box, sample covariance
}
RADIUS = {"gaussian": 5, "uniform": 3}


def sk_ssim(a, b, window="gaussian", full=False):
    return structural_similarity(a, b, channel_axis=-1, data_range=255, full=full, **SKIMAGE_SETTINGS[window])


def sk_ssim_batch(x, y, window="gaussian"):
    return np.array([sk_ssim(a, b, window) for a, b in zip(x, y)])


def sk_psnr_batch(x, y):
    with np.errstate(divide="ignore"):
        return np.array([min(PSNR_CAP_DB, peak_signal_noise_ratio(b, a, data_range=255)) for a, b in zip(x, y)])


def smooth_random(rng, n, height, width):
    """Random images with photo-like local correlation (plain noise is the easy case)."""
    noise = rng.integers(0, 256, (n * height, width, 3), dtype=np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), 2).reshape(n, height, width, 3)


def box_masks(rng, n, height, width):
    masks = np.zeros((n, height, width), bool)
    for mask in masks:
        h, w = rng.integers(1, height // 2 + 1), rng.integers(1, width // 2 + 1)
        top, left = rng.integers(0, height - h + 1), rng.integers(0, width - w + 1)
        mask[top : top + h, left : left + w] = True
    return masks


def fill_holes(rng, target, masks):
    """A completion: the target outside the hole, something plausible-but-wrong inside."""
    completed = target.copy()
    guess = np.clip(target.astype(np.int16) + rng.integers(-40, 41, target.shape), 0, 255).astype(np.uint8)
    completed[masks] = guess[masks]
    return completed


def photo_pairs(fill):
    """128x128 crops of real photographs with a centre hole zeroed or blurred."""
    crops = [skimage.data.astronaut()[30:158, 180:308], skimage.data.coffee()[100:228, 200:328],
             skimage.data.chelsea()[60:188, 150:278]]
    target = np.stack(crops)
    masks = np.zeros((3, 128, 128), bool)
    masks[:, 32:96, 32:96] = True
    completed = target.copy()
    if fill == "zero":
        completed[masks] = 0
    else:
        for image, source in zip(completed, target):
            image[32:96, 32:96] = cv2.GaussianBlur(source, (0, 0), 4)[32:96, 32:96]
    return completed, target, masks


def direct_hole_scores(completed, target, masks, window="gaussian"):
    """Hole scores the slow, obvious way: numpy over the hole, scikit-image's full SSIM map."""
    r = RADIUS[window]
    out = {"psnr_hole": [], "ssim_hole": [], "l1_hole": []}
    for a, b, hole in zip(completed, target, masks):
        diff = a.astype(np.float64) - b
        mse = (diff[hole] ** 2).mean() if hole.any() else np.nan
        out["psnr_hole"].append(PSNR_CAP_DB if mse == 0 else min(PSNR_CAP_DB, 10 * np.log10(255**2 / mse)))
        out["l1_hole"].append(np.abs(diff[hole]).mean() / 255 if hole.any() else np.nan)
        _, s_map = sk_ssim(a, b, window, full=True)
        in_map = hole[r:-r, r:-r]  # the map pixels scikit-image averages
        out["ssim_hole"].append(s_map.mean(axis=-1)[r:-r, r:-r][in_map].mean() if in_map.any() else np.nan)
    return {key: np.array(value) for key, value in out.items()}


@pytest.mark.parametrize("window", ["gaussian", "uniform"])
@pytest.mark.parametrize("height,width", [(32, 48), (128, 128), (64, 200)])
def test_ssim_and_psnr_match_skimage_on_random_images(height, width, window):
    rng = np.random.default_rng(height * width)
    target = smooth_random(rng, 6, height, width)
    completed = fill_holes(rng, target, box_masks(rng, 6, height, width))
    completed[0] = rng.integers(0, 256, completed[0].shape)  # one pair different everywhere
    expected = sk_ssim_batch(completed, target, window)
    np.testing.assert_allclose(ssim(completed, target, window), expected, rtol=0, atol=ATOL)
    np.testing.assert_allclose(psnr(completed, target), sk_psnr_batch(completed, target), rtol=1e-12)


@pytest.mark.parametrize("window", ["gaussian", "uniform"])
@pytest.mark.parametrize("fill", ["zero", "blur"])
def test_scores_match_skimage_on_photographs(fill, window):
    completed, target, masks = photo_pairs(fill)
    scores = score_batch(completed, target, masks, window=window)
    np.testing.assert_allclose(scores["ssim"], sk_ssim_batch(completed, target, window), rtol=0, atol=ATOL)
    np.testing.assert_allclose(scores["psnr"], sk_psnr_batch(completed, target), rtol=1e-12)
    l1 = np.abs(completed.astype(np.float64) - target).mean(axis=(1, 2, 3)) / 255
    np.testing.assert_allclose(scores["l1"], l1, rtol=1e-12)
    direct = direct_hole_scores(completed, target, masks, window)
    np.testing.assert_allclose(scores["ssim_hole"], direct["ssim_hole"], rtol=0, atol=ATOL)
    np.testing.assert_allclose(scores["psnr_hole"], direct["psnr_hole"], rtol=1e-12)
    np.testing.assert_allclose(scores["l1_hole"], direct["l1_hole"], rtol=1e-12)


def test_hole_scores_match_direct_computation_on_random_holes():
    rng = np.random.default_rng(7)
    target = smooth_random(rng, 12, 48, 64)
    masks = box_masks(rng, 12, 48, 64)
    completed = fill_holes(rng, target, masks)
    scores = score_batch(completed, target, masks)
    direct = direct_hole_scores(completed, target, masks)
    for key in direct:
        np.testing.assert_allclose(scores[key], direct[key], rtol=1e-12, atol=ATOL, err_msg=key)


def test_skipping_identical_regions_is_exact():
    """One chunk mixing holes of every size and place, an identical pair and an all-different pair."""
    rng = np.random.default_rng(3)
    n, size = 8, 64
    assert n * size * size <= metrics._CHUNK_PIXELS  # all in one chunk: one shared column range
    target = smooth_random(rng, n, size, size)
    masks = np.zeros((n, size, size), bool)
    masks[0, 30:34, 28:36] = True  # small, central
    masks[1, :20, :12] = True  # touching the top-left corner
    masks[2, 50:, 40:] = True  # touching the bottom-right corner
    masks[3, 5:60, 2:6] = True  # tall and thin near the left border
    masks[4, 0, 63] = True  # a single pixel inside the cropped border
    masks[5, 10:50, 10:50] = True  # large
    # 6: no difference at all; 7: different everywhere
    completed = fill_holes(rng, target, masks)
    masks[6, 20:40, 20:40] = True  # a method that restored the hole exactly
    completed[7] = smooth_random(rng, 1, size, size)[0]
    masks[7] = True
    assert np.array_equal(completed[6], target[6])
    scores = score_batch(completed, target, masks)
    np.testing.assert_allclose(scores["ssim"], sk_ssim_batch(completed, target), rtol=0, atol=ATOL)
    assert scores["ssim"][6] == 1.0 and scores["psnr"][6] == PSNR_CAP_DB and scores["l1"][6] == 0.0
    assert scores["ssim_hole"][6] == 1.0 and scores["psnr_hole"][6] == PSNR_CAP_DB and scores["l1_hole"][6] == 0.0
    direct = direct_hole_scores(completed, target, masks)
    for key in ("psnr_hole", "l1_hole"):
        np.testing.assert_allclose(scores[key], direct[key], rtol=1e-12, err_msg=key)
    has_map_pixels = masks[:, 5:-5, 5:-5].any(axis=(1, 2))
    assert not has_map_pixels[4]  # its only hole pixel lies in the cropped border
    np.testing.assert_allclose(scores["ssim_hole"][has_map_pixels], direct["ssim_hole"][has_map_pixels], atol=ATOL)
    assert np.isnan(scores["ssim_hole"][4])


def test_many_chunks_on_the_thread_pool_equal_one_by_one_to_the_last_bit():
    """A score does not depend on what shares its batch: shards, workers and resumes store identical rows."""
    rng = np.random.default_rng(11)
    target = smooth_random(rng, 40, 64, 64)
    masks = box_masks(rng, 40, 64, 64)
    completed = fill_holes(rng, target, masks)
    completed[::9] = target[::9]  # some chunks hold identical pairs
    batched = score_batch(completed, target, masks)
    for k in range(0, 40, 7):
        single = score_batch(completed[k : k + 1], target[k : k + 1], masks[k : k + 1])
        paired = score_batch(completed[[(k + 5) % 40, k]], target[[(k + 5) % 40, k]], masks[[(k + 5) % 40, k]])
        for key, values in single.items():
            assert np.array_equal(values, batched[key][k : k + 1], equal_nan=True), key
            assert np.array_equal(values, paired[key][1:], equal_nan=True), key


def test_whole_image_scores_equal_the_single_metric_functions():
    completed, target, masks = photo_pairs("blur")
    scores = score_batch(completed, target, masks)
    np.testing.assert_array_equal(scores["psnr"], psnr(completed, target))
    np.testing.assert_allclose(scores["ssim"], ssim(completed, target), rtol=0, atol=1e-15)
    assert set(scores) == {"psnr", "ssim", "l1", "psnr_hole", "ssim_hole", "l1_hole"}
    assert all(v.shape == (3,) and v.dtype == np.float64 for v in scores.values())


def test_psnr_is_capped_for_identical_and_nearly_identical_images():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (2, 512, 512, 3), dtype=np.uint8)
    y = x.copy()
    y[1, 0, 0, 0] ^= 1  # one grey level: skimage says ~107 dB
    assert peak_signal_noise_ratio(x[1], y[1], data_range=255) > PSNR_CAP_DB
    np.testing.assert_array_equal(psnr(x, y), [PSNR_CAP_DB, PSNR_CAP_DB])
    masks = np.zeros((2, 512, 512), bool)
    masks[:, 100:200, 100:200] = True
    scores = score_batch(x, y, masks)
    assert scores["psnr"][0] == PSNR_CAP_DB and scores["psnr_hole"][0] == PSNR_CAP_DB
    assert scores["ssim"][0] == 1.0 and scores["ssim_hole"][0] == 1.0 and scores["l1_hole"][0] == 0.0


def test_an_empty_mask_gives_nan_hole_scores_only():
    rng = np.random.default_rng(1)
    target = smooth_random(rng, 2, 32, 32)
    completed = target.copy()
    completed[:, 10:20, 10:20] = 0
    scores = score_batch(completed, target, np.zeros((2, 32, 32), bool))
    for key in ("psnr_hole", "ssim_hole", "l1_hole"):
        assert np.isnan(scores[key]).all(), key
    for key in ("psnr", "ssim", "l1"):
        assert np.isfinite(scores[key]).all(), key


def test_bad_input_is_refused():
    x = np.zeros((2, 32, 32, 3), np.uint8)
    with pytest.raises(TypeError):
        ssim(x.astype(np.float32), x)
    with pytest.raises(ValueError):
        psnr(x, x[:1])
    with pytest.raises(ValueError):
        ssim(x[0], x[0])  # one image, not a batch
    with pytest.raises(ValueError):
        ssim(x[:, :8, :8], x[:, :8, :8])  # smaller than the 11x11 window
    with pytest.raises(ValueError):
        ssim(x, x, window="box")
    with pytest.raises(TypeError):
        score_batch(x, x, np.zeros((2, 32, 32), np.uint8))
    with pytest.raises(ValueError):
        score_batch(x, x, np.zeros((2, 16, 16), bool))


def test_settings_describe_the_default_scores_and_serialise():
    assert json.loads(json.dumps(SCORE_SETTINGS)) == SCORE_SETTINGS
    assert SCORE_SETTINGS["ssim_window_kind"] == "gaussian"
    assert SCORE_SETTINGS["ssim_window_size"] == 11 and SCORE_SETTINGS["ssim_sigma"] == 1.5
    assert (SCORE_SETTINGS["ssim_k1"], SCORE_SETTINGS["ssim_k2"]) == (0.01, 0.03)
    assert SCORE_SETTINGS["data_range"] == 255 and SCORE_SETTINGS["psnr_cap_db"] == PSNR_CAP_DB
    assert SCORE_SETTINGS["ssim_border_crop_px"] == 5
    uniform = metrics.score_settings("uniform")
    assert uniform["ssim_window_size"] == 7 and uniform["ssim_covariance"] == "sample"
