"""The benchmarks guard what they state: a missed target is a non-zero exit, and
``make bench`` runs every one of them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "benchmarks"
SCRIPTS = sorted(p for p in BENCH.glob("*.py") if not p.name.startswith("_"))


@pytest.fixture
def bench_path(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))


def test_make_bench_runs_every_benchmark():
    make = (REPO / "Makefile").read_text(encoding="utf-8")
    listed = re.search(r"^BENCHMARKS\s*:=\s*(.+)$", make, re.M)
    assert listed, "the Makefile's bench target lists no BENCHMARKS"
    assert sorted(listed.group(1).split()) == sorted(p.stem for p in SCRIPTS)
    assert "exit 1" in make.split("\nbench:")[1].split("\n\n")[0]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_each_benchmark_exits_with_its_verdict(script):
    src = script.read_text(encoding="utf-8")
    assert "sys.exit(main(" in src, f"{script.name}: main()'s status is not the exit status"
    assert 'return verdict("' in src, f"{script.name}: targets are not turned into a status"
    assert "PASS' if" not in src, f"{script.name}: prints PASS/MISS without exiting on it"


def test_verdict_is_one_on_a_miss(bench_path, capsys):
    from _common import verdict

    assert verdict("x.py", [("a", True), ("b", True)]) == 0
    assert verdict("x.py", [("a", True), ("b", False)]) == 1
    out = capsys.readouterr().out
    assert "MISS: b" in out and "x.py: 1 of 2 target(s) missed" in out


def test_strategy_targets(bench_path):
    import strategies

    p = {"frameworks": {}}
    for fw, strat, v in [("torch", "bundle", 1.33), ("jax", "bundle", 4.2),
                         ("numba", "disk-cache", 1.5)]:
        p["frameworks"].setdefault(fw, {"strategies": {}})["strategies"][strat] = {
            "status": "ok", "speedup": v}
    met = dict(strategies.target_checks(p, ["torch", "jax", "numba"]))
    assert len(met) == 3
    assert [ok for what, ok in met.items() if what.startswith("torch")] == [False]
    assert all(ok for what, ok in met.items() if not what.startswith("torch"))
    p["frameworks"]["numba"]["strategies"]["disk-cache"] = {"status": "error", "reason": "x"}
    assert not dict(strategies.target_checks(p, ["numba"])).popitem()[1]
    assert strategies.target_checks(p, ["jax-encoder"]) == []  # no target stated for it



def test_ttfr_targets_against_the_framework_floor(bench_path):
    import strategies

    def run(aot_ttfr):
        return {"frameworks": {"numba": {"floors": {"numba": [900, 1000, 1100],
                                                    "numpy": [300]},
                                         "strategies": {
            "none": {"status": "ok", "ttfr_ns": 2000},
            "aot": {"status": "ok", "ttfr_ns": aot_ttfr}}}}}

    (what, met), = [c for c in strategies.target_checks(run(700), ["numba"])
                    if "time to first result" in c[0]]
    assert met and "(aot, " in what and "0.70×" in what
    (what, met), = [c for c in strategies.target_checks(run(1200), ["numba"])
                    if "time to first result" in c[0]]
    assert not met
    no_floor = run(700)
    del no_floor["frameworks"]["numba"]["floors"]
    assert strategies.target_checks(no_floor, ["numba"]) == []


def test_onnx_ttfr_target_is_over_import_plus_one_session(bench_path):
    import strategies

    key = "onnxruntime + one session"
    res = {"frameworks": {"onnx": {"floors": {key: [1000], "onnxruntime": [300]},
                                   "strategies": {
        "none": {"status": "ok", "ttfr_ns": 2000}, "aot": {"status": "ok", "ttfr_ns": 1250}}}}}
    (what, met), = [c for c in strategies.target_checks(res, ["onnx"])
                    if "time to first result" in c[0]]
    assert met and f"1.3× {key}" in what and "1.25×" in what
    res["frameworks"]["onnx"]["strategies"]["aot"]["ttfr_ns"] = 1400
    assert not strategies.target_checks(res, ["onnx"])[0][1]


def test_committed_results_hold_no_path_of_this_machine(bench_path):
    import json
    import sys
    import tempfile

    from _common import RESULTS, scrub

    for f in sorted(RESULTS.glob("*.json")):
        text = f.read_text(encoding="utf-8")
        for path in (str(REPO), sys.executable, tempfile.gettempdir() + "/", "/work/"):
            assert path not in text, (f.name, path)
        assert scrub(json.loads(text)) == json.loads(text), f.name
    assert scrub({"a": [f"{REPO}/benchmarks/x.py", f"{tempfile.gettempdir()}/jw-1/y"]}) == {
        "a": ["<repo>/benchmarks/x.py", "<tmp>"]}


def test_fleet_targets(bench_path):
    import fleet

    def row(name, n, ttfr, cpu, hits=None, status="ok"):
        return {"strategy": name, "n": n, "status": status, "ttfr_p50_ns": ttfr,
                "wave_cpu_ns": cpu, "remote_hits_each": hits}

    rows = [row("none", 1, 1, 1), row("none", 4, 100, 400), row("bundle", 4, 50, 200),
            row("aot", 4, 20, 100), row("remote-cache", 4, 80, 300, hits=[3, 3, 3, 3])]
    p = {"strategies": ["none", "bundle", "remote-cache", "aot"], "rows": rows}
    met = dict(fleet.target_checks(p))
    assert len(met) == 5 and all(met.values()), met
    assert all(w.startswith("N=4") for w in met)  # checked at the largest N
    rows[2] = row("bundle", 4, 120, 200)  # slower than none at N=4
    rows[4] = row("remote-cache", 4, 80, 300, hits=[3, 0, 3, 3])  # one replica missed
    met = fleet.target_checks(p)
    assert [w for w, ok in met if not ok] == [met[0][0], met[-1][0]], met
    rows[3] = row("aot", 4, None, None, status="failed")
    assert sum(not ok for _, ok in fleet.target_checks(p)) == 4  # aot's two, bundle, remote
    assert fleet.target_checks({"strategies": [], "rows": []}) == [
        ("something was measured", False)]
