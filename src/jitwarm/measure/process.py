"""One process's measurement: the first call, then a warm series until steady or capped.

Shared by the fresh-process worker (:mod:`jitwarm.measure.worker`) and the in-process
:func:`jitwarm.profile`. Framework specifics come only through the adapter.
"""

from __future__ import annotations

import bisect
import gc
import statistics
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jitwarm._errors import CaseError
from jitwarm.adapters import Adapter, result_syncs
from jitwarm.adapters.events import union_ns
from jitwarm.adapters.units import UnitRecorder, compile_ns_by_framework
from jitwarm.cases.targets import Built
from jitwarm.measure.perf import open_counter
from jitwarm.measure.timer import batch_size, calibrate_overhead, time_batches, time_each
from jitwarm.results.stats import calls_before  # re-exported: measure.process.calls_before


@dataclass
class Settings:
    """How long one process measures: caps on the series and on time."""

    max_calls: int = 2000  # cap on series elements (one call, or one batch of calls)
    max_time_s: float = 10.0  # cap on the warm series' wall time
    exact_calls: int = 100  # the first elements are always single, exactly timed calls
    min_calls: int = 50  # never stop before this many elements
    adaptive: bool = True  # stop when the analysis says the series is steady
    threads: int | None = None  # framework threads in the worker (None: the framework's default)
    gc_freeze: bool = False  # gc.freeze() after setup, before the first call
    #: record the packages the process had imported at its first result (``packages``)
    record_packages: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class GcWatch:
    """Time spent in Python's garbage collector while active, via ``gc.callbacks``.

    A full (generation 2) collection walks every tracked object; after importing a big
    framework that can take tens of milliseconds, and tracing (JAX, Dynamo) allocates
    enough to trigger one during a first call.
    """

    def __init__(self) -> None:
        self.ns = 0
        self.collections = [0, 0, 0]
        self.pauses: list[tuple[int, int]] = []  # (start, duration) of the first 200
        self._t = 0
        self._on = False

    def _cb(self, phase: str, info: dict[str, Any]) -> None:
        if not self._on:
            return
        if phase == "start":
            self._t = time.perf_counter_ns()
        elif self._t:
            took = time.perf_counter_ns() - self._t
            self.ns += took
            if len(self.pauses) < 200:
                self.pauses.append((self._t, took))
            self.collections[min(2, int(info.get("generation", 0)))] += 1
            self._t = 0

    def __enter__(self) -> GcWatch:
        self._on = True
        gc.callbacks.append(self._cb)
        return self

    def __exit__(self, *exc: object) -> None:
        self._on = False
        try:
            gc.callbacks.remove(self._cb)
        except ValueError:  # pragma: no cover - removed by the user's code
            pass

    def to_dict(self, t0: int | None = None) -> dict[str, Any]:
        """Totals; with ``t0``, each pause as ``[start relative to t0, duration]`` too."""
        out: dict[str, Any] = {"ns": int(self.ns), "collections": list(self.collections)}
        if t0 is not None:
            out["pauses"] = [[s - t0, d] for s, d in self.pauses]
        return out


_PKG_DIR = str(Path(__file__).resolve().parent.parent)  # the jitwarm package


def _user_traceback(exc: BaseException) -> str:
    """The exception's traceback with jitwarm's own leading frames dropped."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None and tb.tb_frame.f_code.co_filename.startswith(
        _PKG_DIR
    ):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


#: :func:`loaded_packages` as a statement (``PACKAGES``), for a process without jitwarm (the
#: strategies' floor processes): top-level modules outside the standard library loaded from
#: a file on ``sys.path`` — not code generated into a cache directory (Inductor's kernels),
#: not modules made in memory
PACKAGES_CODE = (
    "import os as _os, sys as _sys\n"
    "_std = set(_sys.stdlib_module_names) | set(_sys.builtin_module_names) | {'__main__'}\n"
    "_lib = _os.path.dirname(_os.__file__) + _os.sep\n"
    "_roots = tuple(_os.path.abspath(p) + _os.sep for p in _sys.path if p) "
    "+ (_os.getcwd() + _os.sep,)\n"
    "_files = {n: _os.path.abspath(getattr(m, '__file__', None) or '') for n, m in "
    "list(_sys.modules.items()) if '.' not in n and n not in _std}\n"
    "PACKAGES = sorted(n for n, f in _files.items() if f != _os.path.abspath('') "
    "and f.startswith(_roots) and not (f.startswith(_lib) and '-packages' not in f))\n")


def loaded_packages() -> list[str]:
    """The top-level packages outside the standard library this process has imported
    (see :data:`PACKAGES_CODE`)."""
    scope: dict[str, Any] = {}
    exec(PACKAGES_CODE, scope)  # the same statement as the floor processes run
    return list(scope["PACKAGES"])


def measure(built: Built, adapter: Adapter, settings: Settings,
            units: UnitRecorder | None = None,
            at_first_result: Callable[[], dict[str, Any]] | None = None) -> dict[str, Any]:
    """Time the first call and the warm series of ``built``; return a process record.

    ``units``: the process-wide recorder of every framework's compiles (the worker starts
    it before the case is imported); without one, a recorder is started here.
    ``at_first_result``: called once right after the first call, outside every timing; its
    fields join the record (the worker's CPU used so far). Raises :class:`CaseError` when
    the user's callable raises.
    """
    fn, args, kwargs = built.fn, built.args, built.kwargs
    own_units = units is None
    if units is None:
        units = UnitRecorder()
        units.start()
    pc = time.perf_counter_ns
    frozen = None
    if settings.gc_freeze:
        gc.freeze()  # what a service does after loading: long-lived objects leave the GC
        frozen = gc.get_freeze_count()  # the objects it moved out of the collector's reach
    stats_before = adapter.cache_stats(fn)
    counter, no_count = open_counter()  # opened before the first call: never timed
    gcw = GcWatch()
    rec = adapter.recorder()
    rec.start()
    starts: list[int] = []
    try:
        try:
            with gcw:
                if counter is not None:
                    counter.start()
                t0 = pc()
                result = fn(*args, **kwargs)
                syncs = result_syncs(result, adapter)  # by what it returned, not the callable
                for s in syncs:
                    s(result)
                t1 = pc()
                instructions = counter.stop() if counter is not None else None
        except Exception as exc:
            raise CaseError(
                f"the first call raised {type(exc).__name__}: {exc}",
                _user_traceback(exc),
                phase="first_call",
            ) from None
        first_raw = t1 - t0
        at_first = at_first_result() if at_first_result is not None else {}
        packages = loaded_packages() if settings.record_packages else None
        sync = _one_sync(syncs)
        del result
        overhead = calibrate_overhead()
        values: list[float] = [float(max(1, first_raw - overhead))]
        starts.append(t0)
        sizes: list[list[int]] = [[0, 1]]  # runs of [first element index, calls per element]
        stop_reason = _series(built, sync, settings, overhead, values, starts, sizes)
    finally:
        rec.stop()
        if own_units:
            units.stop()
        if counter is not None:
            counter.close()
    stats_after = adapter.cache_stats(fn)

    events = sorted(rec.events, key=lambda e: e.start_ns)
    for e in events:
        e.call_index = _call_of(e.start_ns, starts)
    compiled = [(u, _call_of(u.start_ns, starts)) for u in units.finished()]
    first = [u.event() for u, c in compiled if c == 0 and u.compiles]
    compile_ns = union_ns([e for e in events if e.call_index == 0] + first, t0, t1)
    by_framework = compile_ns_by_framework([u for u, _ in compiled], first, t0, t1)
    recompiles = [
        {
            "call_index": e.call_index,
            "name": e.name,
            "signature": e.signature,
            "reason": e.reason,
            "duration_ns": e.duration_ns,
        }
        for e in events
        if e.depth == 0 and e.call_index is not None and e.call_index > 0
    ]
    # other frameworks' compiles during the warm series (the callable's own are above)
    recompiles += [
        {"call_index": c, "name": u.name, "signature": u.signature, "reason": u.reason,
         "duration_ns": u.duration_ns, "framework": u.framework}
        for u, c in compiled
        if c is not None and c > 0 and u.framework != adapter.name
    ]
    notes: list[str] = []
    specializations = adapter.specializations(fn)  # before the fresh copy below compiles
    try:
        own = adapter.function_compile_ns(fn, args, kwargs)
    except Exception as exc:  # attribution is best effort; the measurement stands
        own = None
        notes.append(f"function compile not measured: {type(exc).__name__}: {exc}")

    cache = None
    if stats_after is not None:
        before = stats_before or {"hits": 0, "misses": 0}
        cache = {k: stats_after[k] - before.get(k, 0) for k in stats_after}
    elif any(u.cache in ("hit", "miss") for u, _ in compiled):  # wrapped code: its units say
        cache = {"hits": sum(1 for u, _ in compiled if u.cache == "hit"),
                 "misses": sum(1 for u, _ in compiled if u.cache == "miss")}

    record: dict[str, Any] = {
        "status": "ok",
        "first_call_ns": int(values[0]),
        "compile_ns": int(compile_ns),
        "function_compile_ns": None if own is None else int(own),
        "timings_ns": [int(round(v)) for v in values],
        "batch_sizes": sizes,
        "timer_overhead_ns": int(overhead),
        "first_call_gc": gcw.to_dict(t0),
        **({} if frozen is None else {"gc_frozen": frozen}),
        **({} if packages is None else {"packages": packages}),
        "first_call_instructions": instructions,
        "first_call_instructions_note": no_count,
        "compile_events": [e.to_dict() for e in events],
        "compiled": [u.to_dict(t0, c) for u, c in compiled],
        "compile_ns_by_framework": by_framework,
        "recompiles": recompiles,
        "cache": cache,
        # the callable's framework caches it, or a compile inside it used a disk cache
        "disk_cache": bool(adapter.supports_disk_cache(fn))
        or any(u.cache in ("hit", "miss") for u, _ in compiled),
        "specializations": specializations,
        "stop_reason": stop_reason,
        "notes": notes,
    }
    record.update(at_first)
    record.update(analyze_record(values, sizes))
    warm = record["warm_median_ns"]
    if own is not None and compile_ns > 0:
        # a first call that loaded from a cache compiled less than a fresh copy does
        record["runtime_init_ns"] = int(max(0, values[0] - min(own, compile_ns) - warm))
    else:
        record["runtime_init_ns"] = int(max(0, values[0] - compile_ns - warm))
    return record


def _one_sync(syncs: list[Any]) -> Any:
    """One callable doing every synchronisation the first result needed (None: none)."""
    if not syncs:
        return None
    if len(syncs) == 1:
        return syncs[0]

    def sync_all(result: Any) -> None:
        for s in syncs:
            s(result)

    return sync_all


def _call_of(start_ns: int, starts: list[int]) -> int | None:
    """Index of the call (series element) a compile started in; None: before the first."""
    idx = bisect.bisect_right(starts, start_ns) - 1
    return idx if idx >= 0 else None


def _series(
    built: Built,
    sync: Any,
    settings: Settings,
    overhead: int,
    values: list[float],
    starts: list[int],
    sizes: list[list[int]],
) -> str:
    """Grow the warm series until the stopping rule or a cap says stop; return why."""
    from jitwarm.analysis import StoppingRule  # imported after the first call: not in any timing

    fn, args, kwargs = built.fn, built.args, built.kwargs
    rule = StoppingRule()
    deadline = time.perf_counter_ns() + int(settings.max_time_s * 1e9)
    batch = 1
    chunk = min(20, settings.max_calls - 1)
    while True:
        n = len(values)
        remaining = settings.max_calls - n
        if remaining <= 0:
            return "call cap"
        left_ns = deadline - time.perf_counter_ns()
        if left_ns <= 0:
            return "time cap"
        if n >= settings.exact_calls and batch == 1 and len(values) > 1:
            recent = values[max(1, n - 50) :]
            batch = batch_size(statistics.median(recent), overhead)
            if batch > 1:
                sizes.append([n, batch])
        per_el = statistics.median(values[max(1, n - 10) :]) * batch if n > 1 else values[0]
        k = int(min(chunk, remaining, max(1, left_ns // max(per_el, 1))))
        if batch == 1:
            k = min(k, max(settings.exact_calls - n, 1)) if n < settings.exact_calls else k
        raw: list[int] = []
        try:
            if batch == 1:
                time_each(fn, args, kwargs, sync, k, starts, raw)
            else:
                time_batches(fn, args, kwargs, sync, k, batch, starts, raw)
        except Exception as exc:
            raise CaseError(
                f"call {n + len(raw)} raised {type(exc).__name__}: {exc}",
                _user_traceback(exc),
                phase="call",
            ) from None
        if batch == 1:
            values.extend(float(max(1, d - overhead)) for d in raw)
        else:
            values.extend(max(1.0, (d - overhead) / batch) for d in raw)
        n = len(values)
        if settings.adaptive and n >= settings.min_calls:
            decision = rule.check(values)
            if decision.stop:
                return "steady"
        chunk = max(20, n // 8)


def analyze_record(values: list[float], sizes: list[list[int]]) -> dict[str, Any]:
    """Steady-state analysis of one process's series, as process-record fields."""
    from jitwarm.analysis import analyze

    res = analyze(values)
    tail = values[1:] if len(values) > 1 else values
    warm = res.steady_median if res.steady_median is not None else statistics.median(
        tail[len(tail) // 2 :]
    )
    start = res.steady_state_start
    return {
        "classification": res.classification,
        "steady_state_start": start,
        "steady_state_call": None if start is None else calls_before(start, sizes),
        "warm_median_ns": int(round(warm)),
        "steady_ci_ns": None
        if res.steady_ci is None
        else [int(round(res.steady_ci[0])), int(round(res.steady_ci[1]))],
        "change_points": list(res.change_points),
        "outliers": list(res.outliers),
        "warmup_cost_ns": None if res.warmup_cost is None else int(round(res.warmup_cost)),
    }
