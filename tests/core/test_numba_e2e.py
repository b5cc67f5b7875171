"""Real Numba compiles in fresh processes: the definition of done of the core issue."""

from __future__ import annotations

import json

import pytest

from conftest import run_cli

pytest.importorskip("numba")

POLY = """
import jitwarm

@jitwarm.case
def poly():
    from numba import njit

    @njit(cache=True)
    def compute(x):
        return x * x + 2 * x + 1

    return compute, (10,)
"""


@pytest.fixture(scope="module")
def poly_result(tmp_path_factory):
    d = tmp_path_factory.mktemp("poly")
    (d / "bench_poly.py").write_text(POLY)
    out = d / "poly.json"
    proc = run_cli("profile", "bench_poly.py::poly", "--processes", "3", "--json", str(out), cwd=d)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(out.read_text()), proc.stdout, d


@pytest.mark.slow
def test_cold_compiles_cached_hits(poly_result):
    data, stdout, d = poly_result
    assert data["schema"] == "jitwarm.profile/1" and data["framework"] == "numba"
    assert data["environment"]["versions"]["numba"]
    cold, cached = data["states"]["cold"], data["states"]["cached"]
    for p in cold["processes"]:
        assert p["status"] == "ok"
        assert p["compile_ns"] > 0
        assert p["cache"] == {"hits": 0, "misses": 1}
        assert [e["name"] for e in p["compile_events"] if e["depth"] == 0] == ["poly.<locals>.compute"]
        assert p["function_compile_ns"] > 0
        assert p["timings_ns"][0] == p["first_call_ns"]
        assert all(isinstance(v, int) for v in p["timings_ns"])
    for p in cached["processes"]:
        assert p["status"] == "ok"
        assert p["cache"]["hits"] >= 1 and p["cache"]["misses"] == 0
        assert p["compile_events"] == [] and p["compile_ns"] == 0
    s = cold["summary"]
    assert s["first_call_ns"] >= 100 * s["warm_median_ns"]
    lo, hi = s["warm_ci_ns"]
    assert lo <= s["warm_median_ns"] <= hi
    # the user's own cache directory next to the case file is never touched
    assert not (d / "__pycache__").exists() or not any((d / "__pycache__").glob("*.nbi"))
    assert "cold" in stdout and "cached" in stdout


@pytest.mark.slow
def test_series_is_analysed(poly_result):
    data, _, _ = poly_result
    for p in data["states"]["cold"]["processes"]:
        assert p["classification"] in ("flat", "warmup", "slowdown", "no-steady-state")
        assert p["stop_reason"] in ("steady", "call cap", "time cap")
        # the compile spike at call 0 means the steady state cannot start at 0
        if p["steady_state_start"] is not None:
            assert p["steady_state_start"] >= 1


@pytest.mark.slow
def test_uncached_function_skips_cached_state(case_file, tmp_path):
    path = case_file(POLY.replace("cache=True", ""))
    out = tmp_path / "r.json"
    proc = run_cli("profile", str(path), "--processes", "1", "--json", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    assert "cached" not in data["states"]
    assert "cache=True" in data["skipped_states"]["cached"]


@pytest.mark.slow
def test_recompile_on_new_type_in_process():
    from numba import njit

    import jitwarm

    calls = iter([1] * 30 + [1.5] * 10_000)

    @njit
    def f(x):
        return x * 2

    def driver():
        return f(next(calls))

    # the driver is plain Python; attribute through the numba recorder explicitly
    from jitwarm.adapters import by_name
    from jitwarm.cases.targets import Built
    from jitwarm.measure.process import Settings, measure

    rec = measure(Built(driver, (), {}), by_name("numba"), Settings(max_calls=80, adaptive=False))
    assert rec["compile_ns"] > 0
    assert len(rec["recompiles"]) == 1
    r = rec["recompiles"][0]
    assert r["call_index"] == 30 and "float64" in r["reason"]
    assert isinstance(jitwarm.profile(f, 3).summary("in-process")["warm_median_ns"], int)
