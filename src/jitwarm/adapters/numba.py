"""Numba CPU adapter (``@jit`` / ``@njit``).

Compile events come from ``numba.core.event`` (``numba:compile``), cache hits and misses
from ``dispatcher.stats``, specialisations from ``dispatcher.signatures``. The disk cache
is redirected with ``NUMBA_CACHE_DIR``.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jitwarm._errors import UsageError, shown
from jitwarm.adapters import hub
from jitwarm.adapters.base import (
    Adapter,
    Built,
    CacheLocation,
    KeyDifference,
    KeyInput,
    Recorder,
    describe_key_difference,
    env_flag,
    env_value,
    scan_dir,
    trusted,
)
from jitwarm.adapters.events import CompileEvent, Notice, union_ns


class NumbaRecorder(Recorder):
    """Collects Numba compiles from the hub (``numba:compile``); nested ones get ``depth`` > 0."""

    def __init__(self) -> None:
        super().__init__()
        self._cb: Any = None

    def start(self) -> None:
        import numba  # noqa: F401  (the hub hooks only an imported framework)

        def on_notice(n: Notice) -> None:
            if n.framework == "numba" and n.phase == "end":
                self.events.append(_to_event(n))

        self._cb = hub.subscribe(on_notice)

    def stop(self) -> None:
        if self._cb is not None:
            hub.unsubscribe(self._cb)
            self._cb = None


def _to_event(n: Notice) -> CompileEvent:
    """A hub end notice as the measurement's record of one Numba compile."""
    args = n.signature
    return CompileEvent(
        start_ns=n.time_ns - (n.duration_ns or 0),
        end_ns=n.time_ns,
        name=n.function,
        kind="compile",
        signature=args,
        cache="miss",  # numba:compile only fires after the disk cache (if any) missed
        reason=f"new signature {args}" if args is not None else None,
        depth=n.depth,
    )


def install_numba_hooks(emit: Callable[[Notice], None]) -> None:
    """The hub's Numba hook: a ``numba:compile`` listener emitting start/end notices."""
    from numba.core import event as ev

    lock = threading.local()  # this thread's outermost hold of Numba's global compiler lock

    class _LockListener(ev.Listener):
        """Numba takes its compiler lock before the typing/target refresh and the disk-cache
        lookup that precede ``numba:compile``: a compile is timed from there. A lock hold
        whose taker loaded from the disk cache is told as a ``load`` span; one whose taker
        ran compiler passes without announcing a compile (``@vectorize`` /
        ``@guvectorize`` builds go through ``UFuncDispatcher``, which sends no
        ``numba:compile``) as a ``compile`` span, the compiles nested in it its children."""

        def on_start(self, event: Any) -> None:
            depth = getattr(lock, "depth", 0)
            lock.depth = depth + 1
            if depth == 0:
                lock.t = time.perf_counter_ns()
                lock.disp = _lock_taker() if hub.has_subscribers() else None
                lock.hits = _cache_hits(lock.disp)
                lock.overloads = len(getattr(lock.disp, "overloads", None) or ())
                lock.compiled = False
                lock.passes = 0

        def on_end(self, event: Any) -> None:
            lock.depth = max(0, getattr(lock, "depth", 1) - 1)
            if lock.depth or lock.compiled or lock.disp is None:
                return
            disp, lock.disp = lock.disp, None
            if not hub.has_subscribers():
                return
            now = time.perf_counter_ns()
            module = getattr(getattr(disp, "py_func", None), "__module__", None)
            grew = len(getattr(disp, "overloads", None) or ()) > lock.overloads
            if _cache_hits(disp) > lock.hits:
                kind, cache = "load", "hit"
            elif lock.passes:
                kind, cache = "compile", _cache_state(disp)
            elif grew and _cache_state(disp) == "miss":
                kind, cache = "load", "hit"  # a new overload, no pass run: read from the cache
            else:
                return
            emit(Notice("numba", "span", _numba_name(disp), threading.get_ident(), now,
                        kind=kind, duration_ns=now - lock.t,
                        extra={"module": module, "cache": cache}))

    class _PassListener(ev.Listener):
        """Compiler passes run under the lock outside any announced compile: the lock's
        taker is compiling without telling."""

        def on_start(self, event: Any) -> None:
            if getattr(lock, "depth", 0) and not any(s[0] == "numba" for s in hub.stack()):
                lock.passes = getattr(lock, "passes", 0) + 1

        def on_end(self, event: Any) -> None:
            pass

    class _HubListener(ev.Listener):
        def on_start(self, event: Any) -> None:
            data = event.data or {}
            disp = data.get("dispatcher")
            args = data.get("args")
            name = _numba_name(disp)
            stack = hub.stack()
            had = len(getattr(disp, "overloads", {}) or {})
            sig = str(args) if args is not None else None
            reason = (f"new argument types {sig}" if sig else "new argument types")
            if had:
                reason = changed_arguments_reason(disp, args) or reason
            # numba:compile fires only when Numba compiles: a disk-cache load sends nothing,
            # so a compile with a cache enabled is a miss, without one there is no cache
            cache_state = _cache_state(disp)
            module = getattr(getattr(disp, "py_func", None), "__module__", None)
            depth = sum(1 for s in stack if s[0] == "numba")
            now = time.perf_counter_ns()
            if depth == 0 and getattr(lock, "depth", 0) and disp is lock.disp:
                lock.compiled = True
                now = min(now, lock.t)  # its refresh and cache lookup under the lock
            notice = Notice("numba", "start", name, threading.get_ident(), now,
                            signature=sig, reason=reason, recompile=bool(had), depth=depth,
                            extra={"module": module, "cache": cache_state})
            stack.append(("numba", notice))  # popped in on_end, which numba always sends
            emit(notice)

        def on_end(self, event: Any) -> None:
            stack = hub.stack()
            for i in range(len(stack) - 1, -1, -1):
                if stack[i][0] == "numba":
                    start = stack.pop(i)[1]
                    break
            else:
                return
            exc = getattr(event, "exc_details", None)
            failed = bool(exc and exc[0] is not None)
            now = time.perf_counter_ns()
            emit(Notice("numba", "end", start.function, start.thread, now,
                         signature=start.signature, reason=start.reason,
                         recompile=start.recompile, depth=start.depth,
                         duration_ns=now - start.time_ns, extra={**start.extra, "failed": failed}))

    ev.register("numba:compile", _HubListener())
    ev.register("numba:compiler_lock", _LockListener())
    ev.register("numba:run_pass", _PassListener())


def _lock_taker() -> Any:
    """The dispatcher or ufunc builder that took the compiler lock (its method's ``self``,
    or the first argument of a ``@global_compiler_lock`` method), from the caller frames."""
    f: Any = sys._getframe(3)
    for _ in range(12):
        if f is None:
            return None
        loc = f.f_locals
        if f.f_code.co_name == "_acquire_compile_lock":
            taker = (loc.get("args") or (None,))[0]
        else:
            taker = loc.get("self")
        kernel = _kernel(taker)
        if kernel is not None:
            return kernel
        f = f.f_back
    return None


def _kernel(obj: Any) -> Any:
    """The object holding the compiled overloads behind a lock taker: a dispatcher itself,
    a ``@vectorize`` DUFunc's ``_dispatcher``, a ``@guvectorize`` builder's ``nb_func``."""
    for _ in range(4):
        if obj is None:
            return None
        if hasattr(obj, "py_func") and hasattr(obj, "overloads"):
            return obj
        obj = (getattr(obj, "_dispatcher", None) or getattr(obj, "nb_func", None)
               or getattr(obj, "gufunc_builder", None))
    return None


def _cache_state(disp: Any) -> str | None:
    """``none`` (no disk cache), ``miss`` (a cache in use: Numba compiles only after it
    missed), or None (not known)."""
    cache = getattr(disp, "_cache", None)
    if cache is None:
        cache = getattr(disp, "cache", None)
    if cache is None or isinstance(cache, bool):
        return None if cache is None else ("miss" if cache else "none")
    return "none" if type(cache).__name__ == "NullCache" else "miss"


def _cache_hits(disp: Any) -> int:
    hits = getattr(disp, "_cache_hits", None)
    return sum(hits.values()) if hits is not None else 0


def changed_arguments_reason(disp: Any, args: Any) -> str | None:
    """Why a dispatcher that already has signatures compiles again, naming only the
    arguments whose Numba type differs from the closest signature compiled before
    (``new type for argument y: float64 (compiled for int64)``). None when no earlier
    signature has the same number of arguments."""
    if args is None:
        return None
    new = tuple(args)
    best: tuple[tuple[Any, ...], list[int]] | None = None
    for old in reversed(list(getattr(disp, "signatures", None) or [])):  # newest first
        old = tuple(old)
        if len(old) != len(new):
            continue
        diff = [i for i, (a, b) in enumerate(zip(new, old, strict=True)) if a != b]
        if best is None or len(diff) < len(best[1]):
            best = (old, diff)
    if best is None or not best[1]:
        return None
    old, diff = best
    names = _parameter_names(disp)
    parts = [f"{names[i] if i < len(names) else f'#{i + 1}'}: {shown(str(new[i]), 80)} "
             f"(compiled for {shown(str(old[i]), 80)})" for i in diff[:4]]
    more = f", and {len(diff) - 4} more" if len(diff) > 4 else ""
    what = "argument" if len(diff) == 1 else "arguments"
    return f"new type for {what} {', '.join(parts)}{more}"


def _parameter_names(disp: Any) -> list[str]:
    """The Python function's positional parameter names (Numba folds keywords into them)."""
    import inspect

    try:
        params = inspect.signature(disp.py_func).parameters.values()
    except (AttributeError, TypeError, ValueError):
        return []
    return [p.name for p in params
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _numba_name(disp: Any) -> str:
    py_func = getattr(disp, "py_func", None)
    return getattr(py_func, "__qualname__", None) or str(disp)


# -- cache locations (jitwarm cache status / clear) ----------------------------------------
def numba_locations(sources: Path | None = None) -> CacheLocation:
    """Numba's cache: ``NUMBA_CACHE_DIR`` or ``__pycache__`` dirs under ``sources`` (cwd)."""
    warnings: list[str] = []
    notes: list[str] = []
    settings: dict[str, Any] = {}
    if env_flag("NUMBA_DISABLE_JIT"):
        warnings.append("NUMBA_DISABLE_JIT=1: functions run as plain Python, nothing is "
                        "compiled or cached")
        settings["NUMBA_DISABLE_JIT"] = os.environ["NUMBA_DISABLE_JIT"]
    if Path(".numba_config.yaml").exists():
        notes.append(".numba_config.yaml in the working directory may set cache_dir or "
                     "disable_jit (read by Numba when PyYAML is installed)")
    for var in ("NUMBA_CACHE_LOCATOR_CLASSES", "NUMBA_DEBUG_CACHE"):
        if env_value(var):
            settings[var] = os.environ[var]
    env = env_value("NUMBA_CACHE_DIR")
    notes.append("only functions decorated with cache=True are cached; index keys: "
                 "signature, CPU name and features, source hash (mtime+size in older "
                 "Numba) and the source's absolute directory")
    if env is not None:
        path = Path(os.path.abspath(env))
        size, files, entries = scan_dir(path, r".*\.nbc")
        return CacheLocation("numba", "numba", path, "NUMBA_CACHE_DIR", "NUMBA_CACHE_DIR",
                             path.is_dir(), size, entries, "compiled specialisations (.nbc)",
                             files, warnings, notes, settings)
    root = (sources or Path.cwd()).resolve()
    size = files = entries = 0
    scanned: list[str] = []
    count = 0
    for dirpath, dirnames, _ in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in
                       ("node_modules", "venv", ".venv")]
        count += 1
        if count > 20000:
            notes.append(f"stopped scanning {root} after 20000 directories")
            break
        if os.path.basename(dirpath) == "__pycache__":
            s, f, e = scan_dir(Path(dirpath), r".*\.nbc")
            nbi = any(n.endswith(".nbi") for n in os.listdir(dirpath))
            if e or nbi:
                scanned.append(dirpath)
                size += s
                entries += e
                files += sum(1 for n in os.listdir(dirpath) if n.endswith((".nbi", ".nbc")))
    notes.append(f"NUMBA_CACHE_DIR is not set: each source's __pycache__ is used (scanned "
                 f"{root}); unwritable source dirs fall back to a user-wide cache dir")
    return CacheLocation("numba", "numba", None, "__pycache__ next to each source file",
                         "NUMBA_CACHE_DIR", bool(scanned), size, entries,
                         "compiled specialisations (.nbc)", files, warnings, notes, settings,
                         scanned)


# -- why a cached run still compiled (jitwarm cache explain) ----------------------------
def numba_before_call(fn: Any, args: tuple[Any, ...], cache_root: Path | None) -> list[str]:
    """Compare this process's cache lookup for ``fn(*args)`` with the index on disk."""
    import numba

    from jitwarm.adapters.numba_index import read_index

    cache = getattr(fn, "_cache", None)
    if cache is None or type(cache).__name__ == "NullCache":
        return ["numba: the function is not decorated with cache=True: nothing is read "
                "from or written to the disk cache"]
    impl = cache._impl
    index_path = Path(cache._cache_file._index_path)
    out: list[str] = []
    if cache_root is not None and not trusted(cache_root):
        return [f"numba: {cache_root} was not created by jitwarm: its index pickles are not "
                "loaded (run `jitwarm prewarm` or `jitwarm bundle install --target`)"]
    sig = tuple(numba.typeof(a) for a in args)
    codegen = fn.targetctx.codegen()
    magic = codegen.magic_tuple()
    if not index_path.exists():
        out.append(f"numba: no index at {index_path}")
        name = index_path.name
        base = index_path.parent.parent
        others = [p for p in base.glob(f"*/{name}") if p != index_path] if base.is_dir() else []
        if others:
            out.append(f"numba: an index for this function exists in {others[0].parent.name}, "
                       f"not in {index_path.parent.name}: Numba names the directory after the "
                       "source file's absolute directory, so the sources moved since the cache "
                       "was written (install bundles with `--sources DIR` to re-key)")
        return out
    try:
        version, stamp, overloads = read_index(index_path)
    except Exception as exc:
        return [f"numba: the index {index_path.name} is unreadable ({type(exc).__name__}): "
                "Numba ignores it and recompiles"]
    if version != numba.__version__:
        out.append(f"numba: the index was written by Numba {version}, this is "
                   f"{numba.__version__}: Numba ignores indexes of other versions")
        return out
    now = impl.locator.get_source_stamp()
    if stamp != now:
        kind = "content hash" if isinstance(stamp, (bytes, str)) else "(mtime, size)"
        out.append(f"numba: the source stamp ({kind}) differs from the source file now: the "
                   "source changed (or, for an (mtime, size) stamp, was copied with a new "
                   "mtime — numba#10776) since the entry was written")
    keys = list(overloads)
    same_sig = [k for k in keys if k[0] == sig]
    if not same_sig:
        have = ", ".join(str(k[0]) for k in keys) or "none"
        out.append(f"numba: no entry for signature {sig}; the index holds: {have}")
        return out
    for key in same_sig:
        k_magic = key[1]
        if k_magic != magic:
            if k_magic[0] != magic[0]:
                out.append(f"numba: entry compiled for target {k_magic[0]}, this is {magic[0]}")
            if k_magic[1] != magic[1]:
                out.append(f"numba: entry compiled for CPU {k_magic[1]!r}, this CPU is "
                           f"{magic[1]!r} (NUMBA_CPU_NAME=generic makes entries portable)")
            if k_magic[2] != magic[2]:
                a, b = set(k_magic[2].split(",")), set(magic[2].split(","))
                diff = sorted((a - b) | (b - a))[:10]
                out.append(f"numba: entry compiled with other CPU features ({', '.join(diff)})")
        try:
            current = cache._index_key(sig, codegen)
        except Exception:  # pragma: no cover - Numba internals differ
            current = None
        if current is not None and len(key) > 2 and key[2] != current[2]:
            out.append("numba: the function's bytecode or closure variables changed since "
                       "the entry was written")
    if not out:
        out.append("numba: the index has a matching entry (signature, CPU, source): the miss "
                   "comes from elsewhere (e.g. a missing .nbc data file)")
    return out


# -- cache-key inputs (jitwarm cache diff) -----------------------------------------------
_CPU_FIX = ("build with `NUMBA_CPU_NAME=generic` and use the bundle with it set too (generic "
            "code runs on any CPU of the architecture)")
NUMBA_KEY_INPUTS = {
    "cpu_name": KeyInput("Numba keys include the CPU name", "every function recompiles",
                         _CPU_FIX),
    "cpu_features": KeyInput("Numba keys include the CPU features",
                             "every function recompiles", _CPU_FIX, kind="set"),
    "target_triple": KeyInput("Numba keys include the target triple",
                              "every function recompiles"),
    "host_cpu_name": KeyInput("the host CPU as LLVM names it (not in the keys while "
                              "NUMBA_CPU_NAME is set)", "nothing while both sides use the "
                              "same NUMBA_CPU_NAME", costly=False),
    # the settings behind the CPU name and features (named in their sentences)
    "NUMBA_CPU_NAME": KeyInput("the NUMBA_CPU_NAME setting", "see the CPU name",
                               costly=False),
    "NUMBA_CPU_FEATURES": KeyInput("the NUMBA_CPU_FEATURES setting", "see the CPU features",
                                   costly=False),
}


def numba_key_inputs() -> dict[str, Any]:
    """What Numba's index keys hold of this process: the code generator's ``magic_tuple``
    (target triple, CPU name, CPU features), the ``NUMBA_CPU_NAME``/``NUMBA_CPU_FEATURES``
    settings behind them, and the host CPU as LLVM names it."""
    import llvmlite.binding as ll
    from numba.core import config
    from numba.core.registry import cpu_target

    triple, cpu, features = cpu_target.target_context.codegen().magic_tuple()
    return {"target_triple": str(triple), "cpu_name": str(cpu), "cpu_features": str(features),
            "host_cpu_name": str(ll.get_host_cpu_name()),
            "NUMBA_CPU_NAME": None if config.CPU_NAME is None else str(config.CPU_NAME),
            "NUMBA_CPU_FEATURES": (None if config.CPU_FEATURES is None
                                   else str(config.CPU_FEATURES))}


def _cpu_name_shown(rec: dict[str, Any]) -> str:
    from jitwarm.adapters.base import show_value

    name = show_value(rec.get("cpu_name"))
    setting = rec.get("NUMBA_CPU_NAME")
    return f"{name} (NUMBA_CPU_NAME={show_value(setting)})" if isinstance(setting, str) \
        and setting else name


def numba_key_differences(a: dict[str, Any], b: dict[str, Any],
                          sides: tuple[str, str]) -> list[KeyDifference]:
    """Numba's differences: one sentence for the CPU (its name, or its features when the
    names agree), naming ``NUMBA_CPU_NAME`` where it was set."""
    out: list[KeyDifference] = []
    sa, sb = sides
    if a.get("cpu_name") != b.get("cpu_name") and "cpu_name" in a and "cpu_name" in b:
        generic = [s for s, r in ((sa, a), (sb, b)) if r.get("cpu_name") == "generic"]
        fix = (f"use `NUMBA_CPU_NAME=generic` on both sides "
               f"({sb if generic == [sa] else sa} does not set it)"
               if len(generic) == 1 else _CPU_FIX)
        spec = NUMBA_KEY_INPUTS["cpu_name"]
        out.append(KeyDifference(
            "numba", "cpu_name", a.get("cpu_name"), b.get("cpu_name"),
            f"{spec.label}: {sa} is {_cpu_name_shown(a)}, {sb} {_cpu_name_shown(b)} → "
            f"{spec.cost}; {fix}"))
    else:
        for name in ("cpu_features", "host_cpu_name"):
            if name in a and name in b:
                diff = describe_key_difference("numba", name, NUMBA_KEY_INPUTS[name],
                                               a[name], b[name], sides)
                if diff is not None:
                    out.append(diff)
    if "target_triple" in a and "target_triple" in b:
        diff = describe_key_difference("numba", "target_triple",
                                       NUMBA_KEY_INPUTS["target_triple"],
                                       a["target_triple"], b["target_triple"], sides)
        if diff is not None:
            out.append(diff)
    return out


# -- ahead-of-time compilation (the aot strategy) ----------------------------------------


# -- ahead-of-time compilation (the aot strategy, jitwarm aot build, jitwarm.load) ---------
#: target options pycc compiles without (it uses its own flags): a function that sets one
#: falls back to the disk cache rather than be compiled into something else
_PYCC_DROPS = {
    "parallel": "parallel=True needs Numba's threading layer at run time, which a pycc "
                "module (imported without Numba) does not have",
    "forceobj": "object mode cannot be compiled ahead of time",
}
#: the dispatcher's options that change what the code computes, which pycc's own flags
#: leave out: they are carried into pycc's compile (see :func:`_carried_flags`)
_CARRIED = ("fastmath", "error_model", "boundscheck")
#: the module name a pycc artifact may carry (checked again when loading)
_PYCC_MODULE = re.compile(r"jitwarm_aot_[A-Za-z0-9_]{1,80}")
#: Numba's BLAS/LAPACK helpers (numba/_lapack.c) take their functions from SciPy's Cython
#: modules on first use: a module calling them imports those (~SciPy) at its first call
_LINALG = re.compile(r"@(numba_x\w+|numba_ez_\w+)\(")
_BLAS_HELPERS = {"numba_xxdot", "numba_xxgemm", "numba_xxgemv", "numba_xxnrm"}
#: the modules a pycc artifact may ask its loader to import first (an allow-list)
_PRELOADS = ("scipy.linalg.cython_blas", "scipy.linalg.cython_lapack")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,60}")


class _NoPycc(Exception):
    """Why a function cannot become a pycc module (one line)."""


def _numba_sigs(built: Built) -> list[Any]:
    import numba

    if built.kwargs:
        raise UsageError("Numba eager compilation needs positional arguments only")
    return [tuple(numba.typeof(a) for a in built.args)]


def _pycc_problem(fn: Any) -> str | None:
    """Why pycc cannot compile ``fn`` as the JIT does, from its options, or None."""
    opts = dict(getattr(fn, "targetoptions", {}) or {})
    for key, why in _PYCC_DROPS.items():
        if opts.get(key):
            return why
    if type(fn).__name__ != "CPUDispatcher":
        return f"a {type(fn).__name__} (only plain @jit/@njit dispatchers are compiled by pycc)"
    return None


def _pycc_build(built: Built, out: Path) -> dict[str, Any]:
    """A ``numba.pycc`` extension module of the signature the case's arguments select."""
    import secrets
    import warnings

    import numba

    fn = built.fn
    py = fn.py_func
    problem = _pycc_problem(fn)
    if problem:
        raise _NoPycc(problem)
    if built.kwargs:
        raise _NoPycc("the case passes keyword arguments; a pycc function takes positional "
                      "ones only")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NumbaPendingDeprecationWarning (numba#8509)
            from numba.pycc import CC
    except Exception as exc:  # removed from Numba, or setuptools missing
        raise _NoPycc(f"numba.pycc cannot be imported in Numba {numba.__version__} "
                      f"({type(exc).__name__}: {shown(exc, 120)}); Numba marks it pending "
                      "deprecation (numba#8509)") from None
    fn(*built.args)  # the JIT picks (and compiles) the signature these arguments select
    argtys = tuple(fn.typeof_pyval(a) for a in built.args)
    cres = fn.overloads.get(argtys)
    if cres is None and len(fn.overloads) == 1:
        cres = next(iter(fn.overloads.values()))
    if cres is None:
        raise _NoPycc(f"the case's argument types {argtys} were converted to another compiled "
                      "signature; pass arguments of a compiled signature's exact types")
    if getattr(cres, "objectmode", False):
        raise _NoPycc("it compiled in object mode, which pycc cannot compile")
    sig = cres.signature
    base = re.sub(r"[^A-Za-z0-9_]", "_", py.__name__)[:40] or "fn"
    module = f"jitwarm_aot_{base}_{secrets.token_hex(4)}"
    export = py.__name__ if _IDENT.fullmatch(py.__name__) else "entry"
    try:
        with warnings.catch_warnings(), _carried_flags(fn):
            warnings.simplefilter("ignore")
            cc = CC(module)
            cc.output_dir = str(out)
            cc.target_cpu = "host"  # the JIT's code; the manifest's CPU flags guard it
            cc.export(export, sig)(py)
            cc.compile()
        _same_result(fn, built.args, _pycc_load({"module": module, "file": cc.output_file,
                                                 "function": export}, out))
    except Exception as exc:
        for p in out.glob(f"{module}*"):
            p.unlink()
        if isinstance(exc, _NoPycc):
            raise
        first = (str(exc).strip().splitlines() or [""])[0]
        raise _NoPycc(f"pycc could not compile it ({type(exc).__name__}: "
                      f"{shown(first, 160)})") from None
    preload = _linalg_modules(cres)
    imported = "NumPy" + (" and SciPy's BLAS/LAPACK (Numba's linear algebra calls them)"
                          if preload else "")
    return {"loader": "numba-pycc", "module": module, "file": cc.output_file,
            "function": export, "signature": str(sig), "target_cpu": _host_cpu(),
            "needs": ["numpy", *(["scipy"] if preload else [])],
            "imports": ["numpy", *preload], "preload": preload,
            "notes": [f"{py.__qualname__}: pycc extension module {module}, signature {sig}; "
                      f"loaded with {imported} only (Numba is not imported)"]}


def _linalg_modules(cres: Any) -> list[str]:
    """SciPy's Cython BLAS/LAPACK modules the compiled code reaches through Numba's helpers
    (read from its LLVM IR), which the loader imports before returning the function."""
    try:
        helpers = set(_LINALG.findall(cres.library.get_llvm_str()))
    except Exception:  # pragma: no cover - Numba internals differ
        return list(_PRELOADS)  # unknown: import both rather than pay it at the first call
    if not helpers:
        return []
    return [_PRELOADS[0], *([_PRELOADS[1]] if helpers - _BLAS_HELPERS else [])]


class _carried_flags:  # noqa: N801 - a context manager
    """pycc compiles every export with a fresh ``numba.pycc.compiler.Flags()``, which drops the
    dispatcher's ``fastmath``, ``error_model`` and ``boundscheck``: for the duration of one
    build (in the preparing process only) that class is replaced by one that carries them."""

    def __init__(self, fn: Any) -> None:
        opts = dict(getattr(fn, "targetoptions", {}) or {})
        self.carried = {k: opts[k] for k in _CARRIED if opts.get(k) is not None}
        self.saved: Any = None

    def __enter__(self) -> None:
        if not self.carried:
            return
        import numba.pycc.compiler as pyc

        carried = self.carried
        self.saved = base = pyc.Flags

        class _Flags(base):  # type: ignore[misc, valid-type]
            def __init__(self, *a: Any, **k: Any) -> None:
                super().__init__(*a, **k)
                for key, value in carried.items():
                    setattr(self, key, value)

        pyc.Flags = _Flags

    def __exit__(self, *exc: object) -> None:
        if self.saved is not None:
            import numba.pycc.compiler as pyc

            pyc.Flags = self.saved


def _same_result(fn: Any, args: tuple[Any, ...], compiled: Any) -> None:
    """The pycc function must return what the JIT returns on the case's arguments (each on
    its own copy of them); otherwise the module is not used (a fallback)."""
    import copy

    import numpy as np

    want = fn(*copy.deepcopy(args))
    got = compiled(*copy.deepcopy(args))
    try:
        same = bool(np.array_equal(np.asarray(want), np.asarray(got), equal_nan=True))
    except TypeError:  # not numbers (a tuple of mixed things ...): plain equality
        same = bool(want == got)
    if not same:
        raise _NoPycc("the pycc module's result differs from the JIT's on the case's arguments")


def _host_cpu() -> str:
    import llvmlite.binding as llvm

    return str(llvm.get_host_cpu_name())


def _numba_prepare(built: Built, out: Path) -> dict[str, Any]:
    import numba

    fn = built.fn
    py = getattr(fn, "py_func", None)
    if py is None:
        raise UsageError("not a Numba dispatcher")
    try:
        return _pycc_build(built, out)
    except _NoPycc as exc:
        fallback = (f"{py.__qualname__} cannot be compiled by numba.pycc: {exc}; falling "
                    "back to the disk cache (eager signatures, compiled at setup)")
    opts = dict(fn.targetoptions)
    opts["cache"] = True
    sigs = _numba_sigs(built)
    eager = numba.jit(sigs, **opts)(py)  # compiles now, writes the disk cache
    return {"loader": "numba-disk-cache", "fallback": fallback,
            "signatures": [str(s) for s in sigs], "needs": ["numba", "llvmlite", "numpy"],
            "cache": eager._cache.cache_path, "notes": [fallback]}


def _pycc_load(info: dict[str, Any], root: Path) -> Any:
    """Import the verified pycc module from ``root`` (NumPy only) and return its function."""
    import importlib
    import importlib.machinery
    import importlib.util

    module, file, function = info.get("module"), info.get("file"), info.get("function")
    if not (isinstance(module, str) and _PYCC_MODULE.fullmatch(module)
            and isinstance(function, str) and _IDENT.fullmatch(function)
            and isinstance(file, str)
            and any(file == module + suf for suf in importlib.machinery.EXTENSION_SUFFIXES)):
        raise UsageError("the artifact's pycc module name, file or function is malformed "
                         f"(or built for another interpreter: {shown(file, 80)})")
    preload = info.get("preload") or []
    if not (isinstance(preload, list) and all(p in _PRELOADS for p in preload)):
        raise UsageError("the artifact's pycc preloads are not SciPy's BLAS/LAPACK modules")
    for name in preload:  # what the first call would import (see _linalg_modules)
        importlib.import_module(name)
    mod = sys.modules.get(module)
    if mod is None:
        spec = importlib.util.spec_from_file_location(module, root / file)
        if spec is None or spec.loader is None:
            raise UsageError(f"cannot load {shown(file, 80)} as an extension module")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        sys.modules[module] = mod
    return getattr(mod, function)


def _numba_load(info: dict[str, Any], root: Path, built: Built | None) -> Any:
    if info.get("loader") == "numba-pycc":
        return _pycc_load(info, root)
    if built is None:
        raise UsageError("this Numba artifact is the disk cache: it needs the case's code")
    import numba

    fn = built.fn
    opts = dict(fn.targetoptions)
    opts["cache"] = True
    return numba.jit(_numba_sigs(built), **opts)(fn.py_func)  # eager: load (or compile) now


class NumbaAdapter(Adapter):
    """Numba ``@jit``/``@njit`` CPU dispatchers."""

    name = "numba"
    extra = "numba"
    module = "numba"
    hook_module = "numba"
    hook_can_abort = True  # an exception at a start notice propagates out of the compile
    trigger = "first call with new argument types"
    packages = ("numba", "llvmlite")
    recompile_hint = ("keep argument types stable, or compile the signatures eagerly "
                      "(@njit('float64(float64)'))")
    cache_hint = "@njit(cache=True)"
    cache_miss_hint = ("check that the function is defined at module level with cache=True "
                       "and that the cache directory is writable")

    def install_hooks(self, emit: Callable[[Notice], None]) -> None:
        install_numba_hooks(emit)

    def cache_locations(self, sources: Path | None = None,
                        with_config: bool = False) -> list[CacheLocation]:
        return [numba_locations(sources)]

    cache_entry_kinds = {"numba": "a Numba cache (no *.nbi / *.nbc files)"}

    def is_cache_entry(self, kind: str, parts: tuple[str, ...]) -> bool:
        # <cache>/<source dir>/<qualname>-<line>.pyXY[.N].nbi|.nbc
        return parts[-1].endswith((".nbi", ".nbc"))

    def install_destinations(self, home: Path) -> dict[str, tuple[Path | None, str]]:
        numba = env_value("NUMBA_CACHE_DIR")
        return {"NUMBA_CACHE_DIR": (Path(os.path.abspath(numba)), "NUMBA_CACHE_DIR") if numba
                else (None, "__pycache__ next to each source")}

    def explain_first_call(self, fn: Callable[..., Any], args: tuple[Any, ...],
                           kwargs: dict[str, Any], cache_root: Path | None,
                           call: Callable[[], Any]) -> tuple[Any, list[str]]:
        notes = numba_before_call(fn, args, cache_root)
        stats = getattr(fn, "stats", None)
        result = call()
        if stats is not None and sum(stats.cache_hits.values()) and not sum(
                stats.cache_misses.values()):
            notes = ["numba: the disk cache hit: nothing was compiled"]
        return result, notes

    supports_aot = True

    def aot_prepare(self, built: Built, out: Path, kind: str = "aot") -> dict[str, Any]:
        return _numba_prepare(built, out)

    def aot_load(self, info: dict[str, Any], root: Path, args: tuple[Any, ...],
                 kwargs: dict[str, Any], built: Built | None = None) -> Any:
        return _numba_load(info, root, built)

    key_input_fields = NUMBA_KEY_INPUTS

    def key_inputs(self) -> dict[str, Any]:
        return numba_key_inputs()

    def key_differences(self, a: dict[str, Any], b: dict[str, Any],
                        sides: tuple[str, str]) -> list[KeyDifference]:
        return numba_key_differences(a, b, sides)

    key_source_effect = ("Numba keys include the source file's hash: the functions "
                         "cached from it recompile")

    def key_sources(self, fields: dict[str, Any]) -> dict[str, str]:
        out: dict[str, str] = {}
        for rec in (fields.get("numba") or {}).values():
            rel = rec.get("rel")
            if rel is None:
                continue
            for mod, digest in (rec.get("sources") or {}).items():
                if digest is not None:
                    out[mod if rel in ("", ".") else f"{rel}/{mod}"] = digest
        return out

    bundle_field_defaults = {"numba": {}}

    def bundle_fields(self, cache: Path, source_root: Path | None,
                      prewarm: dict[str, Any] | None) -> dict[str, Any]:
        from jitwarm.adapters.numba_index import describe_cache

        return {"numba": describe_cache(cache, source_root)}

    def bundle_field_problem(self, manifest: dict[str, Any]) -> str | None:
        from jitwarm.adapters.numba_index import MAX_RECORDS, record_problem

        records = manifest.get("numba")
        if records is None:
            return None
        if not isinstance(records, dict):
            return "the manifest's 'numba' is not an object"
        if len(records) > MAX_RECORDS:
            return f"the manifest has more than {MAX_RECORDS} Numba records"
        for sub, rec in records.items():
            problem = record_problem(sub, rec)
            if problem:
                return f"the manifest's {problem}"
        return None

    def bundle_file_problem(self, parts: tuple[str, ...]) -> str | None:
        # <sub-directory>/<name>.nbi|.nbc only: a .pyc placed in __pycache__ beside the
        # sources would be imported
        if len(parts) != 2 or not parts[1].endswith((".nbi", ".nbc")):
            return "not a Numba cache file (numba/<dir>/<name>.nbi or .nbc)"
        return None

    def bundle_place(self, staged: Path, manifest: dict[str, Any], sources: Path | None,
                     dest: Path | None) -> tuple[dict[str, Path], list[str]] | None:
        from jitwarm.adapters.numba_index import relocate

        return relocate(staged, manifest.get("numba") or {}, sources, in_tree=dest is None)

    def cache_env(self, cache_dir: Path) -> dict[str, str]:
        return {"NUMBA_CACHE_DIR": str(cache_dir / "numba")}

    def detect(self, fn: Callable[..., Any]) -> bool:
        if not self._loaded():
            return False
        from numba.core.dispatcher import Dispatcher

        return isinstance(fn, Dispatcher)

    def recorder(self) -> Recorder:
        return NumbaRecorder()

    def cache_stats(self, fn: Callable[..., Any]) -> dict[str, int] | None:
        stats = getattr(fn, "stats", None)
        if stats is None:
            return None
        return {
            "hits": int(sum(stats.cache_hits.values())),
            "misses": int(sum(stats.cache_misses.values())),
        }

    def supports_disk_cache(self, fn: Callable[..., Any]) -> bool:
        cache = getattr(fn, "_cache", None)
        return cache is not None and type(cache).__name__ != "NullCache"

    def specializations(self, fn: Callable[..., Any]) -> int | None:
        sigs = getattr(fn, "signatures", None)
        return None if sigs is None else len(sigs)

    def function_compile_ns(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> int | None:
        import numba

        py_func = getattr(fn, "py_func", None)
        if py_func is None:
            return None
        times = []
        for _ in range(3):  # median of three: a lone compile is sometimes hit by a GC pause
            clone = numba.jit(**dict(fn.targetoptions))(py_func)  # no cache=: always compiles
            with self.recorder() as rec:
                t0 = time.perf_counter_ns()
                clone(*args, **kwargs)
                t1 = time.perf_counter_ns()
            own = [e for e in rec.events if e.depth == 0]
            if not own:
                return None
            times.append(union_ns(own, t0, t1))
        return sorted(times)[1]

    def runtime_info(self) -> dict[str, Any]:
        import numba

        return {
            "numba_num_threads": int(numba.config.NUMBA_NUM_THREADS),
            "numba_threading_layer": str(numba.config.THREADING_LAYER),
        }
