"""Small statistics helpers used by summaries and comparisons (the heavy analysis lives in
``analysis``).

- :func:`ratio_interval`: a distribution-free confidence interval of the ratio B/A between
  two sets of per-process values (Hodges-Lehmann, by inverting the Mann-Whitney U test).
- :func:`compare_values`: whether B is slower or faster than A, which it says only when that
  interval lies beyond no-change by :data:`PRACTICAL_MARGIN`.
- :func:`process_counter`: the counters that do not move with load (compiles, cache misses,
  ...) of one process record, shared by the pytest budgets and ``history compare --fail-on``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: a ratio B/A counts as "slower" only when its whole confidence interval lies above
#: 1 + this, "faster" only when it lies below 1 - this. 5 % is the equivalence margin of
#: Traini et al. (EMSE 2023) and the minimum effect asv and pyperf report; it is the
#: default of ``history compare --min-effect`` and the rule of the strategies A/B.
PRACTICAL_MARGIN = 0.05

#: the confidence of the intervals compared with the margin
CONFIDENCE = 0.95


def median_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Distribution-free CI of the median from order statistics (the analysis' own).

    With few values the widest interval (min, max) is returned, whose coverage is
    1 - 2^(1-n).
    """
    import numpy as np

    from jitwarm.analysis import median_ci as _median_ci

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


# --------------------------------------------------------------------------- intervals

#: beyond this many pairs the null distribution of U is approximated by a normal one
_EXACT_PAIRS = 2500


def mann_whitney_null_cdf(n: int, m: int) -> list[float]:
    """``P(U <= u)`` for ``u = 0 .. n*m`` under no difference (no ties): exact by counting
    arrangements for up to 2,500 pairs, the normal approximation beyond."""
    import numpy as np

    pairs = n * m
    if pairs <= _EXACT_PAIRS:
        # counts[j][u]: arrangements of i values of A and j of B whose U is u (recurrence on
        # the largest value: from A it adds nothing, from B it adds i)
        prev = [np.zeros(pairs + 1) for _ in range(m + 1)]
        for j in range(m + 1):
            prev[j][0] = 1.0  # i = 0: U = 0
        for i in range(1, n + 1):
            row = [np.zeros(pairs + 1) for _ in range(m + 1)]
            row[0] = prev[0].copy()
            for j in range(1, m + 1):
                row[j] = prev[j].copy()
                row[j][i:] += row[j - 1][:pairs + 1 - i]
            prev = row
        counts = prev[m]
        cdf = np.cumsum(counts) / counts.sum()
        return [float(x) for x in cdf]
    from scipy.stats import norm

    mu, sd = pairs / 2.0, math.sqrt(n * m * (n + m + 1) / 12.0)
    return [float(x) for x in norm.cdf((np.arange(pairs + 1) + 0.5 - mu) / sd)]


@dataclass(frozen=True)
class Interval:
    """A confidence interval of B relative to A.

    ``kind`` "ratio": ``estimate``, ``low``, ``high`` are ratios B/A (every value of A > 0);
    "shift": differences B - A in the values' unit. ``level`` is the coverage reached,
    which is below the one asked for when there are too few processes for it.
    """

    kind: str
    estimate: float
    low: float
    high: float
    level: float
    wanted: float

    @property
    def reached(self) -> bool:
        return self.level >= self.wanted - 1e-9

    def relative(self, base: float) -> tuple[float, float] | None:
        """(low, high) as a relative change to ``base`` (None: not expressible)."""
        if self.kind == "ratio":
            return self.low - 1.0, self.high - 1.0
        if base > 0:
            return self.low / base, self.high / base
        return None


def ratio_interval(a: Sequence[float], b: Sequence[float],
                   confidence: float = CONFIDENCE, *, kind: str = "auto") -> Interval | None:
    """The Hodges-Lehmann interval of B relative to A from per-process values.

    The ratio B/A (``kind="auto"``; a shift B - A when some value of A is not positive, or
    with ``kind="shift"``) that makes the two samples indistinguishable to the two-sided
    Mann-Whitney U test at ``1 - confidence``: order statistics of the pairwise ratios
    ``b_j / a_i`` (differences ``b_j - a_i``), distribution-free and deterministic.
    ``None`` when either side has fewer than two values (one process: no interval exists).
    With too few processes for ``confidence`` the widest interval (the smallest and largest
    pairwise ratio) is returned with the coverage it has (``reached`` is False).
    """
    xa, xb = [float(x) for x in a], [float(x) for x in b]
    n, m = len(xa), len(xb)
    if n < 2 or m < 2:
        return None
    if kind == "auto" and all(x > 0 for x in xa):
        kind = "ratio"
        d = sorted(y / x for x in xa for y in xb)
    else:
        kind = "shift"
        d = sorted(y - x for x in xa for y in xb)
    pairs = n * m
    cdf = mann_whitney_null_cdf(n, m)
    half = (1.0 - confidence) / 2.0
    k = 1  # the interval is [d_(k), d_(pairs + 1 - k)], coverage 1 - 2 P(U <= k - 1)
    while k < (pairs + 1) // 2 and cdf[k] <= half + 1e-12:
        k += 1
    level = max(0.0, 1.0 - 2.0 * cdf[k - 1])
    return Interval(kind, median(d), d[k - 1], d[pairs - k], level, confidence)


# --------------------------------------------------------------------------- comparison


@dataclass
class MetricComparison:
    """One metric of run A against run B from their per-process values."""

    key: str
    label: str
    a: list[float]
    b: list[float]
    median_a: float | None
    median_b: float | None
    change: float | None  # (b - a) / a of the medians
    p_value: float | None
    verdict: str  # slower | faster | no significant change | too few processes | n/a
    note: str = ""
    #: the interval of the change relative to A (``[-0.03, 0.08]``: -3 % to +8 %)
    change_ci: tuple[float, float] | None = None
    ci_level: float | None = None
    margin: float = PRACTICAL_MARGIN

    @property
    def significant(self) -> bool:
        return self.verdict in ("slower", "faster")

    @property
    def ratio_ci(self) -> tuple[float, float] | None:
        """The interval as ratios B/A."""
        return None if self.change_ci is None else (1 + self.change_ci[0],
                                                    1 + self.change_ci[1])

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.key, "label": self.label, "median_a": self.median_a,
            "median_b": self.median_b, "change": self.change, "p_value": self.p_value,
            "verdict": self.verdict, "n_a": len(self.a), "n_b": len(self.b), "note": self.note,
            "change_ci": None if self.change_ci is None else list(self.change_ci),
            "ci_level": self.ci_level, "margin": self.margin,
        }


def min_p_value(na: int, nb: int) -> float:
    """The smallest two-sided Mann-Whitney p-value attainable with samples of these sizes."""
    from scipy.stats import mannwhitneyu

    if na == 0 or nb == 0:
        return 1.0
    return float(mannwhitneyu(range(na), range(na, na + nb), alternative="two-sided").pvalue)


def _pct(x: float) -> str:
    return f"{x:+.1%}"


def compare_values(a: Sequence[float], b: Sequence[float], *, alpha: float = 0.05,
                   min_effect: float = PRACTICAL_MARGIN, key: str = "",
                   label: str = "") -> MetricComparison:
    """Is B different from A? ``slower`` only when the whole ``1 - alpha`` interval of the
    change lies above ``+min_effect``, ``faster`` only when it lies below ``-min_effect``
    (see :func:`ratio_interval`). With one process on either side no interval exists and
    nothing is flagged; the Mann-Whitney p-value is reported beside it."""
    from scipy.stats import mannwhitneyu

    a, b = [float(x) for x in a], [float(x) for x in b]
    if not a or not b:
        return MetricComparison(key, label, a, b, median(a) if a else None,
                                median(b) if b else None, None, None, "n/a",
                                "not measured in " + ("both runs" if not a and not b
                                                      else "run A" if not a else "run B"),
                                margin=min_effect)
    ma, mb = median(a), median(b)
    if ma > 0:
        change: float | None = (mb - ma) / ma
    else:
        change = 0.0 if mb == ma else None
    if len(set(a)) == 1 and a == b:
        p = 1.0
    else:
        p = float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
        if p != p:  # nan: every value equal
            p = 1.0
    big_enough = change is None or abs(change) >= min_effect
    iv = ratio_interval(a, b, 1 - alpha)
    out = MetricComparison(key, label, a, b, ma, mb, change, p, "no significant change",
                           margin=min_effect)
    if iv is None or not iv.reached:
        one = "1 process: no interval" if min(len(a), len(b)) == 1 else ""
        if big_enough:
            why = f"{len(a)} vs {len(b)} processes cannot reach p < {alpha:g}"
            out.verdict, out.note = "too few processes", why + (f"; {one}" if one else "")
        else:
            out.note = f"change below {min_effect:.0%}; " + (
                one or f"no {1 - alpha:.0%} interval with {len(a)} vs {len(b)} processes")
        return out
    rel = iv.relative(ma)
    out.ci_level = iv.level
    if rel is None:  # A is 0 everywhere: any change from nothing counts
        out.note = f"{iv.wanted:.0%} CI of B - A: {iv.low:+.4g} … {iv.high:+.4g}"
        if iv.low > 0:
            out.verdict = "slower"
        elif iv.high < 0:
            out.verdict = "faster"
        return out
    out.change_ci = rel
    lo, hi = rel
    span = f"{iv.wanted:.0%} CI {_pct(lo)} … {_pct(hi)}"
    if lo > min_effect:
        out.verdict = "slower"
    elif hi < -min_effect:
        out.verdict = "faster"
    elif -min_effect <= lo and hi <= min_effect:
        out.note = f"change below {min_effect:.0%}: {span}"
    else:
        out.note = f"{span} does not clear the {min_effect:.0%} margin"
    return out


# --------------------------------------------------------------------------- counters

#: counters that come from the frameworks' own bookkeeping and do not move with load:
#: name -> what it counts. They make deterministic gates (budgets, ``--fail-on``).
COUNTERS: dict[str, str] = {
    "compiles": "compiles (top-level compile events)",
    "recompiles": "recompiles during the warm calls",
    "cache_misses": "cache misses",
    "compiled_units": "compiled units (specialisations held)",
    "first_call_instructions": "first-call instructions retired",
}


def process_counter(name: str, p: dict[str, Any]) -> int | None:
    """One process record's value of a counter of :data:`COUNTERS` (None: not measured)."""
    if name == "recompiles":
        return len(p.get("recompiles") or [])
    if name == "compiles":
        events = p.get("compile_events") or []
        if not events and p.get("compiled"):  # wrapped code: every framework's units
            return sum(1 for u in p["compiled"] if u.get("kind") != "load")
        return sum(1 for e in events if e.get("depth", 0) == 0)
    if name == "cache_misses":
        cache = p.get("cache")
        return None if not isinstance(cache, dict) else cache.get("misses")
    if name == "first_call_instructions":
        return p.get("first_call_instructions")
    if name == "compiled_units":
        return p.get("specializations")
    raise KeyError(name)


def worst_process(values: list[int | None]) -> int | None:
    """The worst process; ``None`` when any process did not measure it."""
    if not values or any(v is None for v in values):
        return None
    return max(int(v) for v in values if v is not None)


def calls_before(index: int, sizes: list[list[int]]) -> int:
    """Number of calls made before series element ``index`` (batches count their calls)."""
    total = 0
    for i, (start, size) in enumerate(sizes):
        end = sizes[i + 1][0] if i + 1 < len(sizes) else None
        if index <= start:
            break
        upto = index if end is None else min(index, end)
        total += (upto - start) * size
    return total
