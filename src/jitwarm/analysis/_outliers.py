"""Outlier marking in the style of Barrett et al.'s ``warmup_stats``.

A point is an outlier when it lies outside ``rolling median ± 3 × (p90 − p10)`` of a window of
``max(20, min(200, n // 10))`` iterations centred on it (near the end, where a centred window
would overrun the series, the last full window is used). The first window's worth of iterations are
never marked: the compile spike at call 0 and the early warmup are signal, not noise.
Outliers are only *marked*; change-point detection runs on a copy in which each outlier is
replaced by its rolling median.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

THRESHOLD = 3.0


def window_size(n: int) -> int:
    return max(20, min(200, n // 10))


def rolling_filter(x: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Centred rolling median and band half-width 3 × (p90 − p10)."""
    med = ndimage.median_filter(x, size=w, mode="nearest")
    p90 = ndimage.percentile_filter(x, 90, size=w, mode="nearest")
    p10 = ndimage.percentile_filter(x, 10, size=w, mode="nearest")
    return med, THRESHOLD * (p90 - p10)


def find_outliers(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (indices of outliers, cleaned copy with outliers replaced by the rolling median)."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    w = window_size(n)
    if n <= w:
        return np.empty(0, dtype=np.int64), x.copy()
    med, band = rolling_filter(x, w)
    # Near the end a centred window would be padded with copies of the last value (a spike
    # there would vouch for itself): the last w - w//2 - 1 points use the last full window.
    last_full = n - w + w // 2
    med[last_full + 1 :] = med[last_full]
    band[last_full + 1 :] = band[last_full]
    mask = np.abs(x - med) > band
    mask[:w] = False
    idx = np.flatnonzero(mask)
    cleaned = x.copy()
    cleaned[idx] = med[idx]
    return idx, cleaned
