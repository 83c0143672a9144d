import numpy as np
import pytest

from inpaintbench.errors import InpaintbenchError, UnknownNameError
from inpaintbench.mask_protocols import parse_mask
from inpaintbench.masks import IRREGULAR_BINS, center_mask, irregular_mask, item_rng
from inpaintbench.protocol import Protocol


def test_center_mask_is_the_papers_64_square_in_128():
    mask = Protocol().make_mask("any-item", seed=0)
    assert mask.shape == (128, 128) and mask.dtype == bool
    assert mask.sum() == 64 * 64
    rows, cols = np.nonzero(mask)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (32, 95, 32, 95)


@pytest.mark.parametrize("spec", ["center", "random-box", "irregular", "irregular:30-40"])
def test_masks_depend_only_on_seed_item_and_protocol(spec):
    protocol = Protocol(mask=spec)
    first = protocol.make_mask("a/b.png", seed=3)
    assert np.array_equal(first, Protocol(mask=spec).make_mask("a/b.png", seed=3))
    if spec != "center":
        others = [protocol.make_mask("a/c.png", seed=3), protocol.make_mask("a/b.png", seed=4)]
        assert not any(np.array_equal(first, other) for other in others)


def test_random_box_sizes_follow_glcic_proportions():
    protocol = Protocol(mask="random-box")
    for k in range(50):
        mask = protocol.make_mask(str(k), seed=0)
        rows, cols = np.nonzero(mask)
        height, width = np.ptp(rows) + 1, np.ptp(cols) + 1
        assert 48 <= height <= 64 and 48 <= width <= 64
        assert mask.sum() == height * width  # one solid box


@pytest.mark.parametrize("area_bin", IRREGULAR_BINS)
def test_irregular_masks_land_in_their_area_bin(area_bin):
    for k in range(20):
        mask = irregular_mask(128, area_bin, item_rng(k, "x", "irregular"))
        assert area_bin[0] <= mask.mean() < area_bin[1]


def test_irregular_without_bin_spreads_over_bins():
    fractions = [Protocol(mask="irregular").make_mask(str(k), seed=0).mean() for k in range(40)]
    assert min(fractions) < 0.2 and max(fractions) >= 0.4


def test_bad_mask_specs_are_named():
    with pytest.raises(UnknownNameError, match="did you mean 'center'"):
        parse_mask("centre")
    with pytest.raises(InpaintbenchError, match="percent"):
        parse_mask("irregular:big")
    with pytest.raises(InpaintbenchError, match="'center' takes no argument"):
        parse_mask("center:10-20")
    assert str(parse_mask("irregular:20-30")) == "irregular:20-30"


def test_center_hole_must_fit():
    with pytest.raises(InpaintbenchError):
        center_mask(64, 64)
