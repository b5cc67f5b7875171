"""Warmup plan parsing and input specifications (no framework needed)."""

from __future__ import annotations

import numpy as np
import pytest
from _craft import NUMBA_CASE, cli, write

from jitwarm._errors import UsageError
from jitwarm.caches.prewarm import load_plan
from jitwarm.caches.prewarm_worker import apply_input


def test_targets_resolve_relative_to_the_plan(tmp_path):
    write(tmp_path / "proj" / "kern.py", NUMBA_CASE)
    plan = write(tmp_path / "proj" / "warm.toml",
                 '[[case]]\ntarget = "kern.py::poly"\ninputs = [{batch = 4}, [{}, {shape = [2]}]]\n'
                 '[[case]]\ntarget = "kern.py"\nname = "again"\n')
    p = load_plan(plan)
    assert [c.target.file for c in p.cases] == [str((tmp_path / "proj" / "kern.py").resolve())] * 2
    assert p.cases[0].inputs == [{"batch": 4}, [{}, {"shape": [2]}]]
    assert p.cases[1].name == "again" and p.root == (tmp_path / "proj").resolve()


@pytest.mark.parametrize("text,message", [
    ("[[case]]\nname = 'x'\n", "has no target"),
    ("x = 1\n", "no [[case]] tables"),
    ("[[case]\n", "not valid TOML"),
    ('[[case]]\ntarget = "kern.py::poly"\ninputs = [{size = 3}]\n', "unknown key(s) size"),
    ('[[case]]\ntarget = "kern.py::poly"\ninputs = [{shape = [-1]}]\n', "non-negative"),
    ('[[case]]\ntarget = "kern.py::poly"\ninputs = [{args = {x = 1}}]\n', "positional indexes"),
    ('[[case]]\ntarget = "kern.py::nope"\n', "unknown case 'nope'"),
    ('[[case]]\ntarget = "missing.py::poly"\n', "target file not found"),
])
def test_plan_errors(tmp_path, text, message):
    write(tmp_path / "kern.py", NUMBA_CASE)
    plan = write(tmp_path / "warm.toml", text)
    with pytest.raises(UsageError, match=message.replace("[", r"\[").replace("(", r"\(")
                       .replace(")", r"\)")):
        load_plan(plan)


def test_prewarm_cli_usage_error(tmp_path):
    plan = write(tmp_path / "warm.toml", '[[case]]\ntarget = "missing.py::poly"\n')
    proc = cli("prewarm", str(plan), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and "target file not found" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_apply_input_shapes_dtypes_batches_and_statics():
    x = np.arange(6.0).reshape(2, 3)
    (a, n), _ = apply_input((x, 5), {"shape": [4, 3], "dtype": "float32"})
    assert a.shape == (4, 3) and a.dtype == np.float32 and n == 5
    assert a[0].tolist() == [0.0, 1.0, 2.0]  # the original's values, resized
    (a, n), _ = apply_input((x, 5), {"batch": 7})
    assert a.shape == (7, 3) and a.dtype == x.dtype
    (a, n), _ = apply_input((x, 5), {"args": {"1": 9}})
    assert a is x and n == 9
    (a, b), _ = apply_input((x, x), [{}, {"shape": [1, 3]}])
    assert a is x and b.shape == (1, 3)
    with pytest.raises(IndexError):
        apply_input((x,), {"args": {"3": 1}})
