"""AOT artifacts give the same results as the JIT path (in-process; fast frameworks only)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _craft import NUMBA_CASE, write

from jitwarm.adapters.onnxruntime import _OrtOptimised
from jitwarm.caches.aot import load, prepare
from jitwarm.cases.targets import build, load_case, resolve_target, validate_built


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
    from jitwarm._errors import UsageError
    from jitwarm.cases.targets import Built

    with pytest.raises(UsageError, match="no ahead-of-time compilation for python"):
        prepare("python", Built(fn=len, args=((),), kwargs={}), str(tmp_path))


def test_jax_export_lower_compile(tmp_path, monkeypatch):
    pytest.importorskip("jax")
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    monkeypatch.setenv("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")
    import jax

    from jitwarm.adapters import by_name
    from jitwarm.examples.jax_cases import mlp

    built = validate_built(mlp(), "mlp")
    prepare("jax", built, str(tmp_path / "art"))
    target = {"spec": "jitwarm.examples.jax_cases:mlp", "name": "mlp", "file": None,
              "module": "jitwarm.examples.jax_cases"}
    fn, args, kwargs = load(target, str(tmp_path / "art"))
    assert type(fn).__name__ == "Compiled"  # lowered and compiled in setup
    assert by_name("jax").detect(fn)  # so the measured calls are synchronised
    with by_name("jax").recorder() as rec:
        got = jax.block_until_ready(fn(*args, **kwargs))
    assert not [e for e in rec.events if e.depth == 0]  # the first call compiles nothing
    want = jax.block_until_ready(built.fn(*built.args, **built.kwargs))
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)
