"""Small statistics helpers used by summaries (the heavy analysis lives in ``analysis``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy import stats


def median_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Distribution-free confidence interval of the median from order statistics.

    Uses the binomial distribution of the number of values below the median; with few
    values the widest interval (min, max) is returned, whose coverage is 1 - 2^(1-n).
    """
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        raise ValueError("no values")
    if n < 3:
        return xs[0], xs[-1]
    alpha = 1 - confidence
    lo = int(stats.binom.ppf(alpha / 2, n, 0.5))
    hi = int(stats.binom.isf(alpha / 2, n, 0.5))
    lo = max(0, min(lo, n - 1) - 1 if lo > 0 else 0)
    hi = min(n - 1, max(hi, 0))
    return xs[lo], xs[hi]


def median(values: Sequence[float]) -> float:
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        return math.nan
    mid = n // 2
    return xs[mid] if n % 2 else (xs[mid - 1] + xs[mid]) / 2
