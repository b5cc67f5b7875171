"""The cached-state findings only blame the cache when it really was not used."""

from __future__ import annotations

from jitwarm.results.findings import findings
from jitwarm.results.profile import ProfileResult


def _result(framework, cached_compile, hits, misses):
    def proc(first, compile_ns, h, m):
        return {"status": "ok", "first_call_ns": first, "compile_ns": compile_ns,
                "warm_median_ns": 1000, "classification": "warmup", "steady_state_start": 1,
                "cache": {"hits": h, "misses": m}, "compile_events": [], "recompiles": []}

    r = ProfileResult(case={"name": "c"}, framework=framework, environment={}, settings={})
    r.add_state("cold", [proc(10_000_000 + i, 9_000_000, 0, 1) for i in range(3)])
    r.add_state("cached", [proc(8_000_000 + i, cached_compile, hits, misses) for i in range(3)])
    return r


def test_compile_with_cache_hits_is_not_a_miss():
    # ORT builds its session from the cached optimised model: compile time, but 1 hit each
    assert not any("still compiled" in f for f in findings(_result("onnxruntime", 5_000_000, 1, 0)))


def test_misses_are_reported_with_the_framework_hint():
    numba = [f for f in findings(_result("numba", 5_000_000, 0, 1)) if "still compiled" in f]
    assert numba and "cache=True" in numba[0] and "3 cache miss" in numba[0]
    jax = [f for f in findings(_result("jax", 5_000_000, 0, 0)) if "still compiled" in f]
    assert jax and "cache=True" not in jax[0] and "jitwarm cache explain" in jax[0]


def test_repeated_case_names_carry_their_framework():
    from jitwarm.report.html import render

    page = render([_result("torch", 0, 1, 0), _result("jax", 0, 1, 0),
                   _result("numba", 0, 1, 0)], plots=False)
    # every result here is named "c": the framework tells them apart everywhere
    assert 'href="#c">c (torch)</a>' in page and 'href="#c-2">c (jax)</a>' in page
    assert "jitwarm <span>· c (torch), c (jax), c (numba)</span>" in page
