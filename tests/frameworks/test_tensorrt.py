"""TensorRT: detection on the real machine, the one-line message when something is missing,
jitwarm's engine wrapper driven through its whole first call, and the real thing end to end
when a GPU and TensorRT are present.

Detection is never monkeypatched here: it runs against this machine, or in a subprocess
whose import path really lacks (or really has) a ``tensorrt`` package.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _helpers import BLOCK, cli, one_line_error, write_case

from jitwarm.adapters import tensorrt as trt_adapter

MSG = "TensorRT needs an NVIDIA GPU and the tensorrt package: "
MISSING = trt_adapter.missing_requirements()
NOT_HERE = "; ".join(MISSING)

DETECT = ("import json; from jitwarm.adapters.tensorrt import missing_requirements; "
          "print(json.dumps(missing_requirements()))")


def _detect_in(env_extra: dict[str, str]) -> list[str]:
    """missing_requirements() in a fresh interpreter with ``env_extra`` (paths prepended)."""
    env = os.environ.copy()
    paths = [env_extra.pop("PYTHONPATH")] if "PYTHONPATH" in env_extra else []
    paths += [p for p in sys.path if p.endswith("src") and (Path(p) / "jitwarm").is_dir()]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env.update(env_extra, PYTHONPATH=os.pathsep.join(paths))
    out = subprocess.run([sys.executable, "-c", DETECT], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _gpu_here() -> bool:
    """Is there an NVIDIA GPU? Asked of the driver's tool and of torch, not of jitwarm."""
    smi = shutil.which("nvidia-smi")
    if smi:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=60)
        if out.returncode == 0 and "GPU " in out.stdout:
            return True
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


def test_detection_matches_this_machine():
    import importlib.util

    assert ("no NVIDIA GPU found" in MISSING) == (not _gpu_here()), MISSING
    has_trt = subprocess.run([sys.executable, "-c", "import tensorrt"],
                             capture_output=True, timeout=120).returncode == 0
    assert any("tensorrt package is not installed" in m for m in MISSING) == (not has_trt)
    has_torch = importlib.util.find_spec("torch") is not None
    assert any("torch" in m for m in MISSING) == (not has_torch)
    if MISSING:
        with pytest.raises(trt_adapter.UsageError, match="^TensorRT needs an NVIDIA GPU"):
            trt_adapter.check_available()
    else:
        trt_adapter.check_available()


def test_unimportable_package_is_named(tmp_path):
    """A tensorrt that cannot be imported (blocked on the import path) is reported."""
    (tmp_path / "sitecustomize.py").write_text(BLOCK.format(blocked={"tensorrt"}))
    missing = _detect_in({"PYTHONPATH": str(tmp_path)})
    assert "the tensorrt package is not installed" in missing


def test_installed_package_is_found(tmp_path):
    """A tensorrt package on the import path is found (whatever the GPU situation)."""
    (tmp_path / "tensorrt").mkdir()
    (tmp_path / "tensorrt" / "__init__.py").write_text("__version__ = '0'\n")
    missing = _detect_in({"PYTHONPATH": str(tmp_path)})
    assert not any("tensorrt package" in m for m in missing), missing
    assert ("no NVIDIA GPU found" in missing) == ("no NVIDIA GPU found" in MISSING)


def test_case_returning_engine_model_one_line(tmp_path):
    if not MISSING:
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
    for m in MISSING:
        assert m in proc.stderr


def test_case_importing_tensorrt_one_line(tmp_path):
    case = write_case(tmp_path / "case.py", """
        import jitwarm

        @jitwarm.case
        def engine():
            import tensorrt  # noqa: F401
            return (lambda: None), ()
    """)
    block = tmp_path / "block"
    block.mkdir()
    (block / "sitecustomize.py").write_text(BLOCK.format(blocked={"tensorrt"}))
    proc = cli("profile", str(case), "--processes", "1", cwd=tmp_path,
               env={"PYTHONPATH": os.pathsep.join([str(block), *[
                   p for p in sys.path if p.endswith("src") and (Path(p) / "jitwarm").is_dir()]])})
    one_line_error(proc, MSG)
    assert "tensorrt package" in proc.stderr


# -- jitwarm's engine wrapper, with TensorRT and CUDA stood in for -----------------------------
#
# Without a GPU, TrtEngine's first call (parse, build, serialise to the cache, deserialise,
# bind buffers, run) would never execute in CI. Here the `tensorrt` module is a stand-in whose
# "engine" runs the ONNX model with onnx's reference evaluator through the very device
# addresses jitwarm binds, and torch's CUDA calls stay on the CPU. What is tested is jitwarm's
# side: the build/cache/deserialise flow, its compile events, the buffers and the results.


class _Ctx:
    def __init__(self, engine: _Engine) -> None:
        self.engine = engine
        self.addr: dict[str, int] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}

    def set_input_shape(self, name: str, shape: tuple[int, ...]) -> None:
        self.shapes[name] = tuple(shape)

    def set_tensor_address(self, name: str, ptr: int) -> None:
        self.addr[name] = ptr

    def get_tensor_shape(self, name: str) -> tuple[int, ...]:
        feed = {k: np.zeros(s, np.float32) for k, s in self.shapes.items()}
        return self.engine.run(feed)[self.engine.outputs.index(name)].shape

    def execute_async_v3(self, stream: int) -> bool:
        feed = {}
        for name, shape in self.shapes.items():
            n = int(np.prod(shape))
            buf = (ctypes.c_float * n).from_address(self.addr[name])
            feed[name] = np.ctypeslib.as_array(buf).reshape(shape).copy()
        for name, out in zip(self.engine.outputs, self.engine.run(feed), strict=True):
            out = np.ascontiguousarray(out, np.float32)
            ctypes.memmove(self.addr[name], out.ctypes.data, out.nbytes)
        return True


class _Engine:
    def __init__(self, onnx_bytes: bytes) -> None:
        import onnx
        from onnx.reference import ReferenceEvaluator

        model = onnx.load_from_string(onnx_bytes)
        self.inputs = [i.name for i in model.graph.input]
        self.outputs = [o.name for o in model.graph.output]
        self.ref = ReferenceEvaluator(model)
        self.num_io_tensors = len(self.inputs) + len(self.outputs)

    def run(self, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self.ref.run(None, feed)

    def get_tensor_name(self, i: int) -> str:
        return (self.inputs + self.outputs)[i]

    def get_tensor_mode(self, name: str) -> str:
        return "INPUT" if name in self.inputs else "OUTPUT"

    def get_tensor_dtype(self, name: str) -> str:
        return "float32"

    def create_execution_context(self) -> _Ctx:
        return _Ctx(self)


def _stand_in_tensorrt(counts: dict[str, int]) -> types.ModuleType:
    trt = types.ModuleType("tensorrt")
    trt.__version__ = "stand-in"
    magic = b"STAND-IN ENGINE\n"

    class Logger:
        WARNING = 2

        def __init__(self, level: int) -> None:
            pass

    class Runtime:
        def __init__(self, logger: Logger) -> None:
            pass

        def deserialize_cuda_engine(self, data: bytes) -> _Engine:
            counts["deserialize"] += 1
            assert bytes(data).startswith(magic), "not an engine this stand-in serialised"
            return _Engine(bytes(data)[len(magic):])

    class Network:
        onnx = b""

    class Parser:
        num_errors = 0

        def __init__(self, network: Network, logger: Logger) -> None:
            self.network = network

        def parse(self, data: bytes) -> bool:
            self.network.onnx = data
            return True

    class Timing:
        def __init__(self, data: bytes) -> None:
            self.data = data or b"timing"

        def serialize(self) -> bytes:
            return self.data

    class Config:
        def set_memory_pool_limit(self, *a: Any) -> None: ...
        def set_flag(self, *a: Any) -> None: ...
        def add_optimization_profile(self, p: Any) -> None: ...

        def create_timing_cache(self, data: bytes) -> Timing:
            return Timing(data)

        def set_timing_cache(self, t: Timing, ignore_mismatch: bool) -> None:
            self.timing = t

        def get_timing_cache(self) -> Timing:
            return self.timing

    class Profile:
        def set_shape(self, *a: Any) -> None: ...

    class Builder:
        def __init__(self, logger: Logger) -> None:
            pass

        def create_network(self, flags: int) -> Network:
            return Network()

        def create_builder_config(self) -> Config:
            return Config()

        def create_optimization_profile(self) -> Profile:
            return Profile()

        def build_serialized_network(self, network: Network, config: Config) -> bytes:
            counts["build"] += 1
            return magic + network.onnx

    trt.Logger, trt.Runtime, trt.Builder, trt.OnnxParser = Logger, Runtime, Builder, Parser
    trt.MemoryPoolType = types.SimpleNamespace(WORKSPACE=0)
    trt.BuilderFlag = types.SimpleNamespace(FP16=0)
    trt.TensorIOMode = types.SimpleNamespace(INPUT="INPUT", OUTPUT="OUTPUT")
    trt.nptype = np.dtype
    return trt


@pytest.fixture
def stand_in(monkeypatch, tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    counts = {"build": 0, "deserialize": 0}
    monkeypatch.setitem(sys.modules, "tensorrt", _stand_in_tensorrt(counts))
    # the device side stays on the CPU; TensorRT's own detection is not what is tested here
    monkeypatch.setattr(trt_adapter, "check_available", lambda: None)
    monkeypatch.setattr(torch.Tensor, "cuda", lambda self, *a, **k: self)
    empty = torch.empty
    monkeypatch.setattr(torch, "empty",
                        lambda *a, device=None, **k: empty(*a, **k))
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "stand-in GPU")
    monkeypatch.setattr(torch.cuda, "current_stream",
                        lambda *a: types.SimpleNamespace(cuda_stream=0))
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *a: None)
    monkeypatch.setenv(trt_adapter.CACHE_ENV, str(tmp_path / "trt-cache"))
    return counts


def test_engine_wrapper_builds_caches_and_runs(stand_in, tmp_path):
    from jitwarm.examples.onnx_cases import mlp_model
    from jitwarm.measure.process import Settings, measure

    model_path = mlp_model(tmp_path / "mlp.onnx")
    x = np.random.default_rng(1).standard_normal((8, 64)).astype(np.float32)
    adapter = trt_adapter.TensorRTAdapter()
    settings = Settings(max_calls=30, max_time_s=0.5, min_calls=10, exact_calls=10)

    def one_process() -> tuple[dict[str, Any], Any]:
        built = adapter.wrap(trt_adapter.TensorRTModel(model_path), {"x": x}, {})
        assert adapter.detect(built.fn)
        return measure(built, adapter, settings), built

    cold, built = one_process()
    assert stand_in == {"build": 1, "deserialize": 1}
    kinds = [e["kind"] for e in cold["compile_events"]]
    assert {"parse", "build", "deserialize", "execution_context", "engine"} <= set(kinds), kinds
    assert cold["compile_ns"] > 0 and cold["cache"]["misses"] == 1
    assert cold["first_call_ns"] > cold["warm_median_ns"] > 0
    from onnx.reference import ReferenceEvaluator

    (want,) = ReferenceEvaluator(str(model_path)).run(None, {"x": x})
    got = built.fn({"x": x})["y"].numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)

    cached, built = one_process()  # a second process: the engine comes from the cache
    assert stand_in == {"build": 1, "deserialize": 2}
    kinds = [e["kind"] for e in cached["compile_events"]]
    assert "build" not in kinds and "deserialize" in kinds, kinds
    assert cached["cache"]["hits"] == 1
    assert len(list((tmp_path / "trt-cache").glob("*.engine"))) == 1
    np.testing.assert_allclose(built.fn({"x": x})["y"].numpy(), want, rtol=1e-5, atol=1e-6)


# -- the real thing ----------------------------------------------------------------------------

E2E_CASE = """
import numpy as np
import jitwarm
from jitwarm.adapters.tensorrt import TensorRTModel
from jitwarm.examples.onnx_cases import mlp_model

@jitwarm.case
def engine():
    x = np.random.default_rng(1).standard_normal((32, 64)).astype(np.float32)
    return TensorRTModel(mlp_model()), {"x": x}
"""


@pytest.mark.slow
@pytest.mark.skipif(bool(MISSING), reason=f"TensorRT end to end needs them: {NOT_HERE}")
def test_tensorrt_end_to_end(tmp_path):
    """Real TensorRT on a real GPU: cold builds the engine, cached deserialises it, and the
    engine computes what onnxruntime computes."""
    case = write_case(tmp_path / "trt_case.py", E2E_CASE)
    out = tmp_path / "r.json"
    proc = cli("profile", f"{case}::engine", "--processes", "1", "--calls", "200",
               "--max-time", "2", "--cache", "cold,cached", "--quiet", "--no-history",
               "--json", str(out), cwd=tmp_path, timeout=1200)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    r = json.loads(out.read_text())
    assert r["framework"] == "tensorrt"
    cold = r["states"]["cold"]["processes"][0]
    cached = r["states"]["cached"]["processes"][0]
    assert cold["status"] == "ok" and cached["status"] == "ok", (cold, cached)
    kinds = {e["kind"] for e in cold["compile_events"]}
    assert {"parse", "build", "deserialize"} <= kinds, kinds
    assert cold["cache"]["misses"] == 1 and cached["cache"]["hits"] == 1
    assert "build" not in {e["kind"] for e in cached["compile_events"]}
    assert cold["first_call_ns"] > 10 * cold["warm_median_ns"] > 0
    assert cached["first_call_ns"] < cold["first_call_ns"]

    script = textwrap.dedent("""
        import numpy as np, onnxruntime as ort, torch
        from jitwarm.adapters.tensorrt import TensorRTModel, TensorRTAdapter
        from jitwarm.examples.onnx_cases import mlp_model
        x = np.random.default_rng(1).standard_normal((32, 64)).astype(np.float32)
        b = TensorRTAdapter().wrap(TensorRTModel(mlp_model()), {"x": x}, {})
        y = b.fn(*b.args)["y"]; torch.cuda.synchronize()
        want = ort.InferenceSession(str(mlp_model())).run(None, {"x": x})[0]
        print(float(np.abs(y.cpu().numpy() - want).max()))
    """)
    check = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           timeout=1200, cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert float(check.stdout.strip().splitlines()[-1]) < 1e-3
