"""Shape/signature sweeps: the compile cost of every new input set, in one fresh process.

A case gives several input sets with :func:`jitwarm.inputs` (``return fn,
jitwarm.inputs((x32,), (x64,))``; ``jitwarm.args(x, scale=2)`` for a set with keyword
arguments); a case function with a ``shapes`` parameter also
accepts them from the command line (``jitwarm sweep CASE --shapes 32x64,64x64`` calls
``case(shapes=[(32, 64), (64, 64)])``). In one fresh worker process, with an empty cache
directory, each set in turn gets a first call (its compile events, from the framework's
own hooks, give the compile part and the recompile reason) and a few warm calls; then
every set is called once more (``revisit``) to show which specialisations were kept —
e.g. ``torch.compile`` turns dynamic after the second batch size, JAX keeps one
executable per shape, Numba one compiled signature per dtype.
"""

from __future__ import annotations

import inspect
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jitwarm._errors import CaseError, JitwarmError, UsageError
from jitwarm.adapters import Adapter, adapter_for
from jitwarm.adapters.events import CompileEvent, union_ns
from jitwarm.cases.targets import Target, describe_call, validate_built
from jitwarm.measure.process import Settings, _user_traceback

SCHEMA = "jitwarm.sweep/1"
DEFAULT_WARM_CALLS = 20


def parse_shapes(text: str) -> list[list[int]]:
    """``"32x64,64x64"`` → ``[[32, 64], [64, 64]]``; ``"32,64"`` → ``[[32], [64]]``."""
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            dims = [int(d) for d in part.lower().split("x")]
        except ValueError:
            raise UsageError(
                f"bad shape {part!r} in --shapes: use sizes like 32,64 or 32x64,64x64"
            ) from None
        if any(d < 0 for d in dims):
            raise UsageError(f"bad shape {part!r} in --shapes: sizes must be >= 0")
        out.append(dims)
    if not out:
        raise UsageError("--shapes is empty: use sizes like 32,64 or 32x64,64x64")
    return out


# -- worker side ----------------------------------------------------------------------------
def _call(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
          sync: Callable[[Any], None] | None) -> tuple[int, int]:
    pc = time.perf_counter_ns
    t0 = pc()
    r = fn(*args, **kwargs)
    if sync is not None:
        sync(r)
    return t0, pc()


def _events_in(events: list[CompileEvent], lo: int, hi: int) -> list[CompileEvent]:
    return [e for e in events if lo <= e.start_ns <= hi]


def _top(events: list[CompileEvent]) -> list[dict[str, Any]]:
    return [
        {"name": e.name, "kind": e.kind, "signature": e.signature, "reason": e.reason,
         "cache": e.cache, "duration_ns": e.duration_ns}
        for e in events if e.depth == 0
    ]


def _phases(events: list[CompileEvent]) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in events:
        if e.depth > 0:
            out[e.kind] = out.get(e.kind, 0) + e.duration_ns
    return out


def sweep_in_worker(case_fn: Callable[..., Any], target: Target, spec: dict[str, Any],
                    settings: Settings, t_imported: int) -> dict[str, Any]:
    """Build the case and measure each input set's first call and warm calls."""
    shapes = spec.get("shapes")
    if shapes is not None:
        params = inspect.signature(case_fn).parameters
        if "shapes" not in params:
            raise UsageError(
                f"case {target.name!r} takes no `shapes` parameter, so --shapes cannot be "
                f"used: give the case a shapes=... parameter, or return jitwarm.inputs(...)"
            )
        out = case_fn(shapes=[tuple(s) for s in shapes])
    else:
        out = case_fn()
    built = validate_built(out, target.name)
    t_built = time.perf_counter_ns()
    sets = built.inputs or ((describe_call(built.args, built.kwargs), built.args, built.kwargs),)
    adapter = adapter_for(built.fn)
    if settings.threads:
        adapter.set_threads(settings.threads)
    record: dict[str, Any] = {
        "status": "ok",
        "mode": "sweep",
        "pid": os.getpid(),
        "framework": adapter.name,
        "import_ns": t_imported - spec["t_spawn_ns"],
        "setup_ns": t_built - t_imported,
    }
    record.update(_sweep(built.fn, sets, adapter,
                         spec.get("warm_calls", DEFAULT_WARM_CALLS)))
    record["runtime"] = adapter.runtime_info()
    record["framework_version"] = adapter.version()
    record["notes"] = adapter.cache_notes()
    if len(sets) == 1:
        record["notes"].append("the case gives one input set: return jitwarm.inputs(...) "
                               "or give it a shapes= parameter to sweep several")
    return record


def _sweep(fn: Callable[..., Any],
           sets: tuple[tuple[str, tuple[Any, ...], dict[str, Any]], ...],
           adapter: Adapter, warm_calls: int) -> dict[str, Any]:
    sync = adapter.sync if adapter.needs_sync else None
    rec = adapter.recorder()
    windows: list[tuple[str, int, int, int]] = []  # (label, set index, start, end)
    rows: list[dict[str, Any]] = []
    rec.start()
    try:
        for i, (label, args, kwargs) in enumerate(sets):
            phase = "first_call" if i == 0 else "call"
            try:
                t0, t1 = _call(fn, args, kwargs, sync)
                warm = [b - a for a, b in (_call(fn, args, kwargs, sync) for _ in range(warm_calls))]
            except Exception as exc:
                raise CaseError(
                    f"input set {i} ({label}) raised {type(exc).__name__}: {exc}",
                    _user_traceback(exc), phase=phase,
                ) from None
            t_end = time.perf_counter_ns()
            windows.append(("first", i, t0, t1))
            windows.append(("warm", i, t1, t_end))
            rows.append({"index": i, "label": label, "first_call_ns": t1 - t0,
                         "warm_median_ns": int(statistics.median(warm)) if warm else None,
                         "specializations": adapter.specializations(fn)})
        revisit = []
        for i, (label, args, kwargs) in enumerate(sets):
            t0, t1 = _call(fn, args, kwargs, sync)
            windows.append(("revisit", i, t0, t1))
            revisit.append({"index": i, "label": label, "call_ns": t1 - t0})
    finally:
        rec.stop()
    events = sorted(rec.events, key=lambda e: e.start_ns)
    for kind, i, lo, hi in windows:
        inside = _events_in(events, lo, hi)
        if kind == "first":
            row = rows[i]
            row["compile_ns"] = union_ns(inside, lo, hi)
            row["compiles"] = _top(inside)
            row["phases_ns"] = _phases(inside)
            row["recompiled"] = bool(row["compiles"])
        elif kind == "warm":
            rows[i]["warm_compiles"] = _top(inside)  # a recompile during warm calls: unusual
        else:
            revisit[i]["compiles"] = _top(inside)
            revisit[i]["compile_ns"] = union_ns(inside, lo, hi)
    new_compiles = sum(1 for r in rows if r["compiles"])
    return {
        "sets": rows,
        "revisit": revisit,
        "specializations": adapter.specializations(fn),
        "compiles": new_compiles,
        "recompiles": max(0, new_compiles - 1),
        "compile_events": [e.to_dict() for e in events],
    }


# -- parent side ----------------------------------------------------------------------------
def run_sweep(target: Target, *, shapes: list[list[int]] | None = None,
              warm_calls: int = DEFAULT_WARM_CALLS, threads: int | None = None,
              timeout_s: float = 600.0, python: str | None = None) -> dict[str, Any]:
    """Run the sweep of ``target`` in one fresh process; return the ``jitwarm.sweep/1`` dict.

    Raises :class:`UsageError` (bad case/options, missing framework), :class:`CaseError`
    (the measured code raised) or :class:`JitwarmError` (the process crashed or hung).
    """
    import datetime as _dt
    import sys

    from jitwarm._version import __version__
    from jitwarm.measure.runner import Runner
    from jitwarm.results.environment import environment

    if warm_calls < 1:
        raise UsageError("--calls must be at least 1")
    settings = Settings(threads=threads)
    runner = Runner(target, processes=1, states=("cold",), settings=settings,
                    timeout_s=timeout_s, python=python or sys.executable,
                    extra_spec={"mode": "sweep", "shapes": shapes, "warm_calls": warm_calls})
    run_dir = Path(tempfile.mkdtemp(prefix="jitwarm-sweep-"))
    try:
        cache_dir = run_dir / "caches" / "cold-0"
        cache_dir.mkdir(parents=True)
        rec = runner._one(run_dir, "cold", 0, cache_dir)  # Ctrl-C/SIGTERM: process ended
    finally:
        if not os.environ.get("JITWARM_KEEP_TMP"):
            shutil.rmtree(run_dir, ignore_errors=True)
    status = rec.get("status")
    if status == "usage_error":
        raise UsageError(rec["message"])
    if status == "case_error":
        raise CaseError(rec["message"], rec.get("traceback") or "", phase=rec.get("phase", ""))
    if status != "ok":
        tail = rec.get("output_tail") or ""
        raise JitwarmError(f"the sweep process {rec.get('error', 'failed')}"
                           + (f"\n{tail}" if tail else ""))
    return {
        "schema": SCHEMA,
        "jitwarm_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "case": {"target": target.spec, "name": target.name, "file": target.file,
                 "module": target.module},
        "shapes": shapes,
        "warm_calls": warm_calls,
        "environment": environment(),
        **{k: v for k, v in rec.items() if k not in ("state", "index", "mode")},
    }
