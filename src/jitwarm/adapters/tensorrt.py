"""TensorRT adapter (NVIDIA GPUs only).

A case returns a :class:`TensorRTModel` (an ONNX file to build an engine from) and its
input feed::

    from jitwarm.adapters.tensorrt import TensorRTModel
    return TensorRTModel("model.onnx"), {"x": x}

The adapter wraps it into a callable whose first call is TensorRT's cold start: parsing
the ONNX model, building the engine (``builder.build_serialized_network``, the expensive
part: tactic timing), deserialising it (``runtime.deserialize_cuda_engine``) and the first
inference. Each step is a compile event. The cache directory (``JITWARM_TRT_CACHE_DIR``)
holds the serialized engine and TensorRT's timing cache: a cached process deserialises
the engine instead of building it. Device buffers are torch CUDA tensors; every call is
synchronised with ``torch.cuda.synchronize()``.

Without an NVIDIA GPU or the ``tensorrt`` package the case stops with one line saying
exactly what is missing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jitwarm._errors import UsageError
from jitwarm.adapters import hub
from jitwarm.adapters.base import Adapter, Recorder
from jitwarm.adapters.events import CompileEvent, Notice

CACHE_ENV = "JITWARM_TRT_CACHE_DIR"
_LOG: list[CompileEvent] = []
_STATS = {"hits": 0, "misses": 0}


class TensorRTModel:
    """An ONNX model to be built into a TensorRT engine (what a case returns)."""

    def __init__(self, onnx_path: str | Path, *, fp16: bool = False,
                 workspace_bytes: int = 1 << 30) -> None:
        self.onnx_path = Path(onnx_path)
        self.fp16 = fp16
        self.workspace_bytes = workspace_bytes


def _find(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def missing_requirements() -> list[str]:
    """What this machine lacks for TensorRT (empty when everything is there)."""
    missing = []
    if not _find("tensorrt"):
        missing.append("the tensorrt package is not installed")
    gpu = any(Path(p).exists() for p in ("/dev/nvidia0", "/proc/driver/nvidia/version"))
    if not gpu:
        missing.append("no NVIDIA GPU found")
    if not _find("torch"):
        missing.append("torch (with CUDA) is needed for the device buffers")
    return missing


def check_available() -> None:
    """Raise the one-line UsageError when TensorRT cannot run here."""
    missing = missing_requirements()
    if missing:
        raise UsageError("TensorRT needs an NVIDIA GPU and the tensorrt package: " + "; ".join(missing))


class TrtEngine:
    """First call: build (or load) the engine and run; later calls: run the engine."""

    def __init__(self, model: TensorRTModel) -> None:
        self.model = model
        self.context: Any = None
        self.__name__ = model.onnx_path.stem
        self.__qualname__ = f"tensorrt:{model.onnx_path.name}"

    def prepare_args(self, args: Any) -> tuple[Any, ...]:
        if isinstance(args, dict):
            return (args,)
        if isinstance(args, (tuple, list)) and len(args) == 1 and isinstance(args[0], dict):
            return (args[0],)
        raise UsageError("a TensorRT case needs an input feed dict (name -> array) as its args")

    def __call__(self, feed: dict[str, Any]) -> Any:
        if self.context is None:
            self._build(feed)
        self.context.execute_async_v3(self._stream.cuda_stream)
        return self._outputs

    def _event(self, t0: int, t1: int, kind: str, cache: str | None, depth: int = 1,
               **extra: Any) -> None:
        _LOG.append(CompileEvent(start_ns=t0, end_ns=t1, name=self.__qualname__, kind=kind,
                                 cache=cache, depth=depth, extra=extra))

    def _build(self, feed: dict[str, Any]) -> None:  # pragma: no cover - needs a GPU
        import numpy as np
        import tensorrt as trt
        import torch

        t_start = time.perf_counter_ns()
        logger = trt.Logger(trt.Logger.WARNING)
        runtime = trt.Runtime(logger)
        onnx_bytes = self.model.onnx_path.read_bytes()
        shapes = {k: tuple(v.shape) for k, v in feed.items()}
        key = hashlib.sha256(onnx_bytes + repr(sorted(shapes.items())).encode()
                             + trt.__version__.encode()
                             + torch.cuda.get_device_name().encode()
                             + str(self.model.fp16).encode()).hexdigest()[:24]
        cache_dir = Path(os.environ[CACHE_ENV]) if os.environ.get(CACHE_ENV) else None
        engine_file = cache_dir / f"{self.__name__}-{key}.engine" if cache_dir else None
        timing_file = cache_dir / "timing.cache" if cache_dir else None
        if engine_file is not None and engine_file.exists():
            t0 = time.perf_counter_ns()
            engine = runtime.deserialize_cuda_engine(engine_file.read_bytes())
            self._event(t0, time.perf_counter_ns(), "deserialize", "hit")
            _STATS["hits"] += 1
            cache = "hit"
        else:
            cache = "miss"
            _STATS["misses"] += 1
            t0 = time.perf_counter_ns()
            builder = trt.Builder(logger)
            network = builder.create_network(0)
            parser = trt.OnnxParser(network, logger)
            if not parser.parse(onnx_bytes):
                errs = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
                raise RuntimeError(f"TensorRT could not parse {self.model.onnx_path}: {errs}")
            config = builder.create_builder_config()
            config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, self.model.workspace_bytes)
            if self.model.fp16:
                config.set_flag(trt.BuilderFlag.FP16)
            profile = builder.create_optimization_profile()
            for name, shape in shapes.items():
                profile.set_shape(name, shape, shape, shape)
            config.add_optimization_profile(profile)
            timing_bytes = timing_file.read_bytes() if timing_file and timing_file.exists() else b""
            timing = config.create_timing_cache(timing_bytes)
            config.set_timing_cache(timing, ignore_mismatch=False)
            t1 = time.perf_counter_ns()
            self._event(t0, t1, "parse", None)
            serialized = builder.build_serialized_network(network, config)
            t2 = time.perf_counter_ns()
            if serialized is None:
                raise RuntimeError("TensorRT failed to build the engine")
            self._event(t1, t2, "build", "hit" if timing_bytes else "miss",
                        timing_cache="loaded" if timing_bytes else "empty")
            if cache_dir is not None:
                cache_dir.mkdir(parents=True, exist_ok=True)
                engine_file.write_bytes(bytes(serialized))  # type: ignore[union-attr]
                timing_file.write_bytes(bytes(config.get_timing_cache().serialize()))  # type: ignore[union-attr]
            t3 = time.perf_counter_ns()
            engine = runtime.deserialize_cuda_engine(serialized)
            self._event(t3, time.perf_counter_ns(), "deserialize", None)
        t0 = time.perf_counter_ns()
        context = engine.create_execution_context()
        self._inputs = {}
        self._outputs = {}
        for i in range(engine.num_io_tensors):
            name = engine.get_tensor_name(i)
            if engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT:
                t = torch.as_tensor(feed[name]).cuda()
                context.set_input_shape(name, tuple(t.shape))
                self._inputs[name] = t
                context.set_tensor_address(name, t.data_ptr())
        for i in range(engine.num_io_tensors):
            name = engine.get_tensor_name(i)
            if engine.get_tensor_mode(name) == trt.TensorIOMode.OUTPUT:
                dtype = torch.from_numpy(
                    np.empty(0, trt.nptype(engine.get_tensor_dtype(name)))
                ).dtype
                out = torch.empty(tuple(context.get_tensor_shape(name)), dtype=dtype,
                                  device="cuda")
                self._outputs[name] = out
                context.set_tensor_address(name, out.data_ptr())
        self._stream = torch.cuda.current_stream()
        self._engine = engine
        self.context = context
        self._event(t0, time.perf_counter_ns(), "execution_context", None)
        _LOG.append(CompileEvent(start_ns=t_start, end_ns=time.perf_counter_ns(),
                                 name=self.__qualname__, kind="engine", cache=cache, depth=0,
                                 reason="engine built for input shapes "
                                        + ", ".join(f"{k}{list(v)}" for k, v in shapes.items())))


def install_trt_hooks(emit: Callable[[Notice], None]) -> None:
    """The hub's TensorRT hook. TensorRT has no compile callback: the two calls that turn a
    network into an engine are wrapped — ``Builder.build_serialized_network`` (the tactic
    timing: a compile) and ``Runtime.deserialize_cuda_engine`` (a load of a built engine).
    A TensorRT whose classes refuse the wrapper raises here: the hub reports it once."""
    import tensorrt as trt

    build = trt.Builder.build_serialized_network
    if getattr(build, "_jitwarm_hooked", False):
        return
    load = trt.Runtime.deserialize_cuda_engine

    def hooked_build(self: Any, network: Any, config: Any) -> Any:
        if not hub.has_subscribers():
            return build(self, network, config)
        name = str(getattr(network, "name", "") or "engine")[:200]
        start = Notice("tensorrt", "start", name, threading.get_ident(),
                       time.perf_counter_ns(), reason="engine build (tactic timing)")
        emit(start)
        failed = True
        try:
            out = build(self, network, config)
            failed = out is None
            return out
        finally:
            now = time.perf_counter_ns()
            emit(Notice("tensorrt", "end", name, start.thread, now, reason=start.reason,
                        duration_ns=now - start.time_ns, extra={"failed": failed}))

    def hooked_load(self: Any, blob: Any) -> Any:
        if not hub.has_subscribers():
            return load(self, blob)
        t0 = time.perf_counter_ns()
        out = load(self, blob)
        now = time.perf_counter_ns()
        emit(Notice("tensorrt", "span", "engine", threading.get_ident(), now, kind="load",
                    duration_ns=now - t0, extra={"cache": "hit"}))
        return out

    hooked_build._jitwarm_hooked = True  # type: ignore[attr-defined]
    trt.Builder.build_serialized_network = hooked_build
    trt.Runtime.deserialize_cuda_engine = hooked_load


class TrtRecorder(Recorder):
    def start(self) -> None:
        self._mark = len(_LOG)

    def stop(self) -> None:
        self.events = list(_LOG[self._mark:])


class TensorRTAdapter(Adapter):
    """ONNX models built into TensorRT engines (:class:`TensorRTModel`)."""

    name = "tensorrt"
    extra = None
    module = "tensorrt"
    needs_sync = True
    trigger = "engine build (tactic timing) or deserialisation, then first inference"
    packages = ("tensorrt",)

    def missing_message(self) -> str:
        missing = missing_requirements() or ["the tensorrt package could not be imported"]
        return "TensorRT needs an NVIDIA GPU and the tensorrt package: " + "; ".join(missing)

    def cache_env(self, cache_dir: Path) -> dict[str, str]:
        return {CACHE_ENV: str(cache_dir / "tensorrt")}

    def wrap(self, obj: Any, args: Any, kwargs: Any) -> Any:
        if not isinstance(obj, TensorRTModel):
            return None
        check_available()
        from jitwarm.adapters.base import Built

        if not obj.onnx_path.is_file():
            raise UsageError(f"ONNX model not found: {obj.onnx_path}")
        engine = TrtEngine(obj)
        return Built(fn=engine, args=engine.prepare_args(args), kwargs={})

    def detect(self, fn: Callable[..., Any]) -> bool:
        return isinstance(fn, TrtEngine)

    def sync(self, result: Any) -> None:  # pragma: no cover - needs a GPU
        import torch

        torch.cuda.synchronize()

    #: engine builds anywhere in the process reach the hub (a plain function building an
    #: engine with TensorRT's own API is seen whatever the callable is)
    hook_module = "tensorrt"

    def install_hooks(self, emit: Callable[[Notice], None]) -> None:
        install_trt_hooks(emit)

    def recorder(self) -> Recorder:
        return TrtRecorder()

    def cache_stats(self, fn: Callable[..., Any]) -> dict[str, int] | None:
        return dict(_STATS) if isinstance(fn, TrtEngine) else None

    def supports_disk_cache(self, fn: Callable[..., Any]) -> bool:
        return bool(os.environ.get(CACHE_ENV))

    def specializations(self, fn: Callable[..., Any]) -> int | None:
        return 1 if isinstance(fn, TrtEngine) and fn.context is not None else 0

    def runtime_info(self) -> dict[str, Any]:  # pragma: no cover - needs a GPU
        import torch

        return {"device": torch.cuda.get_device_name()}

    def cache_notes(self) -> list[str]:
        return ["TensorRT: the cache holds the serialized engine and the timing cache; "
                "engines are specific to this GPU, TensorRT version and input shapes"]
