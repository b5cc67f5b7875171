"""Time and peak memory of ``jitwarm.analysis.analyze`` at 1e3 … 1e6 points.

Usage: python benchmarks/analysis_speed.py [--repeat R]
Prints a table and writes benchmarks/results/analysis_speed.json.
Targets: 1e5 points < 0.5 s, 1e6 points < 5 s, memory linear in n (peak bytes per point at
1e6 within 1.5× of that at 1e5); exits 1 when one is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import tracemalloc

import numpy as np

from _common import RESULTS, verdict
from jitwarm.analysis import analyze
from jitwarm.analysis._generate import generate
from jitwarm.results.profile import write_atomic

SIZES = (1_000, 10_000, 100_000, 1_000_000)
TARGETS = {100_000: 0.5, 1_000_000: 5.0}


def series(n: int) -> np.ndarray:
    """A realistic hard case: compile spike, exponential warmup, AR(1) noise, GC spikes."""
    return generate("exp_warmup", n, noise="ar1", seed=n, phi=0.5, gc_spikes=True).series


def measure(n: int, repeat: int) -> dict:
    x = series(n)
    analyze(x[: min(n, 2000)])  # import / first-call costs out of the way
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        a = analyze(x)
        times.append(time.perf_counter() - t)
    tracemalloc.start()
    analyze(x)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "n": n,
        "seconds_best": min(times),
        "seconds_median": float(np.median(times)),
        "peak_mib": peak / 2**20,
        "bytes_per_point": peak / n,
        "classification": a.classification,
        "steady_state_start": a.steady_state_start,
        "target_s": TARGETS.get(n),
        "meets_target": None if n not in TARGETS else min(times) < TARGETS[n],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rows = [measure(n, args.repeat) for n in SIZES]
    print(f"{'n':>10} {'best s':>9} {'median s':>9} {'peak MiB':>9} {'B/point':>8}  class")
    for r in rows:
        target = "" if r["target_s"] is None else f"  (target < {r['target_s']} s)"
        print(
            f"{r['n']:>10,} {r['seconds_best']:>9.4f} {r['seconds_median']:>9.4f} "
            f"{r['peak_mib']:>9.1f} {r['bytes_per_point']:>8.0f}  {r['classification']}{target}"
        )
    out = RESULTS / "analysis_speed.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpus": os.cpu_count(),
        "load_avg_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }
    write_atomic(out, json.dumps({"meta": meta, "results": rows}, indent=2) + "\n")
    print(f"wrote {out}")
    by_n = {r["n"]: r for r in rows}
    checks = [(f"classify {n:,} points in < {t} s (best {by_n[n]['seconds_best']:.3f} s)",
               by_n[n]["seconds_best"] < t) for n, t in TARGETS.items()]
    growth = by_n[1_000_000]["bytes_per_point"] / by_n[100_000]["bytes_per_point"]
    checks.append((f"memory linear in n (bytes per point 1e6 / 1e5 = {growth:.2f} ≤ 1.5)",
                   growth <= 1.5))
    return verdict("analysis_speed.py", checks)


if __name__ == "__main__":
    sys.exit(main())
