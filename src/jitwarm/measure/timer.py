"""The timing loops: as thin as Python allows, with the timer's own cost calibrated.

A warm Numba call is ~180 ns, about the cost of two ``perf_counter_ns`` reads, so the
per-process timer overhead is measured and subtracted, and calls shorter than ~100x that
overhead are timed in batches (as :mod:`timeit` does) once the exact per-call prefix of
the series has been recorded.
"""

from __future__ import annotations

import functools
import math
import statistics
import time
from collections.abc import Callable
from typing import Any

#: a batch should last at least this many timer overheads
BATCH_FACTOR = 100
#: ... and at least this long, so scheduler noise averages out
MIN_BATCH_NS = 10_000
MAX_BATCH = 100_000


def calibrate_overhead(samples: int = 2000) -> int:
    """Median cost (ns) of two back-to-back ``perf_counter_ns`` reads in this process."""
    pc = time.perf_counter_ns
    out = []
    append = out.append
    for _ in range(samples):
        t0 = pc()
        t1 = pc()
        append(t1 - t0)
    out = out[samples // 4 :]  # first reads warm up the code path
    return int(statistics.median(out))


def batch_size(call_ns: float, overhead_ns: int) -> int:
    """Calls per timed batch: 1 for slow calls, enough to dwarf the timer for fast ones."""
    if call_ns <= 0:
        call_ns = 1.0
    if call_ns >= BATCH_FACTOR * max(overhead_ns, 1):
        return 1
    target = max(BATCH_FACTOR * overhead_ns, MIN_BATCH_NS)
    return int(min(MAX_BATCH, max(2, math.ceil(target / call_ns))))


_EACH = """
def loop(fn, args, kwargs, sync, n, starts, durations):
    {unpack}
    pc = perf_counter_ns
    a0 = starts.append
    a1 = durations.append
    for _ in range(n):
        t0 = pc()
        {call}
        t1 = pc()
        a0(t0)
        a1(t1 - t0)
"""

_BATCH = """
def loop(fn, args, kwargs, sync, n, batch, starts, durations):
    {unpack}
    pc = perf_counter_ns
    rng = range(batch)
    a0 = starts.append
    a1 = durations.append
    for _ in range(n):
        t0 = pc()
        for _ in rng:
            r = {call}
        {sync}
        t1 = pc()
        a0(t0)
        a1(t1 - t0)
"""


@functools.lru_cache(maxsize=64)
def _loop(kind: str, nargs: int, has_kwargs: bool, has_sync: bool) -> Callable[..., None]:
    """Compile a timing loop that calls ``fn(a0, a1, ...)`` exactly as user code would.

    Like :mod:`timeit`, the loop is generated: ``fn(*args)`` would hand the args tuple
    straight to the callable, skipping the tuple a plain ``f(x)`` call builds, which for a
    Numba dispatcher is ~30 ns of a ~150 ns call.
    """
    names = [f"x{i}" for i in range(nargs)]
    unpack = f"{', '.join(names)}, = args" if names else "pass"
    call = f"fn({', '.join([*names, '**kwargs'] if has_kwargs else names)})"
    if kind == "each":
        src = _EACH.format(unpack=unpack, call=f"sync({call})" if has_sync else call)
    else:
        src = _BATCH.format(unpack=unpack, call=call, sync="sync(r)" if has_sync else "pass")
    namespace: dict[str, Any] = {"perf_counter_ns": time.perf_counter_ns}
    exec(compile(src, f"<jitwarm {kind} loop>", "exec"), namespace)  # noqa: S102
    return namespace["loop"]


def time_each(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    sync: Callable[[Any], None] | None,
    n: int,
    starts: list[int],
    durations: list[int],
) -> None:
    """Time ``n`` single calls, appending each start time and raw duration (ns)."""
    loop = _loop("each", len(args), bool(kwargs), sync is not None)
    loop(fn, args, kwargs, sync, n, starts, durations)


def time_batches(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    sync: Callable[[Any], None] | None,
    n: int,
    batch: int,
    starts: list[int],
    durations: list[int],
) -> None:
    """Time ``n`` batches of ``batch`` calls each; a synchronising adapter syncs the last."""
    loop = _loop("batch", len(args), bool(kwargs), sync is not None)
    loop(fn, args, kwargs, sync, n, batch, starts, durations)
