"""Seeded random series for the ruptures oracle test (shared by the fast and slow tests)."""

from __future__ import annotations

import math

import numpy as np


def oracle_case(seed: int, n: int, n_changes: int | None = None):
    """A median-normalised random series with step changes and a mix of noise types."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(0, 6)) if n_changes is None else n_changes
    k = min(k, max(n // 4, 0))
    cps = np.sort(rng.choice(np.arange(2, n - 1), size=k, replace=False)) if k else []
    level = np.ones(n)
    for c in cps:
        level[c:] *= rng.uniform(0.5, 2.0)
    sigma = rng.uniform(0.002, 0.2)
    kind = seed % 5
    if kind == 0:
        e = rng.normal(0, sigma, n)
    elif kind == 1:
        e = rng.lognormal(0, sigma, n) - 1
    elif kind == 2:  # AR(1)
        phi = rng.uniform(-0.9, 0.6)
        e = np.empty(n)
        prev = 0.0
        for i, u in enumerate(rng.normal(0, sigma, n)):
            prev = phi * prev + u
            e[i] = prev
    elif kind == 3:  # heavy tails
        e = sigma * rng.standard_t(3, n) / 3
    else:  # quantised timer
        e = np.round(rng.normal(0, sigma, n) / max(sigma, 0.01)) * max(sigma, 0.01)
    x = np.maximum(level * (1 + e), 1e-3)
    if seed % 7 == 0:
        x[0] *= 1000.0  # compile spike
    x = x / np.median(x)
    pen = 15 * math.log(n) if seed % 3 else float(rng.uniform(2.0, 60.0))
    return x, pen
