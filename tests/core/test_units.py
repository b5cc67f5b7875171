"""Small pure pieces: interval union, timer batching, median CI, units, schema checks."""

from __future__ import annotations

import json

import pytest

from jitwarm._errors import UsageError
from jitwarm._units import fmt_ns, fmt_ratio
from jitwarm.adapters.events import CompileEvent, union_ns
from jitwarm.analysis import consistency
from jitwarm.measure.timer import batch_size, calibrate_overhead
from jitwarm.results.profile import ProfileResult, summarize_state
from jitwarm.results.stats import median_ci


def ev(s, e, depth=0):
    return CompileEvent(start_ns=s, end_ns=e, name="f", depth=depth)


def test_union_counts_nested_and_overlapping_once():
    assert union_ns([]) == 0
    assert union_ns([ev(0, 10), ev(2, 5, 1), ev(8, 15), ev(20, 30)]) == 25
    assert union_ns([ev(0, 10), ev(20, 30)], lo=5, hi=25) == 10


def test_batch_size_rules():
    assert batch_size(1e6, 50) == 1  # slow calls: one per element
    assert batch_size(180, 60) >= 33  # 180 ns call, 60 ns timer -> at least 100x overhead
    b = batch_size(180, 60)
    assert b * 180 >= 100 * 60
    assert batch_size(0, 50) <= 100_000


def test_calibrate_overhead_is_small_and_positive():
    ov = calibrate_overhead(500)
    assert 0 < ov < 10_000


def test_median_ci_contains_median_and_orders():
    xs = list(range(100))
    lo, hi = median_ci(xs)
    assert lo <= 49.5 <= hi and hi - lo < 30
    assert median_ci([5.0]) == (5.0, 5.0)
    assert median_ci([1.0, 2.0, 3.0, 4.0, 5.0]) == (1.0, 5.0)


def test_units():
    assert fmt_ns(182) == "182 ns"
    assert fmt_ns(1_250_000) == "1.25 ms"
    assert fmt_ns(9_710_000_000) == "9.71 s"
    assert fmt_ns(None) == "–"
    assert fmt_ratio(3200.4) == "3,200×"


def test_consistency_verdicts():
    assert consistency(["warmup"] * 3) == "consistent warmup"
    assert consistency(["flat", "warmup"]) == "good-inconsistent"
    assert consistency(["flat", "slowdown"]) == "bad-inconsistent"


def test_summary_of_processes():
    procs = [
        {"status": "ok", "first_call_ns": 1000 + i, "compile_ns": 800, "warm_median_ns": 10 + i,
         "classification": "warmup", "steady_state_start": 1 + i, "steady_state_call": 1 + i,
         "cache": {"hits": 0, "misses": 1}, "compile_events": [{}], "recompiles": []}
        for i in range(5)
    ] + [{"status": "crashed", "signal": "SIGSEGV"}]
    s = summarize_state(procs)
    assert s["processes_ok"] == 5 and s["processes_failed"] == 1
    assert s["first_call_ns"] == 1002 and s["warm_median_ns"] == 12
    assert s["warm_ci_ns"] == [10, 14]
    assert s["classification"] == "consistent warmup" and s["steady_state_start"] == 3
    # counters: the per-process median, and the sum over processes as *_total
    assert s["cache_misses"] == 1 and s["cache_misses_total"] == 5
    assert s["compile_events"] == 1 and s["recompiles"] == 0
    assert s["first_over_warm"] == pytest.approx(1002 / 12)
    assert s["first_call_range_ns"] == [1000, 1004] and s["warm_range_ns"] == [10, 14]


def test_schema_checks(tmp_path):
    r = ProfileResult(case={"name": "x"}, framework="python", environment={}, settings={})
    r.add_state("cold", [])
    p = r.save(tmp_path / "r.json")
    again = ProfileResult.load(p)
    assert again.to_dict()["schema"] == "jitwarm.profile/1"
    bad = tmp_path / "bad.json"
    for content, match in [
        ("{", "is not JSON"),
        ("[1, 2]", "no \"schema\""),
        (json.dumps({"schema": "pyperf/1"}), "not a jitwarm profile result"),
        (json.dumps({"schema": "jitwarm.profile/9"}), "newer than this jitwarm"),
    ]:
        bad.write_text(content)
        with pytest.raises(UsageError, match=match):
            ProfileResult.load(bad)
    with pytest.raises(UsageError, match="cannot read"):
        ProfileResult.load(tmp_path / "missing.json")


def test_timing_loops_call_like_user_code():
    from jitwarm.measure.timer import time_batches, time_each

    calls = []

    def f(a, b, c=0):
        calls.append((a, b, c))
        return a

    starts, durs = [], []
    time_each(f, (1, 2), {}, None, 3, starts, durs)
    time_each(f, (1, 2), {"c": 5}, None, 2, starts, durs)
    time_batches(f, (3, 4), {"c": 1}, lambda r: calls.append(("sync", r)), 2, 3, starts, durs)
    time_each(lambda: None, (), {}, None, 2, starts, durs)
    assert calls == [(1, 2, 0)] * 3 + [(1, 2, 5)] * 2 + ([(3, 4, 1)] * 3 + [("sync", 3)]) * 2
    assert len(starts) == len(durs) == 9 and all(d >= 0 for d in durs)
    assert starts == sorted(starts)
