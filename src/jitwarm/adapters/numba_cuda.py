"""Numba CUDA adapter (``@cuda.jit`` kernels).

A case returns a *configured* kernel and its arguments::

    return kernel[blocks, threads_per_block], (d_x, d_out)

CUDA kernels emit no ``numba:compile`` event, so compilation is attributed through the
dispatcher itself: while recording, ``CUDADispatcher.compile`` (the method every launch
with a new signature goes through, disk-cache lookup included) is timed, and its
``_cache_hits``/``_cache_misses`` tell whether the kernel came from ``NUMBA_CACHE_DIR``.
Every launch is followed by ``cuda.synchronize()`` before the clock is read.

On a machine without a GPU, Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``) runs
kernels as Python threads: nothing is compiled and every timing is simulated and
meaningless — the process notes say so. It exists so the plumbing can be tested anywhere.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jitwarm.adapters.base import Adapter, Recorder
from jitwarm.adapters.events import CompileEvent

SIM_NOTE = (
    "Numba CUDA simulator (NUMBA_ENABLE_CUDASIM=1): kernels ran as Python threads on the "
    "CPU and nothing was compiled; these timings are simulated and meaningless"
)


def simulated() -> bool:
    """Whether ``numba.cuda`` is the CUDA simulator in this process."""
    config = sys.modules.get("numba.core.config")
    return bool(getattr(config, "ENABLE_CUDASIM", 0))


def dispatcher_of(fn: Any) -> Any:
    """The ``CUDADispatcher`` behind a kernel or a configured launch (``kernel[b, t]``)."""
    return getattr(fn, "dispatcher", fn)


class CudaRecorder(Recorder):
    """Times ``CUDADispatcher.compile`` calls (real CUDA only; the simulator compiles nothing)."""

    def __init__(self) -> None:
        super().__init__()
        self._orig: Any = None
        self._depth = 0

    def start(self) -> None:
        if simulated():
            return
        from numba.cuda.dispatcher import CUDADispatcher

        orig = CUDADispatcher.compile
        rec = self

        def compile(disp: Any, sig: Any) -> Any:  # noqa: A001 - mirrors the method name
            known = sig in disp.overloads if not disp.specialized else True
            hits_before = sum(disp._cache_hits.values())
            rec._depth += 1
            t0 = time.perf_counter_ns()
            try:
                return orig(disp, sig)
            finally:
                t1 = time.perf_counter_ns()
                rec._depth -= 1
                if not known:
                    hit = sum(disp._cache_hits.values()) > hits_before
                    rec.events.append(CompileEvent(
                        start_ns=t0, end_ns=t1,
                        name=getattr(disp.py_func, "__qualname__", str(disp)),
                        kind="compile", signature=str(sig),
                        cache="hit" if hit else "miss",
                        reason=f"new signature {sig}", depth=rec._depth,
                    ))

        self._orig = orig
        CUDADispatcher.compile = compile  # type: ignore[method-assign]

    def stop(self) -> None:
        if self._orig is not None:
            from numba.cuda.dispatcher import CUDADispatcher

            CUDADispatcher.compile = self._orig  # type: ignore[method-assign]
            self._orig = None


class NumbaCudaAdapter(Adapter):
    """``@cuda.jit`` kernels, configured (``kernel[blocks, threads]``) or not."""

    name = "numba-cuda"
    extra = "numba"
    module = "numba"
    needs_sync = True
    trigger = "first launch with new argument types"
    packages = ("numba-cuda",)
    owns_cache = False  # kernels are cached in Numba's cache (NUMBA_CACHE_DIR)

    def cache_env(self, cache_dir: Path) -> dict[str, str]:
        return {"NUMBA_CACHE_DIR": str(cache_dir / "numba")}

    def version(self) -> str | None:
        import importlib.metadata

        for dist in ("numba-cuda", "numba"):
            try:
                return importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                continue
        return None

    def detect(self, fn: Callable[..., Any]) -> bool:
        if "numba.cuda" not in sys.modules:
            return False
        names = {type(fn).__name__, type(dispatcher_of(fn)).__name__}
        return bool(names & {"CUDADispatcher", "FakeCUDAKernel"}) or (
            type(fn).__name__ == "_LaunchConfiguration"
        )

    def sync(self, result: Any) -> None:
        from numba import cuda

        cuda.synchronize()

    def recorder(self) -> Recorder:
        return CudaRecorder()

    def cache_stats(self, fn: Callable[..., Any]) -> dict[str, int] | None:
        disp = dispatcher_of(fn)
        hits = getattr(disp, "_cache_hits", None)
        misses = getattr(disp, "_cache_misses", None)
        if hits is None or misses is None:
            return None
        return {"hits": int(sum(hits.values())), "misses": int(sum(misses.values()))}

    def supports_disk_cache(self, fn: Callable[..., Any]) -> bool:
        cache = getattr(dispatcher_of(fn), "_cache", None)
        return cache is not None and type(cache).__name__ != "NullCache"

    def specializations(self, fn: Callable[..., Any]) -> int | None:
        if simulated():
            return None  # the simulator keeps no compiled overloads
        overloads = getattr(dispatcher_of(fn), "overloads", None)
        return None if overloads is None else len(overloads)

    def function_compile_ns(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> int | None:
        """Compile a fresh, uncached ``cuda.jit`` copy for the first signature compiled."""
        if simulated():
            return None
        from numba import cuda

        disp = dispatcher_of(fn)
        if not disp.overloads:
            return None
        sig = next(iter(disp.overloads))
        options = {k: v for k, v in dict(disp.targetoptions).items() if k != "cache"}
        times = []
        for _ in range(3):
            clone = cuda.jit(**options)(disp.py_func)
            t0 = time.perf_counter_ns()
            clone.compile(sig)
            times.append(time.perf_counter_ns() - t0)
        return sorted(times)[1]

    def runtime_info(self) -> dict[str, Any]:
        from numba import cuda

        if simulated():
            return {"cuda_simulator": True}
        dev = cuda.get_current_device()
        return {
            "cuda_simulator": False,
            "device": dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name),
            "compute_capability": list(dev.compute_capability),
        }

    def cache_notes(self) -> list[str]:
        if simulated():
            return [SIM_NOTE]
        return ["Numba CUDA: compiles are timed around CUDADispatcher.compile (no "
                "numba:compile event exists for kernels)"]
