"""The PatchMatch plugin: correctness properties, the texture case, options."""

import dataclasses

import cv2
import numpy as np
import pytest
import skimage.data
import torch

from inpaintbench import registry
from inpaintbench.errors import InpaintbenchError
from inpaintbench.masks import center_mask, irregular_mask
from inpaintbench.methods import parse_options
from inpaintbench.metrics import score_batch
from inpaintbench.testing import contract_inputs
from inpaintbench_patchmatch import PatchMatch, PatchMatchOptions, nnf, pyramid
from inpaintbench_patchmatch.completion import complete


def _masked(image, mask):
    return np.where(mask[..., None], 0, image).astype(np.uint8)


def _photo(size, name="chelsea"):
    photo = getattr(skimage.data, name)()[..., :3]
    side = min(photo.shape[:2])
    return cv2.resize(photo[:side, :side], (size, size), interpolation=cv2.INTER_AREA)


def _brick(size):
    """Scikit-image's brick wall scaled down so that a crop holds several rows of bricks."""
    grey = cv2.resize(skimage.data.brick(), (size, size), interpolation=cv2.INTER_AREA)
    return np.repeat(grey[..., None], 3, axis=2)


def _periodic(size):
    yy, xx = np.mgrid[0:size, 0:size]
    red = 128 + 100 * np.sin(2 * np.pi * xx / 8) * np.cos(2 * np.pi * yy / 6)
    green = 128 + 80 * np.sin(2 * np.pi * (xx + yy) / 10)
    return np.stack([red, green, np.full_like(red, 90)], axis=-1).clip(0, 255).astype(np.uint8)


def test_registered_for_cpu_and_cuda():
    cls = registry.method_class("patchmatch")
    assert cls is PatchMatch and cls.batched and cls.devices == ("cpu", "cuda")
    assert not cls.needs_checkpoint


def test_deterministic_per_seed_and_seeds_differ():
    images, masks = contract_inputs(48, count=2)
    first = PatchMatch().inpaint(images, masks)
    assert np.array_equal(first, PatchMatch().inpaint(images, masks))
    other = PatchMatch(PatchMatchOptions(seed=1)).inpaint(images, masks)
    assert not np.array_equal(first[masks], other[masks])


def test_known_pixels_untouched_and_hole_filled_within_the_known_range():
    # every hole pixel is a similarity-weighted mean of known pixels, so it lies
    # within the known pixels' range per channel: no zero left, nothing clipped
    image = (60 + 0.6 * _photo(64)).astype(np.uint8)
    mask = irregular_mask(64, (0.3, 0.4), np.random.default_rng(3))
    masked = _masked(image, mask)
    out = PatchMatch().inpaint(masked[None], mask[None])[0]
    assert out.dtype == np.uint8 and out.shape == image.shape
    assert np.array_equal(out[~mask], image[~mask])
    known = image[~mask]
    assert (out[mask] >= known.min(0)).all() and (out[mask] <= known.max(0)).all()


@pytest.mark.parametrize("shape", [(40, 72), (33, 47)])
def test_odd_and_non_square_sizes_with_holes_on_the_border(shape):
    height, width = shape
    image = (50 + 0.5 * cv2.resize(_photo(96), (width, height))).astype(np.uint8)
    mask = np.zeros(shape, bool)
    mask[:10, 5:25] = True  # touches the top border
    mask[height - 8 :, width - 12 :] = True  # the bottom-right corner
    out = PatchMatch(PatchMatchOptions(min_size=8)).inpaint(_masked(image, mask)[None], mask[None])[0]
    assert np.array_equal(out[~mask], image[~mask])
    assert (out[mask] >= image[~mask].min(0)).all()


def test_no_hole_returns_the_input_and_a_hole_without_whole_known_patches_is_still_filled():
    image = _photo(32)
    nothing = np.zeros((32, 32), bool)
    assert np.array_equal(PatchMatch().inpaint(image[None], nothing[None])[0], image)
    # only a 2-pixel frame is known: no whole source patch exists, the smooth fill remains
    mask = np.zeros((32, 32), bool)
    mask[2:-2, 2:-2] = True
    out = PatchMatch().inpaint(_masked(image, mask)[None], mask[None])[0]
    known = image[~mask]
    assert (out[mask] >= known.min(0)).all() and (out[mask] <= known.max(0)).all()


def test_a_batch_equals_one_by_one_also_on_the_batched_path():
    # on CUDA the method completes whole batches in one call of complete(); on
    # CPU it goes image by image.  Both must give each image the same result.
    images, masks = contract_inputs(48, count=3)
    options = PatchMatchOptions()
    together = complete(images, masks, options)
    alone = np.stack([complete(images[k : k + 1], masks[k : k + 1], options)[0] for k in range(3)])
    assert np.array_equal(together, alone)
    assert np.array_equal(PatchMatch().inpaint(images, masks), alone)


@pytest.mark.parametrize("texture, size, hole", [("brick", 64, 24), ("periodic", 64, 32)])
def test_texture_is_continued_better_than_diffusion(texture, size, hole):
    image = _brick(size) if texture == "brick" else _periodic(size)
    mask = center_mask(size, hole)
    masked = _masked(image, mask)
    ours = PatchMatch().inpaint(masked[None], mask[None])
    telea = cv2.inpaint(masked, mask.astype(np.uint8), 3, cv2.INPAINT_TELEA)[None]
    ours_ssim = score_batch(ours, image[None], mask[None])["ssim_hole"][0]
    telea_ssim = score_batch(telea, image[None], mask[None])["ssim_hole"][0]
    assert ours_ssim > telea_ssim + 0.1, (ours_ssim, telea_ssim)


def test_gradients_change_the_result():
    images, masks = contract_inputs(48, count=1)
    plain = PatchMatch().inpaint(images, masks)
    graded = PatchMatch(PatchMatchOptions(gradient_weight=2.0)).inpaint(images, masks)
    assert not np.array_equal(plain[masks], graded[masks])


def test_options_parse_and_are_recorded():
    options = parse_options(PatchMatch, {"patch-size": "5", "seed": "3", "gradient-weight": "0.5", "levels": "2"})
    assert (options.patch_size, options.seed, options.gradient_weight, options.levels) == (5, 3, 0.5, 2)
    recorded = PatchMatch(options).describe_options()
    assert recorded == dataclasses.asdict(options) and recorded["patch_size"] == 5
    assert PatchMatchOptions().patch_size == 9


@pytest.mark.parametrize(
    "pairs, message",
    [
        ({"patch-size": "4"}, "patch_size=4 must be odd"),
        ({"patch-size": "1"}, "patch_size=1 must be odd and >= 3"),
        ({"levels": "-1"}, "levels=-1"),
        ({"search-iterations": "0"}, "search_iterations=0"),
        ({"em-iterations": "0"}, "em_iterations must be >= 1"),
        ({"gradient-weight": "-1"}, "gradient_weight=-1.0"),
        ({"patch-size": "seven"}, "not a valid int"),
        ({"radius": "3"}, "has no option 'radius'"),
    ],
)
def test_bad_options_are_rejected(pairs, message):
    with pytest.raises(InpaintbenchError, match=message):
        parse_options(PatchMatch, pairs)


def test_sources_never_overlap_the_hole_and_every_pixel_snaps_to_a_source():
    mask = irregular_mask(48, (0.2, 0.3), np.random.default_rng(1))
    geometry = nnf.build_geometry(torch.from_numpy(mask)[None], 7)
    padded = np.pad(mask, 3, constant_values=True)
    for y, x in zip(geometry.source_y.tolist(), geometry.source_x.tolist()):
        assert 3 <= y < 45 and 3 <= x < 45 and not padded[y : y + 7, x : x + 7].any()
    assert (geometry.snap >= 0).all() and int(geometry.snap.max()) < len(geometry.source_y)
    # targets: exactly the centres whose 7x7 patch touches the hole
    touches = cv2.dilate(mask.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    assert len(geometry.target_y) == touches.sum()


def test_distances_from_dot_products_equal_the_direct_sums():
    """|s|^2 + |t|^2 - 2 s.t with exact norms: the same squared distances, to far below one grey level."""
    generator = torch.Generator().manual_seed(0)
    sources = nnf.Patches(*(lambda rows: (rows, rows.double().square().sum(1)))(torch.randint(0, 256, (300, 243), generator=generator).float()))
    targets = nnf.Patches(*(lambda rows: (rows, rows.double().square().sum(1)))(torch.randint(0, 256, (50, 243), generator=generator).float()))
    candidates = torch.randint(0, 300, (50, 16), generator=generator)
    direct = (sources.rows[candidates].double() - targets.rows[:, None].double()).square().sum(-1)
    got = nnf.distances(sources, targets, candidates)
    assert torch.allclose(got.double(), direct, rtol=0, atol=2.0) and direct.min() > 1e5
    assert torch.equal(got.argmin(1), direct.argmin(1))


def test_pyramid_ignores_hole_values_and_smooth_fill_stays_in_range():
    image = torch.from_numpy(_photo(32)).permute(2, 0, 1)[None].float()
    hole = torch.from_numpy(center_mask(32, 12))[None]
    garbage = torch.where(hole[:, None], torch.full_like(image, 255.0), image)
    zeros = torch.where(hole[:, None], torch.zeros_like(image), image)
    for coarse_a, coarse_b in zip(pyramid.build(garbage, hole, 3), pyramid.build(zeros, hole, 3)):
        known = ~coarse_a[1][:, None].expand_as(coarse_a[0])
        assert torch.allclose(coarse_a[0][known], coarse_b[0][known]) and torch.equal(coarse_a[1], coarse_b[1])
    filled = pyramid.smooth_fill(zeros, hole)
    assert filled[hole[:, None].expand_as(filled)].min() > 0
    assert pyramid.level_count(128, 128, 32, 0) == 3 and pyramid.level_count(128, 128, 32, 2) == 2
    assert pyramid.level_count(20, 20, 32, 0) == 1


@pytest.fixture
def torch_threads():
    """Restore the process's torch thread count after a test that changes it."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_upsample_samples_like_interpolate_and_ignores_the_thread_count(torch_threads):
    x = torch.rand(2, 3, 13, 9, generator=torch.Generator().manual_seed(0)) * 255
    reference = torch.nn.functional.interpolate(x, size=(32, 21), mode="bilinear", align_corners=False)
    results = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        results.append(pyramid.upsample(x, (32, 21)))
    assert torch.equal(results[0], results[1])
    assert (results[0] - reference).abs().max() < 1e-3  # the same samples; float32 rounding apart


def test_output_does_not_depend_on_the_number_of_threads(torch_threads):
    """Parallel evaluation splits the threads among workers: the scores must not move with them.

    With F.interpolate's CPU kernel these three sample crops came out one grey
    level different (somewhere) with 1 and with 2 threads.
    """
    from inpaintbench.protocol import Protocol

    protocol = Protocol(128, "center")
    items = ["brick-2.png", "chelsea-2.png", "moon-0.png"]
    sample = registry.open_dataset("sample", split="test")
    mask = np.stack([protocol.make_mask(item, 0) for item in items])
    masked = np.where(mask[..., None], 0, np.stack([protocol.prepare(sample.read(item)) for item in items])).astype(np.uint8)
    outputs = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        outputs.append(PatchMatch().inpaint(masked, mask))
    assert np.array_equal(outputs[0], outputs[1])
