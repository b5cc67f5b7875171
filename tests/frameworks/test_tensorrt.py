"""TensorRT: without a GPU or the tensorrt package, one line says exactly what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from _helpers import blocker, cli, one_line_error, write_case

from jitwarm._errors import UsageError
from jitwarm.adapters import tensorrt as trt_adapter

MSG = "TensorRT needs an NVIDIA GPU and the tensorrt package: "


def test_missing_requirements_names_each_part(monkeypatch):
    monkeypatch.setattr(trt_adapter, "_find", lambda name: name != "tensorrt")
    monkeypatch.setattr(Path, "exists", lambda self: False)
    missing = trt_adapter.missing_requirements()
    assert any("tensorrt package is not installed" in m for m in missing)
    assert any("no NVIDIA GPU" in m for m in missing)
    assert not any("torch" in m for m in missing)
    with pytest.raises(UsageError, match="^TensorRT needs an NVIDIA GPU and the tensorrt"):
        trt_adapter.check_available()


def test_all_present_passes(monkeypatch):
    monkeypatch.setattr(trt_adapter, "_find", lambda name: True)
    monkeypatch.setattr(Path, "exists", lambda self: True)
    assert trt_adapter.missing_requirements() == []
    trt_adapter.check_available()


def test_case_returning_engine_model_one_line(tmp_path):
    if not trt_adapter.missing_requirements():
        pytest.skip("TensorRT and a GPU are present: the message does not apply")
    case = write_case(tmp_path / "case.py", """
        import jitwarm
        from jitwarm.adapters.tensorrt import TensorRTModel

        @jitwarm.case
        def engine():
            return TensorRTModel("model.onnx"), {"x": 1}
    """)
    proc = cli("profile", str(case), "--processes", "1", cwd=tmp_path, env={"COLUMNS": "300"})
    one_line_error(proc, MSG)
    assert len(proc.stderr.strip().splitlines()) == 1


def test_case_importing_tensorrt_one_line(tmp_path):
    case = write_case(tmp_path / "case.py", """
        import jitwarm

        @jitwarm.case
        def engine():
            import tensorrt  # noqa: F401
            return (lambda: None), ()
    """)
    proc = cli("profile", str(case), "--processes", "1", cwd=tmp_path,
               env=blocker(tmp_path / "block", "tensorrt"))
    one_line_error(proc, MSG)
    assert "tensorrt package" in proc.stderr
