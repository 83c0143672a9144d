"""Confidence intervals for per-method mean scores: the paired bootstrap over items.

Methods in a table are scored on the same images, and images differ far more
from one another than methods do.  Resampling the items once per bootstrap
replicate and using that same resample for every method keeps the comparison
paired: the image-to-image spread moves all methods together instead of
widening each interval independently.
"""

from __future__ import annotations

import numpy as np

#: gathered values held at once (float64), bounding memory for large tables
_MAX_GATHERED = 1 << 20


def paired_bootstrap_ci(
    values: np.ndarray, n_resamples: int = 1000, level: float = 0.95, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of each method's mean; returns (low, high), each (n_methods,).

    ``values`` is (n_items, n_methods): one row per item, scored by every
    method.  Each replicate draws n_items item indices with replacement, shared
    by all methods.  The result depends only on the inputs and ``seed``.

    The values are assumed NaN-free: a NaN makes that method's bounds NaN (the
    other methods are unaffected), so drop or impute missing items first.  With
    a single item every replicate is that item, and the interval collapses to it.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] == 0 or values.shape[1] == 0:
        raise ValueError(f"values must be (n_items, n_methods) with both >= 1, got shape {values.shape}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")

    n_items, n_methods = values.shape
    by_method = np.ascontiguousarray(values.T)  # each method's items contiguous: one code path per method
    rng = np.random.default_rng(seed)
    means = np.empty((n_resamples, n_methods))
    chunk = max(1, _MAX_GATHERED // (n_items * n_methods))
    for start in range(0, n_resamples, chunk):
        stop = min(start + chunk, n_resamples)
        items = rng.integers(0, n_items, size=(stop - start, n_items))
        means[start:stop] = by_method[:, items].mean(axis=2).T
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail], axis=0)
    return low, high
