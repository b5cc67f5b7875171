"""Per-call overhead of jitwarm's timing loop vs a bare ``perf_counter_ns`` loop.

Both loops time the same warm Numba call one call at a time, in the same process,
alternating over several rounds; the figure is the ratio of wall time per iteration.
Target: at most 1.3× (exit 1 when missed); with every framework's hooks installed and the
process-wide compile-unit recorder subscribed (as in a measured process), at most 1.1×. The batched loop jitwarm uses for very fast calls is shown too.
"""

from __future__ import annotations

import statistics
import sys
import time

from _common import print_table, verdict, write_json


def bare(fn, n):
    pc = time.perf_counter_ns
    out = []
    a = out.append
    for _ in range(n):
        t0 = pc()
        fn(10)
        a(pc() - t0)
    return out


def main(n: int = 200_000, rounds: int = 9) -> int:
    from numba import njit

    from jitwarm.measure.timer import batch_size, calibrate_overhead, time_batches, time_each

    @njit
    def compute(x):
        return x * x + 2 * x + 1

    compute(10)
    from jitwarm.adapters import hub
    from jitwarm.adapters.units import UnitRecorder

    observing = UnitRecorder()  # as in a measured process: every hook on, a subscriber
    overhead = calibrate_overhead()
    batch = batch_size(200, overhead)
    per = {"bare": [], "jitwarm (per call)": [], "jitwarm (per call, every hook on)": [],
           "jitwarm (batched)": []}
    for _ in range(rounds):
        hub.watch_imports()
        observing.start()
        starts, durs = [], []
        t0 = time.perf_counter_ns()
        time_each(compute, (10,), {}, None, n, starts, durs)
        per["jitwarm (per call, every hook on)"].append((time.perf_counter_ns() - t0) / n)
        observing.stop()
        t0 = time.perf_counter_ns()
        bare(compute, n)
        per["bare"].append((time.perf_counter_ns() - t0) / n)
        starts: list[int] = []
        durs: list[int] = []
        t0 = time.perf_counter_ns()
        time_each(compute, (10,), {}, None, n, starts, durs)
        per["jitwarm (per call)"].append((time.perf_counter_ns() - t0) / n)
        starts, durs = [], []
        t0 = time.perf_counter_ns()
        time_batches(compute, (10,), {}, None, n // batch, batch, starts, durs)
        per["jitwarm (batched)"].append((time.perf_counter_ns() - t0) / ((n // batch) * batch))
    base = statistics.median(per["bare"])
    rows = []
    result = {}
    for name, vals in per.items():
        med = statistics.median(vals)
        rows.append([name, f"{med:.1f} ns", f"{med / base:.3f}"])
        result[name] = {"ns_per_iteration": med, "ratio_to_bare": med / base}
    print(f"timer overhead (two perf_counter_ns reads): {overhead} ns; batch size {batch}")
    print_table(["loop", "wall per iteration", "÷ bare"], rows)
    ratio = result["jitwarm (per call)"]["ratio_to_bare"]
    hooked = result["jitwarm (per call, every hook on)"]["ratio_to_bare"]
    path = write_json("harness_overhead", {"n": n, "rounds": rounds, "timer_overhead_ns": overhead,
                                           "batch": batch, "loops": result,
                                           "within_target": ratio <= 1.3 and hooked <= 1.1})
    print(f"written to {path}")
    return verdict("harness_overhead.py",
                   [(f"per-call loop ≤ 1.3× a bare loop ({ratio:.3f}×)", ratio <= 1.3),
                    (f"per-call loop with every framework observed ≤ 1.1× a bare loop "
                     f"({hooked:.3f}×)", hooked <= 1.1)])


if __name__ == "__main__":
    sys.exit(main())
