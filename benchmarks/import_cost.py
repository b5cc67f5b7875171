"""What ``import jitwarm`` and ``jitwarm.load`` cost a process, in fresh processes.

Each case runs in its own fresh interpreter, interleaved over the rounds: the time of the
statement itself (``perf_counter_ns`` around it, interpreter start-up excluded), the
cumulative time Python's own ``-X importtime`` reports for the imports it made (a separate
process), and the jitwarm modules it left in ``sys.modules``. The adapter registry
(``jitwarm.adapters.ADAPTERS``, every framework's adapter module) is the reference: it is
what ``import jitwarm`` paid before imports were lazy.

Targets (exit 1 when missed): ``import jitwarm`` and ``jitwarm.load`` import no adapter
module and not ``importlib.metadata``; ``import jitwarm`` takes at most half the time of
``import jitwarm`` plus the registry (medians of the same rounds).
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys

from _common import REPO, print_table, verdict, write_json

CASES = {
    "import jitwarm": "import jitwarm",
    "import jitwarm; jitwarm.load": "import jitwarm\njitwarm.load",
    "import jitwarm; @jitwarm.case": "import jitwarm\njitwarm.case",
    "the adapter registry too": "import jitwarm\nimport jitwarm.adapters\n"
                                "jitwarm.adapters.ADAPTERS",
}
_PROBE = ("import time, sys\nt0 = time.perf_counter_ns()\n{code}\nt1 = time.perf_counter_ns()\n"
          "import json\nmods = [m for m in sys.modules if m.startswith('jitwarm')]\n"
          "print(json.dumps({{'ns': t1 - t0, 'jitwarm_modules': len(mods),"
          " 'adapters': sorted(m for m in mods if m.startswith('jitwarm.adapters.')"
          " and m not in ('jitwarm.adapters.base', 'jitwarm.adapters.events')),"
          " 'metadata': 'importlib.metadata' in sys.modules}}))\n")
_LINE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)$")


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO / "src"),
                                                    env.get("PYTHONPATH", "")) if p)
    env.pop("JITWARM_ADAPTERS", None)
    return env


def probe(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _PROBE.format(code=code)], capture_output=True,
                         text=True, env=_env(), check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def importtime_us(code: str) -> int:
    """``-X importtime``'s cumulative microseconds of the top-level imports ``code`` made
    (those after the interpreter's own start-up, which ends with ``site``)."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True,
                         text=True, env=_env(), check=True, timeout=120)
    total, started = 0, False
    for line in out.stderr.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        name = m[2]
        if not name.startswith(" "):
            if started:
                total += int(m[1])
            elif name == "site":
                started = True
    return total


def main(rounds: int = 9) -> int:
    got: dict[str, list[dict]] = {name: [] for name in CASES}
    itime: dict[str, list[int]] = {name: [] for name in CASES}
    for _ in range(rounds):
        for name, code in CASES.items():
            got[name].append(probe(code))
            itime[name].append(importtime_us(code))
    rows, result = [], {}
    for name in CASES:
        med = statistics.median(r["ns"] for r in got[name])
        last = got[name][-1]
        result[name] = {"ns": med, "importtime_us": statistics.median(itime[name]),
                        "jitwarm_modules": last["jitwarm_modules"],
                        "adapter_modules": last["adapters"],
                        "importlib_metadata": last["metadata"]}
        rows.append([name, f"{med / 1e6:.1f} ms", f"{result[name]['importtime_us'] / 1e3:.1f} ms",
                     last["jitwarm_modules"], len(last["adapters"]),
                     "yes" if last["metadata"] else "no"])
    print(f"{rounds} fresh processes per case, interleaved; medians")
    print_table(["statement", "time", "-X importtime", "jitwarm modules", "adapter modules",
                 "importlib.metadata"], rows)
    plain, load, full = (result["import jitwarm"], result["import jitwarm; jitwarm.load"],
                         result["the adapter registry too"])
    ratio = plain["ns"] / full["ns"]
    print(f"import jitwarm ÷ (import jitwarm + the adapter registry): {ratio:.2f}")
    path = write_json("import_cost", {"rounds": rounds, "cases": result, "ratio_to_registry": ratio})
    print(f"written to {path.relative_to(REPO)}")
    return verdict("import_cost.py", [
        ("import jitwarm imports no adapter module and not importlib.metadata",
         not plain["adapter_modules"] and not plain["importlib_metadata"]),
        ("jitwarm.load (resolved) imports no adapter module and not importlib.metadata",
         not load["adapter_modules"] and not load["importlib_metadata"]),
        (f"import jitwarm takes at most half of import jitwarm + the registry ({ratio:.2f})",
         ratio <= 0.5),
    ])


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 9))
