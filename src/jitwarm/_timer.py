"""The timing loops: as thin as Python allows, with the timer's own cost calibrated.

A warm Numba call is ~180 ns, about the cost of two ``perf_counter_ns`` reads, so the
per-process timer overhead is measured and subtracted, and calls shorter than ~100x that
overhead are timed in batches (as :mod:`timeit` does) once the exact per-call prefix of
the series has been recorded.
"""

from __future__ import annotations

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
    pc = time.perf_counter_ns
    a0 = starts.append
    a1 = durations.append
    if sync is None and not kwargs:
        for _ in range(n):
            t0 = pc()
            fn(*args)
            t1 = pc()
            a0(t0)
            a1(t1 - t0)
    elif sync is None:
        for _ in range(n):
            t0 = pc()
            fn(*args, **kwargs)
            t1 = pc()
            a0(t0)
            a1(t1 - t0)
    else:
        for _ in range(n):
            t0 = pc()
            sync(fn(*args, **kwargs))
            t1 = pc()
            a0(t0)
            a1(t1 - t0)


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
    pc = time.perf_counter_ns
    rng = range(batch)
    a0 = starts.append
    a1 = durations.append
    if sync is None and not kwargs:
        for _ in range(n):
            t0 = pc()
            for _ in rng:
                fn(*args)
            t1 = pc()
            a0(t0)
            a1(t1 - t0)
    else:
        for _ in range(n):
            t0 = pc()
            r = None
            for _ in rng:
                r = fn(*args, **kwargs)
            if sync is not None:
                sync(r)
            t1 = pc()
            a0(t0)
            a1(t1 - t0)
