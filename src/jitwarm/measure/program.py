"""Whole programs: ``jitwarm run -- python script.py ARGS`` in fresh processes.

The parent (:class:`ProgramRunner`) runs the unmodified script once per process and cache
state through the one spawner, with every framework's cache redirected (``cold``: an empty
folder; ``cached``: a copy of the first good cold process's), as ``profile`` does for a case.
The worker side (:func:`run_program`, mode ``program`` of :mod:`jitwarm.measure.worker`)
has every framework's hooks on from before the script starts, times each top-level import
(:class:`ImportClock`), runs the script as ``__main__`` and records its compile units.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jitwarm._errors import UsageError, shown
from jitwarm.adapters.hub import LoaderProxy, WrappingFinder
from jitwarm.measure.spawn import check_seconds, run_worker, worker_env
from jitwarm.results.compiled import by_framework, rank_units

SCHEMA = "jitwarm.run/1"
STATES = ("cold", "cached")


# -- worker side -------------------------------------------------------------------------------
class ImportClock(WrappingFinder):
    """Times every top-level import (nested imports count in the one that started them),
    from a ``sys.meta_path`` finder that only wraps the real loader's ``exec_module``."""

    def __init__(self) -> None:
        super().__init__()
        self.imports: list[tuple[str, int, int]] = []  # (module, start_ns, end_ns)
        self._local = threading.local()

    def wrap(self, name: str, loader: Any) -> LoaderProxy:
        return LoaderProxy(loader, around=lambda run, _m: self._timed(name, run))

    def _timed(self, name: str, run: Callable[[], None]) -> None:
        local = self._local
        depth = getattr(local, "depth", 0)
        local.depth = depth + 1
        t0 = time.perf_counter_ns()
        try:
            run()
        finally:
            local.depth = depth
            if depth == 0:
                self.imports.append((name, t0, time.perf_counter_ns()))

    def __enter__(self) -> ImportClock:
        sys.meta_path.insert(0, self)  # type: ignore[arg-type]
        return self

    def __exit__(self, *exc: object) -> None:
        if self in sys.meta_path:
            sys.meta_path.remove(self)  # type: ignore[arg-type]


def run_program(spec: dict[str, Any], units: Any, t_main: int) -> dict[str, Any]:
    """Run the script in this process as ``__main__``; always returns a record."""
    import runpy

    from jitwarm.adapters.events import union_ns
    from jitwarm.adapters.units import compile_ns_by_framework
    from jitwarm.measure.process import GcWatch

    argv = list(spec["argv"])
    record: dict[str, Any] = {"pid": os.getpid(), "status": "ok",
                              "interpreter_ns": t_main - spec["t_spawn_ns"]}
    module = argv[1] if argv[0] == "-m" else None
    sys.argv = argv[1:] if module else argv
    if module is None:
        sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))  # as `python script.py`
    gcw = GcWatch()
    code = 0
    clock = ImportClock()
    t0 = time.perf_counter_ns()
    try:
        with clock, gcw:
            if module:
                runpy.run_module(module, run_name="__main__", alter_sys=True)
            else:
                runpy.run_path(argv[0], run_name="__main__")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            record["exit_message"] = str(exc.code)[:500]
    except BaseException as exc:  # the script failed: keep what was measured, say why once
        code = 1
        record["status"] = "script_error"
        record["message"] = f"the script raised {type(exc).__name__}: {str(exc)[:500]}"
        record["traceback"] = _script_traceback(exc)
    t1 = time.perf_counter_ns()
    units.stop()
    if code and record["status"] == "ok":
        record["status"] = "script_error"
        record["message"] = f"the script exited with code {code}"
    compiled = units.finished()
    events = [u.event() for u in compiled if u.compiles]
    by_fw = compile_ns_by_framework(compiled, events, t0, t1)
    record.update(
        exit_code=code,
        run_ns=t1 - t0,
        wall_ns=t1 - spec["t_spawn_ns"],
        compile_ns=union_ns(events, t0, t1),
        compile_ns_by_framework=by_fw,
        frameworks=sorted(by_fw),
        compiled=[u.to_dict(t0) for u in compiled],
        imports=[{"module": m, "start_ns": s - t0, "duration_ns": e - s}
                 for m, s, e in clock.imports],
        import_ns=union_ns([_span(s, e) for _, s, e in clock.imports], t0, t1),
        gc=gcw.to_dict(t0),
    )
    from jitwarm.adapters.units import library_cache_switches

    switches = library_cache_switches(record["compiled"])
    if switches:
        record["cache_switches"] = switches
    return record


def _script_traceback(exc: BaseException) -> str:
    """The script's traceback, without jitwarm's and runpy's frames above it."""
    import runpy
    import traceback

    from jitwarm.measure.process import _PKG_DIR

    skip = (_PKG_DIR, "<frozen runpy>", runpy.__file__ or "<runpy>")
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None and (
            tb.tb_frame.f_code.co_filename.startswith(skip)):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def _span(s: int, e: int) -> Any:
    from jitwarm.adapters.events import CompileEvent

    return CompileEvent(start_ns=s, end_ns=e, name="")


# -- parent side -------------------------------------------------------------------------------
def parse_argv(argv: list[str]) -> list[str]:
    """``python script.py ARGS`` / ``script.py ARGS`` / ``python -m pkg ARGS`` → what the
    worker runs (``[script, *ARGS]`` or ``["-m", module, *ARGS]``); refuses anything else."""
    args = list(argv)
    if args and (os.path.basename(args[0]).startswith("python") or args[0] == sys.executable):
        args = args[1:]
    if not args:
        raise UsageError("jitwarm run needs a script: jitwarm run -- python script.py ARGS")
    if args[0] == "-m":
        if len(args) < 2 or not args[1].replace(".", "").replace("_", "").isalnum():
            raise UsageError("jitwarm run -- python -m MODULE: give a module name")
        import importlib.util

        top = args[1].split(".")[0]
        sys.path.insert(0, os.getcwd())  # as `python -m` finds it (top level: no import)
        try:
            found = importlib.util.find_spec(top) is not None
        finally:
            sys.path.pop(0)
        if not found:
            raise UsageError(f"jitwarm run: no module named {top!r}")
        return args
    if args[0].startswith("-"):
        raise UsageError(f"jitwarm run: python option {args[0][:40]!r} is not supported; "
                         "give the script (or -m MODULE) first")
    script = Path(args[0])
    if not script.is_file():
        import shutil

        if script.suffix != ".py" and shutil.which(args[0]):
            raise UsageError(f"jitwarm run measures Python programs: {shown(args[0], 60)} "
                             "is another program; give python script.py ARGS or "
                             "python -m MODULE ARGS")
        raise UsageError(f"jitwarm run: no such script: {shown(str(script), 200)}")
    return [str(script.resolve()), *args[1:]]


class ProgramRunner:
    """Runs a script in fresh processes per cache state; returns the ``jitwarm.run/1`` record."""

    def __init__(self, argv: list[str], *, processes: int = 3,
                 states: tuple[str, ...] = STATES, timeout_s: float = 600.0,
                 progress: Callable[[str, int, int, dict[str, Any] | None], None] | None = None
                 ) -> None:
        if processes < 1:
            raise UsageError("--processes must be at least 1")
        self.argv = parse_argv(argv)
        self.processes = processes
        self.states = states
        self.timeout_s = check_seconds(timeout_s, "--timeout")
        self.progress = progress
        self.result: dict[str, Any] = {
            "schema": SCHEMA, "argv": list(argv), "status": "ok",
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "states": {}, "skipped_states": {}, "notes": [],
        }

    def run(self) -> dict[str, Any]:
        """Every state; a KeyboardInterrupt (Ctrl-C, SIGTERM) leaves ``self.result`` partial."""
        from jitwarm.adapters import cache_env, remote_cache_env
        from jitwarm.measure.runner import state_cache_dir

        run_dir = Path(tempfile.mkdtemp(prefix="jitwarm-program-"))
        try:
            populated: Path | None = None
            for state in self.states:
                if state == "cached" and populated is None:
                    self.result["skipped_states"]["cached"] = (
                        "no cold process wrote to a framework's cache" if "cold" in
                        self.result["states"] else "the cached state reuses the cold "
                        "state's cache: run cold,cached")
                    continue
                records: list[dict[str, Any]] = []
                self.result["states"][state] = {"processes": records}
                for i in range(self.processes):
                    cache_dir = state_cache_dir(run_dir, state, i, populated)
                    if self.progress:
                        self.progress(state, i, self.processes, None)
                    # remote caches off, as for a profile: a shared server would make
                    # `cold` warm
                    rec = self._one(run_dir, state, i,
                                    {**cache_env(cache_dir), **remote_cache_env(None)})
                    records.append(rec)
                    if self.progress:
                        self.progress(state, i, self.processes, rec)
                    if (state == "cold" and populated is None and rec.get("compiled") is not None
                            and any(p.is_file() for p in cache_dir.rglob("*"))):
                        populated = cache_dir
                self.result["states"][state]["summary"] = summarize(records)
            if "cold" in self.result["states"] and "cached" in self.result["states"]:
                c = self.result["states"]["cold"]["summary"].get("wall_ns")
                w = self.result["states"]["cached"]["summary"].get("wall_ns")
                if c is not None and w is not None:
                    self.result["cache_saves_ns"] = int(c - w)
            bad = [p for st in self.result["states"].values() for p in st["processes"]
                   if p.get("status") != "ok"]
            if bad:
                self.result["status"] = "error"
            return self.result
        except KeyboardInterrupt:
            self.result["status"] = "interrupted"
            for st in self.result["states"].values():
                st.setdefault("summary", summarize(st["processes"]))
            raise
        finally:
            if not os.environ.get("JITWARM_KEEP_TMP"):
                shutil.rmtree(run_dir, ignore_errors=True)

    def _one(self, run_dir: Path, state: str, index: int, env: dict[str, str]) -> dict[str, Any]:
        from jitwarm.measure.runner import worker_record

        stem = run_dir / f"{state}-{index}"
        result_path = Path(f"{stem}.result.json")
        spec_path = Path(f"{stem}.spec.json")
        spec = {"mode": "program", "argv": self.argv, "result_path": str(result_path),
                "state": state, "index": index}
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        run = run_worker("jitwarm.measure.worker", spec_path, result_path,
                         timeout_s=self.timeout_s, env=worker_env(env))
        rec = worker_record(run, {"state": state, "index": index}, self.timeout_s)
        if rec.get("status") == "script_error":
            rec["output_tail"] = run.tail
        return rec


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the processes that ran the script, and the compile units ranked by
    their median time (a unit is its framework, name, module and signature)."""
    ran = [r for r in records if r.get("compiled") is not None]
    out: dict[str, Any] = {"processes": len(records), "processes_ok":
                           sum(1 for r in records if r.get("status") == "ok")}
    if not ran:
        return out

    def med(key: str) -> int:
        return int(statistics.median(r[key] for r in ran))

    for key in ("wall_ns", "interpreter_ns", "import_ns", "compile_ns", "run_ns"):
        out[key] = med(key)
    out["compile_ns_by_framework"] = by_framework(ran)
    out["units"] = rank_units(ran)
    return out
