"""JAX (jax.jit) through the real CLI in fresh processes."""

from __future__ import annotations

import json

import pytest
from _helpers import blocker, cli, one_line_error, proc0, profile_json

pytest.importorskip("jax")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
    out = tmp_path_factory.mktemp("jax") / "mlp.json"
    return profile_json("jitwarm.examples.jax_cases:mlp", out)


def test_cold_compile_phases(mlp):
    assert mlp["framework"] == "jax"
    p = proc0(mlp, "cold")
    assert 0 < p["compile_ns"] <= p["first_call_ns"]
    top = [e for e in p["compile_events"] if e["depth"] == 0]
    assert len(top) == 1 and top[0]["cache"] == "miss" and top[0]["call_index"] == 0
    phases = {e["kind"]: e["duration_ns"] for e in p["compile_events"] if e["depth"] == 1}
    assert set(phases) == {"trace", "lower", "backend_compile"} and min(phases.values()) > 0
    assert p["cache"] == {"hits": 0, "misses": 1, "requests": 1}
    assert p["specializations"] == 1
    assert p["runtime"]["persistent_cache_min_compile_time_secs"] == 0.0
    assert any("MIN_COMPILE_TIME_SECS=0" in n for n in p["notes"])
    assert p["function_compile_ns"] and p["function_compile_ns"] > 0


def test_own_compile_is_a_real_compile_not_a_cache_load(mlp):
    """The fresh copy is compiled with the persistent cache really off (JAX memoises whether
    it uses the cache): its time is of the order of the first call's backend compile, and
    runtime initialisation is what is left (it read 10% and 90% when the copy loaded the
    executable the first call had just written)."""
    p = proc0(mlp, "cold")
    backend = sum(e["duration_ns"] for e in p["compile_events"]
                  if e["depth"] == 1 and e["kind"] == "backend_compile")
    assert p["function_compile_ns"] >= 0.5 * backend, (p["function_compile_ns"], backend)
    assert p["runtime_init_ns"] < p["compile_ns"], (p["runtime_init_ns"], p["compile_ns"])


def test_own_compile_in_the_cached_state_is_a_real_compile(mlp):
    """In the cached state the first call loads the executable the cold state wrote; the
    fresh copies must still compile (JAX's own events: every lookup missed, an XLA backend
    compile each), so the own compile stays of the order of the cold backend compile instead
    of the cache load it read before (issue #14)."""
    cold, cached = proc0(mlp, "cold"), proc0(mlp, "cached")
    assert cached["cache"]["hits"] == 1  # the state really was cached
    for p in (cold, cached):
        check = p["runtime"]["function_compile_check"]
        assert check["verified"] is True, check
        assert check["cache_hits"] == 0 and check["cache_misses"] == check["copies"] == 3
        assert check["backend_compiles"] == 3, check
        assert "new empty persistent-cache directory" in check["how"]
        assert not any("not measured" in n for n in p["notes"]), p["notes"]
    cold_backend = sum(e["duration_ns"] for e in cold["compile_events"]
                       if e["depth"] == 1 and e["kind"] == "backend_compile")
    hit_backend = sum(e["duration_ns"] for e in cached["compile_events"]
                      if e["depth"] == 1 and e["kind"] == "backend_compile")
    own = cached["function_compile_ns"]
    assert own >= 0.5 * cold_backend, (own, cold_backend)
    assert own > 2 * hit_backend, (own, hit_backend)  # a compile, not a cache load


def test_cached_hits_persistent_cache(mlp):
    cold, cached = proc0(mlp, "cold"), proc0(mlp, "cached")
    assert cached["cache"]["hits"] == 1 and cached["cache"]["misses"] == 0
    backend = [e for e in cached["compile_events"] if e["kind"] == "backend_compile"]
    assert backend and backend[0]["cache"] == "hit"
    # the executable is loaded, not compiled: XLA's backend step shrinks
    cold_backend = [e for e in cold["compile_events"] if e["kind"] == "backend_compile"]
    assert backend[0]["duration_ns"] < cold_backend[0]["duration_ns"]


def test_sweep_recompiles_every_shape(tmp_path):
    out = tmp_path / "sweep.json"
    proc = cli("sweep", "jitwarm.examples.jax_cases:mlp_batches", "--shapes", "8x64,16x64,8x64",
               "--calls", "5", "--json", str(out), "--quiet")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    r = json.loads(out.read_text())
    s8, s16, again = r["sets"]
    assert s8["recompiled"] and s16["recompiled"] and not again["recompiled"]
    assert "now f32[16,64] and before f32[8,64]" in s16["compiles"][0]["reason"]
    assert s16["compiles"][0]["signature"] == "f32[16,64]"
    assert r["specializations"] == 2 and r["recompiles"] == 1
    assert [x["specializations"] for x in r["sets"]] == [1, 2, 2]


def test_missing_jax_one_line(tmp_path):
    proc = cli("profile", "jitwarm.examples.jax_cases:mlp", "--processes", "1",
               env=blocker(tmp_path, "jax", "jaxlib"))
    one_line_error(proc, "jax is not installed: pip install 'jitwarm[jax]'")
