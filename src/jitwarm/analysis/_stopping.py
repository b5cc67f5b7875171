"""Adaptive stopping rule for a runner whose series grows call by call.

``StoppingRule.check(series)`` re-analyses the whole series and says stop when

* the class is not ``no-steady-state``;
* the steady run covers at least ``min_fraction`` of the series;
* the CI of the steady median is tight: half-width / median <= ``ci_rel``
  (half-width = half the width of the order-statistic CI);
* the steady-state start has been stable over ``stable_checks`` consecutive checks: all of
  the last ``stable_checks`` starts lie within ``max(2, 0.5% of n)`` iterations of each other.

Otherwise it stops at a cap (``max_calls`` series length, or ``max_seconds`` since the first
check) with the reason ``"no steady state within budget"``. Each check costs one analysis
(O(n)); runners should check every few calls (e.g. every 5% growth) rather than every call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from jitwarm.analysis._classify import SeriesAnalysis, analyze

NO_STEADY_STATE_WITHIN_BUDGET = "no steady state within budget"


@dataclass
class StopDecision:
    stop: bool
    reason: str
    analysis: SeriesAnalysis | None


class StoppingRule:
    def __init__(
        self,
        *,
        min_fraction: float = 0.25,
        ci_rel: float = 0.02,
        stable_checks: int = 5,
        min_n: int = 50,
        tolerance: float = 0.05,
        max_calls: int | None = None,
        max_seconds: float | None = None,
        start_tolerance: float = 0.005,
    ) -> None:
        self.min_fraction = min_fraction
        self.ci_rel = ci_rel
        self.stable_checks = stable_checks
        self.min_n = min_n
        self.tolerance = tolerance
        self.max_calls = max_calls
        self.max_seconds = max_seconds
        self.start_tolerance = start_tolerance
        self._starts: list[int | None] = []
        self._t0: float | None = None

    def reset(self) -> None:
        self._starts.clear()
        self._t0 = None

    def _capped(self, n: int) -> bool:
        if self.max_calls is not None and n >= self.max_calls:
            return True
        return (
            self.max_seconds is not None
            and self._t0 is not None
            and time.monotonic() - self._t0 >= self.max_seconds
        )

    def check(self, series) -> StopDecision:
        if self._t0 is None:
            self._t0 = time.monotonic()
        n = len(series)
        if n < self.min_n:
            if self._capped(n):
                return StopDecision(True, NO_STEADY_STATE_WITHIN_BUDGET, None)
            return StopDecision(False, f"need at least {self.min_n} calls (have {n})", None)
        a = analyze(series, tolerance=self.tolerance)
        self._starts.append(a.steady_state_start)
        reason = self._why_not(a, n)
        if reason is None:
            return StopDecision(True, "steady state reached", a)
        if self._capped(n):
            return StopDecision(True, NO_STEADY_STATE_WITHIN_BUDGET, a)
        return StopDecision(False, reason, a)

    def _why_not(self, a: SeriesAnalysis, n: int) -> str | None:
        if a.classification == "no-steady-state" or a.steady_state_start is None:
            return "no steady state yet"
        if n - a.steady_state_start < self.min_fraction * n:
            return f"steady run covers less than {self.min_fraction:.0%} of the series"
        med = a.steady_median
        lo, hi = a.steady_ci
        if not med or (hi - lo) / 2.0 / med > self.ci_rel:
            return f"steady median CI wider than ±{self.ci_rel:.0%}"
        recent = self._starts[-self.stable_checks :]
        if len(recent) < self.stable_checks or any(s is None for s in recent):
            return f"steady-state start not yet stable over {self.stable_checks} checks"
        tol = max(2.0, self.start_tolerance * n)
        if max(recent) - min(recent) > tol:
            return f"steady-state start not yet stable over {self.stable_checks} checks"
        return None
