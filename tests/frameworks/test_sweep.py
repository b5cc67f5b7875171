"""`jitwarm sweep`: shapes parsing, errors, and a Numba signature sweep end to end."""

from __future__ import annotations

import json

import pytest
from _helpers import cli, one_line_error, write_case

from jitwarm._errors import UsageError
from jitwarm.cases.targets import Inputs, describe_args, validate_built
from jitwarm.measure.sweep import parse_shapes


def test_parse_shapes():
    assert parse_shapes("32,64") == [[32], [64]]
    assert parse_shapes("32x64, 64X64") == [[32, 64], [64, 64]]
    for bad in ("", "3y", "32x-1", ","):
        with pytest.raises(UsageError):
            parse_shapes(bad)


def test_inputs_marker_validates():
    import numpy as np

    import jitwarm

    b = validate_built((len, jitwarm.inputs(([1],), ([1, 2],), labels=["one", "two"])), "c")
    assert b.args == ([1],) and b.inputs == (("one", ([1],)), ("two", ([1, 2],)))
    b = validate_built((len, jitwarm.inputs(np.zeros((2, 3)), "ab")), "c")
    assert b.inputs[0][0] == "(float64[2, 3])" and b.inputs[1][1] == ("ab",)
    assert describe_args(({"x": np.zeros(4, np.float32)},)) == "({x: (float32[4])})"
    with pytest.raises(UsageError):
        Inputs()
    with pytest.raises(UsageError, match="labels"):
        Inputs((1,), labels=["a", "b"])


NUMBA_CASE = """
    import jitwarm

    @jitwarm.case
    def poly():
        import numpy as np
        from numba import njit

        @njit
        def f(x):
            return x * x + 1

        return f, jitwarm.inputs(np.int64(3), np.float64(3.0), np.int64(4), np.float32(1.0))

    @jitwarm.case
    def fixed():
        return (lambda x: x), (1,)
"""


@pytest.mark.slow
def test_numba_sweep_one_signature_per_dtype(tmp_path):
    case = write_case(tmp_path / "case.py", NUMBA_CASE)
    out = tmp_path / "s.json"
    proc = cli("sweep", f"{case}::poly", "--calls", "3", "--json", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    r = json.loads(out.read_text())
    assert r["framework"] == "numba"
    compiled = [s["recompiled"] for s in r["sets"]]
    assert compiled == [True, True, False, True]  # int64, float64, int64 again, float32
    assert "float64" in r["sets"][1]["compiles"][0]["reason"]
    assert [s["specializations"] for s in r["sets"]] == [1, 2, 2, 3]
    assert r["recompiles"] == 2 and r["specializations"] == 3
    assert all(s["compile_ns"] > 0 for s in r["sets"] if s["recompiled"])
    assert r["sets"][2]["compile_ns"] == 0


def test_sweep_errors_are_one_line(tmp_path):
    case = write_case(tmp_path / "case.py", NUMBA_CASE)
    one_line_error(cli("sweep", f"{case}::fixed", "--shapes", "3,4"),
                   "takes no `shapes` parameter")
    one_line_error(cli("sweep", f"{case}::poly", "--shapes", "3y"), "bad shape")
    one_line_error(cli("sweep", str(tmp_path / "nope.py")), "target file not found")
    one_line_error(cli("sweep", f"{case}::poly", "--threads", "0"), "--threads must be")


def test_sweep_case_error_exit_1(tmp_path):
    case = write_case(tmp_path / "case.py", """
        import jitwarm

        def boom(x):
            if x > 1:
                raise ValueError("too big")
            return x

        @jitwarm.case
        def c():
            return boom, jitwarm.inputs(1, 2)
    """)
    proc = cli("sweep", str(case))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "too big" in proc.stderr and "input set 1" in proc.stderr


def test_profile_of_an_inputs_case_measures_the_first_set(tmp_path):
    case = write_case(tmp_path / "case.py", """
        import jitwarm

        @jitwarm.case
        def c():
            return (lambda x: x * 2), jitwarm.inputs(3, 4, labels=["three", "four"])
    """)
    out = tmp_path / "r.json"
    proc = cli("profile", str(case), "--processes", "1", "--calls", "60", "--max-time", "1",
               "--cache", "cold", "--quiet", "--json", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    p = json.loads(out.read_text())["states"]["cold"]["processes"][0]
    assert any("2 input sets; profile measured the first (three)" in n for n in p["notes"])


@pytest.mark.slow
def test_threads_setting_reaches_the_worker():
    from jitwarm.cases.targets import resolve_target
    from jitwarm.measure.process import Settings
    from jitwarm.measure.runner import Runner

    r = Runner(resolve_target("jitwarm.examples.numba_cases:poly"), processes=1,
               states=("cold",), settings=Settings(max_calls=60, max_time_s=1, threads=1)).run()
    p = r.states["cold"]["processes"][0]
    assert p["status"] == "ok", p
    assert p["runtime"]["numba_num_threads"] == 1
    assert r.settings["threads"] == 1
    with pytest.raises(UsageError, match="--threads"):
        Runner(resolve_target("jitwarm.examples.numba_cases:poly"), settings=Settings(threads=0))
