"""The in-process Python API and the framework-free core."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import jitwarm


def test_profile_plain_python_function():
    def f(x):
        return sum(range(x))

    r = jitwarm.profile(f, 50, max_calls=300, max_time_s=2)
    d = r.to_dict()
    assert d["schema"] == "jitwarm.profile/1" and d["framework"] == "python"
    p = d["states"]["in-process"]["processes"][0]
    for key in ("first_call_ns", "compile_ns", "timings_ns", "compile_events",
                "classification", "steady_state_start"):
        assert key in p
    assert p["compile_ns"] == 0 and p["compile_events"] == []
    s = r.summary("in-process")
    assert s["warm_median_ns"] > 0 and s["warm_ci_ns"][0] <= s["warm_median_ns"] <= s["warm_ci_ns"][1]
    assert "in-process" in repr(r)


def test_kwargs_are_passed():
    seen = []

    def f(a, *, b):
        seen.append((a, b))

    jitwarm.profile(f, 1, kwargs={"b": 2}, max_calls=60, max_time_s=1)
    assert set(seen) == {(1, 2)}


BLOCK = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("numba", "torch", "jax", "onnxruntime"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Block())
"""


def test_core_works_without_frameworks(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(BLOCK)
    code = textwrap.dedent("""
        import jitwarm, sys
        r = jitwarm.profile(lambda x: x + 1, 1, max_calls=60, max_time_s=1)
        assert r.framework == "python"
        assert not any(m.split(".")[0] in ("numba", "torch", "jax") for m in sys.modules)
        print("ok")
    """)
    env = {"PYTHONPATH": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr


def test_missing_framework_one_line(tmp_path):
    from conftest import run_cli

    (tmp_path / "sitecustomize.py").write_text(BLOCK)
    proc = run_cli("profile", "jitwarm.examples.numba_cases:poly", "--processes", "1",
                   env={"PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "numba is not installed: pip install 'jitwarm[numba]'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_unverified_own_compile_gives_no_split_and_says_why():
    """An adapter whose fresh copy was served from a cache raises FunctionCompileUnverified:
    the record reports no own compile, says why in a note, and the one-time initialisation
    falls back to what is left outside the compile events (issue #14)."""
    from jitwarm.adapters.base import Built, FunctionCompileUnverified
    from jitwarm.adapters.python import PythonAdapter
    from jitwarm.measure.process import Settings, measure

    class ServedFromCache(PythonAdapter):
        def function_compile_ns(self, fn, args, kwargs):
            raise FunctionCompileUnverified("a fresh copy was served from a cache")

    def f(x):
        return sum(range(x))

    rec = measure(Built(f, (50,), {}), ServedFromCache(),
                  Settings(max_calls=60, max_time_s=1, min_calls=50))
    assert rec["function_compile_ns"] is None
    assert any("not measured" in n and "a fresh copy was served from a cache" in n
               for n in rec["notes"]), rec["notes"]
    first, warm = rec["first_call_ns"], rec["warm_median_ns"]
    assert rec["runtime_init_ns"] == max(0, first - rec["compile_ns"] - warm)
