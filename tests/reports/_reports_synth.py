"""Synthetic ``jitwarm.profile/1`` results for report tests (no real run needed).

The figures are generated from parameters (seeded), and the summaries are computed by
jitwarm's own ``summarize_state``, so the fixtures obey the contract exactly.
"""

from __future__ import annotations

import json
import random
import statistics
from pathlib import Path
from typing import Any

from jitwarm.results.profile import SCHEMA, summarize_state
from jitwarm.results.stats import calls_before

EXACT = 100  # exact per-call elements before batching
BATCH = 10  # calls per batched element


def process(state: str, index: int, *, seed: int, first_ns: float = 5e8,
            compile_ns: float = 1e8, warm_ns: float = 200.0, n: int = 300,
            noise: float = 0.02, recompile_at: tuple[int, ...] = (),
            import_ns: float = 2e8, setup_ns: float = 5e7, steady_start: int = 25,
            classification: str = "warmup", cache: dict[str, int] | None = None,
            ) -> dict[str, Any]:
    """One ``ok`` process record: a first call, a decaying warmup, a noisy steady run."""
    rng = random.Random(seed)
    first = first_ns * (1 + rng.uniform(-noise, noise))
    t = [first]
    for i in range(1, n):
        decay = warm_ns * 20 * (0.6 ** i) if i < steady_start else 0.0
        t.append(warm_ns * (1 + rng.gauss(0, noise)) + decay)
    outliers = [steady_start + 40, steady_start + 90]
    for i in outliers:
        t[i] *= 8
    for i in recompile_at:
        t[i] += 2e6
    sizes = [[0, 1], [EXACT, BATCH]]
    events = [{
        "start_ns": 1000, "end_ns": 1000 + int(compile_ns), "duration_ns": int(compile_ns),
        "name": "compute", "kind": "compile", "signature": "(int64,)", "cache": "miss",
        "reason": "new signature (int64,)", "depth": 0, "call_index": 0, "extra": {},
    }] if compile_ns else []
    recompiles = []
    for k, i in enumerate(recompile_at):
        events.append({
            "start_ns": 10_000 + k, "end_ns": 10_000 + k + 2_000_000, "duration_ns": 2_000_000,
            "name": "compute", "kind": "compile", "signature": f"(batch={8 + k},)",
            "cache": "miss", "reason": f"new batch size {8 + k}", "depth": 0, "call_index": i,
            "extra": {},
        })
        recompiles.append({"call_index": i, "name": "compute", "signature": f"(batch={8 + k},)",
                           "reason": "new batch size", "duration_ns": 2_000_000})
    ti = [int(round(v)) for v in t]
    steady = ti[steady_start:]
    med = statistics.median(steady)
    return {
        "state": state, "index": index, "pid": 1000 + index, "status": "ok",
        "framework": "numba", "interpreter_ns": int(import_ns / 3),
        "import_ns": int(import_ns * (1 + rng.uniform(-noise, noise))),
        "setup_ns": int(setup_ns * (1 + rng.uniform(-noise, noise))),
        "first_call_ns": ti[0], "compile_ns": int(compile_ns),
        "function_compile_ns": int(compile_ns * 0.7) if compile_ns else 0,
        "runtime_init_ns": int(ti[0] - compile_ns * 0.7 - med),
        "timings_ns": ti, "batch_sizes": sizes, "timer_overhead_ns": 60,
        "compile_events": events, "recompiles": recompiles,
        "cache": cache, "disk_cache": True, "specializations": 1 + len(recompile_at),
        "stop_reason": "steady", "notes": [], "classification": classification,
        "steady_state_start": steady_start,
        "steady_state_call": calls_before(steady_start, sizes),
        "warm_median_ns": int(round(med)),
        "steady_ci_ns": [int(med * 0.99), int(med * 1.01)],
        "change_points": [steady_start, steady_start + 150],
        "outliers": outliers,
        "warmup_cost_ns": int(sum(v - med for v in ti[:steady_start])),
        "runtime": {"numba_num_threads": 2}, "framework_version": "0.60.0",
    }


def result(name: str = "poly", *, processes: int = 5, seed: int = 1,
           cold_first_ns: float = 5e8, cached_first_ns: float | None = 4e8,
           compile_ns: float = 1e8, warm_ns: float = 200.0, noise: float = 0.02,
           recompile_at: tuple[int, ...] = (), states: tuple[str, ...] = ("cold", "cached"),
           ) -> dict[str, Any]:
    """A complete result dict (cold and cached states, ``processes`` each)."""
    out_states: dict[str, Any] = {}
    for s_i, state in enumerate(states):
        first = cold_first_ns if state == "cold" else (cached_first_ns or cold_first_ns)
        procs = [
            process(state, i, seed=seed * 1000 + s_i * 100 + i, first_ns=first,
                    compile_ns=compile_ns if state == "cold" else 0, warm_ns=warm_ns,
                    noise=noise, recompile_at=recompile_at,
                    cache={"hits": 0, "misses": 1} if state == "cold" else
                    {"hits": 1, "misses": 0})
            for i in range(processes)
        ]
        out_states[state] = {"processes": procs, "summary": summarize_state(procs)}
    return {
        "schema": SCHEMA, "jitwarm_version": "0.1.0", "created": "2026-01-02T03:04:05+00:00",
        "status": "complete",
        "case": {"target": f"bench.py::{name}", "name": name, "file": "bench.py",
                 "module": None},
        "framework": "numba",
        "environment": {"python": "3.11.7", "implementation": "CPython",
                        "platform": "Linux-test", "machine": "x86_64",
                        "cpu_model": "Test CPU", "cpu_count": 4, "cpu_affinity": 4,
                        "versions": {"numba": "0.60.0", "numpy": "2.0.0"}, "threads": {}},
        "settings": {"max_calls": 2000, "max_time_s": 10.0, "exact_calls": EXACT,
                     "min_calls": 50, "adaptive": True, "processes": processes,
                     "timeout_s": 300.0, "states": list(states)},
        "states": out_states, "skipped_states": {}, "error": None, "notes": [],
    }


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


class CliResult:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def cli(*args: str, env: dict[str, str] | None = None) -> CliResult:
    """Run the ``jitwarm`` CLI in this process (typer's runner): the same commands, options
    and exit codes as the console script, without an interpreter start per call. Tests of
    whole runs use ``conftest.run_cli`` (a real subprocess) instead."""
    from typer.testing import CliRunner

    from jitwarm.cli.main import app

    res = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    return CliResult(res.exit_code, res.stdout, res.stderr)
