"""`jitwarm sweep`: shapes parsing, errors, and a Numba signature sweep end to end."""

from __future__ import annotations

import json

import pytest
from _helpers import cli, one_line_error, write_case

from jitwarm._errors import UsageError
from jitwarm.cases.targets import Inputs, describe_args, describe_call, validate_built
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
    assert b.args == ([1],) and b.inputs == (("one", ([1],), {}), ("two", ([1, 2],), {}))
    b = validate_built((len, jitwarm.inputs(np.zeros((2, 3)), "ab")), "c")
    assert b.inputs[0][0] == "(float64[2, 3])" and b.inputs[1][1] == ("ab",)
    assert describe_args(({"x": np.zeros(4, np.float32)},)) == "({x: float32[4]})"
    with pytest.raises(UsageError):
        Inputs()
    with pytest.raises(UsageError, match="labels"):
        Inputs((1,), labels=["a", "b"])


def test_input_sets_with_keyword_arguments():
    """jitwarm.args(...) carries keywords; they add to (and override) the case's kwargs;
    a tuple stays positional (a dict in it is an argument, not keywords)."""
    import numpy as np

    import jitwarm

    def f(x, *, scale, shift=0):
        return x * scale + shift

    b = validate_built((f, jitwarm.inputs(jitwarm.args(np.zeros(3, np.float32), scale=2),
                                          (1, {"scale": 3}), jitwarm.args(1, shift=5)),
                        {"scale": 1}), "c")
    assert (b.args[0].shape, b.kwargs) == ((3,), {"scale": 2})  # profile: the first set
    labels = [lab for lab, _, _ in b.inputs]
    assert labels == ["(float32[3], scale=2)", "(1, {scale: 3})", "(1, shift=5)"]
    assert b.inputs[1][1] == (1, {"scale": 3}) and b.inputs[1][2] == {"scale": 1}
    assert b.inputs[2][2] == {"scale": 1, "shift": 5}
    assert f(*b.inputs[2][1], **b.inputs[2][2]) == 6
    # one jitwarm.args in place of args: a single set with keywords
    one = validate_built((f, jitwarm.args(2, scale=4)), "c")
    assert (one.args, one.kwargs, len(one.inputs)) == ((2,), {"scale": 4}, 1)
    assert repr(jitwarm.args(1, scale=2)) == "jitwarm.args(1, scale=2)"
    assert describe_call((), {"scale": 2}) == "(scale=2)"


def _flax_like_state(array):
    """A parameter tree as Flax keeps it: {"params": {"Dense_0": {"kernel", "bias"}, ...}}."""
    return {"params": {f"Dense_{i}": {"kernel": array((64, 64)), "bias": array((64,))}
                       for i in range(3)},
            "batch_stats": {"mean": array((64,)), "step": 3}}


def test_labels_of_parameter_trees_are_one_short_line():
    """A nested dict of arrays is summarised (leaf count, dtypes, values), not printed leaf
    by leaf; every label is one line of at most LABEL_CHARS characters."""
    import numpy as np

    import jitwarm
    from jitwarm.cases.targets import LABEL_CHARS

    state = _flax_like_state(lambda shape: np.zeros(shape, np.float32))
    label = describe_args((state, np.zeros((32, 64), np.float32)))
    assert label == "(dict(7× float32, 12.5k values, 1 other), float32[32, 64])"
    assert "Dense" not in label and "kernel" not in label
    # a long, deep or hostile argument list stays one short line
    many = describe_call(tuple(np.zeros((i + 1, 3)) for i in range(40)), {"mode": "x" * 500})
    assert len(many) <= LABEL_CHARS and "\n" not in many and many.endswith("…")
    labels = jitwarm.inputs(1, 2, labels=["a\n" * 100, "[red]b\x1b[2J"]).labels
    assert all(len(lab) <= LABEL_CHARS and "\n" not in lab and "\x1b" not in lab
               for lab in labels)
    # a small flat container is spelled out
    assert describe_args(([1, 2], (np.float32(1),))) == "([1, 2], (float32[]))"


def test_labels_of_jax_parameter_trees():
    jnp = pytest.importorskip("jax.numpy")
    state = _flax_like_state(lambda shape: jnp.zeros(shape, jnp.bfloat16))
    assert describe_args((state,)) == "(dict(7× bfloat16, 12.5k values, 1 other))"


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


KWARGS_CASE = """
    import jitwarm

    @jitwarm.case
    def scaled():
        import numpy as np
        from numba import njit

        @njit
        def kern(x, scale):             # a set without scale= would raise
            return x * scale

        return kern, jitwarm.inputs(jitwarm.args(np.int64(3), scale=2),
                                       jitwarm.args(np.int64(3), scale=2.5),
                                       jitwarm.args(np.int64(4), scale=3))
"""


@pytest.mark.slow
def test_keyword_input_sets_through_sweep_and_profile(tmp_path):
    """Keywords of jitwarm.args reach the callable in sweep (a float keyword is a new Numba
    signature, an int one reuses the first) and in profile (its first set)."""
    pytest.importorskip("numba")
    case = write_case(tmp_path / "case.py", KWARGS_CASE)
    out = tmp_path / "s.json"
    proc = cli("sweep", f"{case}::scaled", "--calls", "3", "--json", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    r = json.loads(out.read_text())
    assert [s["label"] for s in r["sets"]] == [
        "(int64[], scale=2)", "(int64[], scale=2.5)", "(int64[], scale=3)"]
    assert "scale=2.5" in proc.stdout
    # Numba's own events: the float keyword compiled a second signature, the int reused one
    assert [s["recompiled"] for s in r["sets"]] == [True, True, False]
    assert "float64" in r["sets"][1]["compiles"][0]["reason"]
    out = tmp_path / "r.json"
    proc = cli("profile", f"{case}::scaled", "--processes", "1", "--calls", "30",
               "--max-time", "1", "--cache", "cold", "--quiet", "--json", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    p = json.loads(out.read_text())["states"]["cold"]["processes"][0]
    assert p["status"] == "ok"
    assert any("3 input sets; profile measured the first ((int64[], scale=2))" in n
               for n in p["notes"])


TREE_CASE = """
    import numpy as np

    import jitwarm

    def apply(state, x):
        return x @ state["params"]["Dense_0"]["kernel"]

    @jitwarm.case
    def tree():
        state = {"params": {f"Dense_{i}": {"kernel": np.ones((64, 64), np.float32),
                                           "bias": np.zeros(64, np.float32)}
                            for i in range(3)}}
        return apply, jitwarm.inputs((state, np.ones((32, 64), np.float32)),
                                     (state, np.ones((64, 64), np.float32)))
"""


def test_sweep_of_a_parameter_tree_prints_short_labels(tmp_path):
    """The sweep table and JSON name each set by a summary, not the whole tree (it used to
    print ~11 lines per row for a Flax state)."""
    case = write_case(tmp_path / "case.py", TREE_CASE)
    out = tmp_path / "s.json"
    proc = cli("sweep", f"{case}::tree", "--calls", "2", "--json", str(out),
               env={"COLUMNS": "200"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    labels = [s["label"] for s in json.loads(out.read_text())["sets"]]
    assert labels == ["(dict(6× float32, 12.5k values), float32[32, 64])",
                      "(dict(6× float32, 12.5k values), float32[64, 64])"]
    rows = [ln for ln in proc.stdout.splitlines() if "dict(" in ln]
    assert len(rows) == 2 and all(lab in proc.stdout for lab in labels)
    assert "Dense" not in proc.stdout and "kernel" not in proc.stdout
