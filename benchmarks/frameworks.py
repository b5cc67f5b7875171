"""Warmup by framework: each installed framework's example case, cold and cached.

Every case runs through ``jitwarm profile`` machinery (fresh processes per cache state,
compile attribution from the framework's own hooks) and the "Warmup by framework" table
is printed; the figures go to ``benchmarks/results/frameworks.json``. A sweep of batch
sizes shows each framework's recompile cost on a new shape.

Target (exit 1 when missed): every installed framework's case is measured, cold and cached,
without an error, and its cold first call is slower than its warm call (not checked for the
CUDA simulator, whose timings mean nothing).

    python benchmarks/frameworks.py [--processes 3] [--max-time 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time

from _common import verdict, write_json

CASES = [
    ("numba", "numba", "jitwarm.examples.numba_cases:poly", {}),
    ("torch", "torch", "jitwarm.examples.torch_cases:mlp", {}),
    ("jax", "jax", "jitwarm.examples.jax_cases:mlp", {}),
    ("onnxruntime", "onnxruntime", "jitwarm.examples.onnx_cases:mlp", {}),
    # no GPU here: the CUDA simulator runs the plumbing; its timings are meaningless
    ("numba-cuda (simulator)", "numba", "jitwarm.examples.cuda_cases:saxpy",
     {"NUMBA_ENABLE_CUDASIM": "1"}),
]
SWEEPS = [
    ("torch", "jitwarm.examples.torch_cases:mlp_batches"),
    ("jax", "jitwarm.examples.jax_cases:mlp_batches"),
]


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--processes", type=int, default=3)
    ap.add_argument("--max-time", type=float, default=5.0)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--no-sweep", action="store_true")
    opts = ap.parse_args()

    from rich.console import Console

    from jitwarm.cases.targets import resolve_target
    from jitwarm.measure.process import Settings
    from jitwarm.measure.runner import Runner
    from jitwarm.measure.sweep import run_sweep
    from jitwarm.report.framework_table import framework_row, framework_table

    con = Console(width=200)
    load_before = os.getloadavg()
    results, rows, skipped = [], [], {}
    for label, module, target, env in CASES:
        if not _installed(module):
            skipped[label] = f"{module} is not installed"
            continue
        con.print(f"profiling {label}: {target} ({opts.processes} processes per state)")
        t0 = time.perf_counter()
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            runner = Runner(resolve_target(target), processes=opts.processes,
                            states=("cold", "cached"),
                            settings=Settings(max_calls=opts.calls, max_time_s=opts.max_time),
                            timeout_s=600)
            r = runner.run()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        results.append(r)
        row = framework_row(r)
        row["label"] = label
        row["wall_s"] = round(time.perf_counter() - t0, 1)
        cold = r.summary("cold") or {}
        row["function_compile_ns"] = cold.get("function_compile_ns")
        row["runtime_init_ns"] = cold.get("runtime_init_ns")
        row["import_ns"] = cold.get("import_ns")
        row["setup_ns"] = cold.get("setup_ns")
        procs = r.states.get("cold", {}).get("processes", [])
        phases: dict[str, list[int]] = {}
        for p in procs:
            if p.get("status") != "ok":
                continue
            per: dict[str, int] = {}
            for e in p.get("compile_events", []):
                if e["depth"] == 1 and e["call_index"] == 0:
                    per[e["kind"]] = per.get(e["kind"], 0) + e["duration_ns"]
            for k, v in per.items():
                phases.setdefault(k, []).append(v)
        row["cold_phases_median_ns"] = {k: sorted(v)[len(v) // 2] for k, v in phases.items()}
        row["notes"] = sorted({n for p in procs for n in p.get("notes", [])})
        rows.append(row)
    con.print(framework_table(results))

    sweeps = []
    if not opts.no_sweep:
        for label, target in SWEEPS:
            if not _installed(label):
                continue
            con.print(f"sweeping {label}: {target}")
            s = run_sweep(resolve_target(target), warm_calls=20)
            sweeps.append({
                "framework": label, "target": target,
                "sets": [{k: x.get(k) for k in ("label", "first_call_ns", "compile_ns",
                                                "warm_median_ns", "specializations", "recompiled")}
                         | {"reasons": [c.get("reason") for c in x.get("compiles", [])]}
                         for x in s["sets"]],
                "specializations": s["specializations"], "recompiles": s["recompiles"],
            })
            for x in sweeps[-1]["sets"]:
                con.print(f"  {x['label']}: first call {x['first_call_ns'] / 1e6:.1f} ms, "
                          f"compile {x['compile_ns'] / 1e6:.1f} ms, "
                          f"specialisations {x['specializations']}, reasons {x['reasons']}")
    path = write_json("frameworks", {
        "processes": opts.processes, "max_time_s": opts.max_time,
        "cpu_count": os.cpu_count(),
        # other work on the machine inflates every figure: record how busy it was
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "rows": rows, "skipped": skipped, "sweeps": sweeps,
        "environment_versions": results[0].environment.get("versions") if results else {},
        "cpu_model": results[0].environment.get("cpu_model") if results else None,
    })
    con.print(f"written to {path}")
    checks = []
    for row in rows:
        ok = row.get("status") == "complete"
        checks.append((f"{row['label']}: measured cold and cached ({row.get('status')})", ok))
        if "simulator" in row["label"]:
            continue  # the CUDA simulator's timings mean nothing
        ratio = row.get("cold_over_warm")
        checks.append((f"{row['label']}: cold first call slower than a warm call "
                       f"({ratio:.3g}×)" if ratio else f"{row['label']}: no cold/warm ratio",
                       ratio is not None and ratio > 1))
    return verdict("frameworks.py", checks)


if __name__ == "__main__":
    sys.exit(main())
