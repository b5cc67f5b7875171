"""Numba CPU adapter (``@jit`` / ``@njit``).

Compile events come from ``numba.core.event`` (``numba:compile``), cache hits and misses
from ``dispatcher.stats``, specialisations from ``dispatcher.signatures``. The disk cache
is redirected with ``NUMBA_CACHE_DIR``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jitwarm.adapters.base import Adapter, Recorder
from jitwarm.adapters.events import CompileEvent, union_ns


class NumbaRecorder(Recorder):
    """Listens to ``numba:compile`` events; nested compiles get ``depth`` > 0."""

    def __init__(self) -> None:
        super().__init__()
        self._listener: Any = None
        self._open: list[tuple[int, Any]] = []

    def start(self) -> None:
        from numba.core import event as ev

        rec = self

        class _Listener(ev.Listener):
            def on_start(self, event: Any) -> None:
                rec._open.append((time.perf_counter_ns(), event))

            def on_end(self, event: Any) -> None:
                t_end = time.perf_counter_ns()
                # match the innermost open event of the same dispatcher
                for i in range(len(rec._open) - 1, -1, -1):
                    t_start, opened = rec._open[i]
                    if opened.data is event.data or opened.data == event.data:
                        del rec._open[i]
                        break
                else:
                    t_start = t_end
                    i = len(rec._open)
                rec.events.append(_to_event(event, t_start, t_end, depth=i))

        self._listener = _Listener()
        ev.register("numba:compile", self._listener)

    def stop(self) -> None:
        if self._listener is not None:
            from numba.core import event as ev

            ev.unregister("numba:compile", self._listener)
            self._listener = None


def _to_event(event: Any, t_start: int, t_end: int, depth: int) -> CompileEvent:
    data = event.data or {}
    disp = data.get("dispatcher")
    py_func = getattr(disp, "py_func", None)
    name = getattr(py_func, "__qualname__", None) or str(disp)
    args = data.get("args")
    return CompileEvent(
        start_ns=t_start,
        end_ns=t_end,
        name=name,
        kind="compile",
        signature=str(args) if args is not None else None,
        cache="miss",  # numba:compile only fires after the disk cache (if any) missed
        reason=f"new signature {args}" if args is not None else None,
        depth=depth,
    )


class NumbaAdapter(Adapter):
    """Numba ``@jit``/``@njit`` CPU dispatchers."""

    name = "numba"
    extra = "numba"
    module = "numba"
    trigger = "first call with new argument types"

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
