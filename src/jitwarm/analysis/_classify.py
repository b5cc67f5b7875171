"""Segment a series and classify it (Barrett et al. 2017; Traini et al. 2023).

Pipeline of :func:`analyze`:

1. validate (finite, non-negative, non-empty) and normalise by the median;
2. mark outliers (:mod:`._outliers`) and replace them by their rolling median;
3. change points by PELT with the normal mean-and-variance cost (:mod:`._pelt`);
4. backward scan from the reference segment (the last *sustained* one, see below): segments
   equivalent to it are merged into the steady run; a non-equivalent stretch shorter than the
   sustain length that has equivalent segments on both sides is a *transient* (a burst of
   machine noise, not a change of level) and is merged too; the scan stops at the first
   sustained non-equivalent stretch, or at one that reaches back to call 0 (the warmup);
5. classify: all equivalent → ``flat``; steady run shorter than ``last_fraction`` of the series
   → ``no-steady-state``; otherwise the segment immediately before the steady run decides:
   slower (larger mean time) → ``warmup``, faster → ``slowdown``.

Practical significance (issue #16): a change counts only when it is statistically significant
*and* larger than the equivalence margin (``tolerance``, ±5 % as Traini et al.), *and*, with
``robust=True``, the medians of the two segments also differ by more than the margin (a
difference of means carried by a few slow calls is explained by outliers, not a change of
level), *and* it is sustained: it lasts ``sustain`` calls or more (default
``clip(5 % of n, 10, 200)``). A trailing segment shorter than that is not taken as the
reference either: a change in the last few calls has not shown that it lasts.

Segment equivalence (default ``equivalence="overlap"``, the issue's rule): two segments
*differ* when the ``confidence`` interval of the ratio of their means lies entirely outside
``1 ± tolerance``. The interval is the delta-method (first-order Taylor) interval
``R ± z·R·sqrt(se_a²/m_a² + se_b²/m_b²)`` with ``se = sd/√n`` computed on the outlier-cleaned
values of each segment. Segments shorter than ``MIN_CI_SIZE`` points have no meaningful
standard error (a 2-point segment holding the compile spike has a CI that spans everything),
so for them the point ratio is compared with the band instead. ``equivalence="within"`` is
Traini et al.'s stricter rule (equivalent only when the whole CI lies inside the band).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special  # not scipy.stats: that import alone costs ~1.2 s per worker

from jitwarm.analysis._outliers import find_outliers
from jitwarm.analysis._pelt import DEFAULT_VAR_FLOOR, change_points

CLASSES = ("flat", "warmup", "slowdown", "no-steady-state")
MIN_CI_SIZE = 10
#: default sustain length: this fraction of the series, clipped to [SUSTAIN_MIN, SUSTAIN_MAX]
SUSTAIN_FRACTION = 0.05
SUSTAIN_MIN = 10
SUSTAIN_MAX = 200
#: default minimum share of the series the steady run must cover
LAST_FRACTION = 0.2


def default_sustain(n: int) -> int:
    """Calls a change must last to count (shorter stretches are transients)."""
    return int(min(max(round(SUSTAIN_FRACTION * n), SUSTAIN_MIN), SUSTAIN_MAX))


@dataclass
class Segment:
    start: int
    end: int
    mean: float
    median: float
    equivalent_to_steady: bool
    transient: bool = False

    def to_dict(self) -> dict:
        return {
            "start": int(self.start),
            "end": int(self.end),
            "mean": float(self.mean),
            "median": float(self.median),
            "equivalent_to_steady": bool(self.equivalent_to_steady),
            "transient": bool(self.transient),
        }


@dataclass
class Change:
    """The last change of level that counted: where, and the levels either side."""

    at: int
    before: float
    after: float

    @property
    def ratio(self) -> float:
        """``after / before`` (> 1: slower after the change)."""
        return self.after / self.before if self.before > 0 else math.inf

    def to_dict(self) -> dict:
        return {
            "at": int(self.at),
            "before": float(self.before),
            "after": float(self.after),
            "ratio": _opt_float(self.ratio),
        }


@dataclass
class SeriesAnalysis:
    n: int
    classification: str
    steady_state_start: int | None
    steady_median: float | None
    steady_ci: tuple[float, float] | None
    change_points: list[int]
    outliers: list[int]
    segments: list[Segment] = field(default_factory=list)
    warmup_calls: int | None = None
    warmup_cost: float | None = None
    break_even_calls: int | None = None
    last_change: Change | None = None
    sustain: int | None = None

    def to_dict(self) -> dict:
        return {
            "n": int(self.n),
            "classification": self.classification,
            "steady_state_start": _opt_int(self.steady_state_start),
            "steady_median": _opt_float(self.steady_median),
            "steady_ci": None
            if self.steady_ci is None
            else [float(self.steady_ci[0]), float(self.steady_ci[1])],
            "change_points": [int(c) for c in self.change_points],
            "outliers": [int(i) for i in self.outliers],
            "segments": [s.to_dict() for s in self.segments],
            "warmup_calls": _opt_int(self.warmup_calls),
            "warmup_cost": _opt_float(self.warmup_cost),
            "break_even_calls": _opt_int(self.break_even_calls),
            "last_change": None if self.last_change is None else self.last_change.to_dict(),
            "sustain": _opt_int(self.sustain),
        }


@dataclass
class ProcessesAnalysis:
    processes: list[SeriesAnalysis]
    consistency: str
    steady_state_starts: dict
    verdict: Any = None  # a _verdict.Verdict: what differed, by how much, whether it matters

    def to_dict(self) -> dict:
        return {
            "consistency": self.consistency,
            "steady_state_starts": dict(self.steady_state_starts),
            "processes": [p.to_dict() for p in self.processes],
            "verdict": None if self.verdict is None else self.verdict.to_dict(),
        }


def _opt_int(v):
    return None if v is None else int(v)


def _opt_float(v):
    return None if v is None or not math.isfinite(v) else float(v)


def as_series(series) -> np.ndarray:
    """Validate and convert to a 1-D float64 array; ``ValueError`` with a clear message."""
    try:
        x = np.asarray(series, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"series must be a sequence of numbers ({exc})") from None
    if x.ndim != 1:
        raise ValueError("series must be one-dimensional")
    if x.size == 0:
        raise ValueError("series is empty")
    if not np.all(np.isfinite(x)):
        i = int(np.flatnonzero(~np.isfinite(x))[0])
        raise ValueError(f"series contains a non-finite value (NaN or inf) at index {i}")
    if np.any(x < 0):
        i = int(np.flatnonzero(x < 0)[0])
        raise ValueError(f"series contains a negative value at index {i}")
    return x


def _seg_stats(xc: np.ndarray, bounds: list[int]):
    s1 = np.concatenate(([0.0], np.cumsum(xc)))
    b = np.asarray(bounds)
    lens = np.diff(b)
    means = np.diff(s1[b]) / lens
    dev2 = (xc - np.repeat(means, lens)) ** 2
    s2 = np.concatenate(([0.0], np.cumsum(dev2)))
    ss = np.diff(s2[b])
    var = np.where(lens > 1, ss / np.maximum(lens - 1, 1), 0.0)
    return lens, means, var


def _differs(na, ma, va, nb, mb, vb, tolerance, z, rule) -> bool:
    """Whether segment a differs from segment b (ratio of means ma/mb)."""
    if mb <= 0:
        return ma > 0
    r = ma / mb
    if na < MIN_CI_SIZE or nb < MIN_CI_SIZE or ma <= 0:
        return abs(r - 1.0) > tolerance
    rel = math.sqrt(va / (na * ma * ma) + vb / (nb * mb * mb))
    half = z * abs(r) * rel
    lo, hi = r - half, r + half
    if rule == "within":
        return not (lo >= 1.0 - tolerance and hi <= 1.0 + tolerance)
    return lo > 1.0 + tolerance or hi < 1.0 - tolerance


def _binom_half_ppf(q: float, m: int) -> int:
    """``scipy.stats.binom.ppf(q, m, 0.5)``: smallest k with P(Bin(m, 1/2) <= k) >= q."""
    lo, hi = 0, m
    while lo < hi:  # bisection on the CDF: ~log2(m) evaluations
        mid = (lo + hi) // 2
        if special.bdtr(mid, m, 0.5) >= q:
            hi = mid
        else:
            lo = mid + 1
    return lo


def median_ci(values: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """Median and its distribution-free CI from order statistics (binomial, p = 1/2)."""
    m = len(values)
    if m == 1:
        v = float(values[0])
        return v, v, v
    alpha = 1.0 - confidence
    lrank = _binom_half_ppf(alpha / 2.0, m)  # 1-based rank of the lower bound
    lrank = max(lrank, 1)
    urank = m - lrank + 1
    mid = [(m - 1) // 2, m // 2]
    part = np.partition(values, sorted({lrank - 1, urank - 1, *mid}))
    med = 0.5 * (part[mid[0]] + part[mid[1]])
    return float(med), float(part[lrank - 1]), float(part[urank - 1])


def break_even(x: np.ndarray, baseline: float, steady_median: float | None) -> int | None:
    """Smallest k >= 1 with sum(x[:k]) <= k * baseline, extrapolating with the steady median."""
    d = np.cumsum(x - baseline)
    hit = np.flatnonzero(d <= 0)
    if hit.size:
        return int(hit[0]) + 1
    if steady_median is None or steady_median >= baseline:
        return None
    n = len(x)
    extra = math.ceil(float(d[-1]) / (baseline - steady_median))
    return n + max(extra, 1)


def analyze(
    series,
    *,
    penalty: float | None = None,
    tolerance: float = 0.05,
    baseline: float | None = None,
    confidence: float = 0.95,
    var_floor: float = DEFAULT_VAR_FLOOR,
    min_size: int = 2,
    last_fraction: float = LAST_FRACTION,
    equivalence: str = "overlap",
    sustain: int | None = None,
    robust: bool = True,
) -> SeriesAnalysis:
    """Classify one series of per-call durations; see the module docstring."""
    if equivalence not in ("overlap", "within"):
        raise ValueError("equivalence must be 'overlap' or 'within'")
    x = as_series(series)
    n = len(x)
    med_all = float(np.median(x))
    scale = med_all if med_all > 0 else float(x.mean())
    if scale <= 0:
        scale = 1.0
    z = x / scale
    out_idx, zc = find_outliers(z)
    cps = change_points(zc, penalty=penalty, min_size=min_size, var_floor=var_floor)
    bounds = [0, *cps, n]
    lens, means, var = _seg_stats(zc, bounds)
    nseg = len(lens)
    meds = np.array([np.median(zc[bounds[i] : bounds[i + 1]]) for i in range(nseg)])
    zq = float(special.ndtri(0.5 + confidence / 2.0))
    sus = default_sustain(n) if sustain is None else max(int(sustain), 1)
    # Reference: the last sustained segment; shorter trailing segments have not shown that
    # they last (they join the steady run as transients).
    last = nseg - 1
    while last > 0 and lens[last] < sus:
        last -= 1

    def differs(i: int) -> bool:
        d = _differs(
            lens[i], means[i], var[i], lens[last], means[last], var[last],
            tolerance, zq, equivalence,
        )
        if d and robust and lens[i] >= MIN_CI_SIZE and lens[last] >= MIN_CI_SIZE:
            # not explained by outliers: the medians must differ by more than the margin too
            d = meds[last] <= 0 or abs(meds[i] / meds[last] - 1.0) > tolerance
        return d

    eq = [True] * nseg
    for i in range(last):
        eq[i] = not differs(i)
    transient = [False] * nseg
    for i in range(last + 1, nseg):
        transient[i] = True
    first = last
    while first > 0:
        if eq[first - 1]:
            first -= 1
            continue
        j, run = first - 1, 0
        while j >= 0 and not eq[j]:
            run += int(lens[j])
            j -= 1
        if j >= 0 and run < sus:  # a short burst between equivalent stretches
            for k in range(j + 1, first):
                transient[k] = True
            first = j
            continue
        break
    start = bounds[first]
    last_change = None
    if first == 0:
        cls = "flat"
    else:
        last_change = Change(
            at=int(start), before=float(meds[first - 1] * scale), after=float(meds[last] * scale)
        )
        if n - start < last_fraction * n:
            cls = "no-steady-state"
        else:
            cls = "warmup" if means[first - 1] > means[last] else "slowdown"
    segments = [
        Segment(
            start=bounds[i],
            end=bounds[i + 1],
            mean=float(means[i] * scale),
            median=float(np.median(x[bounds[i] : bounds[i + 1]])),
            equivalent_to_steady=bool(eq[i]),
            transient=bool(transient[i] and not eq[i]) or i > last,
        )
        for i in range(nseg)
    ]
    result = SeriesAnalysis(
        n=n,
        classification=cls,
        steady_state_start=None,
        steady_median=None,
        steady_ci=None,
        change_points=[int(c) for c in cps],
        outliers=[int(i) for i in out_idx],
        segments=segments,
        last_change=last_change,
        sustain=sus,
    )
    steady_median = None
    if cls != "no-steady-state":
        steady_median, lo, hi = median_ci(x[start:], confidence)
        result.steady_state_start = int(start)
        result.steady_median = steady_median
        result.steady_ci = (lo, hi)
        result.warmup_calls = int(start)
        result.warmup_cost = float(np.sum(x[:start] - steady_median)) if start else 0.0
    if baseline is not None:
        result.break_even_calls = break_even(x, float(baseline), steady_median)
    return result


def consistency(classes: list[str]) -> str:
    """Barrett's verdict over several processes' classes (``"no-data"`` for none)."""
    if not classes:
        return "no-data"
    kinds = set(classes)
    if len(kinds) == 1:
        return f"consistent {classes[0]}"
    if kinds <= {"flat", "warmup"}:
        return "good-inconsistent"
    return "bad-inconsistent"


def analyze_processes(list_of_series, **kwargs) -> ProcessesAnalysis:
    """Analyse several process executions and give the overall verdict."""
    procs = [analyze(s, **kwargs) for s in list_of_series]
    if not procs:
        raise ValueError("no process series given")
    starts = np.array(
        [p.steady_state_start for p in procs if p.steady_state_start is not None], dtype=float
    )
    if starts.size:
        q1, q2, q3 = np.percentile(starts, [25, 50, 75])
        spread = {
            "count": int(starts.size),
            "min": int(starts.min()),
            "median": float(q2),
            "max": int(starts.max()),
            "iqr": float(q3 - q1),
        }
    else:
        spread = {"count": 0, "min": None, "median": None, "max": None, "iqr": None}
    from jitwarm.analysis._verdict import judge

    return ProcessesAnalysis(
        processes=procs,
        consistency=consistency([p.classification for p in procs]),
        steady_state_starts=spread,
        verdict=judge(procs),
    )


__all__ = [
    "CLASSES",
    "Change",
    "ProcessesAnalysis",
    "Segment",
    "SeriesAnalysis",
    "analyze",
    "analyze_processes",
    "as_series",
]
