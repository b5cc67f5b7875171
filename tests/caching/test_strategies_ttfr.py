"""The strategies' headline: time to first result, its floor, what it saves against none."""

from __future__ import annotations

import pytest

from jitwarm.caches.strategies import StrategiesResult, StrategyResult, _headline, strategies_table


def _r(name, ttfr, details=None):
    return StrategyResult(name, summary={"time_to_first_result_ns": ttfr, "processes_ok": 1},
                          details=details or {})


def test_ttfr_against_each_strategys_floor_and_none():
    none = _r("none", 2000)
    disk = _r("disk-cache", 1600)
    aot = _r("aot", 500, {"artifact": {"needs": ["numpy"], "fallback": None}})
    fallback = _r("torchscript", 1900, {"artifact": {"needs": ["numba"], "fallback": "why"}})
    floors = {"numba": [900, 1100, 1000], "numpy": [400, 380, 420]}
    notes: list[str] = []
    _headline([none, disk, aot, fallback], floors, "numba", notes)
    assert none.floor_imports == ["numba"] and none.floor_ns == 1000
    assert none.ttfr_over_floor == pytest.approx(2.0) and none.ttfr_saved_ns is None
    assert disk.ttfr_saved_ns == 400
    assert aot.floor_imports == ["numpy"] and aot.floor_ns == 400
    assert aot.ttfr_over_floor == pytest.approx(1.25) and aot.ttfr_saved_ns == 1500
    assert fallback.floor_imports == ["numba"]  # a fallback needs the framework itself
    assert not notes
    table = strategies_table(StrategiesResult("t", "numba", [none, disk, aot, fallback], {}, {},
                                              floors=floors))
    assert table.columns[1].header == "to first result" and table.columns[2].header == "÷ floor"
    assert "1.25×" in list(table.columns[2].cells)


def test_no_strategy_worth_it_is_said():
    none, disk = _r("none", 1000), _r("disk-cache", 980)
    notes: list[str] = []
    _headline([none, disk], {}, None, notes)
    assert none.floor_ns is None and none.ttfr_over_floor is None
    assert len(notes) == 1 and notes[0].startswith("no strategy is worth it here")
    assert "disk-cache" in notes[0]


def test_an_adapters_floor_is_the_framework_floor():
    """ONNX Runtime's least user code creates a session: its strategies are measured over
    that floor; a strategy whose artifact needs other imports keeps its own."""
    key = "onnxruntime + one session"
    floors = {key: [1000, 900, 1100], "onnxruntime": [400], "numpy": [300]}
    none = _r("none", 2000)
    aot = _r("aot", 1200, {"artifact": {"needs": ["onnxruntime"], "fallback": None}})
    other = _r("bundle", 600, {"artifact": {"needs": ["numpy"], "fallback": None}})
    _headline([none, aot, other], floors, "onnxruntime", [], (key, "x = 1\n"))
    assert none.floor_name == aot.floor_name == key and none.floor_imports == ["onnxruntime"]
    assert aot.floor_ns == 1000 and aot.ttfr_over_floor == pytest.approx(1.2)
    assert other.floor_name == "numpy" and other.floor_ns == 300
    _headline([none, aot], floors, "onnxruntime", [])  # no floor stated: the import alone
    assert aot.floor_name == "onnxruntime" and aot.floor_ns == 400
    table = strategies_table(StrategiesResult("t", "onnxruntime", [none, aot], {}, {},
                                              floors=floors))
    assert f"{key} 1.00 µs" in str(table.caption)
