"""Numba CUDA kernels under the CUDA simulator: the plumbing, honestly labelled simulated."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from _helpers import blocker, cli, one_line_error, proc0, profile_json

pytest.importorskip("numba")
SIM = {"NUMBA_ENABLE_CUDASIM": "1"}


@pytest.mark.slow
def test_simulated_kernel_end_to_end(tmp_path):
    r = profile_json("jitwarm.examples.cuda_cases:saxpy", tmp_path / "r.json",
                     "--calls", "10", env=SIM)
    assert r["framework"] == "numba-cuda"
    p = proc0(r, "cold")
    assert p["runtime"] == {"cuda_simulator": True}
    assert any("simulated and meaningless" in n for n in p["notes"])
    # the simulator compiles nothing, and jitwarm does not pretend it does
    assert p["compile_events"] == [] and p["compile_ns"] == 0
    assert p["specializations"] is None and p["function_compile_ns"] is None
    assert p["first_call_ns"] > 0 and len(p["timings_ns"]) >= 2
    assert "cached" in r["skipped_states"]


def test_detection_sync_and_results_under_simulator():
    code = textwrap.dedent("""
        import numpy as np
        from jitwarm.cases.targets import validate_built
        from jitwarm.adapters import adapter_for
        from jitwarm.adapters.numba_cuda import CudaRecorder, simulated
        from jitwarm.examples.cuda_cases import saxpy

        built = validate_built(saxpy(), "saxpy")
        a = adapter_for(built.fn)
        assert a.name == "numba-cuda" and a.needs_sync and simulated()
        with CudaRecorder() as rec:
            a.sync(built.fn(*built.args))
        assert rec.events == []
        out = built.args[3].copy_to_host()
        assert np.allclose(out, 2 * np.arange(256) + 1), out[:4]
        print("ok")
    """)
    env = {**__import__("os").environ, **SIM}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr


def test_missing_numba_one_line(tmp_path):
    proc = cli("profile", "jitwarm.examples.cuda_cases:saxpy", "--processes", "1",
               env={**blocker(tmp_path, "numba"), **SIM})
    one_line_error(proc, "numba is not installed: pip install 'jitwarm[numba]'")
