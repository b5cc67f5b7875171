"""ONNX Runtime adapter.

ONNX Runtime compiles nothing per call: its cold start is creating the
``InferenceSession`` (loading the model, optimising the graph, creating kernels) plus the
first run. A case therefore returns a model and its input feed instead of a callable::

    return "model.onnx", {"x": x}          # or (path, ({"x": x},))

and the adapter wraps them (:meth:`OnnxRuntimeAdapter.wrap`) into an :class:`OrtModel`
whose first call creates the session and runs it, so ``first_call_ns`` = session creation
+ first run. Phases come from ONNX Runtime's own profiler (``SessionOptions.enable_profiling``:
``model_loading_uri``, ``session_initialization``), which is switched on for the session
creation and the first run only. The cache is the optimised model: a cold process saves it
through ``SessionOptions.optimized_model_filepath`` into ``JITWARM_ORT_CACHE_DIR``; a cached
process loads that file with graph optimisation off. A session's ``run`` method (bound
``InferenceSession.run``) is also recognised; its session was created during setup.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jitwarm._errors import FrameworkMissing, UsageError, shown
from jitwarm.adapters import hub
from jitwarm.adapters.base import (
    Adapter,
    Built,
    CacheLocation,
    KeyInput,
    Recorder,
    env_value,
    scan_dir,
)
from jitwarm.adapters.events import CompileEvent, Notice

CACHE_ENV = "JITWARM_ORT_CACHE_DIR"
#: an execution provider's name, as ORT spells them
_PROVIDER = re.compile(r"[A-Za-z]{1,40}ExecutionProvider")

#: process-wide log of session creations, read by recorders
_LOG: list[CompileEvent] = []
_STATS = {"hits": 0, "misses": 0}


def _cache_key(path: Path, providers: list[str]) -> str:
    import onnxruntime as ort

    h = hashlib.sha256()
    h.update(path.read_bytes())
    h.update(ort.__version__.encode())
    h.update(",".join(providers).encode())
    return h.hexdigest()[:24]


class OrtModel:
    """A model file and its feed; the first call creates the session, every call runs it."""

    def __init__(self, path: Path, providers: list[str] | None = None,
                 output_names: list[str] | None = None) -> None:
        self.path = path
        self.providers = providers or ["CPUExecutionProvider"]
        self.output_names = output_names
        self.session: Any = None
        self.__name__ = path.stem
        self.__qualname__ = f"onnxruntime:{path.name}"

    def prepare_args(self, args: Any) -> tuple[Any, ...]:
        """Normalise a feed (a dict, or a 1-tuple holding one) into call arguments."""
        if isinstance(args, dict):
            return (args,)
        if isinstance(args, (tuple, list)) and len(args) == 1 and isinstance(args[0], dict):
            return (args[0],)
        raise UsageError(
            f"an ONNX model case needs an input feed dict (name -> array) as its args, "
            f"got {type(args).__name__}"
        )

    def __call__(self, feed: dict[str, Any]) -> Any:
        if self.session is None:
            return self._create_and_run(feed)
        return self.session.run(self.output_names, feed)

    def _create_and_run(self, feed: dict[str, Any]) -> Any:
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.enable_profiling = True
        threads = os.environ.get("JITWARM_THREADS")
        if threads:
            so.intra_op_num_threads = int(threads)
        cache_dir = os.environ.get(CACHE_ENV)
        source = self.path
        cache = None
        prof_dir = Path(cache_dir) if cache_dir else Path(os.environ.get("TMPDIR", "/tmp"))
        prof_dir.mkdir(parents=True, exist_ok=True)
        so.profile_file_prefix = str(prof_dir / f"ort_profile_{os.getpid()}")
        if cache_dir:
            cached = Path(cache_dir) / f"{self.path.stem}-{_cache_key(self.path, self.providers)}.onnx"
            if cached.exists():
                source, cache = cached, "hit"
                # already optimised: do not optimise again
                so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            else:
                so.optimized_model_filepath = str(cached)
                cache = "miss"
        t0 = time.perf_counter_ns()
        self.session = ort.InferenceSession(str(source), so, providers=self.providers)
        t1 = time.perf_counter_ns()
        out = self.session.run(self.output_names, feed)
        t2 = time.perf_counter_ns()
        # stop profiling now so the warm runs are not profiled (the profile is written
        # here; its cost is part of the first call and recorded in the event)
        prof_path = self.session.end_profiling()
        t3 = time.perf_counter_ns()
        if cache == "hit":
            _STATS["hits"] += 1
        elif cache == "miss":
            _STATS["misses"] += 1
        _LOG.extend(_profile_events(prof_path, self.path.name, t0, t1, t2, t3, cache,
                                    str(source)))
        return out


def _profile_events(prof_path: str, name: str, t0: int, t1: int, t2: int, t3: int,
                    cache: str | None, source: str) -> list[CompileEvent]:
    """Session creation as a top-level event, with ORT's own profiled phases nested."""
    top = CompileEvent(
        start_ns=t0, end_ns=t1, name=name, kind="session_create", cache=cache,
        reason="new InferenceSession", depth=0,
        extra={"model": source, "profile_write_ns": t3 - t2, "first_run_ns": t2 - t1},
    )
    events = [top]
    try:
        with open(prof_path, encoding="utf-8") as f:
            prof = json.load(f)
        os.unlink(prof_path)
    except (OSError, ValueError):
        return events
    # ORT's timestamps are microseconds from its profiling start, which is during the
    # session constructor: anchor its first session event at the constructor's start
    sess = [e for e in prof if e.get("cat") == "Session"
            and e.get("name") in ("model_loading_uri", "model_loading_from_saved_proto",
                                  "session_initialization")]
    if not sess:
        return events
    base = min(int(e["ts"]) for e in sess)
    kinds = {"model_loading_uri": "model_load", "model_loading_from_saved_proto": "model_load",
             "session_initialization": "session_init"}
    for e in sess:
        s = t0 + (int(e["ts"]) - base) * 1000
        events.append(CompileEvent(
            start_ns=min(s, t1), end_ns=min(s + int(e["dur"]) * 1000, t1), name=name,
            kind=kinds[e["name"]], cache=cache, depth=1,
            extra={"ort_event": e["name"], "ort_dur_us": int(e["dur"])},
        ))
    return events


class OrtRecorder(Recorder):
    """Session creations (with their profiled phases) that happened while active."""

    def start(self) -> None:
        self._mark = len(_LOG)

    def stop(self) -> None:
        self.events = list(_LOG[self._mark:])


def install_ort_hooks(emit: Callable[[Notice], None]) -> None:
    """The hub's ONNX Runtime hook. ORT has no compile callback, so the one place every
    session is created, ``InferenceSession.__init__`` (model load, graph optimisation,
    kernel creation), is wrapped to emit a start and an end notice around it."""
    from onnxruntime import InferenceSession

    init = InferenceSession.__init__
    if getattr(init, "_jitwarm_hooked", False):
        return

    def hooked_init(self: Any, path_or_bytes: Any, *args: Any, **kwargs: Any) -> None:
        if not hub.has_subscribers():
            init(self, path_or_bytes, *args, **kwargs)
            return
        name = (Path(str(path_or_bytes)).name if isinstance(path_or_bytes, (str, os.PathLike))
                else f"<model bytes, {len(path_or_bytes)} B>")
        start = Notice("onnxruntime", "start", name, threading.get_ident(),
                       time.perf_counter_ns(), reason="new InferenceSession")
        emit(start)
        failed = True
        try:
            init(self, path_or_bytes, *args, **kwargs)
            failed = False
        finally:
            now = time.perf_counter_ns()
            emit(Notice("onnxruntime", "end", name, start.thread, now, reason=start.reason,
                        duration_ns=now - start.time_ns, extra={"failed": failed}))

    hooked_init._jitwarm_hooked = True  # type: ignore[attr-defined]
    InferenceSession.__init__ = hooked_init  # type: ignore[method-assign]


def _is_session_run(fn: Any) -> bool:
    owner = getattr(fn, "__self__", None)
    return getattr(fn, "__name__", None) == "run" and type(owner).__name__ == "InferenceSession"


# -- cache locations (jitwarm cache status / clear) ----------------------------------------
def ort_locations() -> CacheLocation:
    env = env_value("JITWARM_ORT_CACHE_DIR")
    notes = ["ONNX Runtime has no implicit compile cache; jitwarm keeps offline-optimised "
             "models (SessionOptions.optimized_model_filepath) in JITWARM_ORT_CACHE_DIR"]
    if not env:
        return CacheLocation("onnxruntime", "onnxruntime", None, "not set",
                             "JITWARM_ORT_CACHE_DIR", False, notes=notes)
    path = Path(os.path.abspath(env))
    size, files, entries = scan_dir(path, r".*\.(onnx|ort)")
    return CacheLocation("onnxruntime", "onnxruntime", path, "JITWARM_ORT_CACHE_DIR",
                         "JITWARM_ORT_CACHE_DIR", path.is_dir(), size, entries,
                         "optimised models", files, notes=notes)


#: jitwarm's ONNX Runtime cache entries: ``<model stem>-<24 hex>.onnx`` (see OrtModel)
_ORT_ENTRY = re.compile(r".+-[0-9a-f]{24}\.onnx(\.data)?|ort_profile_\d+_.*\.json")


# -- ahead-of-time compilation (the aot strategy) ----------------------------------------
def _ort_prepare(built: Built, out: Path) -> dict[str, Any]:
    """The model optimised once and saved in ORT format (``.ort``: a flatbuffer that loads
    without protobuf parsing or graph optimisation); the optimised ``.onnx`` where ORT
    format cannot hold it."""
    import onnxruntime as ort

    model = built.fn
    path = getattr(model, "path", None)
    if path is None:
        raise UsageError("not an ONNX Runtime model case")
    providers = [str(p) for p in model.providers]
    stem = re.sub(r"[^A-Za-z0-9_.+-]", "_", Path(path).stem)[:100] or "model"
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    dest = out / f"{stem}.ort"
    so.optimized_model_filepath = str(dest)
    so.add_session_config_entry("session.save_model_format", "ORT")
    try:
        ort.InferenceSession(str(path), so, providers=providers)
        return {"loader": "onnxruntime-ort", "file": dest.name, "providers": providers,
                "needs": ["onnxruntime"],
                "notes": ["ORT-format model (optimised once, ORT_ENABLE_ALL), loaded with "
                          "session.load_model_format=ORT and graph optimisation off"]}
    except Exception as exc:  # an operator ORT format cannot serialise
        dest.unlink(missing_ok=True)
        why = (str(exc).strip().splitlines() or [""])[0]
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    dest = out / f"{stem}.optimized.onnx"
    so.optimized_model_filepath = str(dest)
    ort.InferenceSession(str(path), so, providers=providers)
    return {"loader": "onnxruntime-optimized", "file": dest.name, "providers": providers,
            "needs": ["onnxruntime"],
            "notes": [f"ORT format could not hold the model ({shown(why, 160)}): the "
                      "offline-optimised .onnx is loaded with graph optimisation off"]}


class _OrtOptimised:
    """An offline-optimised model (ORT format or ``.onnx``), its session created at load
    with graph optimisation off; a call is ``session.run``."""

    def __init__(self, info: dict[str, Any], root: Path) -> None:
        import onnxruntime as ort

        self.path = str(root / info["file"])
        providers = [str(p) for p in info["providers"]]
        if not all(_PROVIDER.fullmatch(p) for p in providers):
            raise UsageError("the artifact's ONNX Runtime providers are malformed")
        self.__name__ = Path(self.path).stem
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        if info.get("loader") == "onnxruntime-ort":
            so.add_session_config_entry("session.load_model_format", "ORT")
        threads = os.environ.get("JITWARM_THREADS")
        if threads:
            so.intra_op_num_threads = int(threads)
        self.session = ort.InferenceSession(self.path, so, providers=providers)

    def __call__(self, feed: dict[str, Any]) -> Any:
        return self.session.run(None, feed)


#: what jitwarm's ONNX Runtime cache depends on besides the model and ORT's version
ORT_KEY_INPUTS = {
    "available_providers": KeyInput(
        "ONNX Runtime optimises a graph for the execution providers it has",
        "cache entries are named after the providers a case asks for: a case asking for a "
        "provider missing here does not load its optimised model", kind="set"),
    "device": KeyInput("ONNX Runtime's build device", "optimised models made for another "
                       "device's providers are not used"),
}


class OnnxRuntimeAdapter(Adapter):
    """ONNX models (wrapped into :class:`OrtModel`) and ``InferenceSession.run``."""

    name = "onnxruntime"
    extra = "onnx"
    module = "onnxruntime"
    trigger = "session creation (model load + graph optimisation) and first run"
    packages = ("onnxruntime",)
    helper_modules = ("onnx",)  # building models; missing means the same extra
    recompile_hint = "use fixed input shapes"

    cache_aliases = ("ort", "onnx")

    def cache_locations(self, sources: Path | None = None,
                        with_config: bool = False) -> list[CacheLocation]:
        return [ort_locations()]

    cache_entry_kinds = {
        "onnxruntime": "a jitwarm ONNX Runtime cache (no <model>-<hash>.onnx files)"}

    def is_cache_entry(self, kind: str, parts: tuple[str, ...]) -> bool:
        return len(parts) == 1 and _ORT_ENTRY.fullmatch(parts[0]) is not None

    key_input_fields = ORT_KEY_INPUTS

    def key_inputs(self) -> dict[str, Any]:
        import onnxruntime as ort

        return {"available_providers": [str(p) for p in ort.get_available_providers()],
                "device": str(ort.get_device())}

    supports_aot = True

    def aot_prepare(self, built: Built, out: Path, kind: str = "aot") -> dict[str, Any]:
        return _ort_prepare(built, out)

    def aot_load(self, info: dict[str, Any], root: Path, args: tuple[Any, ...],
                 kwargs: dict[str, Any], built: Built | None = None) -> Any:
        return _OrtOptimised(info, root)

    def cache_env(self, cache_dir: Path) -> dict[str, str]:
        return {CACHE_ENV: str(cache_dir / "onnxruntime")}

    def wrap(self, obj: Any, args: Any, kwargs: Any) -> Any:
        if not isinstance(obj, (str, Path)) or not str(obj).endswith(".onnx"):
            return None
        path = Path(obj)
        if not path.is_file():
            raise UsageError(f"ONNX model not found: {path}")
        try:
            # imported here, during the case's setup, so the first call does not pay it
            import onnxruntime  # noqa: F401
        except ModuleNotFoundError:
            raise FrameworkMissing("onnxruntime", "onnx") from None
        kwargs = dict(kwargs or {})
        providers = kwargs.pop("providers", None)
        output_names = kwargs.pop("output_names", None)
        if kwargs:
            raise UsageError(
                f"an ONNX model case accepts only providers= and output_names= options, "
                f"got {', '.join(sorted(kwargs))}"
            )
        model = OrtModel(path.resolve(), providers, output_names)
        return Built(fn=model, args=model.prepare_args(args), kwargs={})

    def detect(self, fn: Callable[..., Any]) -> bool:
        if isinstance(fn, (OrtModel, _OrtOptimised)):
            return True
        return self._loaded() and _is_session_run(fn)

    def recorder(self) -> Recorder:
        return OrtRecorder()

    def floor_spec(self, built: Built) -> dict[str, Any] | None:
        """The case's original model and providers: ORT's least user code creates one
        session of it (model load, graph optimisation, kernels) before any result."""
        fn = built.fn
        if not isinstance(fn, OrtModel):
            return None
        return {"model": str(fn.path), "providers": [str(p) for p in fn.providers]}

    def floor_code(self, spec: Any) -> tuple[str, str] | None:
        """``import onnxruntime`` + one ``InferenceSession`` of the original model with
        default options (what minimal user code does; ORT's default optimises the graph)."""
        if not isinstance(spec, dict):
            return None
        model, providers = spec.get("model"), spec.get("providers")
        if not (isinstance(model, str) and model.endswith(".onnx") and len(model) < 4096
                and "\x00" not in model and os.path.isabs(model)
                and isinstance(providers, list) and 0 < len(providers) <= 8
                and all(isinstance(p, str) and _PROVIDER.fullmatch(p) for p in providers)):
            return None
        return ("onnxruntime + one session",
                f"onnxruntime.InferenceSession({model!r}, providers={providers!r})\n")

    #: session creations anywhere in the process reach the hub (a library or handler that
    #: creates its session during a call is seen whatever the callable is)
    hook_module = "onnxruntime"

    def install_hooks(self, emit: Callable[[Notice], None]) -> None:
        install_ort_hooks(emit)

    def cache_stats(self, fn: Callable[..., Any]) -> dict[str, int] | None:
        if not isinstance(fn, OrtModel):
            return None
        return dict(_STATS)

    def supports_disk_cache(self, fn: Callable[..., Any]) -> bool:
        return isinstance(fn, OrtModel) and bool(os.environ.get(CACHE_ENV))

    def specializations(self, fn: Callable[..., Any]) -> int | None:
        if isinstance(fn, OrtModel):
            return 0 if fn.session is None else 1
        return 1

    def function_compile_ns(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> int | None:
        """Create fresh sessions from the original model (no cache) in the warm runtime."""
        if not isinstance(fn, OrtModel):
            return None
        import onnxruntime as ort

        times = []
        for _ in range(3):
            so = ort.SessionOptions()
            t0 = time.perf_counter_ns()
            ort.InferenceSession(str(fn.path), so, providers=fn.providers)
            times.append(time.perf_counter_ns() - t0)
        return sorted(times)[1]

    def runtime_info(self) -> dict[str, Any]:
        import onnxruntime as ort

        return {
            "providers": ort.get_available_providers(),
            "device": ort.get_device(),
        }

    def cache_notes(self) -> list[str]:
        return [
            "ONNX Runtime: the cache is the optimised model written through "
            "SessionOptions.optimized_model_filepath; the cached state loads it with graph "
            "optimisation off. ORT's profiler is on during session creation and the first "
            "run (its profile is written inside the first call)",
        ]
