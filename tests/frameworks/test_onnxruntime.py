"""ONNX Runtime: session creation as the cold start, the optimised model as the cache."""

from __future__ import annotations

import pytest
from _helpers import blocker, cli, one_line_error, proc0, profile_json, write_case

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
    out = tmp_path_factory.mktemp("ort") / "mlp.json"
    return profile_json("jitwarm.examples.onnx_cases:mlp", out)


@pytest.mark.slow
def test_cold_session_phases(mlp):
    assert mlp["framework"] == "onnxruntime"
    p = proc0(mlp, "cold")
    top = [e for e in p["compile_events"] if e["depth"] == 0]
    assert len(top) == 1 and top[0]["kind"] == "session_create" and top[0]["cache"] == "miss"
    phases = {e["kind"]: e["duration_ns"] for e in p["compile_events"] if e["depth"] == 1}
    assert phases.get("model_load", 0) > 0 and phases.get("session_init", 0) > 0
    # the first call is session creation plus the first run
    assert p["first_call_ns"] >= top[0]["duration_ns"] + top[0]["extra"]["first_run_ns"]
    assert p["compile_ns"] == top[0]["duration_ns"]
    assert p["cache"] == {"hits": 0, "misses": 1}
    assert p["warm_median_ns"] < p["first_call_ns"] / 10


@pytest.mark.slow
def test_cached_loads_optimised_model(mlp):
    cached = proc0(mlp, "cached")
    assert cached["cache"] == {"hits": 1, "misses": 0}
    top = [e for e in cached["compile_events"] if e["depth"] == 0]
    assert top[0]["cache"] == "hit" and "/onnxruntime/" in top[0]["extra"]["model"]


def test_in_process_model_path(tmp_path):
    import numpy as np

    import jitwarm
    from jitwarm.examples.onnx_cases import mlp_model

    path = mlp_model(tmp_path / "m.onnx", hidden=16)
    r = jitwarm.profile(str(path), {"x": np.ones((4, 64), np.float32)}, max_calls=60,
                        max_time_s=1)
    p = r.states["in-process"]["processes"][0]
    assert r.framework == "onnxruntime" and p["compile_ns"] > 0
    assert p["cache"] == {"hits": 0, "misses": 0}  # no cache directory in-process
    assert not p["disk_cache"]


def test_bad_feed_and_missing_model(tmp_path):
    import jitwarm
    from jitwarm.examples.onnx_cases import mlp_model

    with pytest.raises(jitwarm.UsageError, match="ONNX model not found"):
        jitwarm.profile(str(tmp_path / "nope.onnx"), {"x": 1})
    path = mlp_model(tmp_path / "m.onnx", hidden=8)
    with pytest.raises(jitwarm.UsageError, match="input feed dict"):
        jitwarm.profile(str(path), 3)


def test_missing_onnxruntime_one_line(tmp_path):
    case = write_case(tmp_path / "case.py", """
        import jitwarm

        @jitwarm.case
        def model():
            return "model.onnx", {"x": 1}
    """)
    (tmp_path / "model.onnx").write_bytes(b"not read")
    proc = cli("profile", str(case), "--processes", "1", cwd=tmp_path,
               env=blocker(tmp_path / "block", "onnxruntime"))
    one_line_error(proc, "onnxruntime is not installed: pip install 'jitwarm[onnx]'")
