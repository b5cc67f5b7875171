"""One process-wide hub over every supported framework's own compile hooks.

The recompile guard, the warmer (for callables no adapter recognises, e.g. a plain Python
wrapper around a jitted model) and the serving metrics all need to know *the moment* a
framework starts compiling, in which thread, and what it compiles. Each framework tells
that through its own instrumentation:

- Numba: ``numba.core.event`` ``"numba:compile"`` start/end events (data: dispatcher, args);
- JAX: ``jax.monitoring`` scalar events recorded when tracing / backend compilation *starts*
  (``/jax/core/compile/jaxpr_trace_duration``, ``.../backend_compile_duration``, value = start
  time) and duration events when they end;
- torch.compile: ``torch._dynamo.callback.callback_handler`` start/end callbacks.

Hooks are installed once per framework, lazily, when the framework is already imported
(this module never imports a framework itself), and stay installed: with no subscriber
they cost one list check per compile. Subscribers get a :class:`Notice` at start and end
of every compile, synchronously, in the compiling thread; a subscriber raising at a
*start* notice aborts the compile (Numba and JAX propagate it cleanly; torch's callbacks
are not used for that — the guard uses torch's own ``fail_on_recompile`` stance).
"""

from __future__ import annotations

import sys
import threading
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jitwarm.adapters.events import CompileEvent

JAX_TRACE = "/jax/core/compile/jaxpr_trace_duration"
JAX_BACKEND = "/jax/core/compile/backend_compile_duration"


@dataclass
class Notice:
    """A compile starting or ending, as a framework's hook reported it."""

    framework: str  # "numba", "jax", "torch"
    phase: str  # "start" or "end"
    function: str  # what is compiled (qualname, jit(name), frame name)
    thread: int  # threading.get_ident() of the compiling thread
    time_ns: int  # time.perf_counter_ns() at the notice
    kind: str = "compile"  # "compile", or JAX's "trace" / "backend"
    signature: str | None = None  # argument types / abstract values, when known
    reason: str | None = None  # why, when the framework tells
    recompile: bool = False  # the function already had compiled code before
    depth: int = 0  # nesting (Numba compiles callees inside a caller's compile)
    duration_ns: int | None = None  # on "end" notices
    extra: dict[str, Any] = field(default_factory=dict)


Subscriber = Callable[[Notice], None]

_lock = threading.RLock()
_subscribers: list[Subscriber] = []
_installed: set[str] = set()
_local = threading.local()


def subscribe(callback: Subscriber) -> Subscriber:
    """Call ``callback(notice)`` for every compile start/end from now on."""
    install()
    with _lock:
        _subscribers.append(callback)
    return callback


def unsubscribe(callback: Subscriber) -> None:
    with _lock:
        if callback in _subscribers:
            _subscribers.remove(callback)


def install() -> list[str]:
    """Install hooks for every supported framework imported so far; returns them all."""
    with _lock:
        # torch: only once torch.compile is in use (importing dynamo costs seconds)
        for name, module, fn in (("numba", "numba", _install_numba), ("jax", "jax", _install_jax),
                                 ("torch", "torch._dynamo", _install_torch)):
            if name not in _installed and module in sys.modules:
                try:
                    fn()
                except Exception:  # a framework version without the hook: skip it
                    continue
                _installed.add(name)
        return sorted(_installed)


def _emit(notice: Notice) -> None:
    subs = _subscribers[:]  # copy: a subscriber may unsubscribe itself
    for cb in subs:
        cb(notice)


def _stack() -> list[Any]:
    st = getattr(_local, "stack", None)
    if st is None:
        st = _local.stack = []
    return st


# -- Numba -------------------------------------------------------------------------------
def _install_numba() -> None:
    from numba.core import event as ev

    class _HubListener(ev.Listener):
        def on_start(self, event: Any) -> None:
            data = event.data or {}
            disp = data.get("dispatcher")
            args = data.get("args")
            name = _numba_name(disp)
            stack = _stack()
            had = len(getattr(disp, "overloads", {}) or {})
            sig = str(args) if args is not None else None
            reason = (f"new argument types {sig}" if sig else "new argument types")
            if had:
                known = ", ".join(str(s) for s in list(getattr(disp, "signatures", []))[:4])
                reason += f"; compiled before for {known}"
            notice = Notice("numba", "start", name, threading.get_ident(),
                            time.perf_counter_ns(), signature=sig, reason=reason,
                            recompile=bool(had), depth=sum(1 for s in stack if s[0] == "numba"))
            stack.append(("numba", notice))  # popped in on_end, which numba always sends
            _emit(notice)

        def on_end(self, event: Any) -> None:
            stack = _stack()
            for i in range(len(stack) - 1, -1, -1):
                if stack[i][0] == "numba":
                    start = stack.pop(i)[1]
                    break
            else:
                return
            exc = getattr(event, "exc_details", None)
            failed = bool(exc and exc[0] is not None)
            now = time.perf_counter_ns()
            _emit(Notice("numba", "end", start.function, start.thread, now,
                         signature=start.signature, reason=start.reason,
                         recompile=start.recompile, depth=start.depth,
                         duration_ns=now - start.time_ns, extra={"failed": failed}))

    ev.register("numba:compile", _HubListener())


def _numba_name(disp: Any) -> str:
    py_func = getattr(disp, "py_func", None)
    return getattr(py_func, "__qualname__", None) or str(disp)


# -- JAX ---------------------------------------------------------------------------------
_jax_seen: set[str] = set()


def _install_jax() -> None:
    import jax.monitoring as mon

    def on_scalar(event: str, value: float, **kw: Any) -> None:
        if event not in (JAX_TRACE, JAX_BACKEND) or not _subscribers:
            return
        name = str(kw.get("fun_name", "?"))
        kind = "trace" if event == JAX_TRACE else "backend"
        sig = _jax_in_type() if kind == "trace" else None
        key = f"{kind}:{name}"
        recompile = key in _jax_seen
        _jax_seen.add(key)
        if kind == "trace":
            reason = f"new input types {sig}" if sig else "tracing cache miss"
        else:
            reason = "XLA backend compile (new traced program)"
        notice = Notice("jax", "start", name, threading.get_ident(), time.perf_counter_ns(),
                        kind=kind, signature=sig, reason=reason, recompile=recompile)
        _emit(notice)

    def on_duration(event: str, duration: float, **kw: Any) -> None:
        if event not in (JAX_TRACE, JAX_BACKEND) or not _subscribers:
            return
        kind = "trace" if event == JAX_TRACE else "backend"
        _emit(Notice("jax", "end", str(kw.get("fun_name", "?")), threading.get_ident(),
                     time.perf_counter_ns(), kind=kind, duration_ns=int(duration * 1e9)))

    mon.register_scalar_listener(on_scalar)
    mon.register_event_duration_secs_listener(on_duration)


def _jax_in_type() -> str | None:
    """The abstract input types being traced, read from JAX's tracing frame (best effort)."""
    try:
        f = sys._getframe(3)
        for _ in range(6):
            if f is None:
                return None
            if "in_type" in f.f_locals:
                text = str(f.f_locals["in_type"])
                return text.removeprefix("FlatTree(").removesuffix(")")
            f = f.f_back
    except Exception:
        return None
    return None


# -- torch.compile -----------------------------------------------------------------------
def _install_torch() -> None:
    from torch._dynamo.callback import callback_handler

    open_: dict[str, Notice] = {}

    def on_start(args: Any) -> None:
        if not _subscribers:
            return
        cid = str(getattr(args, "compile_id", "?"))
        name = _torch_frame_name()
        # compile ids are "frame/attempt": attempt > 0 is a recompile of the same frame
        attempt = cid.rsplit("/", 1)[-1]
        recompile = attempt.isdigit() and int(attempt) > 0
        reason = "recompile (a guard of the compiled code failed)" if recompile else "first compile"
        notice = Notice("torch", "start", name, threading.get_ident(), time.perf_counter_ns(),
                        reason=reason, recompile=recompile,
                        extra={"compile_id": cid,
                               "trigger": str(getattr(args, "callback_trigger", ""))})
        open_[cid] = notice
        _emit(notice)

    def on_end(args: Any) -> None:
        cid = str(getattr(args, "compile_id", "?"))
        start = open_.pop(cid, None)
        if start is None or not _subscribers:
            return
        now = time.perf_counter_ns()
        _emit(Notice("torch", "end", start.function, start.thread, now, reason=start.reason,
                     recompile=start.recompile, duration_ns=now - start.time_ns,
                     extra=start.extra))

    callback_handler.register_start_callback(on_start)
    callback_handler.register_end_callback(on_end)


def _torch_frame_name() -> str:
    f = sys._getframe(2)
    while f is not None:
        code = f.f_locals.get("code")
        if isinstance(code, types.CodeType):
            return code.co_qualname if hasattr(code, "co_qualname") else code.co_name
        f = f.f_back
    return "?"


# -- a recorder on the hub -----------------------------------------------------------------
class HubRecorder:
    """Collects top-level compiles (as :class:`CompileEvent`) from every hooked framework.

    ``thread``: only compiles in that thread (``None``: any thread). Used by the warmer
    for callables no adapter recognises (e.g. a Python function calling a jitted model).
    """

    def __init__(self, thread: int | None = None) -> None:
        self.thread = thread
        self.events: list[CompileEvent] = []
        self._open: list[Notice] = []
        self._cb: Subscriber | None = None

    def start(self) -> None:
        def cb(n: Notice) -> None:
            if self.thread is not None and n.thread != self.thread:
                return
            if n.phase == "start":
                self._open.append(n)
                return
            for i in range(len(self._open) - 1, -1, -1):
                o = self._open[i]
                if o.framework == n.framework and o.function == n.function and o.kind == n.kind:
                    del self._open[i]
                    break
            else:
                o = None
            if n.depth > 0:
                return
            start_ns = o.time_ns if o is not None else n.time_ns - (n.duration_ns or 0)
            self.events.append(CompileEvent(
                start_ns=start_ns, end_ns=n.time_ns, name=n.function,
                kind=n.kind if n.framework == "jax" else "compile",
                signature=(o.signature if o else n.signature),
                reason=(o.reason if o else n.reason),
                extra={"framework": n.framework, "recompile": bool(o and o.recompile)},
            ))

        self._cb = subscribe(cb)

    def stop(self) -> None:
        if self._cb is not None:
            unsubscribe(self._cb)
            self._cb = None

    def __enter__(self) -> HubRecorder:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def count_compiles(events: list[CompileEvent]) -> int:
    """Number of compilations in a list of top-level events (a JAX trace+backend pair is one)."""
    return sum(1 for e in events if not e.depth and e.kind in ("compile", "backend"))
