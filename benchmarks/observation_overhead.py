"""What observing every framework costs the first call of wrapped code.

A plain Python function calling two ``@njit`` kernels (no disk cache) is called once in
fresh processes, interleaved: (a) timed with a bare ``perf_counter_ns`` stopwatch and no
jitwarm at all; (b) measured by ``jitwarm profile`` (one cold process), whose worker has
every framework's hooks and the process-wide compile-unit recorder on from before the
case is imported. Target: the medians within ±10% of each other (exit 1 when missed).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from _common import print_table, verdict, write_json

CASE = textwrap.dedent('''
    import numpy as np
    from numba import njit
    import jitwarm


    @njit
    def scale(x, w):
        out = np.empty_like(x)
        for i in range(x.shape[0]):
            out[i] = x[i] * w
        return out


    @njit
    def total(x):
        s = 0.0
        for v in x:
            s += v
        return s


    def predict(x, w):
        return total(scale(x, w))


    @jitwarm.case
    def wrapped():
        return predict, (np.arange(1000.0), 2.0)
''')

STOPWATCH = textwrap.dedent('''
    import sys, time
    sys.path.insert(0, sys.argv[1])
    import numpy as np
    import wrapped_case as c
    x = np.arange(1000.0)
    t0 = time.perf_counter_ns()
    c.predict(x, 2.0)
    print(time.perf_counter_ns() - t0)
''')


def stopwatch(folder: Path) -> int:
    out = subprocess.run([sys.executable, "-c", STOPWATCH, str(folder)], capture_output=True,
                         text=True, check=True, timeout=300)
    return int(out.stdout.strip().splitlines()[-1])


def observed(folder: Path) -> tuple[int, int]:
    dest = folder / "r.json"
    subprocess.run([sys.executable, "-m", "jitwarm", "profile",
                    f"{folder / 'wrapped_case.py'}::wrapped", "-n", "1", "--cache", "cold",
                    "--calls", "20", "--quiet", "--no-history", "--json", str(dest)],
                   check=True, timeout=300, capture_output=True)
    p = json.loads(dest.read_text())["states"]["cold"]["processes"][0]
    return p["first_call_ns"], len(p["compiled"])


def main(rounds: int = 7) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "wrapped_case.py").write_text(CASE)
        os.environ.setdefault("NUMBA_CACHE_DIR", str(folder / "unused-cache"))
        plain, hooked, units = [], [], []
        for _ in range(rounds):  # interleaved: the machine's drift hits both alike
            plain.append(stopwatch(folder))
            ns, n = observed(folder)
            hooked.append(ns)
            units.append(n)
    a, b = statistics.median(plain), statistics.median(hooked)
    ratio = b / a
    print_table(["first call of a wrapped case", "median", "range"], [
        ["plain stopwatch, no jitwarm", f"{a / 1e6:.0f} ms",
         f"{min(plain) / 1e6:.0f}–{max(plain) / 1e6:.0f} ms"],
        ["jitwarm, every hook on", f"{b / 1e6:.0f} ms",
         f"{min(hooked) / 1e6:.0f}–{max(hooked) / 1e6:.0f} ms"],
    ])
    print(f"ratio {ratio:.3f}; compile units seen per process: {sorted(set(units))}")
    path = write_json("observation_overhead", {
        "rounds": rounds, "plain_ns": plain, "observed_ns": hooked,
        "ratio": ratio, "units_per_process": units, "within_target": abs(ratio - 1) <= 0.10})
    print(f"written to {path}")
    return verdict("observation_overhead.py", [
        (f"first call with every hook on within ±10% of a plain stopwatch ({ratio:.3f}×)",
         abs(ratio - 1) <= 0.10),
        ("every observed process saw both kernels compile", min(units) >= 2)])


if __name__ == "__main__":
    sys.exit(main())
