"""AOT artifacts give the same results as the JIT path (in-process; fast frameworks only)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _craft import NUMBA_CASE, write

from jitwarm._aot import _OrtOptimised, load, prepare
from jitwarm._case import build, load_case, resolve_target, validate_built


def test_onnxruntime_offline_optimised_model(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from jitwarm.examples.onnx_cases import mlp

    built = validate_built(mlp(), "mlp")
    info = prepare("onnxruntime", built, str(tmp_path))
    assert json.loads((tmp_path / "aot.json").read_text())["model"] == info["model"]
    optimised = _OrtOptimised(info)
    (got,) = optimised(*built.args)
    (want,) = built.fn(*built.args)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_numba_eager_signatures(tmp_path, monkeypatch):
    pytest.importorskip("numba")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    case = write(tmp_path / "kern.py", NUMBA_CASE)
    target = resolve_target(f"{case}::poly")
    built = build(load_case(target), target.name)
    info = prepare("numba", built, str(tmp_path / "art"))
    assert len(info["signatures"]) == 1 and "float64" in info["signatures"][0]
    fn, args, kwargs = load({"spec": target.spec, "name": target.name, "file": target.file,
                             "module": target.module}, str(tmp_path / "art"))
    assert len(fn.signatures) == 1  # compiled (or loaded) at decoration, before any call
    assert fn(*args) == built.fn(*built.args)


def test_unsupported_framework(tmp_path):
    from jitwarm._case import Built
    from jitwarm._errors import UsageError

    with pytest.raises(UsageError, match="no ahead-of-time compilation for python"):
        prepare("python", Built(fn=len, args=((),), kwargs={}), str(tmp_path))
