"""The parent side: fresh worker processes per cache state, faults contained.

For each cache state the runner starts N worker processes one after another (never in
parallel: they would compete for cores). ``cold`` gives every process a new empty cache
directory; ``cached`` gives each a copy of the directory the first good cold process
populated. The user's own cache directories are never touched. Workers report through a
result file; a missing file means the worker crashed (its signal is recorded) or hung
(killed after the per-process timeout). The runner never imports a framework.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import __version__
from ._case import Target
from ._env import environment
from ._errors import UsageError
from ._measure import Settings
from ._result import ProfileResult
from .adapters import cache_env

STATES = ("cold", "cached")
ProgressFn = Callable[[str, int, int, dict[str, Any] | None], None]


class RunInterrupted(Exception):
    """Ctrl-C during a run; carries the partial result."""

    def __init__(self, result: ProfileResult) -> None:
        super().__init__("interrupted")
        self.result = result


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


def _signal_name(rc: int) -> str:
    try:
        return signal.Signals(-rc).name
    except ValueError:
        return f"signal {-rc}"


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


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
    ) -> None:
        if processes < 1:
            raise UsageError("--processes must be at least 1")
        if timeout_s <= 0:
            raise UsageError("--timeout must be positive")
        self.target = target
        self.processes = processes
        self.states = states
        self.settings = settings or Settings()
        self.timeout_s = timeout_s
        self.progress = progress
        self.python = python
        self.extra_env = dict(extra_env or {})
        self.extra_spec = dict(extra_spec or {})
        if self.settings.threads is not None and self.settings.threads < 1:
            raise UsageError("--threads must be at least 1")
        self._proc: subprocess.Popen[bytes] | None = None

    def run(self) -> ProfileResult:
        """Measure every requested state; case errors end the run with ``status=error``."""
        result = ProfileResult(
            case={"target": self.target.spec, "name": self.target.name,
                  "file": self.target.file, "module": self.target.module},
            framework=None,
            environment=environment(),
            settings={**self.settings.to_dict(), "processes": self.processes,
                      "timeout_s": self.timeout_s, "states": list(self.states)},
            created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            jitwarm_version=__version__,
        )
        run_dir = Path(tempfile.mkdtemp(prefix="jitwarm-run-"))
        current: list[dict[str, Any]] = []
        try:
            populated: Path | None = None
            for state in self.states:
                if state == "cached":
                    reason = self._cached_skip_reason(result, populated)
                    if reason:
                        result.skipped_states["cached"] = reason
                        continue
                current = []
                for i in range(self.processes):
                    cache_dir = run_dir / "caches" / f"{state}-{i}"
                    if state == "cached":
                        assert populated is not None
                        shutil.copytree(populated, cache_dir)
                    else:
                        cache_dir.mkdir(parents=True)
                    if self.progress:
                        self.progress(state, i, self.processes, None)
                    rec = self._one(run_dir, state, i, cache_dir)
                    current.append(rec)
                    if self.progress:
                        self.progress(state, i, self.processes, rec)
                    if rec["status"] == "usage_error":
                        raise UsageError(rec["message"])
                    if rec["status"] == "case_error":
                        result.status = "error"
                        result.error = {k: rec.get(k) for k in
                                        ("state", "index", "phase", "message", "traceback")}
                        return result
                    if rec["status"] == "ok":
                        result.framework = result.framework or rec.get("framework")
                        if state == "cold" and populated is None:
                            populated = cache_dir
                result.add_state(state, current)
                current = []
            return result
        except KeyboardInterrupt:
            self._kill()
            if current:
                result.add_state(self._current_state(current), current)
            result.status = "interrupted"
            raise RunInterrupted(result) from None
        finally:
            self._kill()
            if not os.environ.get("JITWARM_KEEP_TMP"):
                shutil.rmtree(run_dir, ignore_errors=True)

    @staticmethod
    def _current_state(records: list[dict[str, Any]]) -> str:
        return records[0].get("state", "cold")

    def _cached_skip_reason(self, result: ProfileResult, populated: Path | None) -> str | None:
        cold = result.states.get("cold")
        if cold is None:
            return "the cached state reuses the cold state's cache: run cold,cached"
        ok = [p for p in cold["processes"] if p.get("status") == "ok"]
        if not ok or populated is None:
            return "no cold process succeeded, so there is no cache to reuse"
        if not any(p.get("disk_cache") for p in ok):
            fw = result.framework or "this framework"
            hint = " (e.g. @njit(cache=True))" if fw == "numba" else ""
            return f"the callable does not use {fw}'s disk cache{hint}"
        return None

    def _one(self, run_dir: Path, state: str, index: int, cache_dir: Path) -> dict[str, Any]:
        """Run one worker process and return its record (never raises for worker faults)."""
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
        env = os.environ.copy()
        env.update(cache_env(cache_dir))
        env.update(thread_env(self.settings.threads))
        env.update(self.extra_env)
        pkg_root = str(Path(__file__).resolve().parent.parent)
        if Path(pkg_root).name not in ("site-packages", "dist-packages"):
            # a source checkout: let the worker import this very jitwarm
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (pkg_root, env.get("PYTHONPATH", "")) if p
            )
        out_path = Path(f"{stem}.out")
        base: dict[str, Any] = {"state": state, "index": index}
        with open(out_path, "wb") as out:
            t_spawn = time.perf_counter_ns()
            self._proc = subprocess.Popen(
                [self.python, "-m", "jitwarm._worker", str(spec_path), str(t_spawn)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # Ctrl-C reaches the parent only; it ends workers
            )
            try:
                rc = self._proc.wait(timeout=self.timeout_s)
            except subprocess.TimeoutExpired:
                self._kill()
                return {**base, "status": "timeout",
                        "error": f"{state} process {index + 1} timed out after "
                                 f"{self.timeout_s:g} s and was killed",
                        "output_tail": _tail(out_path)}
            finally:
                wall = time.perf_counter_ns() - t_spawn
            self._proc = None
        base["process_wall_ns"] = wall
        if result_path.exists():
            try:
                record = json.loads(result_path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                record = {"status": "crashed", "error": f"unreadable result: {exc}"}
            return {**base, **record}
        if rc < 0:
            sig = _signal_name(rc)
            return {**base, "status": "crashed", "signal": sig, "returncode": rc,
                    "error": f"{state} process {index + 1} crashed with {sig}",
                    "output_tail": _tail(out_path)}
        return {**base, "status": "crashed", "returncode": rc,
                "error": f"{state} process {index + 1} exited with code {rc} without a result",
                "output_tail": _tail(out_path)}

    def _kill(self) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            self._proc = None
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
        proc.wait()
        self._proc = None
