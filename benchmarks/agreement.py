"""Does ``jitwarm profile`` agree with independent measurements?

Runs the core issue's example (a Numba ``@njit`` polynomial) three ways:
- ``jitwarm profile`` (cold state, one fresh process per invocation, N invocations);
- a plain fresh-process stopwatch: N ``python`` processes that import numba, define the
  function and time its first call with ``perf_counter_ns`` (nothing of jitwarm loaded);
- ``pyperf`` for the warm call (one pyperf worker per round, its own calibration and warmups).
Prints the ratios; targets: cold first call within ±10%, warm median within ±10%.
Exits 1 when a target is missed.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from _common import print_table, verdict, write_json

CASE = """
import jitwarm

@jitwarm.case
def poly():
    from numba import njit

    @njit
    def compute(x):
        return x * x + 2 * x + 1

    return compute, (10,)
"""

STOPWATCH = """
import time
from numba import njit

@njit
def compute(x):
    return x * x + 2 * x + 1

t0 = time.perf_counter_ns()
compute(10)
t1 = time.perf_counter_ns()
print(t1 - t0)
"""

PYPERF = """
import pyperf
from numba import njit

@njit
def compute(x):
    return x * x + 2 * x + 1


def time_func(loops):
    # pyperf's documented form for tiny functions: bench_func wraps the call in a
    # functools.partial, whose ~35 ns would be measured as part of the call
    f = compute
    t0 = pyperf.perf_counter()
    for _ in range(loops):
        f(10)
    return pyperf.perf_counter() - t0


compute(10)
runner = pyperf.Runner()
runner.bench_time_func("poly", time_func)
"""


def _jitwarm_once(d: Path, out: Path) -> dict:
    subprocess.run(
        [sys.executable, "-m", "jitwarm", "profile", "bench_poly.py::poly", "--processes", "1",
         "--cache", "cold", "--json", str(out), "--quiet", "--no-history"],
        cwd=d, check=True,
    )
    return json.loads(out.read_text())["states"]["cold"]["processes"][0]


def main(processes: int = 15) -> int:
    """Interleave jitwarm and the stopwatch process by process, so machine drift hits both."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "bench_poly.py").write_text(textwrap.dedent(CASE))
        (d / "stopwatch.py").write_text(textwrap.dedent(STOPWATCH))
        (d / "pyperf_poly.py").write_text(textwrap.dedent(PYPERF))
        import pyperf

        jw_first, jw_warm, firsts, pyperf_values = [], [], [], []
        for i in range(processes):
            p = _jitwarm_once(d, d / "jw.json")
            jw_first.append(p["first_call_ns"])
            jw_warm.append(p["warm_median_ns"])
            r = subprocess.run([sys.executable, "stopwatch.py"], cwd=d, check=True,
                               capture_output=True, text=True)
            firsts.append(int(r.stdout.strip().splitlines()[-1]))
            # one pyperf worker process per round: machine drift hits all three alike
            pp = d / f"pyperf-{i}.json"
            subprocess.run([sys.executable, "pyperf_poly.py", "--quiet", "-p", "1", "-n", "5",
                            "-o", str(pp)], cwd=d, check=True)
            pyperf_values.extend(pyperf.Benchmark.load(str(pp)).get_values())
        warm_pyperf = statistics.median(pyperf_values) * 1e9
        pyperf_stdev = statistics.stdev(pyperf_values) * 1e9
    jw_first_med = statistics.median(jw_first)
    jw_warm_med = statistics.median(jw_warm)
    stopwatch_first = statistics.median(firsts)
    r_first = jw_first_med / stopwatch_first
    r_warm = jw_warm_med / warm_pyperf
    rows = [
        ["cold first call", f"{jw_first_med / 1e6:.1f} ms",
         f"{stopwatch_first / 1e6:.1f} ms (stopwatch)", f"{r_first:.3f}", "0.90–1.10"],
        ["warm median", f"{jw_warm_med:.0f} ns", f"{warm_pyperf:.0f} ns (pyperf)",
         f"{r_warm:.3f}", "0.90–1.10"],
    ]
    print_table(["metric", "jitwarm", "independent", "ratio", "target"], rows)
    print("per-process spread: jitwarm first call "
          f"{min(jw_first) / 1e6:.0f}–{max(jw_first) / 1e6:.0f} ms, stopwatch "
          f"{min(firsts) / 1e6:.0f}–{max(firsts) / 1e6:.0f} ms; jitwarm warm "
          f"{min(jw_warm)}–{max(jw_warm)} ns, pyperf stdev {pyperf_stdev:.0f} ns")
    ok = 0.9 <= r_first <= 1.1 and 0.9 <= r_warm <= 1.1
    path = write_json("agreement", {
        "processes": processes,
        "jitwarm_first_calls_ns": jw_first,
        "stopwatch_first_calls_ns": firsts,
        "jitwarm_warm_medians_ns": jw_warm,
        "jitwarm_first_call_ns": jw_first_med,
        "stopwatch_first_call_ns": stopwatch_first,
        "jitwarm_warm_median_ns": jw_warm_med,
        "pyperf_warm_median_ns": warm_pyperf,
        "pyperf_warm_stdev_ns": pyperf_stdev,
        "ratio_first_call": r_first,
        "ratio_warm": r_warm,
        "within_targets": ok,
    })
    print(f"written to {path}")
    return verdict("agreement.py", [
        (f"cold first call within ±10% of the stopwatch (ratio {r_first:.3f})",
         0.9 <= r_first <= 1.1),
        (f"warm median within ±10% of pyperf (ratio {r_warm:.3f})", 0.9 <= r_warm <= 1.1),
    ])


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 15))
