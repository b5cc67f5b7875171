"""Garbage collection inside the first call, --gc-freeze, and the per-phase compile anatomy."""

from __future__ import annotations

import gc
import json

import jitwarm
from conftest import run_cli
from jitwarm.measure.process import GcWatch
from jitwarm.results.findings import gc_sentences
from jitwarm.results.profile import first_call_anatomy


def test_gc_watch_counts_only_inside():
    gc.collect()  # outside: not counted
    with GcWatch() as w:
        gc.collect()
        gc.collect(0)
    gc.collect()
    assert w.collections[2] == 1 and w.collections[0] == 1
    assert w.ns > 0
    assert w.to_dict() == {"ns": w.ns, "collections": [1, 0, 1]}
    assert w._cb not in gc.callbacks


def test_first_call_gc_is_recorded_in_process():
    state = {"calls": 0}

    def f(x):
        state["calls"] += 1
        if state["calls"] == 1:
            gc.collect()  # the kind of full collection tracing triggers
        return x + 1

    r = jitwarm.profile(f, 1, max_calls=60, max_time_s=1)
    p = r.to_dict()["states"]["in-process"]["processes"][0]
    assert p["first_call_gc"]["collections"][2] >= 1 and p["first_call_gc"]["ns"] > 0
    s = r.summary("in-process")
    assert s["first_call_gc_full"] >= 1 and s["first_call_gc_ns"] == p["first_call_gc"]["ns"]


def test_gc_sentence_only_when_visible():
    big = {"first_call_ns": 100_000_000, "first_call_gc_ns": 40_000_000, "first_call_gc_full": 2}
    (line,) = gc_sentences(big)
    assert "40.0 ms" in line and "40 %" in line and "2 full" in line and "gc.freeze()" in line
    assert gc_sentences({**big, "first_call_gc_ns": 1_000_000}) == []  # 1 %: not worth a line
    assert gc_sentences({"first_call_ns": None, "first_call_gc_ns": None}) == []


def _ev(kind: str, ns: int, call: int = 0, depth: int = 1) -> dict:
    return {"kind": kind, "duration_ns": ns, "call_index": call, "depth": depth}


def test_compile_phases_are_medians_per_kind():
    procs = [
        {"compile_events": [_ev("compile", 99, depth=0), _ev("trace", 10), _ev("lower", 5),
                            _ev("trace", 2), _ev("backend_compile", 30), _ev("trace", 50, call=3)],
         "first_call_gc": {"ns": 7, "collections": [3, 0, 1]}},
        {"compile_events": [_ev("trace", 20), _ev("backend_compile", 40)]},
        {"compile_events": [_ev("trace", 14), _ev("lower", 9), _ev("backend_compile", 35)],
         "first_call_gc": {"ns": 9, "collections": [1, 1, 0]}},
    ]
    a = first_call_anatomy(procs)
    # trace: 12 (10+2; the call-3 trace is a recompile, not the first call), 20, 14
    assert a["compile_phases_ns"] == {"trace": 14, "lower": 5, "backend_compile": 35}
    assert a["first_call_gc_ns"] == 8 and a["first_call_gc_full"] == 0
    # a phase that only a later process reports counts as 0 in the earlier ones
    late = first_call_anatomy([{"compile_events": [_ev("trace", 10)]},
                               {"compile_events": [_ev("trace", 10), _ev("lower", 90)]},
                               {"compile_events": [_ev("trace", 10)]}])
    assert late["compile_phases_ns"] == {"trace": 10, "lower": 0}
    assert first_call_anatomy([]) == {"compile_phases_ns": {}, "first_call_gc_ns": None,
                                      "first_call_gc_full": None}


FROZEN_CASE = """
import gc
import jitwarm

@jitwarm.case
def needs_freeze():
    def f(x):
        if gc.get_freeze_count() == 0:
            raise RuntimeError("not frozen")
        return x + 1
    return f, (1,)
"""


def test_gc_freeze_option_freezes_before_the_first_call(case_file, tmp_path):
    path = case_file(FROZEN_CASE)
    out = tmp_path / "r.json"
    args = ("profile", f"{path}::needs_freeze", "-n", "1", "--cache", "cold", "--calls", "60",
            "--max-time", "1", "--no-history", "--json", str(out))
    proc = run_cli(*args)
    assert proc.returncode == 1 and "not frozen" in proc.stderr + proc.stdout
    proc = run_cli(*args, "--gc-freeze")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    d = json.loads(out.read_text())
    assert d["settings"]["gc_freeze"] is True
    assert "first_call_gc" in d["states"]["cold"]["processes"][0]
