"""The report says the verdict in words: what differed, by how much, whether it matters."""

from __future__ import annotations

import numpy as np
from rich.console import Console

from jitwarm.report.terminal import state_table, summary_table
from jitwarm.results.findings import findings, meaning, state_verdict
from jitwarm.results.profile import ProfileResult


def _proc(i: int, slow_after: int | None = None) -> dict:
    rng = np.random.default_rng(i)
    x = 4_620_000 * (1 + 0.01 * rng.normal(size=1000))
    x[:100] *= 1.5
    x[0] = 2e9
    if slow_after is not None:
        x[slow_after:] *= 1.09
    # the series' elements 0-99 are single calls, then batches of 4 calls per element
    from jitwarm.measure.process import analyze_record

    sizes = [[0, 1], [100, 4]]
    rec = {"status": "ok", "index": i, "first_call_ns": int(x[0]), "compile_ns": 1_000_000,
           "timings_ns": [int(v) for v in x], "batch_sizes": sizes,
           "compile_events": [], "recompiles": []}
    rec.update(analyze_record(list(x), sizes))
    return rec


def _result(slow: bool) -> ProfileResult:
    r = ProfileResult(case={"name": "flax-step"}, framework="jax", environment={}, settings={})
    r.add_state("cold", [_proc(i, 400 if slow and i == 1 else None) for i in range(5)])
    return r


def _text(table) -> str:
    con = Console(width=250, record=True)
    con.print(table)
    return con.export_text()


def test_one_slow_process_is_explained_not_alarmed():
    r = _result(slow=True)
    assert r.summary("cold")["classification"] == "bad-inconsistent"  # Barrett's label
    v = state_verdict(r.states["cold"])
    assert v.label == "warms up" and v.noise_dependent
    lines = [f for f in findings(r) if f.startswith("cold: Warms up")]
    assert len(lines) == 1, findings(r)
    line = lines[0]
    # element 400 is call 100 + 300 * 4 = 1,300: the report counts calls, not elements
    assert "Process 2 ran 9% slower after call 1,300" in line
    assert "warm medians of all processes are within 9%" in line
    assert "one of 5 processes differs" in line and "--threads 1" in line
    assert "not reproducible" not in meaning("bad-inconsistent")
    assert "warms up (rests on 1 process)" in _text(state_table(r))
    assert "warms up (rests on 1 process)" in _text(summary_table([r]))


def test_consistent_warmup_states_its_cost():
    r = _result(slow=False)
    line = next(f for f in findings(r) if f.startswith("cold: Warms up"))
    assert "in all 5 processes: steady after 100 calls" in line and "2.22 s more than" in line
    assert "rests on" not in _text(state_table(r))


def test_no_steady_state_count_agrees_with_the_verdict():
    """The stored per-process classes come from the workers' stricter stopping rule; the
    'reached no steady state' sentence counts from the analysis the verdict's words come
    from, so the two cannot contradict each other (a new user saw 'warms up' next to '2 of
    2 process(es) reached no steady state')."""
    procs = [_proc(i) for i in range(2)]
    for p in procs:
        p["classification"] = "no-steady-state"  # what a stricter analysis had stored
    r = ProfileResult(case={"name": "c"}, framework="numba", environment={}, settings={})
    r.add_state("cold", procs)
    verdict = state_verdict(r.states["cold"])
    assert verdict.label == "warms up"
    assert not any("reached no steady state" in f for f in findings(r))
