"""The parent side: fresh worker processes per cache state, faults contained.

For each cache state the runner starts N worker processes one after another (never in
parallel by default: they would compete for cores). ``cold`` gives every process a new
empty cache directory; ``cached`` gives each a copy of the directory the first good cold
process populated (asked for without ``cold``, one unreported cold process fills it first),
and runs whenever that directory holds
files, whichever framework wrote them. With ``replicas`` > 1 each of the N is a *wave* of
that many processes started at the same moment, each with its own cache directory and
measured exactly as alone: a deployment scaling out on one host, where they do compete. The user's own
cache directories are never touched, and the frameworks' remote compile caches are off (a
caller turns them on through ``extra_env``). Workers report through a
result file; a missing file means the worker crashed (its signal is recorded) or hung
(killed after the per-process timeout). The runner never imports a framework.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jitwarm._errors import UsageError
from jitwarm._version import __version__
from jitwarm.adapters import cache_env, remote_cache_env
from jitwarm.cases.targets import Target
from jitwarm.measure.process import Settings
from jitwarm.measure.spawn import (
    WorkerRun,
    check_seconds,
    exit_code,
    run_worker,
    signal_name,
    worker_env,
)
from jitwarm.results.environment import environment
from jitwarm.results.profile import ProfileResult

STATES = ("cold", "cached")
ProgressFn = Callable[[str, int, int, dict[str, Any] | None], None]


class RunInterrupted(Exception):
    """Ctrl-C (or SIGTERM/SIGHUP) during a run; carries the partial result. The worker
    processes are already ended; ``exit_code`` is 130 or 128 + the signal."""

    def __init__(self, result: ProfileResult, cause: BaseException | None = None) -> None:
        super().__init__("interrupted")
        self.result = result
        self.cause = cause
        self.exit_code = exit_code(cause)
        self.signal = signal_name(cause)


def parse_states(text: str) -> tuple[str, ...]:
    """Parse ``cold,cached`` into a validated tuple of cache states."""
    states = tuple(s.strip() for s in text.split(",") if s.strip())
    bad = [s for s in states if s not in STATES]
    if bad or not states:
        raise UsageError(
            f"unknown cache state {', '.join(bad) or text!r}: choose from {', '.join(STATES)}"
        )
    return states


def thread_env(threads: int | None) -> dict[str, str]:
    """Environment that caps a worker's framework threads (set before any import)."""
    if not threads:
        return {}
    n = str(threads)
    return {"OMP_NUM_THREADS": n, "MKL_NUM_THREADS": n, "OPENBLAS_NUM_THREADS": n,
            "NUMBA_NUM_THREADS": n, "JITWARM_THREADS": n}


def worker_record(run: WorkerRun, base: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    """One process's record from how its worker ended. Error texts do not name the process
    (``state``/``index`` do; whoever prints them adds "cold process 2: ")."""
    base = {**base, "process_wall_ns": run.wall_ns}
    if run.record is not None:
        record = {**base, **run.record}
        if run.timed_out:  # the measurement finished; the process did not exit after it
            record["lingered"] = (f"the process did not exit after writing its result (a "
                                  f"thread it left running?) and was killed after "
                                  f"{timeout_s:g} s; its measurement is kept")
        return record
    if run.unreadable:
        return {**base, "status": "crashed", "error": run.unreadable,
                "output_tail": run.tail}
    if run.timed_out:
        return {**base, "status": "timeout",
                "error": f"timed out after {timeout_s:g} s and was killed",
                "output_tail": run.tail}
    rc = run.returncode
    if run.signal:
        return {**base, "status": "crashed", "signal": run.signal, "returncode": rc,
                "error": f"crashed with {run.signal}", "output_tail": run.tail}
    return {**base, "status": "crashed", "returncode": rc,
            "error": f"exited with code {rc} without a result", "output_tail": run.tail}


def state_cache_dir(run_dir: Path, state: str, index: int, populated: Path | None,
                    seed: Path | None = None) -> Path:
    """One process's cache folder: new and empty for ``cold`` (a copy of ``seed`` when
    given), a copy of the folder the first good cold process populated for ``cached``."""
    cache_dir = run_dir / "caches" / f"{state}-{index}"
    if state == "cached":
        assert populated is not None
        shutil.copytree(populated, cache_dir)
    elif seed is not None:
        shutil.copytree(seed, cache_dir)
    else:
        cache_dir.mkdir(parents=True)
    return cache_dir


class Runner:
    """Runs one target's cache states in fresh processes (see module docstring)."""

    def __init__(
        self,
        target: Target,
        *,
        processes: int = 5,
        states: tuple[str, ...] = STATES,
        settings: Settings | None = None,
        timeout_s: float = 300.0,
        progress: ProgressFn | None = None,
        python: str = sys.executable,
        extra_env: dict[str, str] | None = None,
        extra_spec: dict[str, Any] | None = None,
        replicas: int = 1,
        seed: Path | None = None,
        work: Path | None = None,
    ) -> None:
        """``replicas``: processes started together per wave (``processes`` waves);
        ``seed``: a cache directory every ``cold`` process starts with a copy of (a
        prewarmed cache, an installed bundle) instead of an empty one; ``work``: where the processes' cache directories go
        (``caches/STATE-INDEX``), kept after the run (default: a temporary folder, removed)."""
        if processes < 1:
            raise UsageError("--processes must be at least 1")
        if replicas < 1:
            raise UsageError("--replicas must be at least 1")
        check_seconds(timeout_s, "--timeout")
        self.target = target
        self.processes = processes
        self.states = states
        self.settings = settings or Settings()
        self.timeout_s = timeout_s
        self.progress = progress
        self.python = python
        self.extra_env = dict(extra_env or {})
        self.extra_spec = dict(extra_spec or {})
        self.replicas = replicas
        self.seed = seed
        self.work = work
        #: the run's folder: its processes' caches are ``caches/STATE-INDEX`` under it
        self.run_dir: Path | None = None
        if self.settings.threads is not None and self.settings.threads < 1:
            raise UsageError("--threads must be at least 1")

    def run(self) -> ProfileResult:
        """Measure every requested state; case errors end the run with ``status=error``."""
        result = ProfileResult(
            case={"target": self.target.spec, "name": self.target.name,
                  "file": self.target.file, "module": self.target.module},
            framework=None,
            environment=environment(),
            settings={**self.settings.to_dict(), "processes": self.processes,
                      "timeout_s": self.timeout_s, "states": list(self.states),
                      **({"replicas": self.replicas} if self.replicas > 1 else {})},
            created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            jitwarm_version=__version__,
        )
        if self.work is not None:
            self.work.mkdir(parents=True, exist_ok=True)
        run_dir = Path(tempfile.mkdtemp(prefix="jitwarm-run-", dir=self.work))
        self.run_dir = run_dir
        current: list[dict[str, Any]] = []
        try:
            populated: Path | None = None
            cold_ok: list[dict[str, Any]] = []
            for state in self.states:
                if state == "cached":
                    if "cold" not in self.states:
                        cold_ok, populated = self._fill(run_dir, result)
                        if result.status == "error":
                            return result
                    reason = self._cached_skip_reason(result, cold_ok, populated)
                    if reason:
                        result.skipped_states["cached"] = reason
                        continue
                current = []
                for wave in range(self.processes):
                    n = self.replicas
                    dirs = [state_cache_dir(run_dir, state, wave * n + r, populated, self.seed)
                            for r in range(n)]
                    if self.progress:
                        self.progress(state, wave, self.processes, None)
                    recs = self._wave(run_dir, state, wave, dirs, current)
                    for rec, cache_dir in zip(recs, dirs, strict=True):
                        i = rec["index"]
                        if rec.get("lingered"):
                            result.notes.append(f"{state} process {i + 1}: {rec['lingered']}")
                        if self.progress:
                            self.progress(state, wave, self.processes, rec)
                        if rec["status"] == "usage_error":
                            raise UsageError(rec["message"])
                        if rec["status"] == "case_error":
                            _case_error(result, rec)
                            return result
                        if rec["status"] == "ok":
                            result.framework = result.framework or rec.get("framework")
                            if state == "cold":
                                cold_ok.append(rec)
                                populated = populated or cache_dir
                result.add_state(state, current)
                current = []
            return result
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM/SIGHUP (_spawn.Terminated)
            if current:
                result.add_state(self._current_state(current), current)
            result.status = "interrupted"
            raise RunInterrupted(result, exc) from None
        finally:
            if self.work is not None:  # the caller keeps the caches; the specs go
                for p in run_dir.glob("*.json"):
                    p.unlink(missing_ok=True)
            elif not os.environ.get("JITWARM_KEEP_TMP"):
                shutil.rmtree(run_dir, ignore_errors=True)

    def _wave(self, run_dir: Path, state: str, wave: int, dirs: list[Path],
              current: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One wave: ``len(dirs)`` worker processes started together (one alone when it is
        one), each appended to ``current`` as it is known, in index order. A wave's records
        say when each started (``wave_offset_ns``, from the first spawn) and ended
        (``process_wall_ns``), so the overlap can be checked."""
        n = len(dirs)
        if n == 1:
            current.append(self._one(run_dir, state, wave, dirs[0]))
            return current[-1:]
        import threading

        from jitwarm.measure.spawn import end_live_workers

        runs: list[dict[str, Any] | None] = [None] * n
        starts: list[int] = [0] * n
        gate = threading.Barrier(n)
        # each thread's own "finished" flag: after Ctrl-C interrupts Thread.join, CPython
        # 3.11 can mark the joined thread stopped while it runs (bpo-45274's handling), so
        # is_alive() cannot say when the wave is over
        done = [threading.Event() for _ in range(n)]

        def go(r: int) -> None:
            index = wave * n + r
            try:
                gate.wait()  # every thread ready: the spawns follow within milliseconds
                runs[r] = self._one(run_dir, state, index, dirs[r], starts, r)
            except threading.BrokenBarrierError:  # the wave was interrupted before it began
                return
            except Exception as exc:  # the spawn itself failed (out of processes, memory)
                runs[r] = {"state": state, "index": index, "status": "crashed",
                           "error": f"could not start: {type(exc).__name__}: {exc}"}
            finally:
                done[r].set()

        threads = [threading.Thread(target=go, args=(r,), name=f"jitwarm-replica-{r}",
                                    daemon=True) for r in range(n)]
        for t in threads:
            t.start()
        def finished() -> list[dict[str, Any]]:
            first = min((s for s in starts if s), default=0)
            out = []
            for r, rec in enumerate(runs):
                if rec is not None:
                    rec.update(wave=wave, replica=r,
                               wave_offset_ns=starts[r] - first if starts[r] else None)
                    out.append(rec)
            current.extend(out)
            return out

        try:
            for ev in done:
                while not ev.wait(0.5):
                    pass
        except BaseException:  # Ctrl-C, SIGTERM: end the wave, keep what finished
            gate.abort()
            while not all(ev.is_set() for ev in done):
                end_live_workers()
                for ev in done:
                    ev.wait(0.1)
            runs[:] = [rec if rec is not None and rec.get("status") == "ok" else None
                       for rec in runs]
            finished()
            raise
        return finished()

    @staticmethod
    def _current_state(records: list[dict[str, Any]]) -> str:
        return records[0].get("state", "cold")

    def _fill(self, run_dir: Path, result: ProfileResult
              ) -> tuple[list[dict[str, Any]], Path | None]:
        """``cached`` asked for without ``cold``: one cold process, not reported as a state,
        fills the cache the cached processes copy. Returns ([its record] if it succeeded,
        its cache directory)."""
        cache_dir = run_dir / "caches" / "fill"
        cache_dir.mkdir(parents=True)
        rec = self._one(run_dir, "cold", 0, cache_dir)
        if rec["status"] == "usage_error":
            raise UsageError(rec["message"])
        if rec["status"] == "case_error":
            _case_error(result, rec)
            return [], None
        if rec["status"] != "ok":
            result.notes.append("the cold process that fills the cache for the cached state "
                                f"failed: {rec.get('error') or rec['status']}")
            return [], None
        result.framework = result.framework or rec.get("framework")
        result.notes.append("cached was asked for without cold: one cold process (not "
                            "reported) filled the cache that the cached processes copy")
        return [rec], cache_dir

    def _cached_skip_reason(self, result: ProfileResult, cold_ok: list[dict[str, Any]],
                            populated: Path | None) -> str | None:
        """Why ``cached`` cannot run, or None. It runs whenever the cold process whose cache
        directory it copies left files there: whatever framework wrote them (the callable
        may be a plain function calling JIT code), a new process can load them."""
        if not cold_ok or populated is None:
            return "no cold process succeeded, so there is no cache to reuse"
        if _holds_files(populated):
            return None
        from jitwarm.adapters import ADAPTERS, adapter_named

        fw = result.framework or "python"
        own = adapter_named(fw).cache_hint
        hints = [own] if own else [f"{a.name}: {a.cache_hint}" for a in ADAPTERS if a.cache_hint]
        hint = f"; to save it: {'; '.join(hints)}" if hints else ""
        return ("the cold process saved no compiled code to disk (no framework wrote to its "
                f"cache directory), so a new process has nothing to load{hint}")

    def _one(self, run_dir: Path, state: str, index: int, cache_dir: Path,
             starts: list[int] | None = None, slot: int = 0) -> dict[str, Any]:
        """Run one worker process and return its record (never raises for worker faults);
        its spawn time goes to ``starts[slot]`` when given."""
        stem = run_dir / f"{state}-{index}"
        result_path = Path(f"{stem}.result.json")
        spec = {
            "target": {"spec": self.target.spec, "name": self.target.name,
                       "file": self.target.file, "module": self.target.module},
            "settings": self.settings.to_dict(),
            "result_path": str(result_path),
            "state": state,
            "index": index,
            **self.extra_spec,
        }
        spec_path = Path(f"{stem}.spec.json")
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        # remote compile caches off unless the caller turns them on (extra_env): a server
        # named in the shell's environment would make `cold` warm
        env = worker_env({**cache_env(cache_dir), **remote_cache_env(None),
                          **thread_env(self.settings.threads), **self.extra_env})
        run = run_worker("jitwarm.measure.worker", spec_path, result_path, timeout_s=self.timeout_s,
                         env=env, python=self.python)
        if starts is not None:
            starts[slot] = run.started_ns
        return worker_record(run, {"state": state, "index": index}, self.timeout_s)


def _case_error(result: ProfileResult, rec: dict[str, Any]) -> None:
    """The user's code raised in a worker: the run ends with ``status=error``."""
    result.status = "error"
    result.error = {k: rec.get(k) for k in ("state", "index", "phase", "message", "traceback")}


def _holds_files(folder: Path) -> bool:
    """Whether any file lies under ``folder`` (symbolic links to folders not followed)."""
    for _root, _dirs, files in os.walk(folder):
        if files:
            return True
    return False
