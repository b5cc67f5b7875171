"""``history compare``: intervals from every process, the practical margin, and ``--fail-on``
gates (counters that do not move with load; wall time on the interval's lower bound)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from _reports_synth import cli, result, write

from jitwarm._errors import UsageError
from jitwarm.results.stats import PRACTICAL_MARGIN, compare_values, ratio_interval
from jitwarm.store.history import History, check_gates, compare_runs, parse_gate, parse_gates

# --------------------------------------------------------------------------- intervals


def test_interval_agrees_with_the_exact_mann_whitney_test() -> None:
    from scipy.stats import mannwhitneyu

    rng = random.Random(7)
    checked = 0
    for _ in range(400):
        n, m = rng.randint(2, 9), rng.randint(2, 9)
        a = [rng.lognormvariate(0, 0.1) for _ in range(n)]
        b = [rng.lognormvariate(rng.choice([0.0, 0.05, 0.2]), 0.1) for _ in range(m)]
        iv = ratio_interval(a, b)
        assert iv is not None and iv.kind == "ratio" and iv.low <= iv.estimate <= iv.high
        if not iv.reached:
            assert mannwhitneyu(a, b, method="exact").pvalue >= 0.05
            continue
        checked += 1
        excludes_one = iv.low > 1 or iv.high < 1
        assert excludes_one == (mannwhitneyu(a, b, method="exact").pvalue < 0.05), (a, b)
    assert checked > 200


def test_one_process_has_no_interval() -> None:
    assert ratio_interval([1.0], [1.0, 2.0]) is None
    m = compare_values([5e8, 5.1e8, 4.9e8, 5e8], [7e8])
    assert m.verdict == "too few processes" and "1 process: no interval" in m.note
    assert m.change_ci is None and not m.significant
    small = compare_values([5e8, 5.1e8, 4.9e8, 5e8], [5.05e8])
    assert small.verdict == "no significant change"
    assert "1 process: no interval" in small.note


def test_significant_but_within_the_margin_is_not_flagged() -> None:
    a = [100.0 + i for i in range(8)]
    b = [106.0 + i for i in range(8)]  # p = 0.002, +5.8 % median change, CI +2.9 … +8.7 %
    m = compare_values(a, b)
    assert m.p_value < 0.01 and m.change > PRACTICAL_MARGIN
    assert m.verdict == "no significant change", m
    assert m.change_ci[0] < PRACTICAL_MARGIN < m.change_ci[1]
    assert "does not clear the 5% margin" in m.note
    clear = compare_values(a, [108.0 + 1.2 * i for i in range(8)])
    assert clear.verdict == "slower" and clear.change_ci[0] > PRACTICAL_MARGIN
    assert compare_values([108.0 + 1.2 * i for i in range(8)], a).verdict == "faster"


def test_noise_on_a_busy_machine_is_not_a_regression() -> None:
    """Ten pairs of runs of the same code, 8 % process-to-process noise: none flagged."""
    for seed in range(10):
        rows = compare_runs(result(processes=5, seed=seed, noise=0.08),
                            result(processes=5, seed=100 + seed, noise=0.08))
        assert not any(r.significant for r in rows), [r.to_dict() for r in rows]


def test_cli_shows_the_interval_and_never_zero_width(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", result(processes=5, seed=1))
    b = write(tmp_path / "b.json", result(processes=5, seed=2, cold_first_ns=6.5e8))
    one = write(tmp_path / "one.json", result(processes=1, seed=3, cold_first_ns=6.5e8))
    proc = cli("history", "compare", str(a), str(b), env={"COLUMNS": "250"})
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if "cold first call" in x)
    assert "95% CI" in proc.stdout and "+27.9% … +31.1%" in line and "slower" in line
    proc = cli("history", "compare", str(a), str(one), env={"COLUMNS": "250"})
    line = next(x for x in proc.stdout.splitlines() if "cold first call" in x)
    assert "1 process: no interval" in line and "too few processes" in line
    assert "± 0 ns" not in proc.stdout
    js = json.loads(cli("history", "compare", str(a), str(b), "--json").stdout)
    cold = next(m for m in js["metrics"] if m["metric"] == "cold_first_call")
    assert cold["change_ci"] == pytest.approx([0.279, 0.311], abs=0.001)
    assert cold["margin"] == PRACTICAL_MARGIN and cold["ci_level"] >= 0.95


# --------------------------------------------------------------------------- gates: parsing

@pytest.mark.parametrize(("text", "metric", "relative", "limit", "percent", "state"), [
    ("compiles>0", "compiles", False, 0, False, None),
    ("compiles@cached>0", "compiles", False, 0, False, "cached"),
    ("cache_misses+1", "cache_misses", True, 1, False, None),
    ("first_call:+10%", "cold_first_call", True, 0.10, True, None),
    ("first_call_instructions:+2.5%", "first_call_instructions", True, 0.025, True, None),
    ("first_call_instructions>2G", "first_call_instructions", False, 2e9, False, None),
    ("warm_median>2ms", "warm_median", False, 2e6, False, None),
    ("warm + 50ns", "warm_median", True, 50, False, None),
    ("compiled_units@cold+0", "compiled_units", True, 0, False, "cold"),
    ("recompiles>0", "recompiles", False, 0, False, None),
    ("steady_state_call+100", "steady_state_call", True, 100, False, None),
])
def test_gate_grammar(text: str, metric: str, relative: bool, limit: float, percent: bool,
                      state: str | None) -> None:
    g = parse_gate(text)
    assert (g.metric, g.relative, g.limit, g.percent, g.state) == (
        metric, relative, pytest.approx(limit), percent, state)


@pytest.mark.parametrize(("text", "says"), [
    ("compile_count>0", "unknown metric 'compile_count'"),
    ("compiles", "write METRIC>VALUE"),
    ("compiles>", "no value after '>'"),
    ("compiles>lots", "is not a count"),
    ("compiles>10%", "a percentage compares B with A"),
    ("first_call>2", "has no unit"),
    ("first_call>-2ms", "is negative"),
    ("first_call@cold>1s", "@STATE applies to counters"),
    ("compiles@warm>0", "unknown state 'warm'"),
    ("compiles<3", "write METRIC>VALUE"),
])
def test_bad_gates_are_refused(text: str, says: str) -> None:
    with pytest.raises(UsageError) as exc:
        parse_gates([text])
    assert says in str(exc.value) and "--fail-on" in str(exc.value)


def test_comma_separated_gates() -> None:
    gates = parse_gates(["compiles@cached+0, cache_misses+0", "first_call:+10%"])
    assert [g.metric for g in gates] == ["compiles", "cache_misses", "cold_first_call"]
    with pytest.raises(UsageError, match="is empty"):
        parse_gates([" , "])


# --------------------------------------------------------------------------- gates: checks


def _with(data: dict[str, Any], state: str, **fields: Any) -> dict[str, Any]:
    for p in data["states"][state]["processes"]:
        for k, v in fields.items():
            p[k] = v(p) if callable(v) else v
    return data


def _status(checks: list[Any]) -> dict[str | None, str]:
    return {c.state: c.status for c in checks}


def test_counter_gates_compare_the_worst_process_per_state() -> None:
    a = result(processes=4, seed=1)
    b = result(processes=4, seed=2, recompile_at=(150,))  # one recompile in every process
    assert _status(check_gates(parse_gates(["recompiles+0"]), a, b)) == {
        "cold": "failed", "cached": "failed"}
    assert _status(check_gates(parse_gates(["recompiles+1"]), a, b)) == {
        "cold": "ok", "cached": "ok"}
    assert _status(check_gates(parse_gates(["compiles@cached>0"]), a, a)) == {"cached": "ok"}
    assert _status(check_gates(parse_gates(["compiles@cached>0"]), a, b)) == {
        "cached": "failed"}
    # compiles>0 without a state: the cold state compiles by nature
    assert _status(check_gates(parse_gates(["compiles>0"]), a, a))["cold"] == "failed"
    # compiled units: specialisations held after the run
    assert _status(check_gates(parse_gates(["compiled_units@cold+0"]), a, b)) == {
        "cold": "failed"}


def test_cache_miss_gate_with_a_tolerance() -> None:
    a = result(processes=3, seed=1)
    b = _with(result(processes=3, seed=2), "cached", cache={"hits": 0, "misses": 1})
    b["states"]["cached"]["processes"][0]["cache"] = {"hits": 0, "misses": 2}
    checks = check_gates(parse_gates(["cache_misses@cached+1"]), a, b)
    assert [(c.a, c.b, c.status) for c in checks] == [(0, 2, "failed")]
    assert check_gates(parse_gates(["cache_misses@cached+2"]), a, b)[0].status == "ok"
    # a framework without cache counters: the gate measured nothing and fails
    c = _with(result(processes=3, seed=3), "cached", cache=None)
    (nm,) = check_gates(parse_gates(["cache_misses@cached>0"]), a, c)
    assert nm.status == "not measured" and nm.failed


def test_first_call_instructions_gate() -> None:
    a = _with(result(processes=3, seed=1), "cold", first_call_instructions=1_000_000_000)
    a = _with(a, "cached", first_call_instructions=400_000_000)
    b = json.loads(json.dumps(a))
    b["states"]["cold"]["processes"][1]["first_call_instructions"] = 1_050_000_000  # +5 %
    gates = parse_gates(["first_call_instructions:+2%"])
    assert _status(check_gates(gates, a, b)) == {"cold": "failed", "cached": "ok"}
    assert _status(check_gates(parse_gates(["first_call_instructions:+10%"]), a, b)) == {
        "cold": "ok", "cached": "ok"}
    assert _status(check_gates(parse_gates(["first_call_instructions>1G"]), a, b))[
        "cold"] == "failed"
    lacking = result(processes=3, seed=4)  # no instruction counter on that machine
    assert {c.status for c in check_gates(gates, a, lacking)} == {"not measured"}


def test_wall_time_gates_fail_only_on_the_lower_bound() -> None:
    a = result(processes=6, seed=1)
    clear = result(processes=6, seed=2, cold_first_ns=6.5e8)  # +30 %
    (c,) = check_gates(parse_gates(["first_call:+10%"]), a, clear)
    assert c.status == "failed" and c.decisive > 0.10
    (c,) = check_gates(parse_gates(["first_call:+35%"]), a, clear)
    assert c.status == "ok"
    # +15 % at the median, but with 10 % process-to-process noise the interval's lower
    # bound is below +10 %: the median alone would fail, the gate does not
    noisy = result(processes=6, seed=6, cold_first_ns=5.6e8, noise=0.10)
    (c,) = check_gates(parse_gates(["first_call:+10%"]), a, noisy)
    assert c.b / c.a - 1 > 0.10 and c.decisive < 0.10 and c.status == "ok", c
    # an absolute limit on B: the lower bound of its median's interval
    (c,) = check_gates(parse_gates(["first_call>600ms"]), a, clear)
    assert c.status == "failed" and c.decisive > 600e6
    (c,) = check_gates(parse_gates(["first_call>560ms"]), a, noisy)
    assert c.b > 560e6 and c.decisive <= 560e6 and c.status == "ok", c
    # an absolute increase
    (c,) = check_gates(parse_gates(["first_call+100ms"]), a, clear)
    assert c.status == "failed" and c.decisive > 100e6
    (c,) = check_gates(parse_gates(["first_call+200ms"]), a, clear)
    assert c.status == "ok"


def test_wall_time_gate_without_an_interval_is_undecided() -> None:
    a = result(processes=5, seed=1)
    one = result(processes=1, seed=2, cold_first_ns=9e8)
    (c,) = check_gates(parse_gates(["first_call:+10%"]), a, one)
    assert c.status == "undecided" and not c.failed
    assert "1 process: no interval" in c.basis
    (c,) = check_gates(parse_gates(["first_call:+10%"]), result(processes=3, seed=1),
                       result(processes=3, seed=2, cold_first_ns=9e8))
    assert c.status == "undecided" and "no 95% interval with 3 vs 3" in c.basis


# --------------------------------------------------------------------------- gates: CLI


def test_cli_fail_on(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    with History(db) as h:
        h.add(result(processes=5, seed=1))
        h.add(result(processes=5, seed=2, recompile_at=(150,)))
        h.add(result(processes=5, seed=3, cold_first_ns=6.5e8))
    base = ("history", "compare", "--db", str(db))
    env = {"COLUMNS": "250"}
    ok = cli(*base, "1", "2", "--fail-on", "cache_misses+0", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "gates (--fail-on)" in ok.stdout and "FAILED" not in ok.stdout
    bad = cli(*base, "1", "2", "--fail-on", "cache_misses+0,recompiles+0", env=env)
    assert bad.returncode == 1
    assert any("recompiles+0" in x and "FAILED" in x for x in bad.stdout.splitlines())
    assert cli(*base, "1", "3", "--fail-on", "first_call:+10%").returncode == 1
    assert cli(*base, "1", "3", "--fail-on", "first_call:+40%").returncode == 0
    assert cli(*base, "1", "3", "--fail-on", "warm+5%", "--fail-on",
               "compiles@cached+0").returncode == 0
    js = cli(*base, "1", "2", "--json", "--fail-on", "recompiles@cached+0")
    assert js.returncode == 1
    (gate,) = json.loads(js.stdout)["gates"]
    assert gate == {"gate": "recompiles@cached+0", "metric": "recompiles", "state": "cached",
                    "a": 0, "b": 1, "decisive": 1, "status": "failed",
                    "basis": "worst of 5 processes vs worst of 5"}
    # no --fail-on: no gates in the JSON, and the exit code is unchanged
    plain = cli(*base, "1", "2", "--json")
    assert plain.returncode == 0 and "gates" not in json.loads(plain.stdout)


@pytest.mark.parametrize("expr", ["compiles<0", "firstcall:+10%", "first_call>5", "compiles>",
                                  "compiles@hot>0", ","])
def test_cli_bad_fail_on_is_one_line_exit_2(tmp_path: Path, expr: str) -> None:
    a = write(tmp_path / "a.json", result(processes=3, seed=1))
    proc = cli("history", "compare", str(a), str(a), "--fail-on", expr)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --fail-on"), proc.stderr


def test_cli_bad_fail_on_is_refused_before_reading_the_runs(tmp_path: Path) -> None:
    proc = cli("history", "compare", "1", "2", "--db", str(tmp_path / "none.db"),
               "--fail-on", "compiles<0")
    assert proc.returncode == 2 and "--fail-on" in proc.stderr


def test_absolute_gate_on_calls_and_on_one_process() -> None:
    a = result(processes=4, seed=1)
    (c,) = check_gates(parse_gates(["steady_state_call>20"]), a, a)  # steady from call 25
    assert c.status == "failed" and c.decisive == 25 and " ns" not in c.basis
    assert check_gates(parse_gates(["steady_state_call>25"]), a, a)[0].status == "ok"
    one = result(processes=1, seed=2, cold_first_ns=7e8)
    (c,) = check_gates(parse_gates(["first_call>600ms"]), a, one)
    assert c.status == "failed" and "1 process: no interval" in c.basis
