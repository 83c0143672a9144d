"""The paired bootstrap: covers the mean, narrows with data, is reproducible and paired."""

from __future__ import annotations

import numpy as np
import pytest

from inpaintbench import statistics
from inpaintbench.statistics import paired_bootstrap_ci


def scores(n_items, n_methods=3, seed=0):
    rng = np.random.default_rng(seed)
    item_difficulty = rng.normal(25, 4, (n_items, 1))  # images differ more than methods
    return item_difficulty + rng.normal(0, 1, (n_items, n_methods)) + np.arange(n_methods)


def test_interval_contains_the_mean():
    values = scores(200)
    low, high = paired_bootstrap_ci(values)
    assert low.shape == high.shape == (3,)
    assert np.all(low < values.mean(axis=0)) and np.all(values.mean(axis=0) < high)


def test_interval_narrows_with_more_items():
    small = np.subtract(*paired_bootstrap_ci(scores(50))[::-1])
    large = np.subtract(*paired_bootstrap_ci(scores(2000))[::-1])
    assert np.all(large < small / 3)


def test_higher_level_gives_a_wider_interval():
    values = scores(100)
    low90, high90 = paired_bootstrap_ci(values, level=0.90)
    low99, high99 = paired_bootstrap_ci(values, level=0.99)
    assert np.all(low99 < low90) and np.all(high90 < high99)


def test_deterministic_for_a_seed():
    values = scores(100)
    first, again = paired_bootstrap_ci(values, seed=5), paired_bootstrap_ci(values, seed=5)
    np.testing.assert_array_equal(first, again)
    other = paired_bootstrap_ci(values, seed=6)
    assert not np.array_equal(first, other)


def test_paired_identical_columns_give_identical_intervals():
    column = scores(150, 1)
    low, high = paired_bootstrap_ci(np.hstack([column, column, column]))
    assert low[0] == low[1] == low[2] and high[0] == high[1] == high[2]


def test_paired_constant_offset_shifts_both_bounds():
    column = scores(150, 1)
    low, high = paired_bootstrap_ci(np.hstack([column, column + 1.5]))
    assert low[1] - low[0] == pytest.approx(1.5, abs=1e-9)
    assert high[1] - high[0] == pytest.approx(1.5, abs=1e-9)


def test_single_item_collapses_to_its_value():
    low, high = paired_bootstrap_ci(np.array([[0.3, 27.5]]))
    np.testing.assert_array_equal(low, [0.3, 27.5])
    np.testing.assert_array_equal(high, [0.3, 27.5])


def test_resampling_in_small_chunks_gives_a_comparable_interval(monkeypatch):
    values = scores(300)
    whole = paired_bootstrap_ci(values, n_resamples=200)
    monkeypatch.setattr(statistics, "_MAX_GATHERED", 300 * 3 * 7)  # 7 resamples per chunk
    chunked = paired_bootstrap_ci(values, n_resamples=200)
    assert chunked[0].shape == (3,)
    np.testing.assert_allclose(chunked, whole, atol=0.2)  # same distribution, same neighbourhood


def test_nan_only_spoils_its_own_method():
    values = scores(50)
    values[3, 1] = np.nan
    low, high = paired_bootstrap_ci(values)
    assert np.isnan(low[1]) and np.isnan(high[1])
    assert np.isfinite(low[[0, 2]]).all() and np.isfinite(high[[0, 2]]).all()


@pytest.mark.parametrize("bad", [np.zeros(5), np.zeros((0, 2)), np.zeros((3, 0))])
def test_bad_shapes_are_refused(bad):
    with pytest.raises(ValueError):
        paired_bootstrap_ci(bad)


def test_bad_level_is_refused():
    with pytest.raises(ValueError):
        paired_bootstrap_ci(scores(5), level=95)
