"""HTML pages for a strategies A/B and a `jitwarm run` result: `profile --strategies
--html`, `jitwarm report` on their JSON, and hostile files refused with one line."""

from __future__ import annotations

import json

import pytest

from conftest import run_cli


def _strategies(**over):
    d = {
        "schema": "jitwarm.strategies/1", "status": "complete", "target": "c.py::poly",
        "framework": "numba", "floors": {"numba": [600_000_000, 620_000_000]},
        "floor_breakdown": {"numba": {
            "interpreter_ns": 20_000_000, "packages": ["numba", "numpy"],
            "breakdown_processes": 2, "imports": [{"module": "numba", "ns": 580_000_000}],
            "by_package": [{"module": "<numba>", "ns": 300_000_000}],
            "sub_imports": [{"module": "numba.core.config", "ns": 90_000_000}]}},
        "notes": ["a <b>note</b>"],
        "strategies": {
            "none": {"strategy": "none", "status": "ok", "ttfr_ns": 1_200_000_000,
                     "floor_ns": 610_000_000, "ttfr_over_floor": 1.97,
                     "summary": {"time_to_first_result_ns": 1_200_000_000,
                                 "first_call_ns": 600_000_000, "compile_ns": 550_000_000,
                                 "warm_median_ns": 150}},
            "aot": {"strategy": "aot", "status": "ok", "ttfr_ns": 500_000_000,
                    "floor_ns": 300_000_000, "ttfr_over_floor": 1.67,
                    "ttfr_saved_ns": 700_000_000, "explanation": ["pycc <module>"],
                    "summary": {"time_to_first_result_ns": 500_000_000,
                                "first_call_ns": 2_000, "compile_ns": 0,
                                "warm_median_ns": 140}},
            "bundle": {"strategy": "bundle", "status": "skipped", "reason": "no <cache>"},
        },
    }
    d.update(over)
    return d


def _run_result():
    unit = {"framework": "numba", "name": "scale", "module": "__main__", "kind": "compile",
            "start_ns": 5_000_000, "duration_ns": 300_000_000, "cache": "miss", "call": None,
            "location": "/x/prog.py:3 (main)", "recompile": False,
            "children": [{"framework": "numba", "name": "inner", "kind": "compile",
                          "start_ns": 6_000_000, "duration_ns": 1_000}]}
    proc = {"state": "cold", "index": 0, "status": "ok", "exit_code": 0,
            "interpreter_ns": 30_000_000, "run_ns": 500_000_000, "wall_ns": 540_000_000,
            "import_ns": 100_000_000, "compile_ns": 300_000_000,
            "compile_ns_by_framework": {"numba": 300_000_000}, "compiled": [unit],
            "imports": [{"module": "numba", "start_ns": 0, "duration_ns": 90_000_000}],
            "gc": {"ns": 1_000, "collections": [1, 0, 0], "pauses": [[10, 1_000]]}}
    return {"schema": "jitwarm.run/1", "argv": ["python", "prog.py"], "status": "ok",
            "created": "2026-12-02T00:00:00+00:00", "states": {"cold": {
                "processes": [proc], "summary": {"processes": 1, "processes_ok": 1,
                                                 "wall_ns": 540_000_000, "units": [unit]}}}}


def test_strategies_page_names_each_floor():
    from jitwarm.report.html import render_strategies

    d = _strategies(framework="onnxruntime")
    d["strategies"]["none"]["floor_name"] = "onnxruntime + one <session>"
    page = render_strategies(d)
    assert "610 ms (onnxruntime + one &lt;session&gt;)" in page
    assert "300 ms</td>" in page  # no name recorded (an older result): the time alone


def test_report_renders_a_strategies_result(tmp_path):
    src = tmp_path / "s.json"
    src.write_text(json.dumps(_strategies()))
    out = tmp_path / "s.html"
    proc = run_cli("report", str(src), "-o", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = out.read_text()
    assert "<svg" in html and "time to first result" in html
    assert "1.67×" in html and "700 ms" in html
    assert "skipped: no &lt;cache&gt;" in html and "<b>note" not in html
    assert "What is left of the floor" in html and "interpreter start-up 20" in html
    assert "numba.core.config 90" in html and "&lt;numba&gt;" in html


def test_report_renders_a_run_result(tmp_path):
    src = tmp_path / "r.json"
    src.write_text(json.dumps(_run_result()))
    out = tmp_path / "r.html"
    proc = run_cli("report", str(src), "-o", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = out.read_text()
    assert "Waterfall" in html and "<svg" in html and "scale" in html


@pytest.mark.parametrize("mutate, needle", [
    (lambda d: d["strategies"]["none"].update(status=1), "strategies.none.status"),
    (lambda d: d.update(strategies=[1]), "result.strategies"),
    (lambda d: d["strategies"]["aot"]["summary"].update(first_call_ns="fast"), "first_call_ns"),
    (lambda d: d.update(floors={"numba": ["x"]}), "floors"),
    (lambda d: d["floor_breakdown"]["numba"]["imports"].append({"module": 1, "ns": 2}),
     "floor_breakdown"),
    (lambda d: d["floor_breakdown"]["numba"].update(packages="numpy"), "packages"),
    (lambda d: d["strategies"]["aot"].update(packages_beyond_floor=[None]), "packages_beyond"),
    (lambda d: d["strategies"]["none"].update(floor_name=["x"]), "strategies.none.floor_name"),
])
def test_hostile_strategies_files_are_one_line(tmp_path, mutate, needle):
    d = _strategies()
    mutate(d)
    src = tmp_path / "bad.json"
    src.write_text(json.dumps(d))
    proc = run_cli("report", str(src), "-o", str(tmp_path / "x.html"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and needle in proc.stderr
    assert not (tmp_path / "x.html").exists()


@pytest.mark.parametrize("mutate", [
    lambda d: d["states"]["cold"]["processes"][0]["compiled"][0]["children"].append(None),
    lambda d: d["states"]["cold"]["processes"][0]["compiled"][0]["children"][0].pop("name"),
    lambda d: d["states"]["cold"]["processes"][0]["gc"].update(pauses=[["a", 1]]),
    lambda d: d["states"]["cold"]["processes"][0]["imports"].append({"module": 3}),
    lambda d: d["states"]["cold"]["summary"].update(units=[{}]),
])
def test_hostile_run_files_are_one_line(tmp_path, mutate):
    d = _run_result()
    mutate(d)
    src = tmp_path / "bad.json"
    src.write_text(json.dumps(d))
    proc = run_cli("report", str(src), "-o", str(tmp_path / "x.html"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_a_strategies_result_is_reported_alone(tmp_path):
    src = tmp_path / "s.json"
    src.write_text(json.dumps(_strategies()))
    proc = run_cli("report", str(src), str(src), "-o", str(tmp_path / "x.html"))
    assert proc.returncode == 2 and "one file at a time" in proc.stderr


@pytest.mark.slow
def test_profile_strategies_writes_its_html(case_file, tmp_path):
    pytest.importorskip("numba")
    case = case_file("""
        import jitwarm

        @jitwarm.case
        def poly():
            from numba import njit

            @njit(cache=True)
            def compute(x):
                return x * x + 1

            return compute, (3,)
    """)
    out = tmp_path / "ab.html"
    proc = run_cli("profile", f"{case}::poly", "--strategies", "none,disk-cache", "-n", "1",
                   "--calls", "20", "--html", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = out.read_text()
    assert "disk-cache" in html and "time to first result" in html and "<svg" in html
