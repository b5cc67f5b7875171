"""One process-wide hub over every framework's own compile hooks.

The measurement's recorders, the recompile guard, the warmer (for callables no adapter
recognises, e.g. a plain Python wrapper around a jitted model) and the serving metrics all
need to know *the moment* a framework starts compiling, in which thread, and what it
compiles. Each framework tells that through its own instrumentation, and each adapter owns
the code that listens to it (:meth:`jitwarm.adapters.base.Adapter.install_hooks`):

- Numba: ``numba.core.event`` ``"numba:compile"`` start/end events (data: dispatcher, args);
- JAX: ``jax.monitoring`` scalar events recorded when tracing / backend compilation *starts*,
  duration events and time spans when they end, and its cache counters;
- torch.compile: ``torch._dynamo.callback.callback_handler`` start/end callbacks.

This module is the only place those hooks are registered: once per framework and process,
lazily, when the adapter's ``hook_module`` is already imported (the hub never imports a
framework itself), and they stay installed: with no subscriber they cost one list check per
compile. Subscribers get a :class:`Notice` at start and end of every compile, synchronously,
in the compiling thread; a subscriber raising at a *start* notice aborts the compile (Numba
and JAX propagate it cleanly; torch's callbacks are not used for that — the guard uses
torch's own ``fail_on_recompile`` stance).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from jitwarm.adapters.events import CompileEvent, Notice

__all__ = ["Notice", "HubRecorder", "subscribe", "unsubscribe", "install", "emit", "stack",
           "has_subscribers", "count_compiles", "watch_imports", "hook_failures"]

Subscriber = Callable[[Notice], None]

_lock = threading.RLock()
_subscribers: list[Subscriber] = []
_installed: set[str] = set()
_failed: dict[str, str] = {}
_local = threading.local()


def subscribe(callback: Subscriber) -> Subscriber:
    """Call ``callback(notice)`` for every compile start/end from now on."""
    install()
    with _lock:
        _subscribers.append(callback)
    return callback


def has_subscribers() -> bool:
    """Whether anyone listens (hooks skip building notices nobody reads)."""
    return bool(_subscribers)


def unsubscribe(callback: Subscriber) -> None:
    with _lock:
        if callback in _subscribers:
            _subscribers.remove(callback)


def install() -> list[str]:
    """Install hooks for every supported framework imported so far; returns them all."""
    import sys

    from jitwarm.adapters import ADAPTERS  # the registry sits above this module

    with _lock:
        for adapter in ADAPTERS:
            module = adapter.hook_module
            if module is None or adapter.name in _installed or module not in sys.modules:
                continue
            if adapter.name in _failed:
                continue
            try:
                adapter.install_hooks(emit)
            except Exception as exc:  # a framework version without the hook: the others go on
                _failed[adapter.name] = f"{type(exc).__name__}: {exc}"[:300]
                continue
            _installed.add(adapter.name)
        return sorted(_installed)


def hook_failures() -> dict[str, str]:
    """``{framework: error}`` for each framework whose hooks could not be installed."""
    return dict(_failed)


class LoaderProxy:
    """A module's real loader with ``exec_module`` wrapped: ``around(exec)`` runs the real
    one (default: just call it), then ``after()``. The real loader is put back on the
    module before it executes, and every other attribute (``get_code`` for ``runpy``,
    ``get_data`` for ``pkgutil``, resource readers ...) is the real loader's."""

    def __init__(self, loader: Any, *, after: Callable[[], Any] | None = None,
                 around: Callable[[Callable[[], None], Any], None] | None = None) -> None:
        self._loader = loader
        self._after = after
        self._around = around

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        loader = self._loader
        module.__loader__ = loader
        if module.__spec__ is not None:
            module.__spec__.loader = loader
        if self._around is not None:
            self._around(lambda: loader.exec_module(module), module)
        else:
            loader.exec_module(module)
        if self._after is not None:
            self._after()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class WrappingFinder:
    """A ``sys.meta_path`` finder that finds nothing itself: for the names it
    :meth:`wants`, it looks the module up with the other finders and returns that spec
    with its loader wrapped by :meth:`wrap` (a :class:`LoaderProxy`)."""

    def __init__(self) -> None:
        self._busy = threading.local()

    def wants(self, name: str) -> bool:
        return True

    def wrap(self, name: str, loader: Any) -> LoaderProxy:
        raise NotImplementedError

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if getattr(self._busy, "on", False) or not self.wants(name):
            return None
        import importlib.util

        self._busy.on = True
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            return None
        finally:
            self._busy.on = False
        loader = getattr(spec, "loader", None)
        if spec is None or loader is None or not hasattr(loader, "exec_module"):
            return None
        spec.loader = self.wrap(name, loader)
        return spec


class _HookOnImport(WrappingFinder):
    """Installs a framework's hooks right after its ``hook_module`` is imported: code that
    imports a framework late (a library importing Numba inside a function,
    ``torch.compile`` importing Dynamo at first use) is observed from its first compile."""

    def __init__(self, names: frozenset[str]) -> None:
        super().__init__()
        self.names = names

    def wants(self, name: str) -> bool:
        return name in self.names

    def wrap(self, name: str, loader: Any) -> LoaderProxy:
        return LoaderProxy(loader, after=install)


_watcher: _HookOnImport | None = None


def watch_imports() -> None:
    """Install every hooked framework's hooks now and whenever one is imported later.

    Called by the measured process before the case is imported, so every framework the
    case (or a library it calls) uses is observed, whatever the callable is."""
    import sys

    from jitwarm.adapters import ADAPTERS

    global _watcher
    install()
    with _lock:
        if _watcher is None or _watcher not in sys.meta_path:
            names = frozenset(a.hook_module for a in ADAPTERS if a.hook_module)
            _watcher = _HookOnImport(names)
            sys.meta_path.insert(0, _watcher)


def emit(notice: Notice) -> None:
    """Hand a notice to every subscriber (called by the adapters' hooks)."""
    subs = _subscribers[:]  # copy: a subscriber may unsubscribe itself
    for cb in subs:
        cb(notice)


def stack() -> list[Any]:
    """This thread's open compiles, ``(framework, start notice)``: the hooks' nesting."""
    st = getattr(_local, "stack", None)
    if st is None:
        st = _local.stack = []
    return st


# -- a recorder on the hub -----------------------------------------------------------------
class HubRecorder:
    """Collects top-level compiles (as :class:`CompileEvent`) from every hooked framework.

    ``thread``: only compiles in that thread (``None``: any thread); ``framework``: only
    that adapter's compiles. Used by the warmer for callables no adapter recognises (e.g.
    a Python function calling a jitted model), and as the default recorder of an adapter
    whose framework has a hook (:meth:`jitwarm.adapters.base.Adapter.recorder`).
    """

    def __init__(self, thread: int | None = None, framework: str | None = None) -> None:
        self.thread = thread
        self.framework = framework
        self.events: list[CompileEvent] = []
        self._open: list[Notice] = []
        self._cb: Subscriber | None = None

    def start(self) -> None:
        def cb(n: Notice) -> None:
            if n.phase not in ("start", "end"):
                return
            if self.thread is not None and n.thread != self.thread:
                return
            if self.framework is not None and n.framework != self.framework:
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
