"""The adaptive stopping rule on growing series."""

from __future__ import annotations

import numpy as np

from jitwarm.analysis import StoppingRule
from jitwarm.analysis._generate import generate


def _run(rule, x, step=25):
    for n in range(step, len(x) + 1, step):
        d = rule.check(x[:n])
        if d.stop:
            return n, d
    return None, d


def test_stops_once_warm_and_stable():
    rng = np.random.default_rng(0)
    x = 1000 * (1 + 0.01 * rng.normal(size=3000))
    x[:30] *= 3
    x[30:80] *= 1.5
    x[0] = 1e7
    n, d = _run(StoppingRule(), x)
    assert n is not None and n < 1000
    assert d.reason == "steady state reached"
    assert d.analysis.classification == "warmup"
    assert abs(d.analysis.steady_state_start - 80) <= 2
    assert n - d.analysis.steady_state_start >= 0.25 * n


def test_waits_for_min_n_and_stability():
    x = 1000 * (1 + 0.01 * np.random.default_rng(1).normal(size=400))
    rule = StoppingRule(min_n=50, stable_checks=5)
    decisions = [rule.check(x[:n]) for n in range(10, 400, 10)]
    assert not decisions[0].stop and decisions[0].analysis is None
    first_stop = next(i for i, d in enumerate(decisions) if d.stop)
    # min_n reached at check index 4 (n=50); 5 stable checks needed → index >= 8
    assert first_stop >= 8


def test_cap_without_steady_state():
    g = generate("drift", 2000, seed=2)
    rule = StoppingRule(max_calls=1000)
    n, d = _run(rule, g.series, step=100)
    assert n == 1000 and d.stop
    assert d.reason == "no steady state within budget"


def test_max_seconds_cap():
    rule = StoppingRule(max_seconds=0.0)
    d = rule.check([1.0] * 10)
    assert d.stop and d.reason == "no steady state within budget"


def test_a_plateau_longer_than_observed_looks_steady():
    """Documented limitation: the rule cannot foresee a drop after a long plateau."""
    x = 1000 * (1 + 0.01 * np.random.default_rng(0).normal(size=3000))
    x[:2000] *= 2
    n, d = _run(StoppingRule(), x)
    assert n is not None and n < 2000 and d.analysis.steady_median > 1900
