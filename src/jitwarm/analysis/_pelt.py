"""Vectorised PELT with the normal mean-and-variance cost.

Segment cost (R's ``cpt.meanvar`` / ruptures' ``CostNormal`` in one dimension)::

    C(t, s) = (s - t) * log(var(x[t:s]) + var_floor)

with the maximum-likelihood (``ddof=0``) variance. ``var_floor=1e-6`` reproduces ruptures'
``add_small_diag=True`` exactly; on a series normalised by its median it is the square of
1e-3 of the median, which is also the production floor: near-identical neighbours cannot
buy a large likelihood gain by forming 2-point segments, and quantised timers (many identical
values) never hit ``log(0)``.

The search replicates ``ruptures.Pelt(model="normal", min_size=2, jump=1)``: candidate ends
``min_size, ..., n-1, n``; admissible previous change points ``{0} ∪ [min_size, s - min_size]``;
ties go to the earliest change point; a candidate ``t`` is pruned when
``F(t) + C(t, s) + pen > F(s) + pen``. Costs come from prefix sums of the centred series so
that every step is one vectorised expression over the admissible set.
"""

from __future__ import annotations

import math

import numpy as np

DEFAULT_VAR_FLOOR = 1e-6
#: Above this length, segmentation runs on block medians and is refined on the raw data.
EXACT_MAX_N = 2000
#: Number of blocks aimed at for long series.
TARGET_BLOCKS = 1000


def default_penalty(n: int) -> float:
    """The issue's default penalty, 15 * ln(n)."""
    return 15.0 * math.log(max(n, 2))


def _prefix(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xc = x - x.mean()
    s1 = np.empty(len(x) + 1)
    s2 = np.empty(len(x) + 1)
    s1[0] = 0.0
    s2[0] = 0.0
    np.cumsum(xc, out=s1[1:])
    np.cumsum(xc * xc, out=s2[1:])
    return s1, s2


def _costs(s1, s2, starts, ends, var_floor):
    """Vectorised cost of the segments [starts, ends): either side an array or a scalar."""
    m = ends - starts
    a = s1[ends] - s1[starts]
    b = s2[ends] - s2[starts]
    mean = a / m
    var = b / m - mean * mean
    np.maximum(var, 0.0, out=var)
    return m * np.log(var + var_floor)


def pelt(
    x,
    *,
    penalty: float,
    min_size: int = 2,
    var_floor: float = DEFAULT_VAR_FLOOR,
) -> list[int]:
    """Exact PELT; returns ruptures-style breakpoints (sorted segment ends, last one ``n``)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    n = len(x)
    if not var_floor > 0:
        raise ValueError("var_floor must be > 0 (the cost takes log of the variance)")
    if n == 0:
        return []
    min_size = max(int(min_size), 2)
    if n < 2 * min_size:
        return [n]
    pen = float(penalty)
    s1, s2 = _prefix(x)
    prev = np.zeros(n + 1, dtype=np.int64)
    # Admissible candidates (as floats, exact for n < 2**53) with their prefix sums and F
    # values, kept side by side; w1..w3 are scratch buffers (no allocation in the loop).
    cand = np.empty(n + 1)
    c1 = np.empty(n + 1)
    c2 = np.empty(n + 1)
    cf = np.empty(n + 1)
    w1 = np.empty(n + 1)
    w2 = np.empty(n + 1)
    w3 = np.empty(n + 1)
    keep = np.empty(n + 1, dtype=bool)
    log, sub, div, mul, add, maximum = (
        np.log,
        np.subtract,
        np.divide,
        np.multiply,
        np.add,
        np.maximum,
    )
    k = 0
    f_at = {0: 0.0}
    for s in range(min_size, n + 1):
        new = s - min_size
        if new == 0 or new >= min_size:
            cand[k] = new
            c1[k] = s1[new]
            c2[k] = s2[new]
            cf[k] = f_at.pop(new)
            k += 1
        m = sub(s, cand[:k], out=w1[:k])  # segment lengths
        a = sub(s1[s], c1[:k], out=w2[:k])
        div(a, m, out=a)  # segment mean
        mul(a, a, out=a)
        v = sub(s2[s], c2[:k], out=w3[:k])
        div(v, m, out=v)
        sub(v, a, out=v)  # MLE variance
        maximum(v, 0.0, out=v)
        add(v, var_floor, out=v)
        log(v, out=v)
        mul(v, m, out=v)
        add(v, pen, out=v)
        add(v, cf[:k], out=v)  # F(t) + (C(t, s) + pen), ruptures' order of additions
        j = int(v.argmin())
        f_s = float(v[j])
        prev[s] = int(cand[j])
        f_at[s] = f_s
        kp = np.less_equal(v, f_s + pen, out=keep[:k])
        k2 = int(np.count_nonzero(kp))
        if k2 < k:
            cand[:k2] = cand[:k][kp]
            c1[:k2] = c1[:k][kp]
            c2[:k2] = c2[:k][kp]
            cf[:k2] = cf[:k][kp]
            k = k2
    bkps = []
    s = n
    while s > 0:
        bkps.append(s)
        s = int(prev[s])
    return bkps[::-1]


def _best_split(x_seg_s1, x_seg_s2, lo, hi, cand_lo, cand_hi, min_size, var_floor):
    """Best single split tau in [cand_lo, cand_hi] of [lo, hi) by the same cost."""
    cand_lo = max(cand_lo, lo + min_size)
    cand_hi = min(cand_hi, hi - min_size)
    if cand_hi < cand_lo:
        return None
    taus = np.arange(cand_lo, cand_hi + 1)
    left = _costs(x_seg_s1, x_seg_s2, lo, taus, var_floor)
    right = _costs(x_seg_s1, x_seg_s2, taus, hi, var_floor)
    return int(taus[int(np.argmin(left + right))])


def change_points(
    x,
    *,
    penalty: float | None = None,
    min_size: int = 2,
    var_floor: float = DEFAULT_VAR_FLOOR,
    exact_max_n: int = EXACT_MAX_N,
    target_blocks: int = TARGET_BLOCKS,
) -> list[int]:
    """Indices where a new segment starts (0 and n excluded).

    Up to ``exact_max_n`` points: exact PELT. Longer series: PELT on medians of blocks of
    ``ceil(n / target_blocks)`` points (penalty from the number of blocks when not given),
    then each change point is refined on the raw data within ±2 blocks by the best single
    split of the surrounding window under the same cost.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    n = len(x)
    if n <= exact_max_n:
        pen = default_penalty(n) if penalty is None else penalty
        return pelt(x, penalty=pen, min_size=min_size, var_floor=var_floor)[:-1]
    b = math.ceil(n / target_blocks)
    m = n // b
    blocks = np.median(x[: m * b].reshape(m, b), axis=1)
    if m * b < n:
        blocks = np.append(blocks, np.median(x[m * b :]))
    nb = len(blocks)
    pen = default_penalty(nb) if penalty is None else penalty
    coarse = [c * b for c in pelt(blocks, penalty=pen, min_size=min_size, var_floor=var_floor)]
    coarse = coarse[:-1]
    s1, s2 = _prefix(x)
    refined: list[int] = []
    # Block medians hide what happens inside the first block (the compile spike at call 0):
    # look for one extra split of the first segment within its first 2 blocks on the raw data
    # and keep it when it pays the (raw-length) penalty.
    first_end = coarse[0] if coarse else n
    head = _best_split(s1, s2, 0, first_end, min_size, 2 * b, min_size, var_floor)
    if head is not None:
        whole = _costs(s1, s2, 0, np.array([first_end]), var_floor)[0]
        split = (
            _costs(s1, s2, 0, np.array([head]), var_floor)[0]
            + _costs(s1, s2, np.array([head]), first_end, var_floor)[0]
        )
        head_pen = default_penalty(n) if penalty is None else penalty
        if whole - split > head_pen:
            refined.append(head)
    if not coarse:
        return refined
    bounds = [0] + coarse + [n]
    for i, c in enumerate(coarse):
        lo = refined[-1] if refined else 0
        hi = bounds[i + 2]
        tau = _best_split(s1, s2, lo, hi, c - 2 * b, c + 2 * b, min_size, var_floor)
        if tau is None:
            tau = c
        refined.append(tau)
    return sorted(set(refined))
