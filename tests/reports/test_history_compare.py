"""``history compare``: significance = Mann-Whitney U and a minimum effect size."""

from __future__ import annotations

import json
from pathlib import Path

from _reports_synth import cli, result

from jitwarm.store.history import (
    History,
    compare_runs,
    compare_values,
    environment_differences,
    min_p_value,
    process_values,
)


def _by_key(rows):
    return {m.key: m for m in rows}


def test_clear_regression_is_detected() -> None:
    base = result(processes=5, seed=1, cold_first_ns=5e8, warm_ns=200)
    slow = result(processes=5, seed=2, cold_first_ns=6.5e8, warm_ns=260)  # +30% both
    rows = _by_key(compare_runs(base, slow))
    for key in ("cold_first_call", "warm_median", "time_to_first_result"):
        m = rows[key]
        assert m.verdict == "slower", (key, m)
        assert m.p_value < 0.05 and m.change > 0.05
    assert rows["compile"].verdict == "no significant change"  # same compile time
    back = _by_key(compare_runs(slow, base))
    assert back["cold_first_call"].verdict == "faster"


def test_identical_runs_are_not_flagged() -> None:
    data = result(processes=5)
    rows = compare_runs(data, json.loads(json.dumps(data)))
    assert all(m.verdict in ("no significant change", "n/a") for m in rows), rows
    assert not any(m.significant for m in rows)


def test_same_distribution_different_noise_is_not_flagged() -> None:
    rows = compare_runs(result(processes=6, seed=3, noise=0.05),
                        result(processes=6, seed=4, noise=0.05))
    assert not any(m.significant for m in rows), [m.to_dict() for m in rows]


def test_small_but_consistent_change_needs_the_minimum_effect() -> None:
    a = [100.0, 101.0, 102.0, 103.0, 104.0, 105.0]
    b = [v * 1.02 + 3 for v in a]  # every value higher (p small), but only ~5% → below 10%
    m = compare_values(a, b, min_effect=0.10)
    assert m.p_value < 0.05
    assert m.verdict == "no significant change" and "below 10%" in m.note
    assert compare_values(a, b, min_effect=0.01).verdict == "slower"


def test_too_few_processes_is_said_not_guessed() -> None:
    assert min_p_value(3, 3) > 0.05 and min_p_value(4, 4) < 0.05
    m = compare_values([1.0, 1.1, 1.2], [3.0, 3.1, 3.2])
    assert m.verdict == "too few processes" and "3 vs 3 processes cannot reach" in m.note
    assert compare_values([1.0, 1.1, 1.2, 1.3], [3.0, 3.1, 3.2, 3.3]).verdict == "slower"


def test_missing_metric_is_na() -> None:
    only_cold = result(states=("cold",))
    m = _by_key(compare_runs(only_cold, result()))["cached_first_call"]
    assert m.verdict == "n/a" and "run A" in m.note


def test_process_values_skip_failed_processes() -> None:
    data = result(processes=4)
    data["states"]["cold"]["processes"][0]["status"] = "crashed"
    assert len(process_values(data, ("cold",), "first_call_ns")) == 3
    assert len(process_values(data, ("*",), "warm_median_ns")) == 7


def test_environment_differences() -> None:
    a, b = result(), result()
    b["environment"]["versions"]["numba"] = "0.61.0"
    assert environment_differences(a, b) == ["numba: 0.60.0 → 0.61.0"]


def test_cli_compare_side_by_side(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    with History(db) as h:
        h.add(result(processes=5, seed=1))
        h.add(result(processes=5, seed=2, cold_first_ns=8e8))
        h.add(result(processes=5, seed=1))
    proc = cli("history", "compare", "1", "2", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for label in ("cold first call", "compile", "cached first call", "warm median",
                  "steady state from call"):
        assert label in out
    assert "slower" in out and "+60" in out  # 5e8 → 8e8
    js = cli("history", "compare", "1", "2", "--db", str(db), "--json")
    data = json.loads(js.stdout)
    verdicts = {m["metric"]: m["verdict"] for m in data["metrics"]}
    assert verdicts["cold_first_call"] == "slower"
    assert verdicts["warm_median"] == "no significant change"
    fail = cli("history", "compare", "1", "2", "--db", str(db), "--fail-on-regression")
    assert fail.returncode == 1
    same = cli("history", "compare", "1", "3", "--db", str(db), "--fail-on-regression")
    assert same.returncode == 0 and "slower" not in same.stdout
