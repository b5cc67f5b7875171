"""Every JIT compile in the measured process, whatever the callable is (issue #14).

Real frameworks and a real third-party library behind plain Python functions: the compile
units are named, timed, attributed to their framework, placed in the user's code, and
the cached state runs whenever a framework cached something.
"""

from __future__ import annotations

import json
import sys

import pytest

from frameworks._helpers import SMALL, cli, proc0, profile_json, write_case

PIPELINE = """
import numpy as np
from numba import njit
import jitwarm


@njit(cache=True)
def scale(x, w):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = x[i] * w
    return out


@njit(cache=True)
def total(x):
    s = 0.0
    for v in x:
        s += v
    return s


def predict(x, w):
    return total(scale(x, w))


@jitwarm.case
def pipeline():
    return predict, (np.arange(1000.0), 2.0)
"""


def _named(p: dict, framework: str) -> set[str]:
    return {u["name"] for u in p["compiled"] if u["framework"] == framework}


@pytest.mark.slow
def test_numba_pipeline_behind_a_plain_function(tmp_path):
    pytest.importorskip("numba")
    case = write_case(tmp_path / "pipe.py", PIPELINE)
    data = profile_json(f"{case}::pipeline", tmp_path / "out.json")
    cold = proc0(data, "cold")
    assert data["framework"] == "numba" and cold["callable_framework"] == "python"
    assert data["frameworks"] == ["numba"]
    assert {"scale", "total"} <= _named(cold, "numba")
    first = [u for u in cold["compiled"] if u["call"] == 0]
    assert all(u["cache"] == "miss" and u["kind"] == "compile" for u in first)
    assert all("pipe.py" in (u["location"] or "") and "predict" in u["location"] for u in first)
    assert all(u["module"] and u["signature"] for u in first)
    # the compiles are most of the first call, counted once (union, not a sum)
    assert cold["compile_ns"] >= 0.5 * cold["first_call_ns"]
    assert cold["compile_ns"] <= cold["first_call_ns"]
    assert cold["compile_ns_by_framework"]["numba"] == cold["compile_ns"]
    summ = data["states"]["cold"]["summary"]
    assert summ["compile_ns_by_framework"]["numba"] > 0
    assert {u["name"] for u in summ["compiled"]} >= {"scale", "total"}
    # cache=True inside the wrapper: the cached state runs and loads both from the disk cache
    assert "cached" not in data["skipped_states"]
    cached = proc0(data, "cached")
    loads = {u["name"] for u in cached["compiled"] if u["kind"] == "load"}
    assert loads == {"scale", "total"}
    assert all(u["cache"] == "hit" for u in cached["compiled"])
    assert cached["compile_ns"] == 0
    assert cached["cache"] == {"hits": 2, "misses": 0}
    # the result file reads back (its units checked field by field) into a report
    page = tmp_path / "pipe.html"
    proc = cli("report", str(tmp_path / "out.json"), "-o", str(page))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = page.read_text()
    assert "Waterfall" in html and "<svg" in html and "scale" in html


STUMPY = """
import numpy as np
import stumpy
import jitwarm


@jitwarm.case
def mass():
    rng = np.random.default_rng(0)
    t = rng.standard_normal(1000)
    return stumpy.mass, (t[100:150].copy(), t)
"""


@pytest.mark.slow
def test_third_party_library_with_numba_inside(tmp_path):
    """STUMPY's ``mass`` is a plain function over several ``@njit`` kernels."""
    pytest.importorskip("stumpy")
    case = write_case(tmp_path / "st.py", STUMPY)
    out = tmp_path / "st.json"
    proc = cli("profile", f"{case}::mass", *SMALL, "--json", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    cold = proc0(data, "cold")
    assert data["framework"] == "numba"
    units = [u for u in cold["compiled"] if u["call"] == 0]
    assert len(units) >= 2
    assert all(u["module"].startswith("stumpy") for u in units)
    assert all(u["cache"] == "none" for u in units)  # STUMPY compiles without cache=True
    assert all("stumpy" in (u["location"] or "") for u in units)
    assert cold["compile_ns"] >= 0.5 * cold["first_call_ns"]
    # the report names them and says why no cache holds them
    assert "top compiles" in proc.stdout
    assert "Numba function(s) in stumpy" in proc.stdout and "cache=True" in proc.stdout
    assert "stumpy.cache." in proc.stdout  # the library's own switch, found in the process


TORCH = """
import torch
import jitwarm


@jitwarm.case
def handler():
    torch.manual_seed(0)
    model = torch.compile(torch.nn.Sequential(
        torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4)))

    def handle(request):
        with torch.no_grad():
            return {"scores": model(request["x"]).tolist()}

    return handle, ({"x": torch.randn(8, 16)},)
"""


@pytest.mark.slow
def test_torch_compiled_model_inside_a_handler(tmp_path):
    pytest.importorskip("torch")
    case = write_case(tmp_path / "h.py", TORCH)
    data = profile_json(f"{case}::handler", tmp_path / "h.json", "--threads", "1")
    cold = proc0(data, "cold")
    assert data["framework"] == "torch" and cold["callable_framework"] == "python"
    units = [u for u in cold["compiled"] if u["framework"] == "torch" and u["call"] == 0]
    assert units and units[0]["name"] and "h.py" in (units[0]["location"] or "")
    assert units[0]["cache"] == "miss"
    assert cold["compile_ns"] >= 0.5 * cold["first_call_ns"]
    # Inductor wrote its caches during cold: the cached state runs and its units hit
    assert "cached" not in data["skipped_states"]
    cached = proc0(data, "cached")
    assert [u["cache"] for u in cached["compiled"] if u["framework"] == "torch"][0] == "hit"
    assert cached["first_call_ns"] < cold["first_call_ns"]


MIXED = """
import numpy as np
import jax
import jax.numpy as jnp
from numba import njit
import jitwarm


@njit
def prepare(x):
    return x * 2.0 + 1.0


@jax.jit
def score(x):
    return jnp.tanh(x).sum()


def pipeline(x):
    return score(prepare(x))


@jitwarm.case
def mixed():
    return pipeline, (np.linspace(0.0, 1.0, 256),)
"""


@pytest.mark.slow
def test_one_call_mixing_numba_and_jax(tmp_path):
    pytest.importorskip("numba")
    pytest.importorskip("jax")
    case = write_case(tmp_path / "mixed.py", MIXED)
    data = profile_json(f"{case}::mixed", tmp_path / "m.json", "--cache", "cold")
    cold = proc0(data, "cold")
    assert data["frameworks"] == ["jax", "numba"]
    by = cold["compile_ns_by_framework"]
    assert by["numba"] > 0 and by["jax"] > 0
    assert "prepare" in _named(cold, "numba")
    jax_units = [u for u in cold["compiled"] if u["framework"] == "jax"]
    assert any("score" in u["name"] for u in jax_units)
    # a JAX compile is one unit: its trace and backend compile are children
    assert any({c["kind"] for c in u.get("children", [])} >= {"trace", "backend"}
               for u in jax_units)
    assert cold["compile_ns"] >= 0.5 * cold["first_call_ns"]
    assert cold["compile_ns"] <= by["numba"] + by["jax"]


SCRIPT = """
import sys
import numpy as np
from numba import njit


@njit(cache=True)
def scale(x, w):
    return x * w


def main(n):
    x = np.arange(float(n))
    print("sum", scale(x, 2.0).sum())
    if len(sys.argv) > 2:
        raise ValueError("asked to fail")


if __name__ == "__main__":
    main(int(sys.argv[1]))
"""


@pytest.mark.slow
def test_jitwarm_run_on_a_script(tmp_path):
    pytest.importorskip("numba")
    script = write_case(tmp_path / "prog.py", SCRIPT)
    out, page = tmp_path / "run.json", tmp_path / "run.html"
    proc = cli("run", "-n", "1", "--json", str(out), "--html", str(page), "--",
               "python", str(script), "100", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    assert data["schema"] == "jitwarm.run/1"
    cold = data["states"]["cold"]["processes"][0]
    assert cold["status"] == "ok" and cold["exit_code"] == 0
    assert [u["name"] for u in cold["compiled"]] == ["scale"]
    assert cold["compiled"][0]["location"].startswith(str(script))
    assert any(i["module"] == "numba" for i in cold["imports"])
    assert cold["wall_ns"] > cold["run_ns"] >= cold["compile_ns"] > 0
    cached = data["states"]["cached"]["processes"][0]
    assert [u["kind"] for u in cached["compiled"]] == ["load"]
    assert cached["compile_ns"] == 0
    assert "cache_saves_ns" in data
    assert "top compiles" in proc.stdout and "scale" in proc.stdout
    html = page.read_text()
    assert "<svg" in html and "Waterfall" in html and "scale" in html

    # the same through `python -m jitwarm run` with a failing script: traceback once, exit 1,
    # what was measured kept
    out2 = tmp_path / "fail.json"
    proc = cli("run", "-n", "1", "--cache", "cold", "--json", str(out2), "--",
               sys.executable, str(script), "10", "fail", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.count("Traceback (most recent call last)") == 1
    assert "runpy" not in proc.stderr and "prog.py" in proc.stderr
    rec = json.loads(out2.read_text())["states"]["cold"]["processes"][0]
    assert rec["status"] == "script_error" and rec["compiled"][0]["name"] == "scale"


def test_jitwarm_run_usage_errors(tmp_path):
    for args in ([], ["python"], [str(tmp_path / "missing.py")], ["python", "-X", "x.py"]):
        proc = cli("run", "--", *args)
        assert proc.returncode == 2, (args, proc.stdout + proc.stderr)
        assert "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


HIDDEN_RECOMPILE = """
import numpy as np
from numba import njit
import jitwarm


@njit
def kernel(x):
    return x + 1


def make_handler():
    calls = [0]

    def handler(x):
        calls[0] += 1
        # the library switches dtype on its 5th call: a recompile no callable type shows
        return kernel(np.float32(x) if calls[0] == 5 else x)

    return handler


@jitwarm.case
def served():
    return make_handler(), (1.0,)
"""


@pytest.mark.slow
def test_a_budget_fires_for_a_kernel_hidden_in_a_plain_function(tmp_path):
    pytest.importorskip("numba")
    from jitwarm import profile_target
    from jitwarm.integrations.budgets import check_budgets, parse_budgets

    case = write_case(tmp_path / "served.py", HIDDEN_RECOMPILE)
    result = profile_target(f"{case}::served", processes=1, states="cold", max_calls=30)
    p = result.states["cold"]["processes"][0]
    [rec] = p["recompiles"]
    assert rec["call_index"] == 4 and rec["framework"] == "numba" and rec["name"] == "kernel"
    [check] = check_budgets(result, parse_budgets({"max_recompiles": 0}))
    assert not check.ok and check.measured == 1


def test_no_recompile_and_the_in_process_profile_see_wrapped_code():
    pytest.importorskip("numba")
    import numpy as np
    from numba import njit

    import jitwarm

    @njit
    def kernel(x):
        return x * 2

    def wrapped(x):
        return kernel(x)

    result = jitwarm.profile(wrapped, np.arange(4.0), max_calls=20)
    p = result.states["in-process"]["processes"][0]
    [unit] = [u for u in p["compiled"] if u["call"] == 0]
    assert unit["name"].endswith("<locals>.kernel") and unit["framework"] == "numba"
    assert p["compile_ns"] > 0 and p["compile_ns_by_framework"]["numba"] == p["compile_ns"]
    with pytest.raises(jitwarm.RecompileError, match="kernel"):
        with jitwarm.no_recompile():
            wrapped(np.arange(4, dtype=np.int32))  # new argument type inside the wrapper


ORT_HANDLER = """
import numpy as np
import onnxruntime as ort
import jitwarm
from jitwarm.examples.onnx_cases import mlp_model


def make_service(path):
    state = {}

    def handle(x):
        if "session" not in state:  # created lazily, inside the first request
            state["session"] = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        return state["session"].run(None, {"x": x})[0]

    return handle


@jitwarm.case
def service():
    return make_service(str(mlp_model())), (np.ones((8, 64), dtype=np.float32),)
"""


@pytest.mark.slow
def test_an_ort_session_created_inside_a_call_is_a_unit(tmp_path):
    pytest.importorskip("onnxruntime")
    case = write_case(tmp_path / "svc.py", ORT_HANDLER)
    data = profile_json(f"{case}::service", tmp_path / "svc.json", "--cache", "cold")
    cold = proc0(data, "cold")
    assert data["framework"] == "onnxruntime" and cold["callable_framework"] == "python"
    [unit] = [u for u in cold["compiled"] if u["framework"] == "onnxruntime"]
    assert unit["call"] == 0 and unit["name"].endswith(".onnx")
    assert "svc.py" in unit["location"] and "handle" in unit["location"]
    assert 0 < cold["compile_ns_by_framework"]["onnxruntime"] <= cold["first_call_ns"]


UFUNCS = """
import numpy as np
from numba import guvectorize, vectorize
import jitwarm


@guvectorize("(n)->(n)", cache=True)
def running(x, out):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
        out[i] = s


@vectorize(cache=True)
def square(x):
    return x * x


def pipeline(x):
    out = np.empty_like(x)
    running(square(x), out)
    return out


@jitwarm.case
def ufuncs():
    return pipeline, (np.arange(100.0),)
"""


@pytest.mark.slow
def test_vectorize_and_guvectorize_builds_are_units(tmp_path):
    """Numba's ufunc builders announce no numba:compile: their compiler-lock holds with
    compiler passes are the units, loads from the cache too."""
    pytest.importorskip("numba")
    case = write_case(tmp_path / "uf.py", UFUNCS)
    data = profile_json(f"{case}::ufuncs", tmp_path / "uf.json")
    cold = proc0(data, "cold")
    first = {u["name"]: u for u in cold["compiled"] if u["call"] == 0}
    assert {"square", "running"} <= set(first)
    assert all(first[n]["kind"] == "compile" and first[n]["cache"] == "miss"
               for n in ("square", "running"))
    assert cold["compile_ns"] >= 0.5 * cold["first_call_ns"]
    cached = proc0(data, "cached")
    loads = {u["name"] for u in cached["compiled"] if u["kind"] == "load"}
    assert {"square", "running"} <= loads and cached["compile_ns"] == 0


def test_run_of_a_module_and_loader_attributes(tmp_path):
    """`-m pkg.mod` runs through runpy (the real loader's get_code), and pkgutil.get_data
    sees the real loader: the import clock changes nothing a program can observe."""
    pkg = tmp_path / "tpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "data.txt").write_text("hello")
    (pkg / "work.py").write_text(
        "import pkgutil, sys\n"
        "data = pkgutil.get_data('tpkg', 'data.txt')\n"
        "assert data == b'hello', data\n"
        "sys.exit(0 if sys.argv[1:] == ['7'] else 5)\n")
    out = tmp_path / "m.json"
    proc = cli("run", "-n", "1", "--cache", "cold", "--json", str(out), "--",
               "python", "-m", "tpkg.work", "7", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rec = json.loads(out.read_text())["states"]["cold"]["processes"][0]
    assert rec["status"] == "ok" and rec["exit_code"] == 0
    proc = cli("run", "--", "python", "-m", "no_such_module_here", cwd=tmp_path)
    assert proc.returncode == 2 and "no module named" in proc.stderr
