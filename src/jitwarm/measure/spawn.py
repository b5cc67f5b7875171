"""The one place that starts worker processes, and the parent's signal handling.

Every fresh process jitwarm measures or compiles in (``jitwarm.measure.worker``,
``jitwarm.caches.prewarm_worker``) is started by :func:`run_worker`, in the manner of pyperf's
``_manager``:

* in a new session, so it is the leader of its own process group: Ctrl-C at a terminal
  reaches the parent only, and ending a worker ends everything it started
  (``killpg``, SIGKILL) — on timeout, on Ctrl-C/SIGTERM/SIGHUP in the parent, and after it
  exits (a helper process it left behind);
* the worker calls :func:`die_with_parent` first thing: ``PR_SET_PDEATHSIG`` (Linux) ends
  it when the parent dies, even by ``kill -9``. The signal fires when the *thread* that
  started the worker exits; :func:`run_worker` waits for the worker in that same thread,
  so the worker is always done before that thread can end;
* its stdout and stderr go to a pipe the parent drains while it waits, keeping only the
  last :data:`TAIL_BYTES` (for crash diagnostics): a case printing gigabytes costs the
  parent 64 KiB of memory and no disk. (A file would need a cap, and ``RLIMIT_FSIZE``
  would kill the worker at the cap: a measurement must never be lost to its printing.);
* the result file is parsed guarded: unreadable or not a JSON object is reported, never
  raised; a result written by a worker that then did not exit (a non-daemon thread left
  running) is used even when the timeout had to end the process.

:func:`signals_as_interrupt` makes SIGTERM and SIGHUP (``timeout``, CI cancellation,
``docker stop``, a closed terminal) take Ctrl-C's path in the parent: a
:class:`Terminated` exception, a subclass of :class:`KeyboardInterrupt`, so every
``except KeyboardInterrupt`` that ends workers and keeps partial results handles them
too; :func:`exit_code` gives 128 + the signal (130 for Ctrl-C).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the workers import this module first thing: keep it light
    import subprocess

from jitwarm._errors import UsageError

#: how much of a worker's output the parent keeps (the end of it)
TAIL_BYTES = 64 * 1024
#: lines of that tail shown in messages, each cut to :data:`TAIL_LINE_CHARS`
TAIL_LINES = 15
TAIL_LINE_CHARS = 300
#: the environment variable through which a worker learns its parent's pid
PARENT_ENV = "JITWARM_PARENT_PID"
_PR_SET_PDEATHSIG = 1
#: workers running now (started by :func:`run_worker` in any thread of this process)
_LIVE: set[subprocess.Popen[bytes]] = set()


# -- options ---------------------------------------------------------------------------------
def check_seconds(value: float, option: str) -> float:
    """``value`` if it is a finite positive number of seconds, else a :class:`UsageError`
    (``nan`` would disable every comparison with it, ``inf`` every deadline)."""
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise UsageError(f"{option} must be a positive number of seconds, got {value!r}")
    return float(value)


# -- signals in the parent -------------------------------------------------------------------
class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: handled like Ctrl-C, exit code 128 + the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_code(exc: BaseException | None) -> int:
    """The conventional exit status for an interruption: 128 + signal (Ctrl-C: 130)."""
    return 128 + exc.signum if isinstance(exc, Terminated) else 130


def signal_name(exc: BaseException | None) -> str:
    """``SIGTERM``/``SIGHUP`` for a :class:`Terminated`, ``Ctrl-C`` otherwise."""
    return signal.Signals(exc.signum).name if isinstance(exc, Terminated) else "Ctrl-C"


@dataclass
class SignalState:
    """What :func:`signals_as_interrupt` saw: the first terminating signal, if any."""

    signum: int | None = None
    seen: list[int] = field(default_factory=list)


#: the states of the :func:`signals_as_interrupt` blocks open now (innermost last)
_ACTIVE: list[SignalState] = []


def terminating_signal() -> int | None:
    """The SIGTERM/SIGHUP the innermost :func:`signals_as_interrupt` block saw, if any:
    for code that got a plain ``KeyboardInterrupt`` from a library that re-raises the
    interruption as its own (Ray's ``wait``), to tell it from Ctrl-C."""
    return _ACTIVE[-1].signum if _ACTIVE else None


@contextlib.contextmanager
def signals_as_interrupt() -> Iterator[SignalState]:
    """Within the block, SIGTERM and SIGHUP raise :class:`Terminated` in the main thread
    (once: later ones are ignored so the cleanup can finish); handlers restored after.
    A no-op outside the main thread, where Python cannot set handlers."""
    import threading

    state = SignalState()
    wanted = [getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def handler(signum: int, frame: Any) -> None:
        state.seen.append(signum)
        if state.signum is None:
            state.signum = signum
            raise Terminated(signum)

    old = {}
    for s in wanted:
        if signal.getsignal(s) is signal.SIG_IGN:
            continue  # nohup: the user asked for this signal to be ignored
        old[s] = signal.signal(s, handler)
    _ACTIVE.append(state)
    try:
        yield state
    finally:
        _ACTIVE.remove(state)
        for s, h in old.items():
            signal.signal(s, h)


# -- the worker's side -----------------------------------------------------------------------
def die_with_parent() -> None:
    """In a worker, first thing: be killed (SIGKILL) when the parent dies (Linux
    ``PR_SET_PDEATHSIG``); if the parent is already gone, exit now."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the parent's killpg still applies
            pass
    parent = os.environ.get(PARENT_ENV)
    if parent and parent.isdigit() and os.getppid() != int(parent):
        os._exit(1)  # the parent died before the death signal was armed


def end_worker(code: int = 0, grace_s: float = 10.0) -> None:
    """End a worker whose result is written: run the atexit handlers (frameworks may flush
    there) under a watchdog, flush, then ``os._exit``. A plain return would also join every
    non-daemon thread the case left running, and a worker that never exits loses its
    finished measurement to the parent's timeout."""
    import atexit
    import threading

    def watchdog() -> None:
        time.sleep(grace_s)
        os._exit(code)

    threading.Thread(target=watchdog, daemon=True).start()
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    os._exit(code)


# -- the parent's side -----------------------------------------------------------------------
def worker_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The parent's environment, plus ``extra``, the parent's pid (see
    :func:`die_with_parent`) and, in a source checkout, this jitwarm on ``PYTHONPATH``."""
    from jitwarm.adapters import load_plugins

    load_plugins(entry_points=True)  # workers then load plugin adapters by import alone
    env = os.environ.copy()
    pkg_root = str(Path(__file__).resolve().parents[2])  # src/ in a checkout (measure/spawn.py)
    if Path(pkg_root).name not in ("site-packages", "dist-packages"):
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (pkg_root, env.get("PYTHONPATH", "")) if p)
    env.update(extra or {})
    env[PARENT_ENV] = str(os.getpid())
    return env


class _Tail:
    """The last ``cap`` bytes of a stream, and how many bytes it had in all."""

    def __init__(self, cap: int = TAIL_BYTES) -> None:
        self.cap = cap
        self.buf = bytearray()
        self.total = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        self.buf += data
        if len(self.buf) > 2 * self.cap:
            del self.buf[: len(self.buf) - self.cap]

    def text(self, lines: int = TAIL_LINES) -> str:
        data = bytes(self.buf[-self.cap:])
        out = [ln if len(ln) <= TAIL_LINE_CHARS else ln[:TAIL_LINE_CHARS] + "…"
               for ln in data.decode("utf-8", errors="replace").splitlines()[-lines:]]
        if self.total > len(data):
            out.insert(0, f"[… {self.total - len(data)} earlier bytes of output not kept]")
        return "\n".join(out)


@dataclass
class WorkerRun:
    """How one worker process ended."""

    returncode: int | None  # None: still running at the timeout, then killed
    timed_out: bool
    wall_ns: int
    record: dict[str, Any] | None  # the result file's record
    unreadable: str | None  # why a result file that exists could not be used
    tail: str  # the end of its output
    output_bytes: int
    started_ns: int = 0  # ``time.perf_counter_ns()`` in the parent just before the spawn

    @property
    def signal(self) -> str | None:
        """The signal's name when the worker was killed by one."""
        rc = self.returncode
        if rc is None or rc >= 0:
            return None
        try:
            return signal.Signals(-rc).name
        except ValueError:
            return f"signal {-rc}"


def read_result(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """A worker's result file: ``(record, None)``, ``(None, why)`` when it exists but cannot
    be used, ``(None, None)`` when there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"unreadable result: {exc}"
    try:
        record = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        return None, f"unreadable result: {exc}"
    if not isinstance(record, dict) or not isinstance(record.get("status"), str):
        return None, "unreadable result: not a record with a status"
    return record, None


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker's whole process group (it leads one), then reap the worker."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    proc.wait()


def end_live_workers() -> int:
    """SIGKILL the process group of every worker running now, in any thread (their own
    :func:`run_worker` reaps them): how a parent running workers from several threads ends
    them all on Ctrl-C, which only its main thread receives. Returns how many."""
    live = list(_LIVE)
    for proc in live:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    return len(live)


def run_worker(module: str, spec_path: Path, result_path: Path, *, timeout_s: float,
               env: dict[str, str], python: str = sys.executable,
               flags: tuple[str, ...] = ()) -> WorkerRun:
    """Run ``python [FLAGS] -m MODULE SPEC T_SPAWN`` to its end (see the module docstring;
    ``flags``: interpreter options such as ``("-X", "importtime")``).

    Any exception while waiting (Ctrl-C, :class:`Terminated`) kills the worker's process
    group before it propagates.
    """
    import select
    import subprocess

    timeout_s = check_seconds(timeout_s, "--timeout")
    tail = _Tail()
    t_spawn = time.perf_counter_ns()
    proc = subprocess.Popen(
        [python, *flags, "-m", module, str(spec_path), str(t_spawn)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env=env, start_new_session=True,
    )
    _LIVE.add(proc)
    timed_out = False
    pidfd = -1
    try:
        assert proc.stdout is not None
        out = proc.stdout.fileno()
        os.set_blocking(out, False)
        if hasattr(os, "pidfd_open"):
            with contextlib.suppress(OSError):
                pidfd = os.pidfd_open(proc.pid)
        deadline = time.monotonic() + timeout_s
        open_fds = [out]
        while proc.poll() is None:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            # without a pidfd, wake now and then to notice an exit while a process the
            # worker started still holds the pipe
            wait = min(left, 3600.0 if pidfd >= 0 else 0.1)
            ready, _, _ = select.select(open_fds + ([pidfd] if pidfd >= 0 else []), [], [], wait)
            if out in ready and not _drain(out, tail):
                open_fds = []  # EOF: only the exit is left to wait for
                if pidfd < 0:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        wall = time.perf_counter_ns() - t_spawn
        if open_fds:
            _drain(out, tail)
    finally:
        kill_group(proc)  # on timeout, Ctrl-C, SIGTERM; and what the worker left behind
        _LIVE.discard(proc)
        if pidfd >= 0:
            os.close(pidfd)
        if proc.stdout is not None:
            proc.stdout.close()
    record, unreadable = read_result(result_path)
    return WorkerRun(returncode=None if timed_out else proc.returncode, timed_out=timed_out,
                     wall_ns=wall, record=record, unreadable=unreadable,
                     tail=tail.text(), output_bytes=tail.total, started_ns=t_spawn)


def _drain(fd: int, tail: _Tail) -> bool:
    """Read what the pipe holds now (a bounded amount, so a worker printing without end
    cannot keep the parent from its deadline); False at EOF."""
    for _ in range(64):
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            return True
        except OSError:
            return False
        if not chunk:
            return False
        tail.add(chunk)
    return True
