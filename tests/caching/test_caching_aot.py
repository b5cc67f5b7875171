"""AOT artifacts give the same results as the JIT path (in-process; fast frameworks only)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from jitwarm.caches.aot import MANIFEST, load, load_case, load_inputs, prepare
from jitwarm.cases.targets import validate_built


def test_onnxruntime_offline_optimised_model(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from jitwarm.examples.onnx_cases import mlp

    built = validate_built(mlp(), "mlp")
    manifest = prepare("onnxruntime", built, str(tmp_path / "art"))
    assert json.loads((tmp_path / "art" / MANIFEST).read_text()) == manifest
    assert manifest["info"]["file"] in manifest["files"]
    assert manifest["loader"] == "onnxruntime-ort" and manifest["info"]["file"].endswith(".ort")
    optimised = load(tmp_path / "art")
    args, kwargs = load_inputs(tmp_path / "art")
    (got,) = optimised(*args, **kwargs)
    assert optimised.session.get_session_options().get_session_config_entry(
        "session.load_model_format") == "ORT"
    (want,) = built.fn(*built.args)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


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
    fn, args, kwargs = load_case(target, str(tmp_path / "art"))
    assert type(fn).__name__ == "Compiled"  # lowered and compiled in setup
    assert by_name("jax").detect(fn)  # so the measured calls are synchronised
    with by_name("jax").recorder() as rec:
        got = jax.block_until_ready(fn(*args, **kwargs))
    assert not [e for e in rec.events if e.depth == 0]  # the first call compiles nothing
    want = jax.block_until_ready(built.fn(*built.args, **built.kwargs))
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)
