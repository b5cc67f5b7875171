"""``torch.compile`` adapter (Dynamo + AOTAutograd + Inductor).

Compile events come from Dynamo's own per-frame compilation metrics
(``torch._dynamo.utils.get_compilation_metrics()``): one top-level event per compiled
frame, with phases split from the metrics' cumulative times — Dynamo tracing, AOTAutograd,
Inductor lowering and Inductor code generation (C++/Triton compile). Cache hits and misses
come from ``torch._dynamo.utils.counters`` (Inductor's FX-graph cache and the AOTAutograd
cache); recompile reasons (guard failures) from ``CompilationMetrics.recompile_reason``.
Inductor's on-disk cache is redirected with ``TORCHINDUCTOR_CACHE_DIR`` (and Triton's with
``TRITON_CACHE_DIR``).
"""

from __future__ import annotations

import ast
import getpass
import os
import re
import sys
import tempfile
import threading
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jitwarm._errors import UsageError, shown
from jitwarm.adapters import hub
from jitwarm.adapters.base import (
    Adapter,
    Built,
    CacheLocation,
    FunctionCompileUnverified,
    KeyDifference,
    KeyInput,
    Recorder,
    capture_logs,
    env_flag,
    env_value,
    hashlike,
    scan_dir,
)
from jitwarm.adapters.events import CompileEvent, Notice, clock_offset_ns, union_ns

#: (phase kind, own-duration function of the metrics) in the order the phases run
_PHASES = ("dynamo_trace", "aot_autograd", "inductor_lowering", "inductor_codegen")


def _input_shapes(m: Any) -> str | None:
    """The compiled graph's user inputs and their shapes, from ``graph_node_shapes``."""
    text = getattr(m, "graph_node_shapes", None)
    if not text:
        return None
    try:
        shapes = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    if not isinstance(shapes, dict):
        return None
    inputs = {
        k: v
        for k, v in shapes.items()
        if k.startswith("l_") and "parameters" not in k and "buffers" not in k
    }
    return ", ".join(f"{k[2:].rstrip('_')}{list(v)}" for k, v in inputs.items()) or None


def _us(m: Any, field: str) -> int:
    v = getattr(m, field, None)
    return int(v) if v else 0


def metrics_to_events(m: Any, offset_ns: int) -> list[CompileEvent]:
    """One compiled frame's ``CompilationMetrics`` as a top-level event plus its phases.

    Dynamo reports cumulative times (Dynamo ⊃ AOTAutograd ⊃ Inductor ⊃ code generation);
    each phase's own time is its cumulative time less the next one's. The metrics give
    only the frame's start and durations, so phases are laid out back to back from the
    start (their order is the order Dynamo runs them); ``extra["phase_offsets"]`` says so.
    """
    start_us = getattr(m, "start_time_us", None)
    if start_us is None:
        return []
    start = int(start_us) * 1000 - offset_ns
    total_us = _us(m, "duration_us") or _us(m, "dynamo_cumulative_compile_time_us")
    end_us = getattr(m, "end_time_us", None)
    end = int(end_us) * 1000 - offset_ns if end_us else start + total_us * 1000
    dyn = _us(m, "dynamo_cumulative_compile_time_us") or total_us
    aot = _us(m, "aot_autograd_cumulative_compile_time_us")
    ind = _us(m, "inductor_cumulative_compile_time_us")
    gen = _us(m, "inductor_code_gen_cumulative_compile_time_us")
    own = {
        "dynamo_trace": max(0, dyn - aot),
        "aot_autograd": max(0, aot - ind),
        "inductor_lowering": max(0, ind - gen),
        "inductor_codegen": gen,
    }
    hits = _us(m, "inductor_fx_local_cache_hit_count") + _us(m, "aotautograd_local_cache_hit_count")
    misses = _us(m, "inductor_fx_local_cache_miss_count") + _us(
        m, "aotautograd_local_cache_miss_count"
    )
    cache = "hit" if hits and not misses else ("miss" if misses else None)
    name = f"{m.co_name} ({Path(m.co_filename).name}:{m.co_firstlineno})" if getattr(
        m, "co_name", None
    ) else "frame"
    sig = _input_shapes(m)
    reason = getattr(m, "recompile_reason", None)
    if reason:  # the guard that failed; drop Dynamo's appended user stack trace
        reason = " ".join(reason.split("User stack trace:")[0].split())
    if reason is None and getattr(m, "fail_reason", None):
        reason = f"compile failed: {m.fail_reason}"
    if reason is None:
        reason = "first compile of this frame"
    extra: dict[str, Any] = {
        "compile_id": getattr(m, "compile_id", None),
        "graph_op_count": getattr(m, "graph_op_count", None),
        "guard_count": getattr(m, "guard_count", None),
        "has_guarded_code": getattr(m, "has_guarded_code", None),
        "cpp_or_triton_compile_ns": _us(m, "triton_compile_time_us") * 1000 or None,
        "cache_hits": hits,
        "cache_misses": misses,
    }
    events = [
        CompileEvent(
            start_ns=start, end_ns=end, name=name, kind="compile", signature=sig,
            cache=cache, reason=reason, depth=0, extra=extra,
        )
    ]
    t = start
    for kind in _PHASES:
        dur = own[kind] * 1000
        if dur <= 0:
            continue
        events.append(
            CompileEvent(
                start_ns=t, end_ns=min(end, t + dur), name=name, kind=kind, signature=sig,
                cache=cache, reason=None, depth=1,
                extra={"phase_offsets": "laid out back to back from Dynamo's durations"},
            )
        )
        t += dur
    return events


class TorchRecorder(Recorder):
    """Collects the compilation metrics Dynamo recorded while active."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[int] = set()
        self._offset = 0

    def start(self) -> None:
        from torch._dynamo.utils import get_compilation_metrics

        self._offset = clock_offset_ns()
        self._seen = {id(m) for m in get_compilation_metrics()}

    def stop(self) -> None:
        from torch._dynamo.utils import get_compilation_metrics

        for m in get_compilation_metrics():
            if id(m) in self._seen or getattr(m, "is_runtime", False):
                continue
            self._seen.add(id(m))
            self.events.extend(metrics_to_events(m, self._offset))


def _is_compiled(fn: Any) -> bool:
    return hasattr(fn, "_torchdynamo_orig_callable") or (
        hasattr(fn, "_orig_mod") and type(fn).__name__ == "OptimizedModule"
    )


def _reset_dynamo() -> None:
    """``torch._dynamo.reset()`` without losing the registered compile callbacks (the hub's
    and the user's): reset clears them along with the code caches."""
    import torch
    from torch._dynamo.callback import callback_handler

    starts = list(callback_handler.start_callbacks)
    ends = list(callback_handler.end_callbacks)
    torch._dynamo.reset()
    for cb in starts:
        if cb not in callback_handler.start_callbacks:
            callback_handler.register_start_callback(cb)
    for cb in ends:
        if cb not in callback_handler.end_callbacks:
            callback_handler.register_end_callback(cb)


def _built_kernels(folder: str) -> int:
    """Compiled kernel libraries (``*.so``, ``*.pyd``, Triton ``*.cubin``/``*.hsaco``) under
    ``folder``, which was empty before the compile: how many this compile built."""
    if not folder or not os.path.isdir(folder):
        return 0
    n = 0
    for _root, _dirs, files in os.walk(folder):
        n += sum(1 for f in files if f.endswith((".so", ".pyd", ".cubin", ".hsaco")))
    return n


def install_torch_hooks(emit: Callable[[Notice], None]) -> None:
    """The hub's torch hook: Dynamo's compile start/end callbacks as notices."""
    from torch._dynamo.callback import callback_handler

    open_: dict[str, Notice] = {}

    def on_start(args: Any) -> None:
        if not hub.has_subscribers():
            return
        cid = str(getattr(args, "compile_id", "?"))
        name, module = _torch_frame_name()
        # compile ids are "frame/attempt": attempt > 0 is a recompile of the same frame
        attempt = cid.rsplit("/", 1)[-1]
        recompile = attempt.isdigit() and int(attempt) > 0
        reason = "recompile (a guard of the compiled code failed)" if recompile else "first compile"
        notice = Notice("torch", "start", name, threading.get_ident(), time.perf_counter_ns(),
                        reason=reason, recompile=recompile,
                        extra={"compile_id": cid, "module": module,
                               "trigger": str(getattr(args, "callback_trigger", "")),
                               "counts": _torch_cache_counts()})
        open_[cid] = notice
        emit(notice)

    def on_end(args: Any) -> None:
        cid = str(getattr(args, "compile_id", "?"))
        start = open_.pop(cid, None)
        if start is None or not hub.has_subscribers():
            return
        now = time.perf_counter_ns()
        before = start.extra.get("counts") or {}
        delta = {k: v - before.get(k, 0) for k, v in _torch_cache_counts().items()}
        # Inductor's own counters say whether this compile's graphs came from its caches
        cache = ("miss" if delta.get("miss") else "hit" if delta.get("hit") else
                 "bypass" if delta.get("bypass") else None)
        extra = {k: v for k, v in start.extra.items() if k != "counts"}
        emit(Notice("torch", "end", start.function, start.thread, now, reason=start.reason,
                     recompile=start.recompile, duration_ns=now - start.time_ns,
                     extra={**extra, "cache": cache, "cache_counts": delta}))

    callback_handler.register_start_callback(on_start)
    callback_handler.register_end_callback(on_end)


def _torch_frame_name() -> tuple[str, str | None]:
    """The qualified name and module of the frame Dynamo is compiling."""
    f = sys._getframe(2)
    while f is not None:
        code = f.f_locals.get("code")
        if isinstance(code, types.CodeType):
            frame = f.f_locals.get("frame")
            glb = getattr(frame, "f_globals", None) or f.f_locals.get("globals")
            module = glb.get("__name__") if isinstance(glb, dict) else None
            return (code.co_qualname if hasattr(code, "co_qualname") else code.co_name), module
        f = f.f_back
    return "?", None


def _torch_cache_counts() -> dict[str, int]:
    """Inductor's FX-graph and AOTAutograd cache counters (hits, misses, bypasses) now."""
    try:
        from torch._dynamo.utils import counters
    except ImportError:  # pragma: no cover - a torch without them
        return {}
    ind, aot = counters["inductor"], counters["aot_autograd"]
    return {"hit": ind["fxgraph_cache_hit"] + aot["autograd_cache_hit"],
            "miss": ind["fxgraph_cache_miss"] + aot["autograd_cache_miss"],
            "bypass": ind["fxgraph_cache_bypass"] + aot["autograd_cache_bypass"]}


# -- cache locations (jitwarm cache status / clear) ----------------------------------------
def inductor_dir() -> tuple[Path, str]:
    """Inductor's cache directory and how it was resolved (as ``cache_dir_utils.cache_dir``)."""
    env = env_value("TORCHINDUCTOR_CACHE_DIR")
    if env is not None:
        return Path(os.path.abspath(env)), "TORCHINDUCTOR_CACHE_DIR"
    try:
        user = getpass.getuser()
    except (KeyError, ModuleNotFoundError, OSError):
        user = f"uid_{os.getuid()}" if hasattr(os, "getuid") else "unknown_user"
    user = re.sub(r'[\\/:*?"<>|]', "_", user)
    return Path(tempfile.gettempdir()) / f"torchinductor_{user}", "default (<tempdir>/torchinductor_<user>)"


def triton_dir() -> tuple[Path, str]:
    env = env_value("TRITON_CACHE_DIR")
    if env is not None:
        return Path(os.path.abspath(env)), "TRITON_CACHE_DIR"
    return inductor_dir()[0] / "triton", "default under Inductor (<inductor dir>/triton/<device>)"


def torch_locations(with_config: bool = False) -> list[CacheLocation]:
    path, source = inductor_dir()
    warnings: list[str] = []
    notes: list[str] = []
    settings: dict[str, Any] = {}
    for var in ("TORCHINDUCTOR_FX_GRAPH_CACHE", "TORCHINDUCTOR_AUTOGRAD_CACHE",
                "TORCHINDUCTOR_FORCE_DISABLE_CACHES", "TORCHINDUCTOR_FX_GRAPH_CACHE_DEFAULT",
                "TORCH_COMPILE_DISABLE", "TORCHDYNAMO_DISABLE"):
        if env_value(var) is not None:
            settings[var] = os.environ[var]
    if env_flag("TORCHINDUCTOR_FX_GRAPH_CACHE") is False:
        warnings.append("TORCHINDUCTOR_FX_GRAPH_CACHE=0: Inductor's FX-graph cache is off")
    if env_flag("TORCHINDUCTOR_AUTOGRAD_CACHE") is False:
        warnings.append("TORCHINDUCTOR_AUTOGRAD_CACHE=0: the AOTAutograd cache is off")
    if env_flag("TORCHINDUCTOR_FORCE_DISABLE_CACHES"):
        warnings.append("TORCHINDUCTOR_FORCE_DISABLE_CACHES=1: every Inductor cache is off")
    if env_flag("TORCH_COMPILE_DISABLE") or env_flag("TORCHDYNAMO_DISABLE"):
        warnings.append("torch.compile is disabled by the environment: nothing compiles")
    if with_config:
        try:
            import torch._functorch.config as fconfig  # noqa: I001 - lazy, on request only
            import torch._inductor.config as iconfig

            settings["config.fx_graph_cache"] = bool(iconfig.fx_graph_cache)
            settings["config.force_disable_caches"] = bool(iconfig.force_disable_caches)
            settings["config.enable_autograd_cache"] = bool(fconfig.enable_autograd_cache)
            if not iconfig.fx_graph_cache and not any("FX_GRAPH" in w for w in warnings):
                warnings.append("torch._inductor.config.fx_graph_cache is False")
            if iconfig.force_disable_caches and not any("FORCE" in w for w in warnings):
                warnings.append("torch._inductor.config.force_disable_caches is True")
            notes.append("settings read from torch's config (torch was imported)")
        except ImportError:
            notes.append("torch is not installed: settings from the environment only")
    size, files, _ = scan_dir(path)
    fx = scan_dir(path / "fxgraph")[1]
    aot = scan_dir(path / "aotautograd")[1]
    inductor = CacheLocation(
        "torch", "inductor", path, source, "TORCHINDUCTOR_CACHE_DIR", path.is_dir(), size,
        fx + aot, "FX-graph + AOTAutograd entries", files, warnings,
        notes + [f"fxgraph entries: {fx}, aotautograd entries: {aot}; generated C++/Triton "
                 "sources and their compiled .so files sit beside them — Mega-Cache "
                 "(torch.compiler.save_cache_artifacts) leaves the .so files out, so move the "
                 "whole directory (`jitwarm bundle`); compare both with `jitwarm profile "
                 "--strategies bundle,mega-cache`"], settings)
    tpath, tsource = triton_dir()
    tsize, tfiles, tentries = scan_dir(tpath, r".*\.json")
    triton = CacheLocation("torch", "triton", tpath, tsource, "TRITON_CACHE_DIR",
                           tpath.is_dir(), tsize, tentries, "kernel metadata (.json)", tfiles,
                           [], ["GPU kernels only (Triton); empty on CPU"])
    return [inductor, triton]


#: Inductor's own folders in its cache directory (torch/_inductor: codecache.py,
#: cache_dir_utils.py, cpp_builder.py, runtime/, _functorch/_aot_autograd, _dynamo)
_INDUCTOR_DIRS = frozenset({
    "fxgraph", "aotautograd", "triton", "locks", "cache", "dynamo", "gcc",
    "unhashed_kernel_inputs", "precompiled_headers", "aoti_eager", "torch_cutlass",
})
_INDUCTOR_FILES = frozenset({"memoizer_cache.json", "memoizer_cache.lock"})
# -- remote caches (Redis) ------------------------------------------------------------------
#: Inductor's remote caches: (what, the variable that turns it on, the class whose name keys
#: Inductor's counters ``torch._inductor.remote_cache.cache_stats``). torch reads each
#: variable as a tri-state: exactly ``1`` on, ``0`` off, anything else "not set".
REMOTE_CACHES = (
    ("FX graph", "TORCHINDUCTOR_FX_GRAPH_REMOTE_CACHE", "RemoteFxGraphCache"),
    ("AOTAutograd", "TORCHINDUCTOR_AUTOGRAD_REMOTE_CACHE", "RemoteAOTAutogradCache"),
    ("autotuning", "TORCHINDUCTOR_AUTOTUNE_REMOTE_CACHE", "RemoteAutotuneCache"),
    ("bundled autotuning", "TORCHINDUCTOR_BUNDLED_AUTOTUNE_REMOTE_CACHE",
     "RemoteBundledAutotuneCache"),
    ("Dynamo PGO", "TORCH_DYNAMO_AUTOMATIC_DYNAMIC_REMOTE_PGO", "RemoteDynamoPGOCache"),
)
#: the caches the ``remote-cache`` strategy turns on (the others are variants of these or
#: need a profile-guided setup of their own)
_REMOTE_ON = ("TORCHINDUCTOR_FX_GRAPH_REMOTE_CACHE", "TORCHINDUCTOR_AUTOGRAD_REMOTE_CACHE",
              "TORCHINDUCTOR_AUTOTUNE_REMOTE_CACHE")
#: where Inductor's Redis backend connects (torch/_inductor/remote_cache.py,
#: ``RedisRemoteCacheBackend``): the URL when set, else host and port
REDIS_VARS = ("TORCHINDUCTOR_REDIS_URL", "TORCHINDUCTOR_REDIS_HOST", "TORCHINDUCTOR_REDIS_PORT")


def remote_cache_env(url: str | None) -> dict[str, str]:
    """The variables that turn Inductor's remote caches on, pointed at ``url`` (its URL
    variable wins over host and port), or, with ``None``, every remote cache off."""
    if url is None:
        return {var: "0" for _, var, _ in REMOTE_CACHES}
    return {**{var: "1" for var in _REMOTE_ON}, "TORCHINDUCTOR_REDIS_URL": url}


def redis_target() -> tuple[str, str]:
    """The Redis server Inductor would connect to now, and the variables that say so."""
    url = os.environ.get("TORCHINDUCTOR_REDIS_URL")
    if url is not None:
        return url, "TORCHINDUCTOR_REDIS_URL"
    host = os.environ.get("TORCHINDUCTOR_REDIS_HOST", "localhost")
    port = os.environ.get("TORCHINDUCTOR_REDIS_PORT", "6379")
    given = [v for v in ("TORCHINDUCTOR_REDIS_HOST", "TORCHINDUCTOR_REDIS_PORT")
             if v in os.environ]
    host_part = f"[{host}]" if ":" in host else host
    return (f"redis://{host_part}:{port}",
            " and ".join(given) if given else "torch's default (localhost:6379)")


def torch_remote_caches() -> list[Any]:
    """Inductor's remote caches the environment turns on (``jitwarm cache status``)."""
    from jitwarm.adapters.remote import RemoteCache

    on: list[str] = []
    notes: list[str] = []
    for what, var, _ in REMOTE_CACHES:
        value = os.environ.get(var)
        if value == "1":
            on.append(f"{what} ({var}=1)")
        elif value not in (None, "0"):
            notes.append(f"{var}={shown(value, 40)!r} does nothing: torch reads only 1 or 0")
    if not on:
        return []
    if env_flag("TORCHINDUCTOR_FORCE_DISABLE_CACHES"):
        notes.append("TORCHINDUCTOR_FORCE_DISABLE_CACHES=1 turns the remote caches off too")
    url, source = redis_target()
    return [RemoteCache("torch", on, url, source, notes=notes)]


def _remote_counters() -> dict[str, dict[str, int]]:
    """Inductor's own counters of its remote caches, per cache (hit, miss, put, exception)."""
    from torch._inductor.remote_cache import cache_stats

    stats = getattr(cache_stats, "_stats", {})
    out: dict[str, dict[str, int]] = {}
    for what, _, cls in REMOTE_CACHES:
        st = stats.get(cls)
        if st is not None:
            out[what] = {k: int(getattr(st, k, 0)) for k in ("hit", "miss", "put", "exception")}
    return out


def _remote_on() -> bool:
    """Whether this process's Inductor uses a remote cache (its config, as set from the
    environment at import)."""
    try:
        import torch._functorch.config as fconfig
        import torch._inductor.config as iconfig
    except ImportError:  # pragma: no cover - torch without Inductor
        return False
    return bool(iconfig.fx_graph_remote_cache or iconfig.autotune_remote_cache
                or iconfig.bundled_autotune_remote_cache
                or fconfig.enable_remote_autograd_cache)


def _remote_runtime() -> dict[str, Any]:
    """This process's remote caches after its measurement: Inductor's counters per cache,
    whether the server answers now, and whether Inductor dropped its AOTAutograd cache's
    connection (it does so silently on a connection error and counts every later lookup
    as a miss)."""
    from jitwarm.adapters.remote import masked, ping

    url, source = redis_target()
    info: dict[str, Any] = {"server": masked(url), "server_from": source,
                            "caches": _remote_counters()}
    info["problem"] = ping(url)
    info["answers"] = info["problem"] is None
    dropped = None
    try:
        from torch._functorch._aot_autograd.autograd_cache import AOTAutogradCache

        getter = AOTAutogradCache.get_remote_cache
        if getter.cache_info().currsize:  # created by this process's compile: its instance
            backend = getattr(getter(), "backend", None)
            if backend is not None and hasattr(backend, "_redis"):
                dropped = backend._redis is None
    except Exception:  # pragma: no cover - layout differs across versions
        dropped = None
    info["dropped_connection"] = dropped
    return info


# -- why a cached run still compiled (jitwarm cache explain) ----------------------------
TORCH_LOGGERS = ("torch._inductor.codecache", "torch._functorch._aot_autograd.autograd_cache")


def torch_after_call(messages: list[str], cache_root: Path | None) -> list[str]:
    from torch._dynamo.utils import counters

    out: list[str] = []
    ind = counters["inductor"]
    aot = counters["aot_autograd"]
    for msg in messages:
        if msg.startswith(("Bypassing FX Graph Cache", "Bypassing autograd cache")):
            out.append(f"torch: {msg}")
    misses = [m for m in messages if m.startswith("fx graph cache miss")]
    hits = [m for m in messages if m.startswith("fx graph cache hit")]
    out.append(f"torch: FX-graph cache {ind['fxgraph_cache_hit']} hit / "
               f"{ind['fxgraph_cache_miss']} miss / {ind['fxgraph_cache_bypass']} bypass; "
               f"AOTAutograd cache {aot['autograd_cache_hit']} hit / "
               f"{aot['autograd_cache_miss']} miss / {aot['autograd_cache_bypass']} bypass")
    for m in misses[:5]:
        key = m.rsplit(" ", 1)[-1]
        line = f"torch: {m}"
        if cache_root is not None:
            fx = cache_root / "torchinductor" / "fxgraph"
            # the miss has just written its own entry under its key: not an "other" one
            n = sum(1 for p in fx.glob("*/*") if p.name != key) if fx.is_dir() else 0
            line += (f"; the cache holds {n} other FX-graph entr{'y' if n == 1 else 'ies'} — "
                     "something in the key changed (torch version, config, graph, input "
                     "shapes/strides, device)" if n else "; the cache holds no other FX-graph "
                     "entry: this graph was never compiled into this cache")
        out.append(line)
    details = [m for m in messages if m.startswith("FX graph cache hash details")]
    if misses and details:
        body = details[0].splitlines()[1:8]
        out.append("torch: key components of the missed graph: " + "; ".join(s.strip() for s in body))
    if aot["autograd_cache_miss"] and not aot["autograd_cache_hit"] and not misses:
        # every FX graph hit, yet AOTAutograd missed: the forward-only-with-grad case
        out.append("torch: the AOTAutograd cache missed. It writes an entry for a graph whose "
                   "inputs require grad only once the backward is compiled, so forward-only "
                   "(inference) processes never write one and re-run Dynamo's joint-graph "
                   "passes every time: run inference under torch.inference_mode()/no_grad() "
                   "or call model.requires_grad_(False)")
    if hits and not misses:
        out.append("torch: every FX graph hit; what is left is Dynamo tracing, AOTAutograd and "
                   "loading the compiled modules")
    return out


# -- cache-key inputs (jitwarm cache diff) -----------------------------------------------
_TORCH_RECOMPILES = "every compiled graph misses Inductor's caches and compiles again"
TORCH_KEY_INPUTS = {
    "torch_key": KeyInput("Inductor's keys include a hash of torch's own files (torch_key)",
                          _TORCH_RECOMPILES, "use the same torch build on both sides"),
    "cuda": KeyInput("Inductor's keys include the CUDA version torch was built with",
                     _TORCH_RECOMPILES),
    "hip": KeyInput("Inductor's keys include the ROCm (HIP) version torch was built with",
                    _TORCH_RECOMPILES),
    "gpu": KeyInput("Inductor's keys include the GPU's name", _TORCH_RECOMPILES),
    "compute_capability": KeyInput("GPU kernels are compiled for the GPU's compute "
                                   "capability", "Triton kernels compile again"),
    "triton": KeyInput("Inductor's keys include Triton's version", _TORCH_RECOMPILES),
    "system_hash": KeyInput("Inductor's keys include its system hash (GPU name, CUDA/ROCm "
                            "and Triton versions)", _TORCH_RECOMPILES),
    "inductor_config": KeyInput("Inductor's FX-graph keys include its config "
                                "(torch._inductor.config)", _TORCH_RECOMPILES,
                                "use the same TORCHINDUCTOR_* settings on both sides",
                                kind="map"),
    "inductor_config_hash": KeyInput("Inductor's FX-graph keys include its config (hash of "
                                     "its portable config)", _TORCH_RECOMPILES),
    "cpu_capability": KeyInput("Inductor generates C++ kernels for the CPU's vector ISA",
                               "kernels for another ISA are generated and built again"),
    "float32_matmul_precision": KeyInput("Inductor's keys include "
                                         "torch.get_float32_matmul_precision()",
                                         _TORCH_RECOMPILES),
    "deterministic_algorithms": KeyInput("Inductor's keys include "
                                         "torch.are_deterministic_algorithms_enabled()",
                                         _TORCH_RECOMPILES),
}


def _portable_inductor_config() -> dict[str, Any]:
    import torch._inductor.config as iconfig

    try:  # what FxGraphHashDetails hashes
        return dict(iconfig.save_config_portable(ignore_private_configs=False,
                                                 readonly_values=True))
    except TypeError:  # an older torch
        return dict(iconfig.save_config_portable())


def torch_key_inputs() -> dict[str, Any]:
    """What Inductor's FX-graph and AOTAutograd keys hold of this process besides the graph:
    ``torch_key`` (torch's own files), the system info (GPU name, CUDA/ROCm and Triton
    versions, as ``CacheBase.get_system``), the portable Inductor config (and a hash of it
    made here), matmul precision, deterministic algorithms, and the CPU's vector ISA."""
    import hashlib
    import json

    import torch

    out: dict[str, Any] = {
        "cuda": torch.version.cuda,
        "hip": torch.version.hip,
        "cpu_capability": str(torch.backends.cpu.get_cpu_capability()),
        "float32_matmul_precision": str(torch.get_float32_matmul_precision()),
        "deterministic_algorithms": bool(torch.are_deterministic_algorithms_enabled()),
    }
    try:
        from torch._inductor.codecache import CacheBase, torch_key

        out["torch_key"] = torch_key().hex()
        system = CacheBase.get_system()
        out["system_hash"] = str(system.get("hash"))
        out["gpu"] = (system.get("device") or {}).get("name")
        triton = (system.get("version") or {}).get("triton")
        out["triton"] = None if triton is None else str(triton)[:200]
    except Exception:  # pragma: no cover - Inductor's internals differ across versions
        pass
    if torch.cuda.is_available() and torch.cuda.device_count():
        major, minor = torch.cuda.get_device_capability()
        out["compute_capability"] = f"{major}.{minor}"
    portable = _portable_inductor_config()
    # every setting (a difference is named by its settings; the defaults of some follow
    # environment variables), and a hash of the whole config, values uncut
    out["inductor_config"] = {k: repr(v)[:200] for k, v in sorted(portable.items())}
    out["inductor_config_hash"] = hashlib.sha256(json.dumps(
        {k: repr(v) for k, v in sorted(portable.items())}).encode()).hexdigest()
    return out


# -- ahead-of-time compilation (the aot strategy) ----------------------------------------
def _module_of(built: Built) -> Any:
    """The eager module behind a ``torch.compile``d callable (a function is wrapped in one)."""
    import torch

    fn = built.fn
    orig = getattr(fn, "_orig_mod", None) or getattr(fn, "_torchdynamo_orig_callable", None) or fn
    if not isinstance(orig, torch.nn.Module):
        func = orig

        class _Wrap(torch.nn.Module):
            def forward(self, *a: Any, **k: Any) -> Any:
                return func(*a, **k)

        orig = _Wrap()
        # the modules the function uses become the wrapper's own, so that their weights
        # are parameters of it: torch.jit.trace refuses weights that require grad as
        # constants ("Cannot insert a Tensor that requires grad as a constant")
        for i, mod in enumerate(_modules_used(func, torch.nn.Module)):
            orig.add_module(f"used_{i}", mod)
    return orig


def _modules_used(func: Any, module_type: type) -> list[Any]:
    """The ``nn.Module`` objects a function refers to: in its closure, and the globals its
    code names (one level: what a handler wrapping a model looks like)."""
    code = getattr(func, "__code__", None)
    if code is None:
        return []
    seen: dict[int, Any] = {}
    cells = [c.cell_contents for c in (getattr(func, "__closure__", None) or ())
             if _cell_filled(c)]
    glb = getattr(func, "__globals__", {}) or {}
    for value in [*cells, *(glb[n] for n in code.co_names if n in glb)]:
        if isinstance(value, module_type):
            seen.setdefault(id(value), value)
    return list(seen.values())


def _cell_filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


def _torchscript_prepare(built: Built, out: Path) -> dict[str, Any]:
    """``torch.jit.trace`` the eager module with the case's arguments and ``torch.jit.save`` it."""
    import warnings

    import torch

    if built.kwargs:
        raise UsageError("torch.jit.trace takes positional arguments only; the case passes "
                         "keyword arguments")
    notes = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", torch.jit.TracerWarning)
        try:
            traced = torch.jit.trace(_module_of(built), tuple(built.args))
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [""])[0]
            raise UsageError(f"torch.jit.trace could not trace it ({type(exc).__name__}: "
                             f"{shown(first, 160)})") from None
    tracer = [w for w in caught if issubclass(w.category, torch.jit.TracerWarning)]
    if tracer:
        notes.append(f"torch.jit.trace warned {len(tracer)} time(s) (first: "
                     f"{shown(str(tracer[0].message).splitlines()[0], 160)}): the traced graph "
                     "may not generalise to other inputs")
    torch.jit.save(traced, str(out / "model.torchscript.pt"))
    return {"loader": "torch-torchscript", "file": "model.torchscript.pt", "needs": ["torch"],
            "device": _device_of(built),
            "notes": ["torch.jit.trace + torch.jit.save, loaded with torch.jit.load; the "
                      "profiling executor profiles the first call(s) and re-optimises the "
                      "graph on a later one", *notes]}


def _torch_prepare(built: Built, out: Path, kind: str = "aot") -> dict[str, Any]:
    import torch

    if kind == "torchscript":
        return _torchscript_prepare(built, out)
    orig = _module_of(built)
    ep = torch.export.export(orig, tuple(built.args), dict(built.kwargs))
    torch._inductor.aoti_compile_and_package(ep, package_path=str(out / "model.pt2"))
    return {"loader": "torch-aoti", "file": "model.pt2", "needs": ["torch"],
            "device": _device_of(built), "input_specs": _input_specs(ep),
            "notes": ["torch.export + AOTInductor package model.pt2, loaded through "
                      "torch._C._aoti.AOTIModelPackageLoader (Dynamo and Inductor are not "
                      "imported)"]}


def _input_specs(ep: Any) -> list[dict[str, Any]]:
    """Shape (``None`` for a dynamic dimension) and dtype of each tensor the exported
    program takes, in call order: AOTInductor's runtime does not check them (pytorch#141115:
    another shape runs and returns wrong results), so :class:`AotiPackage` does."""
    import torch

    user = set(ep.graph_signature.user_inputs)
    specs = []
    for node in ep.graph.nodes:
        if node.op != "placeholder" or node.name not in user:
            continue
        val = node.meta.get("val")
        if isinstance(val, torch.Tensor):
            specs.append({"shape": [d if isinstance(d, int) else None for d in val.shape],
                          "dtype": str(val.dtype).removeprefix("torch.")})
    return specs


def _device_of(built: Built) -> str:
    """The device type of the case's first tensor argument (``cpu`` without one)."""
    import torch

    for a in (*built.args, *built.kwargs.values()):
        if isinstance(a, torch.Tensor):
            return str(a.device.type)
    return "cpu"


class AotiPackage:
    """An AOTInductor ``.pt2`` package run through the C++ package loader.

    ``torch._inductor.aoti_load_package`` imports Inductor (and with it Dynamo) to do the
    same; this keeps to ``torch._C._aoti.AOTIModelPackageLoader`` and ``torch.utils._pytree``
    for the call spec, so loading costs the shared library's load and nothing else.
    """

    def __init__(self, path: Path, input_specs: Any = None) -> None:
        import torch
        from torch.utils import _pytree as pytree

        self._pytree = pytree
        self._tensor = torch.Tensor
        self._specs = _checked_specs(input_specs)
        self.loader = torch._C._aoti.AOTIModelPackageLoader(str(path), "model", False, 1, -1)
        in_spec, out_spec = (pytree.treespec_loads(s) for s in self.loader.get_call_spec())
        self._out_spec = out_spec
        kw = in_spec.child(1) if in_spec.num_children == 2 else None
        self._kw_order = list(kw.context) if kw is not None and kw.context else []
        self.__name__ = path.stem

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        ordered = {k: kwargs[k] for k in self._kw_order if k in kwargs}
        flat = self._pytree.tree_flatten((args, ordered))[0]
        flat = [x for x in flat if isinstance(x, self._tensor)]
        if self._specs is not None:
            self._check(flat)
        return self._pytree.tree_unflatten(self.loader.boxed_run(flat), self._out_spec)

    def _check(self, flat: list[Any]) -> None:
        """Refuse inputs the package was not compiled for (it would run them anyway)."""
        specs = self._specs or []
        if len(flat) != len(specs):
            raise ValueError(f"{self.__name__}.pt2 was exported for {len(specs)} tensor "
                             f"input(s), not {len(flat)}")
        for i, (x, spec) in enumerate(zip(flat, specs, strict=True)):
            shape, dtype = spec
            got = tuple(x.shape)
            if (len(got) != len(shape) or any(w is not None and w != g
                                              for w, g in zip(shape, got, strict=True))
                    or str(x.dtype).removeprefix("torch.") != dtype):
                want = "(" + ", ".join("*" if w is None else str(w) for w in shape) + ")"
                raise ValueError(
                    f"{self.__name__}.pt2 was exported for input {i} of shape {want} {dtype}, "
                    f"not {got} {str(x.dtype).removeprefix('torch.')}: AOTInductor does not "
                    "check shapes and would return wrong results; export with dynamic "
                    "shapes (torch.export Dim) or pad inputs to the exported shape")


def _checked_specs(specs: Any) -> list[tuple[tuple[int | None, ...], str]] | None:
    """A manifest's ``input_specs`` (hostile until checked), or None when absent/malformed
    (an artifact from before they were recorded: no check, as AOTInductor itself)."""
    if not isinstance(specs, list) or len(specs) > 10_000:
        return None
    out = []
    for s in specs:
        shape = s.get("shape") if isinstance(s, dict) else None
        dtype = s.get("dtype") if isinstance(s, dict) else None
        if (not isinstance(shape, list) or len(shape) > 64 or not isinstance(dtype, str)
                or len(dtype) > 40 or not all(d is None or (isinstance(d, int)
                                                            and not isinstance(d, bool)
                                                            and d >= 0) for d in shape)):
            return None
        out.append((tuple(shape), dtype))
    return out


# -- no_recompile: torch's own fail_on_recompile stance ------------------------------
# the stance is one global: reference-count the raising guards that set it
_torch_lock = threading.Lock()
_torch_users = 0
_torch_stance: Any = None


def _torch_acquire() -> bool:
    global _torch_users, _torch_stance
    if "torch._dynamo" not in sys.modules:  # torch.compile never used in this process
        return False
    import torch

    with _torch_lock:
        if _torch_users == 0:
            _torch_stance = torch.compiler.set_stance("fail_on_recompile")
        _torch_users += 1
    return True


def _torch_release() -> None:
    global _torch_users, _torch_stance
    with _torch_lock:
        _torch_users -= 1
        if _torch_users == 0 and _torch_stance is not None:
            _torch_stance.__exit__(None, None, None)
            _torch_stance = None


_TORCH_MSG = "stance is 'fail_on_recompile'"


def _from_torch(exc: BaseException) -> tuple[str | None, str] | None:
    text = str(exc)
    if _TORCH_MSG not in text:
        return None
    m = re.search(r"function name: '([^']*)'", text)
    fn = m.group(1) if m else None
    reasons = [ln.strip()[2:] for ln in text.splitlines() if ln.strip().startswith("- ")]
    return fn, "; ".join(reasons) if reasons else "first compile of this frame"


class TorchAdapter(Adapter):
    """Callables returned by ``torch.compile`` (``OptimizedModule`` or wrapped functions)."""

    name = "torch"
    extra = "torch"
    module = "torch"
    hook_module = "torch._dynamo"  # only once torch.compile is in use (importing Dynamo costs seconds)
    trigger = "first call; new shapes/dtypes (guard failures) recompile"
    packages = ("torch",)
    recompile_hint = ("pin the shapes (pad batches to a few fixed sizes) or mark dimensions "
                      "dynamic (torch._dynamo.mark_dynamic / torch.compile(dynamic=True))")

    def install_hooks(self, emit: Callable[[Notice], None]) -> None:
        install_torch_hooks(emit)

    @property  # type: ignore[override]
    def needs_sync(self) -> bool:
        """Synchronise only when CUDA is in use in this process (inputs on a GPU)."""
        torch = sys.modules.get("torch")
        return bool(torch is not None and torch.cuda.is_initialized())

    cache_aliases = ("inductor", "torch.compile", "triton")

    def cache_locations(self, sources: Path | None = None,
                        with_config: bool = False) -> list[CacheLocation]:
        return torch_locations(with_config)

    cache_entry_kinds = {
        "inductor": "an Inductor cache (no fxgraph/aotautograd/locks/<hash> entries)",
        "triton": "a Triton cache (no <hash> kernel folders)",
    }

    def is_cache_entry(self, kind: str, parts: tuple[str, ...]) -> bool:
        name = parts[-1]
        if kind == "triton":  # [<device>/]<hash>/<kernel files>
            return any(hashlike(p) for p in parts)
        if len(parts) == 1:
            return name in _INDUCTOR_FILES or hashlike(name)
        top = parts[0]
        if top in _INDUCTOR_DIRS:  # fxgraph/<xx>/<key>/<hash>, locks/<hash>.lock, ...
            return any(hashlike(p) for p in parts[1:])
        # generated code: <xx>/<prefix><hash>.<ext>, xx being the hash's 2nd and 3rd letters
        return (re.fullmatch(r"[a-z0-9]{2}", top) is not None and hashlike(parts[1])
                and parts[1][1:3] == top)

    def install_destinations(self, home: Path) -> dict[str, tuple[Path | None, str]]:
        return {"TORCHINDUCTOR_CACHE_DIR": inductor_dir(), "TRITON_CACHE_DIR": triton_dir()}

    def explain_first_call(self, fn: Callable[..., Any], args: tuple[Any, ...],
                           kwargs: dict[str, Any], cache_root: Path | None,
                           call: Callable[[], Any]) -> tuple[Any, list[str]]:
        with capture_logs(TORCH_LOGGERS) as msgs:
            result = call()
        return result, torch_after_call(msgs, cache_root)

    key_input_fields = TORCH_KEY_INPUTS

    def key_inputs(self) -> dict[str, Any]:
        return torch_key_inputs()

    def key_differences(self, a: dict[str, Any], b: dict[str, Any],
                        sides: tuple[str, str]) -> list[KeyDifference]:
        out = super().key_differences(a, b, sides)
        found = {d.input for d in out}
        if found & {"gpu", "cuda", "hip", "triton"}:  # the system hash is made of them
            out = [d for d in out if d.input != "system_hash"]
        if "inductor_config" in found:  # the settings are named: their hash adds nothing
            out = [d for d in out if d.input != "inductor_config_hash"]
        return out

    key_source_effect = ("torch.compile keys hold the traced graph: a function whose graph "
                         "changed compiles again (edits that leave it the same still hit)")

    supports_aot = True
    aot_kinds = ("torchscript",)

    def aot_prepare(self, built: Built, out: Path, kind: str = "aot") -> dict[str, Any]:
        return _torch_prepare(built, out, kind)

    def aot_load(self, info: dict[str, Any], root: Path, args: tuple[Any, ...],
                 kwargs: dict[str, Any], built: Built | None = None) -> Any:
        if info.get("loader") == "torch-torchscript":
            import torch

            return torch.jit.load(str(root / info["file"]))
        return AotiPackage(root / info["file"], info.get("input_specs"))

    array_kind = "torch"

    def is_array(self, x: Any) -> bool:
        mod = type(x).__module__ or ""
        return mod.startswith("torch") and hasattr(x, "shape") and hasattr(x, "new_full")

    def from_numpy(self, arr: Any, device: str | None = None, like: Any = None) -> Any:
        import numpy as np
        import torch

        t = torch.from_numpy(np.ascontiguousarray(arr))
        where = device if device is not None else getattr(like, "device", None)
        return t.to(where) if where is not None else t

    def to_numpy(self, x: Any) -> Any:
        return x.detach().cpu().numpy()

    def pad_array(self, x: Any, dim: int, to: int, value: Any) -> Any:
        import torch

        shape = list(x.shape)
        shape[dim] = to - x.shape[dim]
        return torch.cat([x, x.new_full(shape, value)], dim=dim)

    def guard_acquire(self) -> bool:
        return _torch_acquire()

    def guard_release(self) -> None:
        _torch_release()

    def guard_error(self, exc: BaseException) -> tuple[str | None, str] | None:
        return _from_torch(exc)

    def cache_env(self, cache_dir: Path) -> dict[str, str]:
        return {
            "TORCHINDUCTOR_CACHE_DIR": str(cache_dir / "torchinductor"),
            "TRITON_CACHE_DIR": str(cache_dir / "triton"),
        }

    def remote_cache_env(self, url: str | None) -> dict[str, str]:
        return remote_cache_env(url)

    def remote_caches(self) -> list[Any]:
        return torch_remote_caches()

    def detect(self, fn: Callable[..., Any]) -> bool:
        if not self._loaded():
            return False
        return _is_compiled(fn)

    def sync(self, result: Any) -> None:
        import torch

        torch.cuda.synchronize()

    def recorder(self) -> Recorder:
        return TorchRecorder()

    def cache_stats(self, fn: Callable[..., Any]) -> dict[str, int] | None:
        from torch._dynamo.utils import counters

        fx_hit = int(counters["inductor"]["fxgraph_cache_hit"])
        fx_miss = int(counters["inductor"]["fxgraph_cache_miss"])
        aot_hit = int(counters["aot_autograd"]["autograd_cache_hit"])
        aot_miss = int(counters["aot_autograd"]["autograd_cache_miss"])
        return {
            "hits": fx_hit + aot_hit,
            "misses": fx_miss + aot_miss,
            "fxgraph_hits": fx_hit,
            "fxgraph_misses": fx_miss,
            "aot_autograd_hits": aot_hit,
            "aot_autograd_misses": aot_miss,
            **self._remote_stats(),
        }

    def _remote_stats(self) -> dict[str, int]:
        """Remote-cache totals from Inductor's counters, when a remote cache is on: lookups
        that hit or missed, entries written, and the exceptions Inductor counted (a
        connection refused is not one of them: Inductor counts it as a miss, see
        :func:`_remote_runtime`)."""
        if not _remote_on():
            return {}
        per = _remote_counters().values()
        return {f"remote_{name}": sum(c[key] for c in per)
                for name, key in (("hits", "hit"), ("misses", "miss"), ("puts", "put"),
                                  ("errors", "exception"))}

    def supports_disk_cache(self, fn: Callable[..., Any]) -> bool:
        import torch._functorch.config as fconfig
        import torch._inductor.config as iconfig

        return bool(iconfig.fx_graph_cache or fconfig.enable_autograd_cache)

    def specializations(self, fn: Callable[..., Any]) -> int | None:
        """Frames Dynamo compiled and installed (one per guard set) in this process."""
        from torch._dynamo.utils import get_compilation_metrics

        return sum(
            1
            for m in get_compilation_metrics()
            if m.has_guarded_code and not getattr(m, "is_runtime", False)
        )

    def function_compile_ns(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> int | None:
        """Compile ``fn`` again, as the user compiled it, with every compile cache empty.

        Dynamo's code cache is cleared (``torch._dynamo.reset()``, its compile callbacks
        kept), and each copy runs inside Inductor's own ``fresh_cache()``: a new, empty
        ``TORCHINDUCTOR_CACHE_DIR`` (Triton's inside it) and Inductor's in-memory code
        caches cleared. Switching only the FX-graph and AOTAutograd caches off is not
        enough: Inductor then regenerates the same C++ source and reuses the kernel
        already built for it. The caches stay on, so the copy looks up and writes as the
        cold first call did. Proof from Dynamo's counters (no FX-graph or AOTAutograd
        hit, a compiled frame each) and the kernels found built in the empty directory;
        a hit raises :class:`FunctionCompileUnverified`. Afterwards the user's cache
        directory is back and Dynamo is reset again, so ``fn`` recompiles from the user's
        caches at its next call (its kernels from the copies lived in removed folders).
        Remote caches (Redis) are off for the copies: a copy must compile, not load.
        """
        import torch._functorch.config as fconfig
        import torch._inductor.config as iconfig
        from torch._dynamo.utils import counters

        try:
            from torch._inductor.utils import fresh_cache
        except ImportError:  # older torch: the same context manager under its old name
            from torch._inductor.utils import fresh_inductor_cache as fresh_cache

        self.function_compile_check = None
        if not _is_compiled(fn):
            return None
        keys = (("inductor", "fxgraph_cache_hit"), ("inductor", "fxgraph_cache_miss"),
                ("aot_autograd", "autograd_cache_hit"), ("aot_autograd", "autograd_cache_miss"))
        before = {k: int(counters[k[0]][k[1]]) for k in keys}
        times: list[int] = []
        kernels = 0
        try:
            for _ in range(3):
                _reset_dynamo()
                with fresh_cache(), iconfig.patch(
                        fx_graph_remote_cache=False, autotune_remote_cache=False,
                        bundled_autotune_remote_cache=False), \
                        fconfig.patch(enable_remote_autograd_cache=False):
                    scratch = os.environ.get("TORCHINDUCTOR_CACHE_DIR", "")
                    with self.recorder() as rec:
                        t0 = time.perf_counter_ns()
                        out = fn(*args, **kwargs)
                        if self.needs_sync:
                            self.sync(out)
                        t1 = time.perf_counter_ns()
                    kernels += _built_kernels(scratch)
                own = [e for e in rec.events if e.depth == 0]
                if not own:
                    return None
                times.append(union_ns(own, t0, t1))
                if len(times) == 1 and times[0] > 5_000_000_000:
                    break  # one slow compile is enough: do not triple a long run
        finally:
            _reset_dynamo()
        delta = {k[1]: int(counters[k[0]][k[1]]) - before[k] for k in keys}
        hits = delta["fxgraph_cache_hit"] + delta["autograd_cache_hit"]
        self.function_compile_check = {
            "verified": hits == 0,
            "copies": len(times),
            "cache_hits": hits,
            "cache_misses": delta["fxgraph_cache_miss"] + delta["autograd_cache_miss"],
            "fxgraph_hits": delta["fxgraph_cache_hit"],
            "fxgraph_misses": delta["fxgraph_cache_miss"],
            "aot_autograd_hits": delta["autograd_cache_hit"],
            "aot_autograd_misses": delta["autograd_cache_miss"],
            "kernels_built": kernels,
            "how": "torch._dynamo.reset() and Inductor's fresh_cache() (a new empty "
                   "TORCHINDUCTOR_CACHE_DIR, in-memory code caches cleared) per copy",
        }
        if hits:
            raise FunctionCompileUnverified(
                f"Inductor's caches served {hits} lookups of {len(times)} fresh copies "
                f"(Dynamo counters fxgraph_cache_hit / autograd_cache_hit): the own-compile "
                f"/ initialisation split is not reported")
        return sorted(times)[len(times) // 2]

    def set_threads(self, n: int) -> None:
        import torch

        torch.set_num_threads(n)

    def runtime_info(self) -> dict[str, Any]:
        import torch

        info: dict[str, Any] = {
            "torch_num_threads": int(torch.get_num_threads()),
            "torch_num_interop_threads": int(torch.get_num_interop_threads()),
            "cuda": bool(torch.cuda.is_initialized()),
        }
        try:
            import torch._inductor.config as iconfig

            info["inductor_fx_graph_cache"] = bool(iconfig.fx_graph_cache)
            info["inductor_compile_threads"] = int(iconfig.compile_threads)
            info["inductor_cpp_compiler"] = str(iconfig.cpp.cxx[-1] or "")
        except Exception:  # pragma: no cover - config layout differs across versions
            pass
        if self.function_compile_check is not None:
            info["function_compile_check"] = dict(self.function_compile_check)
        if _remote_on():
            info["remote_cache"] = _remote_runtime()
        return info

    def cache_notes(self) -> list[str]:
        return [
            "torch.compile: the cached state reuses Inductor's FX-graph and AOTAutograd "
            "caches (TORCHINDUCTOR_CACHE_DIR); Dynamo still traces the frame again in "
            "every new process",
        ]
