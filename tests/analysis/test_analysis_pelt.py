"""Vectorised PELT: exact equality with ruptures (oracle), speed, long-series path."""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import pytest
from _oracle_cases import oracle_case

from jitwarm.analysis import change_points, pelt

rpt = pytest.importorskip("ruptures")


def _ruptures(x, pen):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # CostNormal announces its small-diagonal bias
        return rpt.Pelt(model="normal", min_size=2, jump=1).fit(x).predict(pen=pen)


@pytest.mark.parametrize("seed", range(16))
def test_oracle_small(seed):
    n = int(np.random.default_rng(seed).integers(4, 90))
    x, pen = oracle_case(seed, n)
    assert pelt(x, penalty=pen) == _ruptures(x, pen)


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "n", "k"), [(103, 2000, 80)])
def test_oracle_large(seed, n, k):
    x, pen = oracle_case(seed, n, k)
    assert pelt(x, penalty=pen) == _ruptures(x, pen)


def test_oracle_constant_and_quantised():
    x = np.ones(60)
    assert pelt(x, penalty=15 * math.log(60)) == _ruptures(x, 15 * math.log(60))
    x = np.r_[np.ones(30), 2 * np.ones(30)]
    assert pelt(x, penalty=10.0) == _ruptures(x, 10.0) == [30, 60]


def test_small_inputs():
    assert pelt([], penalty=1.0) == []
    assert pelt([1.0], penalty=1.0) == [1]
    assert pelt([1.0, 2.0, 3.0], penalty=1.0) == [3]


def test_pelt_2000_is_fast():
    rng = np.random.default_rng(5)
    x = np.repeat(rng.uniform(0.5, 2.0, 20), 100) * (1 + 0.02 * rng.normal(size=2000))
    pelt(x, penalty=15 * math.log(2000))  # warm caches
    t = time.perf_counter()
    bk = pelt(x, penalty=15 * math.log(2000))
    elapsed = time.perf_counter() - t
    assert elapsed < 0.5, elapsed
    assert len(bk) >= 15


@pytest.mark.parametrize("n", [30_000, 200_000])
def test_long_series_blocks_then_refine(n):
    rng = np.random.default_rng(n)
    truth = [int(0.1 * n), int(0.37 * n), int(0.6 * n)]
    level = np.ones(n)
    level[: truth[0]] = 2.0
    level[truth[1] :] = 1.3
    level[truth[2] :] = 0.9
    x = level * (1 + 0.02 * rng.normal(size=n))
    x[0] = 5000.0
    cps = change_points(x)
    assert cps[0] <= 2  # the compile spike at call 0 survives the block medians
    found = [c for c in cps if c > 2]
    assert len(found) == len(truth)
    for c, t in zip(found, truth, strict=True):
        assert abs(c - t) <= 2, (c, t)


def test_var_floor_must_be_positive():
    with pytest.raises(ValueError):
        pelt([1.0, 2.0, 3.0, 4.0], penalty=1.0, var_floor=0.0)
