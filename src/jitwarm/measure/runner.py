"""The parent side: fresh worker processes per cache state, faults contained.

For each cache state the runner starts N worker processes, through a launcher
(:mod:`jitwarm.measure.launchers`, ``--executor``): on this machine one after another (never
in parallel: they would compete for cores), or as Ray tasks on a cluster. ``cold`` gives every process a new empty cache
directory; ``cached`` gives each a copy of the directory the first good cold process
populated (asked for without ``cold``, one unreported cold process fills it first), and
runs whenever that directory holds files, whichever framework wrote them. The user's own
cache directories are never touched, and the frameworks' remote compile caches are off (a
caller turns them on through ``extra_env``). Workers report through a
result file; a missing file means the worker crashed (its signal is recorded) or hung
(killed after the per-process timeout). The runner never imports a framework.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jitwarm._errors import UsageError
from jitwarm._version import __version__
from jitwarm.adapters import remote_cache_env
from jitwarm.cases.targets import Target
from jitwarm.measure.launchers import Job, Launcher, run_measured, worker_record
from jitwarm.measure.process import Settings
from jitwarm.measure.spawn import check_seconds, exit_code, signal_name
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


def state_cache_dir(run_dir: Path, state: str, index: int, populated: Path | None) -> Path:
    """One process's cache folder: new and empty for ``cold``, a copy of the folder the
    first good cold process populated for ``cached``."""
    cache_dir = run_dir / "caches" / f"{state}-{index}"
    if state == "cached":
        assert populated is not None
        shutil.copytree(populated, cache_dir)
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
        launcher: Launcher | None = None,
    ) -> None:
        if processes < 1:
            raise UsageError("--processes must be at least 1")
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
        self.launcher = launcher or Launcher()
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
                      "executor": self.launcher.describe()},
            created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            jitwarm_version=__version__,
        )
        run_dir = Path(tempfile.mkdtemp(prefix="jitwarm-run-"))
        current: list[dict[str, Any]] = []
        try:
            self.launcher.open(run_dir)
            # the caches of the good cold processes, first first (a launcher's handles)
            sources: list[Any] = []
            cold_ok: list[dict[str, Any]] = []
            for state in self.states:
                if state == "cached":
                    if "cold" not in self.states:
                        cold_ok, sources = self._fill(result)
                        if result.status == "error":
                            return result
                    reason = self._cached_skip_reason(result, cold_ok, sources)
                    if reason:
                        result.skipped_states["cached"] = reason
                        continue
                current = []
                caches = self._state(state, current, sources, result)
                current.sort(key=lambda r: r.get("index", 0))
                if result.status == "error":
                    return result
                if state == "cold":
                    cold_ok = [r for r in current if r["status"] == "ok"]
                    sources = [caches[r["index"]] for r in cold_ok if r["index"] in caches]
                result.add_state(state, current)
                current = []
            return result
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM/SIGHUP (_spawn.Terminated)
            if current:
                current.sort(key=lambda r: r.get("index", 0))
                result.add_state(self._current_state(current), current)
            result.status = "interrupted"
            raise RunInterrupted(result, exc) from None
        finally:
            self.launcher.close()
            if not os.environ.get("JITWARM_KEEP_TMP"):
                shutil.rmtree(run_dir, ignore_errors=True)

    def _state(self, state: str, current: list[dict[str, Any]], sources: list[Any],
               result: ProfileResult, jobs: list[Job] | None = None) -> dict[int, Any]:
        """Run one state's processes (``jobs``: all of them), each record appended to
        ``current`` as it ends; returns the good cold processes' caches by index."""
        caches: dict[int, Any] = {}
        n = self.processes

        def on_start(job: Job) -> None:
            if self.progress:
                self.progress(state, job.index, n, None)

        def on_done(job: Job, rec: dict[str, Any], cache: Any) -> bool:
            current.append(rec)
            if rec.get("lingered"):
                result.notes.append(f"{state} process {job.index + 1}: {rec['lingered']}")
            if self.progress:
                self.progress(state, job.index, n, rec)
            if rec["status"] == "usage_error":
                raise UsageError(rec["message"])
            if rec["status"] == "case_error":
                _case_error(result, rec)
                return False
            if rec["status"] == "ok":
                result.framework = result.framework or rec.get("framework")
                if state == "cold" and cache is not None:
                    caches[job.index] = cache
            return True

        self.launcher.run(self, jobs or [Job(state, i) for i in range(n)], sources,
                          on_start, on_done)
        return caches

    @staticmethod
    def _current_state(records: list[dict[str, Any]]) -> str:
        return records[0].get("state", "cold")

    def _fill(self, result: ProfileResult) -> tuple[list[dict[str, Any]], list[Any]]:
        """``cached`` asked for without ``cold``: one cold process, not reported as a state,
        fills the cache the cached processes copy. Returns ([its record] if it succeeded,
        [its cache])."""
        done: list[dict[str, Any]] = []
        caches = self._state("cold", done, [], result, [Job("cold", 0, "fill")])
        if result.status == "error" or not done:
            return [], []
        rec = done[0]
        if rec["status"] != "ok" or 0 not in caches:
            result.notes.append("the cold process that fills the cache for the cached state "
                                f"failed: {rec.get('error') or rec['status']}")
            return [], []
        result.notes.append("cached was asked for without cold: one cold process (not "
                            "reported) filled the cache that the cached processes copy")
        return [rec], [caches[0]]

    def _cached_skip_reason(self, result: ProfileResult, cold_ok: list[dict[str, Any]],
                            sources: list[Any]) -> str | None:
        """Why ``cached`` cannot run, or None. It runs whenever the cold process whose cache
        directory it copies left files there: whatever framework wrote them (the callable
        may be a plain function calling JIT code), a new process can load them."""
        if not cold_ok or not sources:
            return "no cold process succeeded, so there is no cache to reuse"
        if self.launcher.holds_files(sources[0]):
            return None
        from jitwarm.adapters import ADAPTERS, adapter_named

        fw = result.framework or "python"
        own = adapter_named(fw).cache_hint
        hints = [own] if own else [f"{a.name}: {a.cache_hint}" for a in ADAPTERS if a.cache_hint]
        hint = f"; to save it: {'; '.join(hints)}" if hints else ""
        return ("the cold process saved no compiled code to disk (no framework wrote to its "
                f"cache directory), so a new process has nothing to load{hint}")

    def job_spec(self, state: str, index: int) -> dict[str, Any]:
        """A measured worker's spec, but its result file's path (the launcher's)."""
        return {
            "target": {"spec": self.target.spec, "name": self.target.name,
                       "file": self.target.file, "module": self.target.module},
            "settings": self.settings.to_dict(),
            "state": state,
            "index": index,
            **self.extra_spec,
        }

    def job_env(self) -> dict[str, str]:
        """A measured worker's environment on top of its node's, but its cache directory:
        remote compile caches off unless the caller turns them on (``extra_env``), as a
        server named in the shell's environment would make ``cold`` warm."""
        return {**remote_cache_env(None), **thread_env(self.settings.threads),
                **self.extra_env}

    def _one(self, run_dir: Path, state: str, index: int, cache_dir: Path) -> dict[str, Any]:
        """Run one worker process on this machine and return its record (never raises for
        worker faults)."""
        return run_measured(self.job_spec(state, index), self.job_env(), cache_dir, run_dir,
                            f"{state}-{index}", self.timeout_s, self.python)


def _case_error(result: ProfileResult, rec: dict[str, Any]) -> None:
    """The user's code raised in a worker: the run ends with ``status=error``."""
    result.status = "error"
    result.error = {k: rec.get(k) for k in ("state", "index", "phase", "message", "traceback")}


__all__ = ["STATES", "RunInterrupted", "Runner", "parse_states", "state_cache_dir",
           "thread_env", "worker_record"]
