"""Where ``jitwarm prewarm`` runs its cases, and how their caches come back into ``--out``.

An executor runs one *task* per case of a plan: a fresh ``jitwarm.caches.prewarm_worker``
process (started by the one spawner, :func:`jitwarm.caches.prewarm.run_case_process`)
that calls the case with its own arguments and then each of its inputs, every cache
redirected into a directory of the task's own. The task is a case with all its inputs,
not one input, on purpose: a framework's per-function cache index is written
read-modify-write by one process (Numba's ``.nbi`` lists every signature of a function and
numbers its ``.nbc`` files), and two processes compiling the same function write the same
file names with different bytes (measured: even the same signature compiled twice gives
different ``.nbc`` bytes), so splitting one function's inputs across processes would only
make conflicts.

* ``local``: ``--jobs N`` tasks at once on this machine. With one job the case processes
  write straight into ``--out`` one after another (jitwarm's behaviour before executors);
  with more, each writes into a temporary directory that is merged into ``--out``.
* ``ray``: each task is a Ray task (a fresh process on a worker node, which itself starts
  the prewarm worker through the spawner); the task returns its cache files (bytes, size
  and SHA-256, size-capped) to the driver, which verifies them as a bundle's members are
  verified (allow-listed paths under a known cache sub-directory, no traversal, no links,
  sizes and hashes checked) before merging them. Without an address a local Ray is
  started (``num_cpus=N``); with one, jitwarm connects to that cluster.

Merging (:class:`Merger`): a file is written atomically and never through a link; when two
tasks write the same relative path with different bytes the first is kept and the
conflict, naming both tasks, goes into the record (``conflicts``) and onto the terminal.

A task whose process crashed or hung (timed out) is retried once by executors with
``retries = 1`` (``ray``), then reported with its node; the other tasks go on.

A new executor is one :class:`Executor` subclass and one line in :data:`REGISTRY`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from jitwarm._errors import UsageError, shown

#: the largest cache file a remote task may send back, and the most bytes in all per task
MAX_FILE_BYTES = 512 << 20
MAX_TASK_BYTES = 2 << 30
#: how long past ``--timeout`` the driver waits for a remote task before cancelling it
#: (the task's own spawner ends a hung case process at ``--timeout``)
_REMOTE_GRACE_S = 60.0
#: statuses of a task worth a second try: the process crashed or hung
RETRY_STATUSES = ("crashed", "timeout")


# -- tasks and what they bring back ------------------------------------------------------------

@dataclass
class Task:
    """One case of a plan (with all its inputs), run in one fresh process."""

    index: int
    name: str
    raw_target: str
    target: dict[str, Any]  # the fields of a cases.targets.Target
    inputs: list[Any]

    @property
    def label(self) -> str:
        return f"task {self.index + 1} ({shown(self.name, 80)})"


@dataclass
class Gathered:
    """One cache file a task wrote: its path relative to the cache root and its content
    (``data``, or ``source`` on this machine's disk)."""

    path: str
    sha256: str
    size: int
    data: bytes | None = None
    source: Path | None = None


@dataclass
class Outcome:
    """How one task ended: the worker's record, where it ran, and its cache files."""

    task: Task
    record: dict[str, Any]
    node: str
    host: str
    duration_ns: int
    attempts: int = 1
    files: list[Gathered] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    earlier: list[dict[str, Any]] = field(default_factory=list)  # the failed attempts
    writes: dict[str, Any] | None = None  # set when the files were written into --out
    cleanup: Path | None = None  # a task-local directory to delete after the merge
    cpu_model: str | None = None  # the CPU of the node it ran on (caches may be keyed by it)

    @property
    def status(self) -> str:
        return str(self.record.get("status"))


def compiled_units(record: dict[str, Any]) -> list[dict[str, Any]]:
    """A task's top-level compile units, compact: from the worker's process-wide
    ``compiled`` (every framework, whatever the callable), else from the callable's
    framework's compile events. A ``kind`` of ``load`` is a disk-cache load, not a compile."""
    keys = ("framework", "name", "module", "kind", "signature", "call", "cache", "duration_ns")
    if isinstance(record.get("compiled"), list):
        return [{k: u.get(k) for k in keys} for u in record["compiled"] if isinstance(u, dict)]
    out = []
    for call in record.get("calls") or []:
        for e in call.get("compile_events") or []:
            if e.get("depth") == 0:
                out.append({"name": e.get("name"), "signature": e.get("signature"),
                            "call": call.get("label"), "cache": e.get("cache"),
                            "duration_ns": max(0, int(e.get("end_ns", 0))
                                               - int(e.get("start_ns", 0)))})
    return out


def read_capped(path: Path, cap: int = MAX_FILE_BYTES) -> bytes:
    """A regular file's bytes, opened without following a link; more than ``cap`` bytes or
    not a regular file is an ``OSError``."""
    import stat

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise OSError(f"{path} is not a regular file")
        data = f.read(cap + 1)
    if len(data) > cap:
        raise OSError(f"{path} is larger than {cap} bytes")
    return data


def gather_dir(root: Path, *, with_data: bool, cap_file: int = MAX_FILE_BYTES,
               cap_total: int = MAX_TASK_BYTES) -> tuple[list[Gathered], list[str]]:
    """The cache files under ``root`` (as a bundle would take them: regular files under a
    known cache sub-directory, allow-listed paths, no links), with their bytes when
    ``with_data``; and what was left out, with why."""
    from jitwarm.caches.bundle import _cache_files, _hash_file

    files, skipped = _cache_files(root)
    out: list[Gathered] = []
    total = 0
    for rel, full in files:
        try:
            if with_data:
                data = read_capped(full, cap_file)
                digest, size = hashlib.sha256(data).hexdigest(), len(data)
            else:
                data = None
                digest, size = _hash_file(full)
                if size > cap_file:
                    raise OSError(f"larger than {cap_file} bytes")
        except OSError as exc:
            skipped.append(f"{rel} ({exc.strerror or exc})")
            continue
        if total + size > cap_total:
            skipped.append(f"{rel} (over the {cap_total}-byte limit per task)")
            continue
        total += size
        out.append(Gathered(rel, digest, size, data=data, source=None if with_data else full))
    return out, skipped


def check_gathered(entries: Any, cap_file: int = MAX_FILE_BYTES,
                   cap_total: int = MAX_TASK_BYTES) -> tuple[list[Gathered], list[str]]:
    """Cache files sent back by a remote task, checked as a bundle's members are: each
    entry a ``{path, sha256, size, data}`` with an allow-listed path, its size and SHA-256
    matching its bytes, within the caps. What fails is refused (with why), never written."""
    from jitwarm.caches.bundle import _path_problem, cache_subdirs

    subdirs = set(cache_subdirs().values())
    if not isinstance(entries, list):
        return [], ["the task's files are not a list: nothing taken"]
    ok: list[Gathered] = []
    refused: list[str] = []
    seen: set[str] = set()
    total = 0
    for e in entries:
        if not isinstance(e, dict):
            refused.append("an entry that is not an object")
            continue
        path, data, size, digest = e.get("path"), e.get("data"), e.get("size"), e.get("sha256")
        if not isinstance(path, str):
            refused.append("an entry without a path")
            continue
        why = _path_problem(path, subdirs)
        if why is None and path in seen:
            why = "listed twice"
        if why is None and not isinstance(data, bytes):
            why = "no bytes"
        if why is None and (not isinstance(size, int) or size != len(data) or size > cap_file):
            why = "size does not match its bytes" if isinstance(size, int) and size <= cap_file \
                else "too large"
        if why is None and (not isinstance(digest, str)
                            or hashlib.sha256(data).hexdigest() != digest):
            why = "SHA-256 does not match its bytes"
        if why is None and total + len(data) > cap_total:
            why = f"over the {cap_total}-byte limit per task"
        if why is not None:
            refused.append(f"{shown(path, 200)}: {why}")
            continue
        seen.add(path)
        total += len(data)
        ok.append(Gathered(path, digest, len(data), data=data))
    return ok, refused


# -- merging into --out ----------------------------------------------------------------------

class Merger:
    """Writes tasks' cache files into ``out``: atomically, never through a link, the first
    task's bytes kept when two tasks write one path differently (a conflict, reported)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.owner: dict[str, tuple[str, Outcome]] = {}  # path -> (sha256, first task)
        self.conflicts: list[dict[str, Any]] = []

    def _dest(self, rel: str) -> Path:
        """The destination of ``rel`` under ``out``, its directories made; a directory on
        the way that is a link or not a directory is an ``OSError``."""
        here = self.out
        for part in rel.split("/")[:-1]:
            here = here / part
            if here.is_symlink() or (here.exists() and not here.is_dir()):
                raise OSError(f"{here} is a link or not a directory")
            if not here.exists():
                here.mkdir()
        return here / rel.rsplit("/", 1)[-1]

    def add(self, outcome: Outcome) -> dict[str, Any]:
        """Merge one task's files; returns its ``cache_writes`` (files, bytes written,
        identical, replaced: files already in ``out`` from before this run, conflicts,
        refused)."""
        from jitwarm.caches.bundle import _hash_file

        writes: dict[str, Any] = {"files": 0, "bytes": 0, "identical": 0, "replaced": 0,
                                  "conflicts": 0, "refused": list(outcome.refused)}
        for g in outcome.files:
            first = self.owner.get(g.path)
            if first is not None:
                if first[0] == g.sha256:
                    writes["identical"] += 1
                else:
                    writes["conflicts"] += 1
                    kept = first[1]
                    self.conflicts.append({
                        "path": g.path,
                        "kept": {"task": kept.task.index + 1, "case": kept.task.name,
                                 "node": kept.node, "sha256": first[0]},
                        "dropped": {"task": outcome.task.index + 1, "case": outcome.task.name,
                                    "node": outcome.node, "sha256": g.sha256},
                    })
                continue
            try:
                data = g.data if g.data is not None else read_capped(  # type: ignore[arg-type]
                    g.source, g.size)
                if hashlib.sha256(data).hexdigest() != g.sha256:
                    raise OSError("changed since it was hashed")
                dest = self._dest(g.path)
                if dest.is_symlink() or (dest.exists() and not dest.is_file()):
                    raise OSError("the destination is a link or not a file")
                if dest.is_file():
                    if _hash_file(dest)[0] == g.sha256:
                        self.owner[g.path] = (g.sha256, outcome)
                        writes["identical"] += 1
                        continue
                    writes["replaced"] += 1
                fd, tmp = tempfile.mkstemp(prefix=".jitwarm-merge-", dir=dest.parent)
                try:
                    with os.fdopen(fd, "wb") as f:
                        f.write(data)
                    os.replace(tmp, dest)
                except BaseException:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp)
                    raise
            except OSError as exc:
                writes["refused"].append(f"{shown(g.path, 200)}: {exc.strerror or exc}")
                continue
            self.owner[g.path] = (g.sha256, outcome)
            writes["files"] += 1
            writes["bytes"] += len(data)
        outcome.writes = writes
        return writes


# -- executors -------------------------------------------------------------------------------

OnDone = Callable[[Outcome], None]


class Executor:
    """Runs a plan's tasks; each finished task is handed to ``on_done`` (in the calling
    thread) as soon as it ends, so what finished is kept when the run is interrupted."""

    name: ClassVar[str] = ""
    help: ClassVar[str] = ""
    #: how many more tries a crashed or hung task gets
    retries: ClassVar[int] = 0

    def __init__(self, jobs: int | None = None, address: str | None = None) -> None:
        if jobs is not None and (not isinstance(jobs, int) or jobs < 1):
            raise UsageError(f"--jobs must be a positive integer, got {shown(jobs)}")
        if address is not None and self.name != "ray":
            raise UsageError("--ray-address needs --executor ray")
        self.jobs = jobs
        self.address = address

    @property
    def direct(self) -> bool:
        """Whether the case processes write straight into ``--out`` (nothing to merge)."""
        return False

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "jobs": self.jobs}

    def run(self, tasks: list[Task], out: Path, timeout_s: float, on_start: OnDone | None,
            on_done: OnDone) -> None:
        raise NotImplementedError

    def should_retry(self, outcome: Outcome) -> bool:
        return outcome.attempts <= self.retries and outcome.status in RETRY_STATUSES


def _local_task(task: Task, cache: Path, timeout_s: float) -> Outcome:
    from jitwarm.caches.prewarm import run_case_process
    from jitwarm.cases.targets import Target

    t0 = time.perf_counter_ns()
    rec = run_case_process(Target(**task.target), cache, inputs=task.inputs, timeout_s=timeout_s)
    host = socket.gethostname()
    return Outcome(task, rec, node=host, host=host, duration_ns=time.perf_counter_ns() - t0,
                   cpu_model=_cpu_model())


def _cpu_model() -> str | None:
    from jitwarm.caches.machine import cpu_model

    try:
        return cpu_model()
    except Exception:  # an unreadable /proc/cpuinfo: not worth a task
        return None


class LocalExecutor(Executor):
    name = "local"
    help = ("fresh processes on this machine, --jobs at once (default 1: one after another, "
            "straight into --out)")

    @property
    def direct(self) -> bool:
        return (self.jobs or 1) == 1

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "jobs": self.jobs or 1}

    def run(self, tasks: list[Task], out: Path, timeout_s: float, on_start: OnDone | None,
            on_done: OnDone) -> None:
        if self.direct:
            for task in tasks:
                if on_start:
                    on_start(Outcome(task, {}, "", "", 0))
                before = _snapshot(out)
                outcome = self._attempts(task, lambda t: _local_task(t, out, timeout_s))
                outcome.writes = _writes_between(before, _snapshot(out))
                on_done(outcome)
            return
        self._parallel(tasks, timeout_s, on_start, on_done)

    def _attempts(self, task: Task, once: Callable[[Task], Outcome]) -> Outcome:
        outcome = once(task)
        while self.should_retry(outcome):
            earlier = [*outcome.earlier, _attempt_summary(outcome)]
            outcome = once(task)
            outcome.attempts, outcome.earlier = len(earlier) + 1, earlier
        return outcome

    def _parallel(self, tasks: list[Task], timeout_s: float, on_start: OnDone | None,
                  on_done: OnDone) -> None:
        from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

        from jitwarm.measure.spawn import end_live_workers

        work = Path(tempfile.mkdtemp(prefix="jitwarm-prewarm-jobs-"))

        def one(task: Task) -> Outcome:
            def once(t: Task) -> Outcome:
                cache = Path(tempfile.mkdtemp(prefix=f"task{t.index + 1}-", dir=work))
                o = _local_task(t, cache, timeout_s)
                # on this machine: no caps (the files are read at the merge, one at a time)
                o.files, o.refused = gather_dir(cache, with_data=False, cap_file=1 << 62,
                                                cap_total=1 << 62)
                o.cleanup = cache
                return o
            return self._attempts(task, once)

        pool = ThreadPoolExecutor(max_workers=self.jobs or 1)
        every: list[Any] = []
        try:
            pending = set()
            for task in tasks:
                if on_start:
                    on_start(Outcome(task, {}, "", "", 0))
                every.append(pool.submit(one, task))
                pending.add(every[-1])
            while pending:
                done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for fut in done:
                    outcome = fut.result()
                    try:
                        on_done(outcome)
                    finally:
                        if outcome.cleanup is not None:
                            shutil.rmtree(outcome.cleanup, ignore_errors=True)
        except BaseException:  # Ctrl-C, SIGTERM: no new task starts, running ones end
            pool.shutdown(wait=False, cancel_futures=True)
            while not all(f.done() for f in every):  # (one may be starting its process now)
                end_live_workers()
                wait(every, timeout=0.1)
            raise
        finally:
            pool.shutdown(wait=True)
            shutil.rmtree(work, ignore_errors=True)


def _snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    """``{path: (size, mtime_ns, inode)}`` of the cache files under ``root``."""
    from jitwarm.caches.bundle import _cache_files

    out = {}
    for rel, full in _cache_files(root)[0]:
        with contextlib.suppress(OSError):
            st = full.stat()
            out[rel] = (st.st_size, st.st_mtime_ns, st.st_ino)
    return out


def _writes_between(before: dict[str, tuple[int, int, int]],
                    after: dict[str, tuple[int, int, int]]) -> dict[str, Any]:
    """What a case process that wrote straight into the directory wrote (from stat)."""
    changed = [rel for rel, st in after.items() if before.get(rel) != st]
    return {"files": len(changed), "bytes": sum(after[rel][0] for rel in changed),
            "identical": 0, "replaced": sum(1 for rel in changed if rel in before),
            "conflicts": 0, "refused": []}


def _attempt_summary(outcome: Outcome) -> dict[str, Any]:
    rec = outcome.record
    return {"status": outcome.status, "node": outcome.node, "duration_ns": outcome.duration_ns,
            "error": shown(rec.get("error") or rec.get("message") or "", 500)}


def ray_task(payload: dict[str, Any]) -> dict[str, Any]:
    """The body of a Ray task (runs on a worker node): the case in a fresh prewarm worker
    (the spawner), its caches in a task-local directory, sent back as bytes with hashes."""
    from jitwarm.caches.prewarm import run_case_process
    from jitwarm.cases.targets import Target
    from jitwarm.measure.cluster import say_started, where

    node, host = where()
    say_started(payload.get("whereabouts"), str(payload.get("key")), node, host)
    t0 = time.perf_counter_ns()
    work = Path(tempfile.mkdtemp(prefix="jitwarm-ray-task-"))
    try:
        rec = run_case_process(Target(**payload["target"]), work / "cache",
                               inputs=payload["inputs"], timeout_s=payload["timeout_s"])
        files, skipped = gather_dir(work / "cache", with_data=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"record": rec, "node": node, "host": host, "cpu_model": _cpu_model(),
            "duration_ns": time.perf_counter_ns() - t0, "skipped": skipped,
            "files": [{"path": g.path, "sha256": g.sha256, "size": g.size, "data": g.data}
                      for g in files]}


class RayExecutor(Executor):
    name = "ray"
    help = ("one Ray task per case (a fresh process on a worker node); caches sent back, "
            "verified and merged; a local Ray unless --ray-address")
    retries = 1

    def __init__(self, jobs: int | None = None, address: str | None = None) -> None:
        super().__init__(jobs, address)
        self.ray: Any = None
        self.whereabouts: Any = None
        self.keys: dict[Any, str] = {}  # a submitted task's ref -> its whereabouts key

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "jobs": self.jobs, "ray_address": self.address}

    def _start(self) -> tuple[Any, bool]:
        from jitwarm.measure.cluster import connect

        ray, started = connect(self.address, self.jobs or os.cpu_count() or 1)
        if self.jobs is None:
            self.jobs = max(1, int(ray.cluster_resources().get("CPU", 1)))
        return ray, started

    def run(self, tasks: list[Task], out: Path, timeout_s: float, on_start: OnDone | None,
            on_done: OnDone) -> None:
        from jitwarm.measure.cluster import shutdown, start_whereabouts

        ray, started = self._start()
        self.ray = ray
        remote = ray.remote(num_cpus=1, max_retries=0)(ray_task)
        # where each task starts: a task lost with its node or worker is reported on it
        self.whereabouts = start_whereabouts(ray)
        queue = list(tasks)
        attempts: dict[int, list[dict[str, Any]]] = {}
        pending: dict[Any, tuple[Task, float]] = {}

        def submit(task: Task) -> None:
            if on_start and task.index not in attempts:
                on_start(Outcome(task, {}, "", "", 0))
            attempts.setdefault(task.index, [])
            key = f"{task.index}-{len(attempts[task.index])}"
            payload = {"target": task.target, "inputs": task.inputs, "timeout_s": timeout_s,
                       "whereabouts": self.whereabouts, "key": key}
            ref = remote.remote(payload)
            self.keys[ref] = key
            pending[ref] = (task, time.monotonic())

        try:
            while queue or pending:
                while queue and len(pending) < (self.jobs or 1):
                    submit(queue.pop(0))
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
                finished: list[tuple[Any, Outcome]] = []
                for ref in ready:
                    task, t_sub = pending.pop(ref)
                    finished.append((ref, self._collect(ray, ref, task, t_sub)))
                now = time.monotonic()
                for ref, (task, t_sub) in list(pending.items()):
                    if now - t_sub > timeout_s + _REMOTE_GRACE_S:  # a stuck worker
                        pending.pop(ref)
                        with contextlib.suppress(Exception):
                            ray.cancel(ref, force=True)
                        node, host = self._where(ref)
                        finished.append((ref, Outcome(task, {
                            "status": "timeout",
                            "error": f"the Ray task did not return within {timeout_s:g} s "
                                     f"+ {_REMOTE_GRACE_S:g} s and was cancelled"},
                            node=node, host=host,
                            duration_ns=int((now - t_sub) * 1e9))))
                for _ref, outcome in finished:
                    earlier = attempts[outcome.task.index]
                    outcome.attempts, outcome.earlier = len(earlier) + 1, list(earlier)
                    if self.should_retry(outcome):
                        earlier.append(_attempt_summary(outcome))
                        submit(outcome.task)
                        continue
                    on_done(outcome)
        except BaseException as exc:  # Ctrl-C, SIGTERM: end the running tasks, keep what merged
            from jitwarm.measure.cluster import as_signal

            for ref in pending:
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
            if as_signal(exc) is not exc:
                raise as_signal(exc) from None
            raise
        finally:
            if self.whereabouts is not None:
                with contextlib.suppress(Exception):
                    ray.kill(self.whereabouts)
                self.whereabouts = None
            if started:
                shutdown(ray)

    def _where(self, ref: Any) -> tuple[str, str]:
        """Where a task that did not return said it started, else ``unknown``."""
        from jitwarm.measure.cluster import started_where

        got = started_where(self.ray, self.whereabouts, self.keys.get(ref, ""))
        return got or ("unknown", "unknown")

    def _collect(self, ray: Any, ref: Any, task: Task, t_sub: float) -> Outcome:
        wall = int((time.monotonic() - t_sub) * 1e9)
        try:
            got = ray.get(ref)
        except Exception as exc:  # RayTaskError, WorkerCrashedError, node died ...
            name = type(exc).__name__
            status = "crashed" if "Crashed" in name or "Died" in name or "Lost" in name \
                or "NodeDied" in name else "task_error"
            if isinstance(exc, ray.exceptions.RayTaskError):
                cause = getattr(exc, "cause", None)
                if isinstance(cause, UsageError):
                    return Outcome(task, {"status": "usage_error", "message": str(cause)},
                                   node="unknown", host="unknown", duration_ns=wall)
            node, host = self._where(ref)
            return Outcome(task, {"status": status,
                                  "error": f"{task.raw_target}: the Ray task failed: "
                                           f"{name}: {shown(exc, 500)}"},
                           node=node, host=host, duration_ns=wall)
        if not isinstance(got, dict) or not isinstance(got.get("record"), dict):
            return Outcome(task, {"status": "crashed", "error": "the Ray task returned no "
                                  "record"}, node="unknown", host="unknown", duration_ns=wall)
        files, refused = check_gathered(got.get("files"))
        skipped = got.get("skipped")
        refused += [f"left on the node: {shown(s, 200)}" for s in skipped
                    if isinstance(s, str)] if isinstance(skipped, list) else []
        rec = got["record"]
        if not isinstance(rec.get("status"), str):
            rec = {"status": "crashed", "error": "the Ray task's record has no status"}
        dur = got.get("duration_ns")
        cpu = got.get("cpu_model")
        return Outcome(task, rec, node=shown(got.get("node"), 80),
                       host=shown(got.get("host"), 80),
                       cpu_model=shown(cpu, 120) if isinstance(cpu, str) else None,
                       duration_ns=dur if isinstance(dur, int) and dur >= 0 else wall,
                       files=files, refused=refused)


#: ``--executor`` choices: a new executor is one subclass above and one line here
REGISTRY: dict[str, type[Executor]] = {
    LocalExecutor.name: LocalExecutor,
    RayExecutor.name: RayExecutor,
}


def get_executor(name: str, jobs: int | None = None, address: str | None = None) -> Executor:
    """The executor called ``name`` (``--executor``), or a :class:`UsageError`."""
    cls = REGISTRY.get(name)
    if cls is None:
        raise UsageError(f"unknown --executor {shown(name)} "
                         f"(choose from {', '.join(REGISTRY)})")
    return cls(jobs=jobs, address=address)

