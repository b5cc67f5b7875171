"""Strategy variants (``STRATEGY+gc-freeze``): parsed, measured in their own fresh processes
beside the strategy without them, and compared with it."""

from __future__ import annotations

import json

import pytest

from jitwarm._errors import UsageError
from jitwarm.caches.strategies import (
    StrategyResult,
    _compare_variants,
    _variant_sentences,
    by_name,
    parse_strategies,
    run_strategies,
    split_name,
    strategies_help,
    strategies_table,
)


def test_variant_names_parse_and_resolve_to_their_strategy():
    assert parse_strategies("none,aot+gc-freeze,none") == ["none", "aot+gc-freeze"]
    assert split_name("aot+gc-freeze") == ("aot", "gc-freeze") and split_name("aot") == ("aot", None)
    assert by_name("aot+gc-freeze") is by_name("aot")
    assert "STRATEGY+gc-freeze" in strategies_help()
    for bad in ("aot+warp", "warp+gc-freeze", "aot+"):
        with pytest.raises(UsageError, match="unknown strategy"):
            parse_strategies(bad)


def _proc(first, gc_ns, frozen=None):
    p = {"status": "ok", "first_call_ns": first, "import_ns": 100, "setup_ns": 10}
    if frozen is not None:
        p["gc_frozen"] = frozen
    return p


def test_a_variant_that_changes_nothing_is_said_not_to_help():
    base = StrategyResult("aot", processes=[_proc(1000 + i, 0) for i in range(4)],
                          summary={"first_call_gc_ns": 0})
    var = StrategyResult("aot+gc-freeze", processes=[_proc(1001 + i, 0, 5000) for i in range(4)],
                         summary={"first_call_gc_ns": 0})
    _compare_variants([base, var])
    assert base.vs_plain is None and var.vs_plain["strategy"] == "aot"
    assert var.vs_plain["gc_frozen"] == 5000
    line, verdict = _variant_sentences(var)
    assert "5,000 objects" in line and "against `aot` without it" in line
    assert verdict.startswith("gc-freeze does not help this case")


def test_a_variant_without_its_strategy_says_so():
    var = StrategyResult("none+gc-freeze", processes=[_proc(1000, 0, 7)])
    _compare_variants([var])
    (line,) = _variant_sentences(var)
    assert "`none` without it was not measured" in line


@pytest.mark.slow
def test_gc_freeze_variant_rows_are_measured_frozen(tmp_path):
    from jitwarm.measure.process import Settings
    from jitwarm.results.profile import check_other

    (tmp_path / "plain.py").write_text(
        "import jitwarm\n\n@jitwarm.case\ndef add():\n    return (lambda x: x + 1), (1,)\n")
    res = run_strategies(f"{tmp_path}/plain.py::add",
                         ["none", "disk-cache", "none+gc-freeze", "disk-cache+gc-freeze"],
                         processes=1, settings=Settings(max_calls=30, max_time_s=0.2,
                                                        min_calls=10))
    by = {s.strategy: s for s in res.strategies}
    assert list(by) == ["none", "disk-cache", "none+gc-freeze", "disk-cache+gc-freeze"]
    # plain Python has no disk cache: the variant is skipped for the same reason
    assert by.pop("disk-cache").status == by.pop("disk-cache+gc-freeze").status == "skipped"
    for name, r in by.items():
        assert r.status == "ok", (name, r.reason)
        frozen = [p.get("gc_frozen") for p in r.processes]
        if name.endswith("+gc-freeze"):
            assert all(isinstance(f, int) and f > 0 for f in frozen), frozen  # really froze
            assert r.vs_plain["strategy"] == split_name(name)[0]
            assert any("gc.freeze() after setup moved" in x for x in r.explanation)
        else:
            assert frozen == [None]  # the strategies as such do not freeze
    assert strategies_table(res).row_count == 4
    d = json.loads(json.dumps(res.to_dict()))
    assert check_other(d) == "jitwarm.strategies/1"
    floor = d["floor_breakdown"]["python"]  # nothing to import: start-up only
    assert floor["interpreter_ns"] > 0 and floor["breakdown_processes"] == 1
    assert floor["imports"] == [] and "jitwarm" in d["strategies"]["none"]["packages_beyond_floor"]
    assert d["strategies"]["none+gc-freeze"]["vs_plain"]["gc_frozen"] > 0


_IMPORTTIME = """import time: self [us] | cumulative | imported package
import time:       100 |        100 |     torch._utils
import time:       300 |        400 |   torch._C
import time:       500 |        500 |     sympy.core
import time:       100 |        600 |   sympy
import time:       200 |       1200 | torch
"""


def test_floor_breakdown_from_importtime(tmp_path):
    from jitwarm.caches.strategies import _floor_breakdown, _read_importtime, floor_sentences

    out = tmp_path / "x.json"
    (tmp_path / "x.json.importtime").write_text(_IMPORTTIME + "import time: 9 | 9 | json\n")
    rec = {"floor_end": len(_IMPORTTIME), "jitwarm_load_import_ns": 50_000_000}
    run = _read_importtime(out, rec)
    assert [r[0] for r in run["rows"]] == ["torch._utils", "torch._C", "sympy.core", "sympy",
                                           "torch"]  # json came after the floor's part
    b = _floor_breakdown({"interpreter_ns": [20_000_000], "modules": [900],
                          "packages": ["numpy", "torch"], "importtime": [run, run]})
    assert b["imports"] == [{"module": "torch", "ns": 1_200_000}]
    assert b["by_package"] == [{"module": "sympy", "ns": 600_000},
                               {"module": "torch", "ns": 600_000}]
    assert b["sub_imports"] == [{"module": "sympy", "ns": 600_000},
                                {"module": "torch._C", "ns": 400_000}]
    assert _read_importtime(out, {"floor_end": "x"}) is None  # a record it did not write
    aot = StrategyResult("aot", floor_imports=["torch"], packages_beyond_floor=["jitwarm"],
                         floor_packages_unused=["numpy"]).to_dict()
    lines = floor_sentences({"floors": {"torch": [1_500_000]}, "floor_breakdown": {"torch": b},
                             "strategies": {"aot": aot}})
    assert lines[0].startswith("floor `torch` 1.50 ms") and "interpreter start-up 20" in lines[0]
    assert "torch._C" in lines[0] and "sympy" in lines[0]
    assert "`aot`'s process imported 1 package(s) its floor does not (jitwarm)" in lines[1]
    assert "never imported 1 its floor does (numpy)" in lines[1]
    assert "importing jitwarm.load after the floor takes 50" in lines[1]
