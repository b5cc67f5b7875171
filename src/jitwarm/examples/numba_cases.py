"""Numba example cases: the scalar polynomial from the seed note and an array kernel.

Framework imports live inside the cases, so they count as setup in the measured process.
"""

from __future__ import annotations

import jitwarm


@jitwarm.case
def poly():
    """The seed note's example: a scalar polynomial under ``@njit(cache=True)``."""
    from numba import njit

    @njit(cache=True)
    def compute(x):
        return x * x + 2 * x + 1

    return compute, (10,)


@jitwarm.case
def array_kernel():
    """A loop-heavy array kernel (softplus-weighted sum) on 10,000 float64 values."""
    import numpy as np
    from numba import njit

    @njit(cache=True)
    def kernel(a, w):
        acc = 0.0
        for i in range(a.shape[0]):
            x = a[i] * w
            acc += np.log1p(np.exp(-abs(x))) + max(x, 0.0)
        return acc

    a = np.linspace(-3.0, 3.0, 10_000)
    return kernel, (a, 0.5)
