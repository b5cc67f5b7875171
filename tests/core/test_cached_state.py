"""When the ``cached`` state runs, and how a skipped one is explained to a user."""

from __future__ import annotations

import pytest

from jitwarm.cases.targets import resolve_target
from jitwarm.measure.process import Settings
from jitwarm.measure.runner import Runner

PLAIN = """
import jitwarm

def add(a, b):
    return a + b

@jitwarm.case
def plain():
    return add, (1, 2)
"""

FAST = Settings(max_calls=20, max_time_s=0.2, min_calls=5)


def _run(path, states=("cold", "cached")):
    return Runner(resolve_target(f"{path}::plain"), processes=1, states=states,
                  settings=FAST, timeout_s=120).run()


def test_skipped_cached_state_is_explained_in_plain_words(case_file):
    r = _run(case_file(PLAIN))
    assert "cold" in r.states and "cached" not in r.states
    reason = r.skipped_states["cached"]
    assert "python's" not in reason.lower()
    assert "disk cache" not in reason  # jargon: say what is (not) on disk instead
    assert "compiled" in reason and "cache" in reason


WRAPPED = """
import numpy as np
from numba import njit

import jitwarm

@njit(cache=True)
def kernel(x):
    s = 0.0
    for v in x:
        s += v * v
    return s

def predict(x):          # a plain function: the callable's own adapter is plain Python
    return kernel(x)

@jitwarm.case
def plain():
    return predict, (np.arange(100.0),)
"""


@pytest.mark.slow
def test_cached_state_runs_when_cold_wrote_to_a_cache_behind_a_plain_function(case_file):
    """The callable is plain Python, but the @njit(cache=True) kernel it calls wrote Numba's
    cache during cold: the cached state runs (it used to be skipped for the callable's
    type), and it loads the kernel instead of compiling it."""
    pytest.importorskip("numba")
    r = _run(case_file(WRAPPED, name="bench_wrapped.py"))
    # the framework that compiled inside the plain callable
    assert r.framework == "numba"
    assert r.states["cold"]["processes"][0]["callable_framework"] == "python"
    assert "cached" not in r.skipped_states, r.skipped_states
    cold = r.states["cold"]["processes"][0]
    cached = r.states["cached"]["processes"][0]
    assert cold["status"] == cached["status"] == "ok"
    # the kernel was compiled (a miss) cold and loaded (a hit) cached: Numba's own
    # counters, not wall time (a timing comparison failed 1 run in 6 on a loaded machine)
    def numba_units(p):
        return [u for u in p.get("compiled") or [] if u["framework"] == "numba"]

    assert any(u.get("cache") == "miss" for u in numba_units(cold)), numba_units(cold)
    assert numba_units(cached) and all(u.get("cache") == "hit" for u in numba_units(cached))
    assert cached["cache"]["hits"] >= 1 and cached["cache"]["misses"] == 0, cached["cache"]


def test_cached_state_skipped_without_a_cache_names_the_switch(case_file):
    r = _run(case_file(PLAIN))
    assert "cache=True" in r.skipped_states["cached"]  # a hint on how to turn one on
