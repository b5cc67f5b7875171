"""Deterministic gates: counter budgets, interval-based wall-time budgets, per-state
budgets, and budgets that measured nothing (which must fail, never pass)."""

from __future__ import annotations

import pytest

from jitwarm._errors import UsageError
from jitwarm.integrations.budgets import check_budgets, format_checks, parse_budgets
from jitwarm.measure.perf import attr_bytes, open_counter
from jitwarm.results.profile import ProfileResult


def _proc(first: int, *, compiles: int = 1, recompiles: int = 0, misses: int | None = 0,
          instructions: int | None = None, note: str | None = None) -> dict:
    events = [{"name": f"f{i}", "depth": 0, "start_ns": i, "end_ns": i + 1}
              for i in range(compiles)]
    events.append({"name": "phase", "depth": 1, "start_ns": 0, "end_ns": 1})  # nested
    timings = [first] + [100] * 60
    return {
        "status": "ok", "first_call_ns": first, "compile_ns": first // 2,
        "warm_median_ns": 100, "timings_ns": timings, "batch_sizes": [[0, 1]],
        "compile_events": events, "recompiles": [{"name": "g"}] * recompiles,
        "cache": None if misses is None else {"hits": 0, "misses": misses},
        "first_call_instructions": instructions, "first_call_instructions_note": note,
        "steady_state_start": 1, "steady_state_call": 1, "classification": "flat",
    }


def _result(states: dict[str, list[dict]], skipped: dict[str, str] | None = None
            ) -> ProfileResult:
    r = ProfileResult(case={}, framework="numba", environment={}, settings={},
                      skipped_states=dict(skipped or {}))
    for name, procs in states.items():
        r.add_state(name, procs)
    return r


def _by(checks, budget):
    [c] = [c for c in checks if c.budget == budget]
    return c


def test_counter_budgets_use_the_worst_process_and_top_level_compiles_only():
    r = _result({"cold": [_proc(10_000, compiles=2, misses=3, instructions=5_000),
                          _proc(10_000, compiles=3, recompiles=1, misses=1,
                                instructions=7_000)]})
    checks = check_budgets(r, parse_budgets({
        "max_compiles": 3, "max_recompiles": 0, "max_cache_misses": 2,
        "max_first_call_instructions": "6k"}))
    assert (_by(checks, "max_compiles").measured, _by(checks, "max_compiles").ok) == (3, True)
    assert (_by(checks, "max_recompiles").measured, _by(checks, "max_recompiles").ok) == (1, False)
    assert (_by(checks, "max_cache_misses").measured,
            _by(checks, "max_cache_misses").ok) == (3, False)
    ins = _by(checks, "max_first_call_instructions")
    assert (ins.measured, ins.limit, ins.ok) == (7_000, 6_000, False)
    assert ins.fmt(ins.measured) == "7,000"


def test_wall_time_budget_fails_only_when_the_interval_lower_bound_exceeds_it():
    # 5 processes, one very slow (a noisy neighbour): median 1.0 ms, CI [0.9 ms, 9 ms]
    procs = [_proc(v) for v in (900_000, 1_000_000, 1_000_000, 1_100_000, 9_000_000)]
    r = _result({"cold": procs})
    # the median (1.0 ms) exceeds 950 µs, but the interval reaches down to 0.9 ms: pass
    c = _by(check_budgets(r, parse_budgets({"max_first_call": "950us"})), "max_first_call")
    assert c.measured == 1_000_000 and c.decisive == 900_000 and c.ok
    assert "95% CI" in c.basis
    # every process above the budget: the interval's lower bound exceeds it: fail
    c = _by(check_budgets(r, parse_budgets({"max_first_call": "800us"})), "max_first_call")
    assert not c.ok


def test_single_process_compares_its_value():
    r = _result({"cold": [_proc(2_000_000)]})
    c = _by(check_budgets(r, parse_budgets({"max_first_call": "1ms"})), "max_first_call")
    assert (c.measured, c.decisive, c.ok) == (2_000_000, 2_000_000, False)
    assert c.basis == "median of 1 process"


def test_budget_that_measured_nothing_fails():
    """The fixture with cache="cached" and nothing cached used to pass every budget."""
    r = _result({}, skipped={"cached": "nothing was written to the cache during cold"})
    checks = check_budgets(r, parse_budgets({"max_first_call": "10 s", "max_compiles": 5}))
    assert checks and not any(c.ok for c in checks)
    assert all("nothing was written" in c.basis for c in checks)


def test_per_state_budgets():
    r = _result({"cold": [_proc(5_000_000)], "cached": [_proc(100_000)]})
    checks = check_budgets(r, parse_budgets({"state": "cached", "max_first_call": "500us"}))
    assert [(c.state, c.ok) for c in checks] == [("cached", True)]
    # a state that was not measured fails, even if another state passes
    r2 = _result({"cold": [_proc(100)]}, skipped={"cached": "skipped: no cache written"})
    checks = check_budgets(r2, parse_budgets({"state": "cached", "max_first_call": "1 s"}))
    assert [(c.state, c.ok) for c in checks] == [("cached", False)]
    assert "no cache written" in checks[0].basis


def test_missing_counter_fails_with_the_reason():
    why = "this machine exposes no hardware instruction counter (a VM without a PMU?)"
    r = _result({"cold": [_proc(100, instructions=None, note=why)],
                 "in-process": [_proc(100, misses=None)]})
    checks = check_budgets(r, parse_budgets({"max_first_call_instructions": "1G",
                                             "max_cache_misses": 0}))
    ins = [c for c in checks if c.budget == "max_first_call_instructions"]
    assert all(not c.ok for c in ins)
    assert why in ins[0].basis
    miss = [c for c in checks if c.budget == "max_cache_misses" and c.state == "in-process"]
    assert not miss[0].ok and "no cache counters" in miss[0].basis


@pytest.mark.parametrize("kwargs", [
    {"max_compiles": "3"}, {"max_cache_misses": -1}, {"max_first_call_instructions": "lots"},
    {"max_first_call_instructions": "-5G"}, {"max_first_call_instructions": "infG"},
    {"state": "warm", "max_first_call": "1ms"}, {"state": "cold"},
])
def test_bad_gate_budgets_are_usage_errors(kwargs):
    with pytest.raises(UsageError):
        parse_budgets(kwargs)


def test_instruction_count_parsing():
    assert parse_budgets({"max_first_call_instructions": "2.5G"}) == {
        "max_first_call_instructions": 2_500_000_000}
    assert parse_budgets({"max_first_call_instructions": 1_000}) == {
        "max_first_call_instructions": 1_000}


def test_perf_attr_layout():
    """perf_event_attr: type=HARDWARE(0), size, config=INSTRUCTIONS(1), flags at offset 40."""
    import struct

    raw = attr_bytes()
    assert struct.unpack_from("=IIQ", raw, 0) == (0, len(raw), 1)
    flags = struct.unpack_from("=Q", raw, 40)[0]
    assert flags & 1 and flags & (1 << 5)  # disabled, exclude_kernel


def test_instruction_counter_counts_work_or_says_why():
    counter, why = open_counter()
    if counter is None:
        assert why  # the reason a budget will show
        pytest.skip(f"no instruction counter here: {why}")
    with counter:
        counts = []
        for n in (10_000, 100_000):
            counter.start()
            sum(range(n))
            counts.append(counter.stop())
    assert counts[0] and counts[1] and counts[1] > 5 * counts[0]


def test_per_state_limits_in_one_budget():
    """max_first_call={"cold": ..., "cached": ...}: each state against its own limit."""
    budgets = parse_budgets({"max_first_call": {"cold": "10ms", "cached": "500us"},
                             "max_recompiles": 0})
    assert budgets["max_first_call"] == {"cold": 10_000_000, "cached": 500_000}
    r = _result({"cold": [_proc(5_000_000)], "cached": [_proc(900_000)]})
    checks = check_budgets(r, budgets)
    firsts = {c.state: (c.limit, c.ok) for c in checks if c.budget == "max_first_call"}
    assert firsts == {"cold": (10_000_000, True), "cached": (500_000, False)}
    # a plain limit still applies to every state
    assert {c.state for c in checks if c.budget == "max_recompiles"} == {"cold", "cached"}
    # a per-state limit for a state only: the other state is not checked for it
    only = check_budgets(r, parse_budgets({"max_first_call": {"cached": "1ms"}}))
    assert [(c.state, c.ok) for c in only] == [("cached", True)]


def test_a_skipped_state_fails_a_budget_without_state():
    """cache="cold,cached" with cached skipped: a plain budget used to pass on cold alone."""
    r = _result({"cold": [_proc(100)]}, skipped={"cached": "nothing was saved to disk"})
    r.settings["states"] = ["cold", "cached"]
    checks = check_budgets(r, parse_budgets({"max_first_call": "10 s"}))
    by_state = {c.state: c for c in checks}
    assert by_state["cold"].ok and not by_state["cached"].ok
    assert by_state["cached"].unmeasured
    assert "cached state was skipped: nothing was saved to disk" in by_state["cached"].basis
    text = format_checks(checks, "t")
    assert "NOT MEASURED" in text and "EXCEEDED" not in text


def test_a_per_state_limit_for_a_state_not_asked_for_fails():
    r = _result({"cold": [_proc(100)]})
    r.settings["states"] = ["cold"]
    [c] = check_budgets(r, parse_budgets({"max_first_call": {"cached": "1 s"}}))
    assert (c.state, c.ok) == ("cached", False)
    assert 'cache="cold,cached"' in c.basis


@pytest.mark.parametrize("kwargs, needle", [
    ({"max_first_call": {"warm": "1ms"}}, "unknown cache state 'warm'"),
    ({"max_first_call": {}}, "name at least one cache state"),
    ({"max_first_call": {"cached": "1"}}, "has no unit"),
    ({"max_compiles": {"cold": -1}}, "must not be negative"),
    ({"state": "cold", "max_first_call": {"cached": "1ms"}}, "drop one of the two"),
])
def test_bad_per_state_budgets_are_usage_errors(kwargs, needle):
    with pytest.raises(UsageError, match=needle):
        parse_budgets(kwargs)
