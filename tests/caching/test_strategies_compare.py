"""The strategies A/B against ``none``: every process, intervals, the practical margin, and
ratios and intervals that never read ``0.00×`` or ``± 0 ns``."""

from __future__ import annotations

import io
import json
from typing import Any

from rich.console import Console

from jitwarm._units import fmt_ratio, fmt_warm_ci
from jitwarm.caches.strategies import (
    StrategiesResult,
    StrategyResult,
    _compare,
    _summarise,
    explain,
    strategies_table,
)


def _proc(first: float, warm: float, spread: float = 0.01) -> dict[str, Any]:
    """A fresh process's record; its steady CI is tight (the old rule read it as proof)."""
    return {"status": "ok", "first_call_ns": int(first), "warm_median_ns": int(warm),
            "steady_ci_ns": [int(warm * (1 - spread)), int(warm * (1 + spread))],
            "import_ns": 1_000_000, "setup_ns": 500_000, "compile_ns": 0,
            "cache": {"hits": 1, "misses": 0}, "compile_events": []}


def _strategy(name: str, procs: list[dict[str, Any]]) -> StrategyResult:
    r = StrategyResult(name, processes=procs)
    r.summary = _summarise(procs)
    return r


def _compared(none: list[dict[str, Any]], other: list[dict[str, Any]],
              name: str = "bundle") -> tuple[StrategyResult, StrategiesResult]:
    rs = [_strategy("none", none), _strategy(name, other)]
    _compare(rs)
    res = StrategiesResult(target="m.py::f", framework="torch", strategies=rs, settings={},
                           environment={})
    return rs[1], res


def _text(table: Any) -> str:
    buf = io.StringIO()
    Console(file=buf, width=260, color_system=None).print(table)
    return buf.getvalue()


def test_one_slow_none_process_gives_no_zero_ratio_and_no_interval() -> None:
    """BERT: none's single process had a 272 ms warm median; the strategy's 0.4 ms."""
    none = [_proc(9e9, 272e6)]
    bundle = [_proc(1.1e9, 0.40e6 + 1000 * i) for i in range(3)]
    r, res = _compared(none, bundle)
    assert r.warm_ratio < 0.005 and not r.warm_slower
    assert r.warm_verdict == "too few processes" and r.warm_ratio_ci is None
    text = _text(strategies_table(res))
    assert "0.00×" not in text and "± 0 ns" not in text
    row = next(line for line in text.splitlines() if line.startswith("│ bundle"))
    assert "0.00147×" in row and "1 process: no interval" in row


def test_three_noisy_processes_are_not_flagged_slower() -> None:
    """"1.27× slower" from three processes each, tight steady CIs: not evidence."""
    none = [_proc(5e8, w) for w in (100_000, 101_000, 102_000)]
    bundle = [_proc(3e8, w) for w in (125_000, 127_000, 129_000)]
    r, res = _compared(none, bundle)
    assert 1.2 < r.warm_ratio < 1.3
    assert not r.warm_slower and r.warm_verdict == "too few processes"
    assert not any("slower" in line for line in explain(r, "numba"))
    assert "no interval: 3 vs 3 processes" in _text(strategies_table(res))


def test_pooled_rounds_within_noise_are_not_flagged() -> None:
    """Six processes each (``--rounds 2``), warm medians within ±6 % of each other."""
    none = [_proc(5e8, w) for w in (100_000, 103_000, 97_000, 101_000, 104_000, 99_000)]
    bundle = [_proc(3e8, w) for w in (102_000, 106_000, 98_000, 103_000, 105_000, 101_000)]
    r, _ = _compared(none, bundle)
    assert r.warm_verdict == "no significant change" and not r.warm_slower
    lo, hi = r.warm_ratio_ci
    assert lo <= r.warm_ratio <= hi and lo < 1.05


def test_a_real_slowdown_is_flagged_with_its_interval() -> None:
    none = [_proc(5e8 + 1e7 * i, 100_000 + 500 * i) for i in range(6)]
    aot = [_proc(1e6 + 1e4 * i, 127_000 + 500 * i) for i in range(6)]
    r, res = _compared(none, aot, "aot")
    assert r.warm_slower and r.warm_verdict == "slower"
    assert r.warm_ratio_ci[0] > 1.05
    warning = next(line for line in explain(r, "numba") if line.startswith("warning"))
    assert "1.27×" in warning and "95% CI" in warning
    assert "slower" in _text(strategies_table(res))
    # the first call: 500× faster, its interval from every process
    assert r.first_call_verdict == "faster"
    assert r.speedup_ci[0] <= r.speedup <= r.speedup_ci[1]
    d = json.loads(json.dumps(r.to_dict()))
    assert {"speedup_ci", "first_call_verdict", "warm_ratio_ci", "warm_verdict",
            "warm_note"} <= set(d)


def test_a_real_speedup_of_the_warm_code_is_shown_faster() -> None:
    none = [_proc(5e8, 100_000 + 500 * i) for i in range(6)]
    fast = [_proc(3e8, 60_000 + 300 * i) for i in range(6)]
    r, res = _compared(none, fast)
    assert r.warm_verdict == "faster" and not r.warm_slower
    assert r.warm_ratio_ci[1] < 0.95
    assert "faster" in _text(strategies_table(res))


def test_ratio_and_ci_formatting() -> None:
    assert fmt_ratio(0.00147) == "0.00147×"
    assert fmt_ratio(1.5e-5) == "1.5e-05×"
    assert fmt_ratio(0.0) == "0×"
    assert fmt_ratio(1.27) == "1.27×" and fmt_ratio(3846.5) == "3,846×"
    one = {"warm_median_ns": 272_000_000, "warm_ci_ns": [272_000_000, 272_000_000],
           "processes_ok": 1}
    assert fmt_warm_ci(one) == "272 ms (1 process: no interval)"
    same = {"warm_median_ns": 182, "warm_ci_ns": [182, 182], "processes_ok": 5}
    assert fmt_warm_ci(same) == "182 ns ± <1 ns"
    assert fmt_warm_ci({"warm_median_ns": 182, "warm_ci_ns": [176, 185],
                        "processes_ok": 5}) == "182 ns ± 6 ns"


def test_html_card_says_one_process_has_no_interval() -> None:
    from jitwarm.report.html import _warm_ci_note

    assert _warm_ci_note({"warm_median_ns": 5, "warm_ci_ns": [5, 5],
                          "processes_ok": 1}) == "1 process: no interval"
    assert _warm_ci_note({"warm_median_ns": 182, "warm_ci_ns": [176, 185],
                          "processes_ok": 3}) == "± 6 ns (95% CI)"
