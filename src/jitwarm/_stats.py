"""Small statistics helpers used by summaries (the heavy analysis lives in ``analysis``)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def median_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Distribution-free CI of the median from order statistics (the analysis' own).

    With few values the widest interval (min, max) is returned, whose coverage is
    1 - 2^(1-n).
    """
    import numpy as np

    from .analysis import median_ci as _median_ci

    if len(values) == 0:
        raise ValueError("no values")
    _, lo, hi = _median_ci(np.asarray(values, dtype=float), confidence)
    return lo, hi


def median(values: Sequence[float]) -> float:
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        return math.nan
    mid = n // 2
    return xs[mid] if n % 2 else (xs[mid - 1] + xs[mid]) / 2
