"""Miss explanations (Numba index comparison) and the strategies A/B on a Numba case."""

from __future__ import annotations

import json
import shutil

import pytest
from _craft import NUMBA_CASE, NUMBA_PLAN, cli, write

pytest.importorskip("numba")

from jitwarm._errors import UsageError  # noqa: E402, I001
from jitwarm.caches.prewarm import run_case_process  # noqa: E402
from jitwarm.caches.strategies import parse_strategies, run_strategies, strategies_table  # noqa: E402
from jitwarm.cases.targets import resolve_target  # noqa: E402


@pytest.fixture(scope="module")
def prewarmed(tmp_path_factory):
    base = tmp_path_factory.mktemp("explain")
    write(base / "src" / "kern.py", NUMBA_CASE)
    write(base / "src" / "warm.toml", NUMBA_PLAN)
    proc = cli("prewarm", str(base / "src" / "warm.toml"), "--out", str(base / "cache"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return base


def _explain(target: str, cache) -> list[str]:
    rec = run_case_process(resolve_target(target), cache, mode="explain", timeout_s=300)
    assert rec["status"] == "ok", rec
    return rec["explanations"]


@pytest.mark.slow
def test_moved_sources_are_explained(prewarmed, tmp_path):
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.copy2(prewarmed / "src" / "kern.py", moved / "kern.py")
    cache = tmp_path / "cache"
    shutil.copytree(prewarmed / "cache", cache)
    notes = _explain(f"{moved}/kern.py::poly", cache)
    assert any("sources moved" in n for n in notes), notes
    assert _explain(f"{prewarmed}/src/kern.py::poly", cache) == [
        "numba: the disk cache hit: nothing was compiled"]


@pytest.mark.slow
def test_changed_source_and_cpu_are_explained(prewarmed, tmp_path):
    from jitwarm.adapters.numba_index import read_index, write_index

    cache = tmp_path / "cache"
    shutil.copytree(prewarmed / "cache", cache)
    (idx,) = list((cache / "numba").glob("*/*.nbi"))
    version, stamp, overloads = read_index(idx)
    other_cpu = {(k[0], (k[1][0], "imaginary-cpu", k[1][2]), *k[2:]): v
                 for k, v in overloads.items()}
    write_index(idx, version, b"not the source hash", other_cpu)
    notes = _explain(f"{prewarmed}/src/kern.py::poly", cache)
    assert any("source stamp" in n for n in notes), notes
    assert any("'imaginary-cpu'" in n for n in notes), notes


@pytest.mark.slow
def test_cache_explain_cli(prewarmed, tmp_path):
    target = f"{prewarmed}/src/kern.py::poly"
    proc = cli("cache", "explain", target, "--cache-dir", str(prewarmed / "cache"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "cache 1 hit / 0 miss" in proc.stdout
    assert "- numba: the disk cache hit: nothing was compiled" in proc.stdout
    proc = cli("cache", "explain", target, "--cache-dir", str(prewarmed / "cache"), "--json")
    rec = json.loads(proc.stdout)
    assert rec["status"] == "ok" and rec["calls"][0]["cache"]["hits"] == 1
    # user errors: one line, exit 2; a case that raises: exit 1, no traceback of jitwarm's
    proc = cli("cache", "explain", target, "--cache-dir", str(tmp_path / "nowhere"))
    assert proc.returncode == 2 and "cache directory not found" in proc.stderr
    assert "Traceback" not in proc.stderr
    write(tmp_path / "bad.py", "import jitwarm\n\n@jitwarm.case\ndef boom():\n"
                               "    raise RuntimeError('no model file')\n")
    proc = cli("cache", "explain", f"{tmp_path}/bad.py::boom", "--cache-dir", str(tmp_path))
    assert proc.returncode == 1 and "no model file" in proc.stderr, proc.stderr
    assert proc.stderr.count("error:") == 1


def test_untrusted_cache_dirs_are_not_unpickled(tmp_path):
    write(tmp_path / "src" / "kern.py", NUMBA_CASE)
    notes = _explain(f"{tmp_path}/src/kern.py::poly", tmp_path / "plain")
    assert any("not created by jitwarm" in n for n in notes), notes


def test_parse_strategies():
    assert parse_strategies("none, aot,none") == ["none", "aot"]
    with pytest.raises(UsageError, match="unknown strategy"):
        parse_strategies("none,warp")


@pytest.mark.slow
def test_strategies_numba(tmp_path):
    write(tmp_path / "kern.py", NUMBA_CASE)
    from jitwarm.measure.process import Settings

    res = run_strategies(f"{tmp_path}/kern.py::poly", ["none", "disk-cache", "bundle", "aot"],
                         processes=1, settings=Settings(max_calls=60, max_time_s=0.5,
                                                        min_calls=20), timeout_s=300)
    assert res.ok and res.framework == "numba"
    by = {s.strategy: s for s in res.strategies}
    none = by["none"].summary
    assert none["compile_ns"] > 0 and none["cache_misses"] == 1
    for name in ("disk-cache", "bundle"):
        s = by[name].summary
        assert by[name].status == "ok", by[name].reason
        assert s["compile_ns"] == 0 and s["cache_hits"] == 1 and s["cache_misses"] == 0
        assert by[name].saves_ns == none["first_call_ns"] - s["first_call_ns"]
        assert by[name].speedup > 1
    assert by["bundle"].details["moved_to"] != str(tmp_path)
    aot = by["aot"]
    assert aot.status == "ok" and aot.summary["compile_ns"] == 0
    assert aot.summary["first_call_ns"] < none["first_call_ns"] / 10
    assert any("setup" in line for line in aot.explanation)
    assert aot.details["artifact"]["loader"] == "numba-pycc"
    # the headline: time to first result against its floor (a pycc module needs NumPy only)
    assert set(res.floors) == {"numba", "numpy"} and len(res.floors["numpy"]) == 1
    assert aot.floor_imports == ["numpy"] and by["none"].floor_imports == ["numba"]
    assert aot.ttfr_ns == aot.summary["time_to_first_result_ns"] and aot.ttfr_over_floor > 0
    assert aot.ttfr_saved_ns == none["time_to_first_result_ns"] - aot.ttfr_ns > 0
    # what is left of the floor: -X importtime's report, and packages beyond the floor
    numpy_floor = res.floor_breakdown["numpy"]
    assert numpy_floor["imports"][0]["module"] == "numpy" and numpy_floor["imports"][0]["ns"] > 0
    assert numpy_floor["by_package"][0]["module"] == "numpy"
    assert numpy_floor["packages"] == sorted(numpy_floor["packages"]) and "numba" not in \
        numpy_floor["packages"] and numpy_floor["jitwarm_load_import_ns"] > 0
    assert "jitwarm" in aot.packages_beyond_floor and "numba" not in aot.packages_beyond_floor
    d = json.loads(json.dumps(res.to_dict()))
    assert set(d["strategies"]) == {"none", "disk-cache", "bundle", "aot"}
    assert strategies_table(res).row_count == 4


def _proc(first, warm, ci):
    return {"status": "ok", "first_call_ns": first, "warm_median_ns": warm, "steady_ci_ns": ci,
            "import_ns": 10, "setup_ns": 5, "compile_ns": 0, "cache": {"hits": 1, "misses": 0},
            "compile_events": []}


def test_slower_warm_median_is_reported():
    from jitwarm.caches.strategies import StrategyResult, _compare, _summarise

    # four processes each: one process has no interval and is never flagged
    none = StrategyResult("none", processes=[_proc(1000 + 100 * (i % 2), 100 + i % 2, [95, 105])
                                             for i in range(4)])
    fast = StrategyResult("bundle", processes=[_proc(100, 103 - i, [98, 108]) for i in range(4)])
    slow = StrategyResult("aot", processes=[_proc(50, 150 + i % 2, [140, 160]) for i in range(4)])
    for r in (none, fast, slow):
        r.summary = _summarise(r.processes)
    _compare([none, fast, slow])
    assert fast.speedup == pytest.approx(1050 / 100) and fast.saves_ns == 950
    assert not fast.warm_slower  # within noise
    assert slow.warm_slower and slow.warm_ratio == pytest.approx(1.5)


def test_rounds_pool_interleaved_processes(tmp_path):
    from jitwarm.measure.process import Settings

    (tmp_path / "plain.py").write_text(
        "import jitwarm\n\n@jitwarm.case\ndef add():\n    return (lambda x: x + 1), (1,)\n")
    seen = []
    res = run_strategies(f"{tmp_path}/plain.py::add", ["none"], processes=1, rounds=3,
                         settings=Settings(max_calls=30, max_time_s=0.2, min_calls=10),
                         progress=lambda s, m: seen.append((s, m)))
    (none,) = res.strategies
    assert none.status == "ok" and none.summary["processes_ok"] == 3
    assert len({p["pid"] for p in none.processes}) == 3  # three distinct fresh processes
    assert [m for s, m in seen if s == "all"] == ["round 1/3", "round 2/3", "round 3/3"]
    assert res.settings["rounds"] == 3
    with pytest.raises(UsageError, match="--rounds"):
        run_strategies(f"{tmp_path}/plain.py::add", ["none"], rounds=0)


def test_explanation_of_a_cache_hit_by_phase():
    from jitwarm.caches.strategies import StrategyResult, explain

    ms = 1_000_000
    hit = StrategyResult("bundle", summary={
        "first_call_ns": 120 * ms, "compile_ns": 105 * ms, "warm_median_ns": ms // 4,
        "compile_events": 1, "cache_hits": 1, "cache_misses": 0,
        "function_compile_ns": 300 * ms, "runtime_init_ns": 0,
        "compile_phases_ns": {"trace": 33 * ms, "lower": 21 * ms, "backend_compile": 47 * ms},
        "first_call_gc_ns": 30 * ms, "first_call_gc_full": 1,
        "import_ns": ms, "setup_ns": ms, "time_to_first_result_ns": 122 * ms})
    lines = explain(hit, "jax")
    assert lines[0].startswith("first call 120 ms = compiling 105 ms")
    assert "outside compile events 14.8 ms" in lines[0]
    assert ("compiling by phase: trace 33.0 ms, lower 21.0 ms, backend compile 47.0 ms "
            "(a cache hit's backend compile is loading the cached executable)") in lines
    assert any("garbage collection took 30.0 ms" in x for x in lines)
    # a hit loaded rather than compiled: no comparison with the uncached own compile
    assert not any("fresh uncached copy" in x for x in lines)
    miss = StrategyResult("none", summary={**hit.summary, "cache_hits": 0, "cache_misses": 1,
                                           "function_compile_ns": 90 * ms,
                                           "runtime_init_ns": 29 * ms, "first_call_gc_ns": 0})
    lines = explain(miss, "jax")
    assert any("fresh uncached copy in the same process, is 90.0 ms: 29.0 ms" in x for x in lines)
    assert not any("loading the cached" in x or "garbage" in x for x in lines)


def test_profile_strategies_cli(tmp_path):
    from conftest import run_cli

    (tmp_path / "kern.py").write_text(
        "import jitwarm\n\n@jitwarm.case\ndef poly():\n    from numba import njit\n\n"
        "    @njit(cache=True)\n    def f(x):\n        return x * 2 + 1\n\n    return f, (3,)\n"
    )
    out = tmp_path / "s.json"
    proc = run_cli("profile", "kern.py::poly", "--strategies", "none,disk-cache", "-n", "1",
                   "--calls", "100", "--max-time", "1", "--json", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    d = json.loads(out.read_text())
    assert set(d["strategies"]) == {"none", "disk-cache"}
    # where each strategy's first call goes is printed under the table
    assert "disk-cache\n  first call" in proc.stdout and "= compiling" in proc.stdout
    for args, needle in ((("--strategies", "none", "--rounds", "0"), "--rounds"),
                         (("--rounds", "2"), "--rounds"),
                         (("--strategies", "none", "--plot", "r.png"), "--plot applies"),
                         (("--strategies", "none", "--html", "."), "--html: . is a folder"),
                         (("--strategies", "none", "--cache", "cold"), "--cache applies")):
        bad = run_cli("profile", "kern.py::poly", *args, cwd=tmp_path)
        assert bad.returncode == 2 and needle in bad.stderr, bad.stderr
        assert "Traceback" not in bad.stderr
    assert not (tmp_path / "r.png").exists()
    # --quiet prints nothing; an unwritable --json is rescued, never a traceback
    (tmp_path / "afile").write_text("not a directory")
    proc = run_cli("profile", "kern.py::poly", "--strategies", "none", "-n", "1", "--calls",
                   "30", "--max-time", "0.5", "--quiet", "--json", "afile/s.json", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == "", proc.stdout
    assert "the result was saved to" in proc.stderr and "Traceback" not in proc.stderr
    rescued = proc.stderr.split("the result was saved to", 1)[1].split()[0]
    assert json.loads(open(rescued).read())["schema"] == "jitwarm.strategies/1"
    bad = run_cli("profile", "kern.py::poly", "--strategies", "none,warp", cwd=tmp_path)
    assert bad.returncode == 2 and "unknown strategy" in bad.stderr and "Traceback" not in bad.stderr
