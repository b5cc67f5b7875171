"""JAX adapter (``jax.jit``).

Compile phases come from ``jax.monitoring`` time-span events — jaxpr tracing
(``/jax/core/compile/jaxpr_trace_duration``), lowering to an MLIR module
(``.../jaxpr_to_mlir_module_duration``) and the XLA backend compile
(``.../backend_compile_duration``, which includes a persistent-cache lookup); each
trace → lower → compile chain becomes one top-level compile event with the phases nested.
Persistent-cache hits and requests come from ``/jax/compilation_cache/*`` events (misses =
requests − hits). Recompile reasons come from JAX's own ``jax_explain_cache_misses``
explanations ("different input types: at x, now f32[64,16] and before f32[32,16]").
The cache is redirected with ``JAX_COMPILATION_CACHE_DIR``.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jitwarm._errors import shown
from jitwarm.adapters import hub
from jitwarm.adapters.base import (
    MARKERS,
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
    scan_dir,
)
from jitwarm.adapters.events import CompileEvent, Notice, clock_offset_ns, union_ns

TRACE = "/jax/core/compile/jaxpr_trace_duration"
LOWER = "/jax/core/compile/jaxpr_to_mlir_module_duration"
BACKEND = "/jax/core/compile/backend_compile_duration"
_KINDS = {TRACE: "trace", LOWER: "lower", BACKEND: "backend_compile"}
CACHE_REQUESTS = "/jax/compilation_cache/compile_requests_use_cache"
CACHE_HITS = "/jax/compilation_cache/cache_hits"
#: loggers that carry ``jax_explain_cache_misses`` explanations
_EXPLAIN_LOGGERS = ("jax._src.interpreters.partial_eval", "jax._src.pjit")

# process-wide persistent-cache counters, fed by the hub's JAX hook (installed once)
_CACHE_COUNTS: Counter[str] = Counter()
_jax_seen: set[str] = set()


def install_jax_hooks(emit: Callable[[Notice], None]) -> None:
    """The hub's JAX hooks: ``jax.monitoring`` scalars (a compile phase starts), durations
    (it ends), time spans (a finished phase with its start and end) and events (cache
    counters, also counted here for :meth:`JaxAdapter.cache_stats`)."""
    import jax.monitoring as mon

    def on_scalar(event: str, value: float, **kw: Any) -> None:
        if event not in (TRACE, BACKEND):
            return
        name = str(kw.get("fun_name", "?"))
        kind = "trace" if event == TRACE else "backend"
        in_type = _jax_in_type() if kind == "trace" else None
        # every trace is remembered (a trace costs far more), so that a later one can
        # name the inputs that changed, even if nobody listened to the earlier one
        changed = _changed_inputs_reason(name, in_type) if kind == "trace" else None
        if not hub.has_subscribers():
            return
        sig = _in_type_text(in_type)
        key = f"{kind}:{name}"
        recompile = key in _jax_seen
        _jax_seen.add(key)
        if kind == "trace":
            reason = changed or (f"new input types {sig}" if sig else "tracing cache miss")
        else:
            reason = "XLA backend compile (new traced program)"
        # a trace is continued by the backend compile's notice: one compile, two notices
        emit(Notice("jax", "start", name, threading.get_ident(), time.perf_counter_ns(),
                    kind=kind, signature=sig, reason=reason, recompile=recompile,
                    extra={"continued": True} if kind == "trace" else {}))

    def on_duration(event: str, duration: float, **kw: Any) -> None:
        if event not in (TRACE, BACKEND) or not hub.has_subscribers():
            return
        kind = "trace" if event == TRACE else "backend"
        emit(Notice("jax", "end", str(kw.get("fun_name", "?")), threading.get_ident(),
                    time.perf_counter_ns(), kind=kind, duration_ns=int(duration * 1e9),
                    extra={"continued": True} if kind == "trace" else {}))

    def on_span(event: str, start: float, end: float, **kw: Any) -> None:
        if event not in _KINDS or not hub.has_subscribers():
            return
        offset = clock_offset_ns()  # spans are wall-clock seconds; notices use perf_counter
        s_ns, e_ns = int(start * 1e9) - offset, int(end * 1e9) - offset
        emit(Notice("jax", "span", str(kw.get("fun_name", "")), threading.get_ident(), e_ns,
                    kind=_KINDS[event], duration_ns=e_ns - s_ns, extra={"event": event}))

    def on_event(event: str, **kw: Any) -> None:
        if not event.startswith("/jax/compilation_cache/"):
            return
        _CACHE_COUNTS[event] += 1
        if hub.has_subscribers():
            emit(Notice("jax", "event", "", threading.get_ident(), time.perf_counter_ns(),
                        kind=event))

    mon.register_scalar_listener(on_scalar)
    mon.register_event_duration_secs_listener(on_duration)
    mon.register_event_time_span_listener(on_span)
    mon.register_event_listener(on_event)


def _jax_in_type() -> Any:
    """The abstract input types being traced (JAX's ``in_type``), read from JAX's tracing
    frame (best effort; called from the scalar listener only: the frame depth counts)."""
    try:
        f = sys._getframe(3)
        for _ in range(6):
            if f is None:
                return None
            if "in_type" in f.f_locals:
                in_type = f.f_locals["in_type"]
                # JAX's own names of the flattened inputs (``params['w']``), a frame up
                names = None
                g = f
                for _ in range(4):
                    dbg = g.f_locals.get("dbg") if g is not None else None
                    if dbg is not None and getattr(dbg, "arg_names", None) is not None:
                        names = tuple(str(n) for n in dbg.arg_names)
                        break
                    g = g.f_back if g is not None else None
                _jax_arg_names[id(in_type)] = names
                return in_type
            f = f.f_back
    except Exception:
        return None
    return None


#: JAX's names of a trace's inputs, by ``id(in_type)`` (one entry, read at once)
_jax_arg_names: dict[int, tuple[str, ...] | None] = {}


def _in_type_text(in_type: Any) -> str | None:
    if in_type is None:
        return None
    return str(in_type).removeprefix("FlatTree(").removesuffix(")")


#: per function name, the inputs of its last few traces: ((input, abstract type), ...)
_jax_traced: dict[str, list[tuple[tuple[str, str], ...]]] = {}


def _in_type_leaves(in_type: Any) -> tuple[tuple[str, str], ...] | None:
    """``((input, abstract type), ...)`` of a trace: ``("x[1]['w']", "float32[3]")``, the
    input named by its position (or keyword) and path inside it (JAX's key paths)."""
    try:
        from jax.tree_util import keystr

        avals = [str(a).removeprefix("ShapedArray(").removesuffix(")") for a in in_type]
        paths = list(in_type.paths)
    except Exception:
        return None
    if len(paths) != len(avals):
        return None
    own = _jax_arg_names.pop(id(in_type), None)
    _jax_arg_names.clear()
    if own is not None and len(own) == len(avals) and all(own):
        return tuple(zip(own, avals, strict=True))
    names = []
    for i, path in enumerate(paths):
        try:
            head = path[0].idx if path else None
            if head == 0 and len(path) > 1:  # positional arguments
                names.append(f"#{path[1].idx + 1}{keystr(tuple(path[2:]))}")
            elif head == 1 and len(path) > 1:  # keyword arguments
                names.append(f"{path[1].key}{keystr(tuple(path[2:]))}")
            else:
                names.append(keystr(tuple(path)) or f"#{i + 1}")
        except Exception:
            names.append(f"#{i + 1}")
    return tuple(zip(names, avals, strict=True))


def _changed_inputs_reason(name: str, in_type: Any) -> str | None:
    """Why ``name`` is traced again, naming only the inputs whose abstract type (shape,
    dtype, weak type) differs from the closest earlier trace of the same function:
    ``new type for input #1: float32[5] (traced before as float32[3])``. None for a first
    trace, or when the inputs cannot be read."""
    leaves = _in_type_leaves(in_type) if in_type is not None else None
    if leaves is None:
        return None
    before = _jax_traced.setdefault(name, [])
    best: tuple[tuple[tuple[str, str], ...], list[int]] | None = None
    for old in reversed(before):  # newest first
        if len(old) != len(leaves) or [n for n, _ in old] != [n for n, _ in leaves]:
            continue
        diff = [i for i, (a, b) in enumerate(zip(leaves, old, strict=True)) if a[1] != b[1]]
        if best is None or len(diff) < len(best[1]):
            best = (old, diff)
    before.append(leaves)
    del before[:-8]
    if len(_jax_traced) > 4096:  # a program tracing endless distinct functions
        _jax_traced.pop(next(iter(_jax_traced)))
    if best is None or not best[1]:
        return None
    old, diff = best
    parts = [f"{shown(leaves[i][0], 60)}: {shown(leaves[i][1], 60)} (traced before as "
             f"{shown(old[i][1], 60)})" for i in diff[:4]]
    more = f", and {len(diff) - 4} more" if len(diff) > 4 else ""
    what = "input" if len(diff) == 1 else "inputs"
    return f"new type for {what} {', '.join(parts)}{more}"


def _explanation(message: str) -> str:
    """The useful part of a tracing-cache-miss explanation, on one line."""
    lines = [ln.strip() for ln in message.splitlines()[1:] if ln.strip()]
    keep = [ln for ln in lines if not ln.startswith(("for ", "all previously"))]
    text = ""
    for ln in keep or lines:
        ln = ln.replace("* ", "")
        text += (" " if text.endswith(":") else "; ") + ln if text else ln
    return text


class _ExplainHandler(logging.Handler):
    def __init__(self, sink: list[tuple[int, str]]) -> None:
        super().__init__(logging.DEBUG)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if "CACHE MISS" in msg and "never seen" not in msg:
            self.sink.append((time.perf_counter_ns(), _explanation(msg)))
        elif "never seen" in msg:
            self.sink.append((time.perf_counter_ns(), "first trace (never seen function)"))


class JaxRecorder(Recorder):
    """Listens to ``jax.monitoring`` time spans and cache-miss explanations."""

    def __init__(self) -> None:
        super().__init__()
        self._spans: list[tuple[str, int, int, str]] = []
        self._explained: list[tuple[int, str]] = []
        self._hits: list[int] = []
        self._cb: Any = None
        self._handler: _ExplainHandler | None = None
        self._saved: list[tuple[logging.Logger, int, bool]] = []
        self._explain_before: bool | None = None

    def start(self) -> None:
        import jax

        spans, hits = self._spans, self._hits

        def on_notice(n: Notice) -> None:
            if n.framework != "jax":
                return
            if n.phase == "span":
                spans.append((n.extra["event"], n.time_ns - (n.duration_ns or 0), n.time_ns,
                              n.function))
            elif n.phase == "event" and n.kind == CACHE_HITS:
                hits.append(n.time_ns)

        self._cb = hub.subscribe(on_notice)
        self._handler = _ExplainHandler(self._explained)
        for name in _EXPLAIN_LOGGERS:
            lg = logging.getLogger(name)
            self._saved.append((lg, lg.level, lg.propagate))
            lg.addHandler(self._handler)
            lg.setLevel(logging.WARNING)  # explanations are warnings; no debug records
            lg.propagate = False  # keep JAX's explanations out of the user's stderr
        self._explain_before = bool(jax.config.jax_explain_cache_misses)
        jax.config.update("jax_explain_cache_misses", True)

    def stop(self) -> None:
        import jax

        if self._cb is not None:
            hub.unsubscribe(self._cb)
            self._cb = None
        if self._handler is not None:
            for lg, level, prop in self._saved:
                lg.removeHandler(self._handler)
                lg.setLevel(level)
                lg.propagate = prop
            self._saved = []
            self._handler = None
        if self._explain_before is not None:
            jax.config.update("jax_explain_cache_misses", self._explain_before)
            self._explain_before = None
        self.events = self._group()

    def _group(self) -> list[CompileEvent]:
        """Chains of trace → lower → backend compile become one top-level event each."""
        spans = sorted(
            self._spans,
            key=lambda x: x[1],
        )
        groups: list[list[tuple[str, int, int, str]]] = []
        for span in spans:
            ev, s, e, fun = span
            if groups:
                cur = groups[-1]
                g_end = max(x[2] for x in cur)
                inside = s < g_end  # nested in the current chain (an inner jit's trace)
                continues = ev != TRACE and not any(x[0] == BACKEND for x in cur)
                if inside or continues:
                    cur.append(span)
                    continue
            groups.append([span])
        events: list[CompileEvent] = []
        explained = sorted(self._explained)
        for grp in groups:
            g_start = min(x[1] for x in grp)
            g_end = max(x[2] for x in grp)
            top_name = grp[0][3] or "jit"
            hit = any(g_start <= h <= g_end for h in self._hits)
            backend = [x for x in grp if x[0] == BACKEND]
            cache = "hit" if hit else ("miss" if backend else None)
            # the explanation is logged as the trace it explains begins (before or
            # inside its span): the last one not taken by an earlier chain is this one's
            reason = None
            for t, text in explained:
                if t <= g_end:
                    reason = text
            explained = [(t, x) for t, x in explained if t > g_end]
            sig = None
            if reason and "now " in reason:
                sig = reason.split("now ", 1)[1].split(" and before")[0]
            events.append(
                CompileEvent(start_ns=g_start, end_ns=g_end, name=top_name, kind="compile",
                             signature=sig, cache=cache, reason=reason, depth=0)
            )
            for ev, s, e, fun in grp:
                events.append(
                    CompileEvent(start_ns=s, end_ns=e, name=fun or top_name, kind=_KINDS[ev],
                                 cache=cache if ev == BACKEND else None, depth=1)
                )
        return events


def _is_jitted(fn: Any) -> bool:
    kind = type(fn)
    return (
        kind.__name__ in ("PjitFunction", "JitWrapped", "CompiledFunction")
        or (hasattr(fn, "lower") and hasattr(fn, "_cache_size"))
        # an ahead-of-time executable, ``jit(f).lower(*args).compile()``
        or (kind.__name__ == "Compiled" and kind.__module__.startswith("jax"))
    )


# -- cache locations (jitwarm cache status / clear) ----------------------------------------
def jax_locations(with_config: bool = False) -> CacheLocation:
    warnings: list[str] = []
    notes: list[str] = []
    settings: dict[str, Any] = {}
    env = env_value("JAX_COMPILATION_CACHE_DIR")
    min_time = env_value("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS")
    min_size = env_value("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES")
    xla_caches = env_value("JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES")
    enabled = env_flag("JAX_ENABLE_COMPILATION_CACHE")
    source = "JAX_COMPILATION_CACHE_DIR" if env else "not set"
    if with_config:
        try:
            import jax  # lazy, on request only

            cfg = jax.config
            settings["config.jax_compilation_cache_dir"] = cfg.jax_compilation_cache_dir
            env = cfg.jax_compilation_cache_dir or env
            min_time = str(cfg.jax_persistent_cache_min_compile_time_secs)
            min_size = str(cfg.jax_persistent_cache_min_entry_size_bytes)
            xla_caches = getattr(cfg, "jax_persistent_cache_enable_xla_caches", xla_caches)
            enabled = bool(getattr(cfg, "jax_enable_compilation_cache", True))
            source = "jax.config (jax was imported)" if env else "not set"
            notes.append("settings read from jax.config (jax was imported); settings made "
                         "in your program's code are not visible here")
        except ImportError:
            notes.append("jax is not installed: settings from the environment only")
    settings.update({
        "min_compile_time_secs": float(min_time) if min_time else 1.0,
        "min_entry_size_bytes": int(float(min_size)) if min_size else 0,
        "enable_xla_caches": xla_caches if xla_caches is not None
        else "xla_gpu_per_fusion_autotune_cache_dir (default)",
    })
    if enabled is False:
        warnings.append("JAX_ENABLE_COMPILATION_CACHE=0: the persistent cache is off")
    if not env:
        warnings.append("no JAX_COMPILATION_CACHE_DIR: JAX's persistent cache is off "
                        "(set it, or jax.config.update('jax_compilation_cache_dir', ...) "
                        "before the first jit call — set later it stays off, jax#25768)")
    if settings["min_compile_time_secs"] > 0:
        warnings.append(f"compiles shorter than {settings['min_compile_time_secs']:g} s are "
                        "silently not written (JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS; "
                        "jax#21908): set it to 0 to cache everything")
    if settings["min_entry_size_bytes"] == 0:
        notes.append("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES=0 lets JAX apply a "
                     "per-filesystem minimum entry size; -1 caches entries of any size")
    if xla_caches is None or (xla_caches not in ("none", "") and "autotune" in xla_caches):
        notes.append("JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES is not 'none': the cache "
                     "directory's absolute path is part of every cache key, so a copy in "
                     "another directory misses; jitwarm bundles set it to 'none'")
    if not env:
        return CacheLocation("jax", "jax", None, source, "JAX_COMPILATION_CACHE_DIR", False,
                             warnings=warnings, notes=notes, settings=settings)
    path = Path(os.path.abspath(env))
    size, files, entries = scan_dir(path, r".*-cache")
    return CacheLocation("jax", "jax", path, source, "JAX_COMPILATION_CACHE_DIR",
                         path.is_dir(), size, entries, "XLA executables (*-cache)", files,
                         warnings, notes, settings)


# -- why a cached run still compiled (jitwarm cache explain) ----------------------------
JAX_LOGGERS = ("jax._src.compiler", "jax._src.compilation_cache", "jax._src.cache_key")


def jax_key_components(messages: list[str]) -> list[dict[str, str]]:
    """Per compile, ``{component: hash}`` of JAX's persistent-cache key (from its DEBUG log)."""
    keys: list[dict[str, str]] = []
    prefix = "get_cache_key hash of serialized "
    for m in messages:
        if not m.startswith(prefix) or ": " not in m:
            continue
        name, digest = m[len(prefix):].rsplit(": ", 1)
        if name == "computation" or not keys:
            keys.append({})
        keys[-1][name] = digest.strip()
    return keys


def _recorded_jax_keys(cache_root: Path) -> list[dict[str, str]]:
    """Key components recorded when jitwarm filled ``cache_root`` (prewarm/installed JSON)."""
    import json

    found: list[dict[str, str]] = []
    for marker in MARKERS:
        path = cache_root / marker
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        record = data.get("prewarm") if marker == "jitwarm-installed.json" else data
        for case in (record or {}).get("cases") or []:
            for call in case.get("calls") or []:
                found.extend(call.get("jax_key_components") or [])
    return found


def jax_after_call(messages: list[str], cache_root: Path | None) -> list[str]:
    out: list[str] = []
    now = jax_key_components(messages)
    recorded = _recorded_jax_keys(cache_root) if cache_root is not None else []
    for msg in messages:
        if "PERSISTENT COMPILATION CACHE MISS" in msg or "Not writing persistent cache" in msg:
            out.append(f"jax: {msg.splitlines()[0]}")
            if "with key '" in msg and cache_root is not None:
                key = msg.split("with key '", 1)[1].split("'", 1)[0]
                module = key.split("-", 1)[0]
                jdir = cache_root / "jax"
                others = sorted(p.name for p in jdir.glob(f"{module}-*")
                                if not p.name.startswith(key)) if jdir.is_dir() else []
                if others:
                    out.append(f"jax: the cache holds {len(others)} other entr"
                               f"{'y' if len(others) == 1 else 'ies'} for {module}: part of the "
                               "key changed (jaxlib version, XLA flags, compile options — the "
                               "cache directory's path is one unless "
                               "JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES=none)")
    if recorded and any("MISS" in o for o in out):
        for comp in now:
            same = [r for r in recorded if r.get("computation") == comp.get("computation")]
            if not same:
                continue
            diff = sorted(k for k in comp if same[0].get(k) != comp[k])
            if diff:
                hint = (" (the compile options hold the cache directory's path unless "
                        "JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES=none)"
                        if "compile_options" in diff else "")
                out.append("jax: the same program was cached when jitwarm filled this "
                           f"directory, but these key parts differ now: {', '.join(diff)}"
                           + hint)
        if not any("key parts differ" in o for o in out):
            out.append("jax: no entry recorded for this program's computation hash: the "
                       "traced program itself differs (shapes, dtypes, code or static "
                       "arguments)")
    return out


# -- cache-key inputs (jitwarm cache diff) -----------------------------------------------
_JAX_RECOMPILES = "every function misses the persistent cache and compiles again"
JAX_KEY_INPUTS = {
    "backend": KeyInput("JAX keys include the backend platform", _JAX_RECOMPILES),
    "platform_version": KeyInput("JAX keys include the backend's version (for GPUs: the "
                                 "CUDA/ROCm runtime and driver)", _JAX_RECOMPILES),
    "devices": KeyInput("JAX keys include the devices a program runs on (their kind and "
                        "count: the topology)", _JAX_RECOMPILES),
    "topology_fingerprint": KeyInput("JAX keys include XLA's fingerprint of the device "
                                     "topology", _JAX_RECOMPILES),
    "xla_flags": KeyInput("JAX keys include the XLA flags (XLA_FLAGS, LIBTPU_INIT_ARGS, "
                          "--xla arguments; dump flags excepted)", _JAX_RECOMPILES,
                          "use the same XLA_FLAGS where the bundle is used", kind="set"),
    "config": KeyInput("JAX traces programs under its config (jax_enable_x64, matmul "
                       "precision ...), and the keys hold the traced program",
                       "programs traced under another setting are other programs: they "
                       "compile again", "use the same settings (e.g. JAX_ENABLE_X64) on both "
                       "sides", kind="map"),
    "compression": KeyInput("JAX keys include how entries are compressed (zstandard when "
                            "it is installed, else zlib)", _JAX_RECOMPILES,
                            "install zstandard on both sides or on neither"),
}

#: config states that enter the cache key outside the traced program
_JAX_CACHE_CONFIG = ("jax_compilation_cache_include_metadata_in_key",
                     "jax_persistent_cache_enable_xla_caches")
#: when this JAX cannot list its trace-context states (older versions)
_JAX_TRACE_CONFIG = ("jax_enable_x64", "jax_default_matmul_precision",
                     "jax_numpy_dtype_promotion", "jax_numpy_rank_promotion",
                     "jax_threefry_partitionable", "jax_default_prng_impl",
                     "jax_use_shardy_partitioner", "jax_disable_jit")


def _jax_xla_flags() -> list[str]:
    """The flags JAX hashes into its keys (``cache_key._hash_xla_flags``), sorted."""
    try:
        from jax._src.cache_key import xla_flags_to_exclude_from_cache_key as excluded
    except ImportError:  # pragma: no cover - another JAX layout
        excluded = []
    flags = [*os.environ.get("XLA_FLAGS", "").split(),
             *os.environ.get("LIBTPU_INIT_ARGS", "").split(),
             *(a for a in sys.argv if a.startswith("--xla"))]
    return sorted(f for f in flags if f.split("=")[0] not in excluded)


def _jax_config() -> dict[str, str]:
    """The config states JAX traces under (its trace context) and those its keys read."""
    import jax

    try:
        from jax._src.config import trace_context_names

        names = [n for n in trace_context_names() if n.startswith("jax_")]
    except (ImportError, NotImplementedError):
        names = list(_JAX_TRACE_CONFIG)
    out: dict[str, str] = {}
    for name in sorted({*names, *_JAX_CACHE_CONFIG}):
        try:
            value = getattr(jax.config, name)
        except AttributeError:
            continue
        out[name] = repr(value)[:200]
    return out


def jax_key_inputs() -> dict[str, Any]:
    """What JAX's persistent-cache keys (``jax._src.cache_key.get``) hold of this process,
    besides the program and jaxlib's version: backend and its version, devices and XLA's
    topology fingerprint, XLA flags, the compression, and the config it traces under."""
    import jax

    devices = jax.devices()
    backend = devices[0].client if devices else None
    kinds = Counter(d.device_kind if str(d.device_kind).lower().startswith(d.platform)
                    else f"{d.platform} {d.device_kind}" for d in devices)
    out: dict[str, Any] = {
        "backend": jax.default_backend(),
        "platform_version": str(getattr(backend, "platform_version", "")) or None,
        "devices": ", ".join(f"{n} × {k}" for k, n in sorted(kinds.items()))
        + (f" in {jax.process_count()} processes" if jax.process_count() > 1 else ""),
        "xla_flags": _jax_xla_flags(),
        "config": _jax_config(),
    }
    try:
        from jax._src.lib import xla_client

        out["topology_fingerprint"] = str(
            xla_client.get_topology_for_devices(devices).fingerprint())
    except Exception:  # not every backend serialises its topology (JAX then hashes kinds)
        out["topology_fingerprint"] = None
    try:
        from jax._src import compilation_cache as cc

        out["compression"] = "zstandard" if getattr(cc, "zstandard", None) else "zlib"
    except ImportError:  # pragma: no cover - another JAX layout
        pass
    return out


def _jax_device(x: Any) -> Any:
    # only a committed array names its device: an uncommitted one must stay uncommitted,
    # or jax.jit would see a different input (and compile again)
    if not getattr(x, "_committed", getattr(x, "committed", False)):
        return None
    try:
        devs = x.devices()
        return next(iter(devs)) if len(devs) == 1 else None
    except Exception:
        return None


class JaxAdapter(Adapter):
    """Functions wrapped by ``jax.jit``."""

    name = "jax"
    extra = "jax"
    module = "jax"
    hook_module = "jax"
    hook_can_abort = True  # an exception at a start notice propagates out of the compile
    needs_sync = True  # JAX dispatches asynchronously
    trigger = "first call; every new shape/dtype retraces and recompiles"
    packages = ("jax", "jaxlib")
    recompile_hint = "pad inputs to a few fixed shapes and pass configuration as static arguments"

    def install_hooks(self, emit: Callable[[Notice], None]) -> None:
        install_jax_hooks(emit)

    def cache_locations(self, sources: Path | None = None,
                        with_config: bool = False) -> list[CacheLocation]:
        return [jax_locations(with_config)]

    cache_entry_kinds = {"jax": "a JAX persistent cache (no *-cache / *-atime files)"}

    def is_cache_entry(self, kind: str, parts: tuple[str, ...]) -> bool:
        # jax/_src/lru_cache.py: <key>-cache, <key>-atime; XLA's own caches
        name = parts[-1]
        if len(parts) == 1:
            return (name.endswith(("-cache", "-atime")) and name[:-6] != ""
                    or name == "xla_gpu_kernel_cache_file")
        return parts[0] == "xla_gpu_per_fusion_autotune_cache_dir"

    def explain_first_call(self, fn: Callable[..., Any], args: tuple[Any, ...],
                           kwargs: dict[str, Any], cache_root: Path | None,
                           call: Callable[[], Any]) -> tuple[Any, list[str]]:
        import jax

        prev = jax.config.jax_explain_cache_misses
        jax.config.update("jax_explain_cache_misses", True)
        try:
            with capture_logs(JAX_LOGGERS) as msgs:
                result = call()
        finally:
            jax.config.update("jax_explain_cache_misses", prev)
        return result, jax_after_call(msgs, cache_root)

    key_input_fields = JAX_KEY_INPUTS

    def key_inputs(self) -> dict[str, Any]:
        return jax_key_inputs()

    def key_differences(self, a: dict[str, Any], b: dict[str, Any],
                        sides: tuple[str, str]) -> list[KeyDifference]:
        out = super().key_differences(a, b, sides)
        if any(d.input == "devices" for d in out):  # one cause, one sentence
            out = [d for d in out if d.input != "topology_fingerprint"]
        return out

    key_source_effect = ("JAX keys hold the traced program: a function whose traced "
                         "program changed compiles again (edits that leave it the same "
                         "still hit)")

    key_loggers = ("jax._src.cache_key",)

    def key_components(self, messages: list[str]) -> dict[str, Any]:
        return {"jax_key_components": jax_key_components(messages)}

    supports_aot = True
    aot_needs_inputs = True  # lowered and compiled for the saved arguments' shapes

    def aot_prepare(self, built: Built, out: Path, kind: str = "aot") -> dict[str, Any]:
        from jitwarm.adapters import jax_aot

        return jax_aot.prepare(built, out)

    def aot_load(self, info: dict[str, Any], root: Path, args: tuple[Any, ...],
                 kwargs: dict[str, Any], built: Built | None = None) -> Any:
        from jitwarm.adapters import jax_aot

        return jax_aot.load(info, root, args, kwargs)

    array_kind = "jax"

    def is_array(self, x: Any) -> bool:
        mod = type(x).__module__ or ""
        return mod.startswith(("jaxlib", "jax")) and hasattr(x, "shape") and hasattr(x, "dtype")

    def from_numpy(self, arr: Any, device: str | None = None, like: Any = None) -> Any:
        import jax

        if device is not None:
            return jax.device_put(arr, jax.devices(device)[0])
        # put back on ``like``'s device (no per-shape compile on the way)
        return jax.device_put(arr, _jax_device(like) if like is not None else None)

    def slice_array(self, x: Any, dim: int, n: int) -> Any:
        import numpy as np

        index = [slice(None)] * len(x.shape)
        index[dim] = slice(0, n)
        return self.from_numpy(np.asarray(x)[tuple(index)], like=x)

    bundle_field_defaults = {"jax_keys_tied_to": None}

    def bundle_fields(self, cache: Path, source_root: Path | None,
                      prewarm: dict[str, Any] | None) -> dict[str, Any]:
        # the directory JAX's keys depend on, unless the cache was made with XLA caches off
        env = (prewarm or {}).get("env") or {}
        if env.get("JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES") == "none":
            return {"jax_keys_tied_to": None}
        return {"jax_keys_tied_to": str(cache.resolve())}

    def bundle_field_problem(self, manifest: dict[str, Any]) -> str | None:
        tied = manifest.get("jax_keys_tied_to")
        if tied is not None and not isinstance(tied, str):
            return "the manifest's 'jax_keys_tied_to' is not a path"
        return None

    def bundle_installed(self, manifest: dict[str, Any], destinations: dict[str, str],
                         settings: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        from jitwarm._errors import shown

        warnings = []
        tied = manifest.get("jax_keys_tied_to")
        if tied and destinations.get("jax") != tied:
            warnings.append(
                f"jax: these entries were written without "
                f"JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES=none, so their keys contain the "
                f"directory {shown(tied)}; installed elsewhere they will miss (make the bundle "
                f"with `jitwarm prewarm`, which sets it)")
        return warnings, {k: v for k, v in settings.items() if k.startswith("JAX_")}

    def cache_env(self, cache_dir: Path) -> dict[str, str]:
        return {
            "JAX_COMPILATION_CACHE_DIR": str(cache_dir / "jax"),
            # JAX only writes compiles that took >= 1 s by default: small functions
            # would silently never be cached
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
            # -1: no minimum entry size (0 lets JAX apply its own per-backend minimum)
            "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "-1",
            # JAX puts the path of its XLA autotune cache (inside the cache directory)
            # into every cache key: a cache directory used under another path never hits
            "JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES": "none",
        }

    def detect(self, fn: Callable[..., Any]) -> bool:
        if not self._loaded():
            return False
        return _is_jitted(fn)

    def sync(self, result: Any) -> None:
        import jax

        jax.block_until_ready(result)  # pytrees too

    def recorder(self) -> Recorder:
        return JaxRecorder()

    def cache_stats(self, fn: Callable[..., Any]) -> dict[str, int] | None:
        hub.install()  # the JAX hook counts the persistent cache's requests and hits
        requests = _CACHE_COUNTS[CACHE_REQUESTS]
        hits = _CACHE_COUNTS[CACHE_HITS]
        return {"hits": hits, "misses": max(0, requests - hits), "requests": requests}

    def supports_disk_cache(self, fn: Callable[..., Any]) -> bool:
        import jax

        return bool(jax.config.jax_compilation_cache_dir) and bool(
            getattr(jax.config, "jax_enable_compilation_cache", True)
        )

    def specializations(self, fn: Callable[..., Any]) -> int | None:
        size = getattr(fn, "_cache_size", None)
        if size is None:
            return None
        try:
            return int(size())
        except Exception:
            return None

    def function_compile_ns(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> int | None:
        """Trace, lower and compile a fresh ``jax.jit`` of the same Python function, 3 times.

        Each copy is a new function object (JAX's in-memory caches are keyed on it). When
        the persistent cache is in use, each copy gets a new, empty cache directory: it
        looks up and writes as the cold first call did, and cannot load what the first
        call (or the previous copy) wrote. Switching the cache off mid-process is not
        enough: JAX memoises whether and where it caches (``reset_cache`` makes it decide
        again). Proof from JAX's own events: no ``cache_hits`` during the copies and a
        backend compile in each; otherwise :class:`FunctionCompileUnverified`. The user's
        cache directory and JAX's memo are restored afterwards.
        """
        import shutil
        import tempfile
        import types

        import jax
        from jax._src import compilation_cache as cc

        self.function_compile_check = None
        py = getattr(fn, "__wrapped__", None)
        if not isinstance(py, types.FunctionType):
            return None
        hub.install()  # the hub's JAX hook counts the persistent cache's requests and hits
        persistent = cc.is_persistent_cache_enabled()
        user_dir = jax.config.jax_compilation_cache_dir
        scratch = tempfile.mkdtemp(prefix="jitwarm-jax-own-") if persistent else None
        requests0, hits0 = _CACHE_COUNTS[CACHE_REQUESTS], _CACHE_COUNTS[CACHE_HITS]
        times: list[int] = []
        compiled = 0
        try:
            for i in range(3):
                if scratch is not None:
                    jax.config.update("jax_compilation_cache_dir",
                                      os.path.join(scratch, str(i)))
                cc.reset_cache()  # decided again at the next compile: this copy's directory
                copy = types.FunctionType(py.__code__, py.__globals__, py.__name__,
                                          py.__defaults__, py.__closure__)
                copy.__kwdefaults__ = py.__kwdefaults__
                clone = jax.jit(copy)
                with self.recorder() as rec:
                    t0 = time.perf_counter_ns()
                    jax.block_until_ready(clone(*args, **kwargs))
                    t1 = time.perf_counter_ns()
                own = [e for e in rec.events if e.depth == 0]
                if not own:
                    return None
                compiled += any(e.kind == "backend_compile" and e.cache != "hit"
                                for e in rec.events)
                times.append(union_ns(own, t0, t1))
        finally:
            if scratch is not None:
                jax.config.update("jax_compilation_cache_dir", user_dir)
            cc.reset_cache()  # decided again, with the user's settings, at the next compile
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
        requests = _CACHE_COUNTS[CACHE_REQUESTS] - requests0
        hits = _CACHE_COUNTS[CACHE_HITS] - hits0
        verified = hits == 0 and compiled == len(times)
        self.function_compile_check = {
            "verified": verified,
            "copies": len(times),
            "cache_hits": hits,
            "cache_misses": max(0, requests - hits),
            "backend_compiles": compiled,
            "how": ("a new jax.jit of the function per copy, each with a new empty "
                    "persistent-cache directory" if persistent else
                    "a new jax.jit of the function per copy; the persistent cache is off"),
        }
        if hits:
            raise FunctionCompileUnverified(
                f"JAX's persistent cache served {hits} of {len(times)} fresh copies "
                f"(jax.monitoring cache_hits): the own-compile / initialisation split "
                f"is not reported")
        if not verified:
            raise FunctionCompileUnverified(
                f"only {compiled} of {len(times)} fresh copies ran an XLA backend compile "
                f"(an in-memory cache served the rest): the own-compile / initialisation "
                f"split is not reported")
        return sorted(times)[1]

    def runtime_info(self) -> dict[str, Any]:
        import jax

        info: dict[str, Any] = {
            "backend": jax.default_backend(),
            "devices": [str(d) for d in jax.devices()],
            "persistent_cache_min_compile_time_secs": float(
                jax.config.jax_persistent_cache_min_compile_time_secs
            ),
            "persistent_cache_min_entry_size_bytes": int(
                jax.config.jax_persistent_cache_min_entry_size_bytes
            ),
        }
        if self.function_compile_check is not None:
            info["function_compile_check"] = dict(self.function_compile_check)
        from jitwarm.adapters.jax_aot import AOT_LOADS

        if AOT_LOADS:  # the artifacts loaded in this process, and what loaded them
            info["aot_loads"] = [dict(x) for x in AOT_LOADS]
        return info

    def cache_notes(self) -> list[str]:
        return [
            "JAX: jitwarm sets JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0 (and "
            "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES=-1) for the measured processes; with "
            "JAX's default of 1 s, compiles shorter than a second are silently never "
            "written to the persistent cache",
            "JAX: the persistent cache stores XLA executables only; tracing and lowering "
            "run again in every new process",
            "JAX: jitwarm sets JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES=none: otherwise the "
            "cache directory's path is part of every cache key (XLA's autotune-cache "
            "option), so a cache copied or moved to another path is never hit",
        ]
