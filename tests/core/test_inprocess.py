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
