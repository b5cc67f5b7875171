"""Where ``jitwarm profile`` runs its measured processes (``--executor``).

A launcher runs the fresh processes of one cache state (:class:`Job` each) and hands each
record back as soon as it ends, with a handle on the cache directory the process used.
Every measured process is started by the one spawner (:func:`run_measured`, which calls
:func:`jitwarm.measure.spawn.run_worker`), so what is measured inside a process is the same
whatever the launcher.

* ``local``: one process after another on this machine (never several at once: they would
  compete for its cores), or with ``Runner(replicas=N)`` (``--replicas``) one *wave* of N
  processes after another, the N of a wave started together (each in its own thread, which
  waits on its spawner) and each measured as if alone.
* ``ray``: each process is a Ray task (:func:`profile_task`): a fresh Ray worker on some
  node starts the measured worker through the spawner, in a directory of the run's own on
  that node, and returns its record and the node it ran on. ``--jobs N`` tasks at once
  (default 1); with more than one, cold tasks are spread over the nodes (``SPREAD``).
  A local Ray is started without ``--ray-address``. Waves of replicas are refused with it
  (:attr:`Launcher.on_this_machine`): a wave measures N processes competing for one host's
  cores, and Ray would spread them over nodes (or queue them behind ``--jobs``).

Where the ``cached`` state's cache comes from on a cluster: each good cold process leaves
its cache directory on its node (until the run ends), and each cached process is *pinned*
to that node (Ray's ``NodeAffinitySchedulingStrategy``, not soft) and copies the directory
there, as a local cached process copies the first good cold process's. Pinning rather than
shipping the files with the task, because the state measures a cache hit: Numba's and
JAX's cache keys include the CPU, so a cache shipped to a node with another CPU would be a
miss measured as ``cached``; on the node that wrote it, it is the hit the local run
measures, with no bytes moved. A node that dies loses only its own tasks (reported with
the node): cached processes then copy the cache of the next good cold process whose node
is alive; the cached state is skipped only when none is. The run's directories are
deleted on every node at the end (``JITWARM_KEEP_TMP`` keeps them).

A task that fails in Ray itself (its worker killed, its node gone) is a ``crashed``
process record naming the node: each task tells a small actor of the run
(:class:`jitwarm.measure.cluster.Whereabouts`) where it starts, as Ray's error does not say (``unknown`` when even
that did not arrive);
one that has not returned ``--timeout`` + 60 s after it was submitted is cancelled and is
a ``timeout`` record. Ctrl-C/SIGTERM cancels the running tasks (their measured processes die
with their Ray worker) and keeps the finished records.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from jitwarm._errors import UsageError, shown
from jitwarm.adapters import cache_env
from jitwarm.measure.cluster import start_whereabouts, started_where
from jitwarm.measure.spawn import WorkerRun, run_worker, worker_env

if TYPE_CHECKING:
    from jitwarm.measure.runner import Runner

#: how long past ``--timeout`` the driver waits for a Ray task before cancelling it (the
#: task's own spawner ends a hung measured process at ``--timeout``)
REMOTE_GRACE_S = 60.0
#: the directory of one run's tasks on a node, under its temporary directory
_RUN_DIR_PREFIX = "jitwarm-ray-profile-"


@dataclass
class Job:
    """One measured process: its state, its index, its cache directory's name, and its wave
    and place in it (``Runner(replicas=)``; without replicas, its wave is its index)."""

    state: str
    index: int
    dirname: str = ""
    wave: int = -1
    replica: int = 0

    def __post_init__(self) -> None:
        self.dirname = self.dirname or f"{self.state}-{self.index}"
        if self.wave < 0:
            self.wave = self.index


@dataclass
class NodeCache:
    """A good cold process's cache directory left on the node that ran it (``ray``)."""

    node: str
    host: str
    path: str
    holds_files: bool
    index: int


#: ``on_done(job, record, cache)``: False stops the launcher starting more processes
OnDone = Callable[[Job, dict[str, Any], Any], bool]
OnStart = Callable[[Job], None]


# -- one measured process ---------------------------------------------------------------------

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


def run_measured(spec: dict[str, Any], env_extra: dict[str, str], cache_dir: Path,
                 work: Path, stem: str, timeout_s: float, python: str,
                 starts: list[int] | None = None, slot: int = 0) -> dict[str, Any]:
    """Run one measured worker (spec and result files ``work/stem.*``, every framework's
    cache in ``cache_dir``) through the spawner; its record (never raises for its faults).
    Its spawn time (``perf_counter_ns``) goes to ``starts[slot]`` when given."""
    result_path = work / f"{stem}.result.json"
    spec_path = work / f"{stem}.spec.json"
    spec_path.write_text(json.dumps({**spec, "result_path": str(result_path)}),
                         encoding="utf-8")
    env = worker_env({**cache_env(cache_dir), **env_extra})
    run = run_worker("jitwarm.measure.worker", spec_path, result_path, timeout_s=timeout_s,
                     env=env, python=python)
    if starts is not None:
        starts[slot] = run.started_ns
    return worker_record(run, {"state": spec["state"], "index": spec["index"]}, timeout_s)


def holds_files(folder: Path) -> bool:
    """Whether any file lies under ``folder`` (symbolic links to folders not followed)."""
    for _root, _dirs, files in os.walk(folder):
        if files:
            return True
    return False


# -- launchers --------------------------------------------------------------------------------

class Launcher:
    """Runs a state's processes on this machine, one after another (``local``)."""

    name: ClassVar[str] = "local"
    help: ClassVar[str] = ("fresh processes on this machine, one after another (with "
                           "--strategies --replicas N, waves of N at once)")
    #: whether the processes run on this machine: waves of replicas, a seed cache and a
    #: kept work folder (``Runner(replicas=, seed=, work=)``) need it
    on_this_machine: ClassVar[bool] = True

    def __init__(self, jobs: int | None = None, address: str | None = None) -> None:
        if jobs is not None and (not isinstance(jobs, int) or jobs < 1):
            raise UsageError(f"--jobs must be a positive integer, got {shown(jobs)}")
        if address is not None and self.name != "ray":
            raise UsageError("--ray-address needs --executor ray")
        self.jobs = jobs
        self.address = address
        self.run_dir = Path()

    def check(self) -> None:
        """Refuse options this launcher cannot honour (before anything runs)."""
        if (self.jobs or 1) > 1:
            raise UsageError("--jobs applies to --executor ray: measured processes at once "
                             "on one machine would compete for its cores")

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "jobs": self.jobs or 1}

    def open(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    def close(self) -> None:
        """Give back what :meth:`open` took (the run directory is the runner's)."""

    def holds_files(self, cache: Any) -> bool:
        return holds_files(cache)

    def run(self, runner: Runner, jobs: list[Job], sources: list[Any], on_start: OnStart,
            on_done: OnDone) -> None:
        """Run ``jobs``, one wave after another (a wave: the consecutive jobs of one
        ``wave``, started together); a cached job copies ``sources[0]`` (the first good
        cold process's cache), a cold one ``runner.seed`` when given."""
        host = socket.gethostname()
        waves: list[list[Job]] = []
        for job in jobs:
            if waves and waves[-1][0].wave == job.wave:
                waves[-1].append(job)
            else:
                waves.append([job])
        for wave in waves:
            dirs = []
            for job in wave:
                cache_dir = self.run_dir / "caches" / job.dirname
                if job.state == "cached":
                    shutil.copytree(sources[0], cache_dir)
                elif runner.seed is not None:
                    shutil.copytree(runner.seed, cache_dir)
                else:
                    cache_dir.mkdir(parents=True)
                dirs.append(cache_dir)
                on_start(job)
            if len(wave) == 1:
                done = [(wave[0], runner._one(self.run_dir, wave[0].state, wave[0].index,
                                              dirs[0]), dirs[0])]
            else:
                done = self._wave(runner, wave, dirs, on_done, host)
            for job, rec, cache_dir in done:
                rec.update(executor=self.name, node=host, host=host)
                if not on_done(job, rec, cache_dir):
                    return

    def _wave(self, runner: Runner, wave: list[Job], dirs: list[Path], on_done: OnDone,
              host: str) -> list[tuple[Job, dict[str, Any], Path]]:
        """One wave's processes started together, one thread each (the spawns follow a
        barrier within milliseconds); their records in index order, each saying when it
        started (``wave_offset_ns``, from the wave's first spawn) and ended
        (``process_wall_ns``), so the overlap can be checked. Ctrl-C/SIGTERM (only the main
        thread gets it) ends every process of the wave; the ones that had finished well
        are handed to ``on_done`` before it propagates."""
        import threading

        from jitwarm.measure.spawn import end_live_workers

        n = len(wave)
        runs: list[dict[str, Any] | None] = [None] * n
        starts: list[int] = [0] * n
        gate = threading.Barrier(n)
        # each thread's own "finished" flag: after Ctrl-C interrupts Thread.join, CPython
        # 3.11 can mark the joined thread stopped while it runs (bpo-45274's handling), so
        # is_alive() cannot say when the wave is over
        finished = [threading.Event() for _ in range(n)]

        def go(r: int) -> None:
            job = wave[r]
            try:
                gate.wait()
                runs[r] = runner._one(self.run_dir, job.state, job.index, dirs[r], starts, r)
            except threading.BrokenBarrierError:  # the wave was interrupted before it began
                return
            except Exception as exc:  # the spawn itself failed (out of processes, memory)
                runs[r] = {"state": job.state, "index": job.index, "status": "crashed",
                           "error": f"could not start: {type(exc).__name__}: {exc}"}
            finally:
                finished[r].set()

        for r in range(n):
            threading.Thread(target=go, args=(r,), name=f"jitwarm-replica-{r}",
                             daemon=True).start()

        def records() -> list[tuple[Job, dict[str, Any], Path]]:
            first = min((t for t in starts if t), default=0)
            out = []
            for r, rec in enumerate(runs):
                if rec is not None:
                    rec.update(wave=wave[r].wave, replica=wave[r].replica,
                               wave_offset_ns=starts[r] - first if starts[r] else None)
                    out.append((wave[r], rec, dirs[r]))
            return out

        try:
            for ev in finished:
                while not ev.wait(0.5):
                    pass
        except BaseException:  # Ctrl-C, SIGTERM: end the wave, keep what finished well
            gate.abort()
            while not all(ev.is_set() for ev in finished):
                end_live_workers()
                for ev in finished:
                    ev.wait(0.1)
            runs[:] = [rec if rec is not None and rec.get("status") == "ok" else None
                       for rec in runs]
            for job, rec, cache_dir in records():
                rec.update(executor=self.name, node=host, host=host)
                on_done(job, rec, cache_dir)
            raise
        return records()


def profile_task(payload: dict[str, Any]) -> dict[str, Any]:
    """The body of a Ray task (on a worker node): one measured process started by the
    spawner, in the run's directory on this node; a cold process that succeeded leaves its
    cache directory there for the cached processes pinned to this node."""
    from jitwarm.measure.cluster import where

    node, host = where()
    from jitwarm.measure.cluster import say_started

    say_started(payload.get("whereabouts"), payload["dirname"], node, host)
    root = Path(tempfile.gettempdir()) / f"{_RUN_DIR_PREFIX}{payload['run_id']}"
    root.mkdir(mode=0o700, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{payload['dirname']}-", dir=root))
    cache_dir = work / "cache"
    spec = payload["spec"]
    keep = False
    try:
        source = payload.get("copy_from")
        if source is not None:
            if not Path(source).is_dir():
                return {"node": node, "host": host, "record": {
                    "state": spec["state"], "index": spec["index"], "status": "crashed",
                    "error": "the cold process's cache directory is gone from its node "
                             f"({host})"}}
            shutil.copytree(source, cache_dir, symlinks=True)
        else:
            cache_dir.mkdir()
        rec = run_measured(spec, payload["env"], cache_dir, work, "process",
                           payload["timeout_s"], sys.executable)
        keep = bool(payload.get("keep")) and rec.get("status") == "ok"
        return {"node": node, "host": host, "record": rec,
                "cache": str(cache_dir) if keep else None,
                "holds_files": keep and holds_files(cache_dir)}
    finally:
        if keep:
            for f in work.glob("process.*"):
                f.unlink(missing_ok=True)
        else:
            shutil.rmtree(work, ignore_errors=True)


def remove_run_dir(run_id: str) -> str:
    """A Ray task pinned to a node: delete one run's directories there."""
    shutil.rmtree(Path(tempfile.gettempdir()) / f"{_RUN_DIR_PREFIX}{run_id}",
                  ignore_errors=True)
    return socket.gethostname()


class RayLauncher(Launcher):
    name = "ray"
    help = ("each process a Ray task on a node of the cluster (--jobs at once, default 1); "
            "a local Ray unless --ray-address")
    on_this_machine = False

    def __init__(self, jobs: int | None = None, address: str | None = None) -> None:
        super().__init__(jobs, address)
        self.ray: Any = None
        self.started = False
        self.run_id = ""
        self.nodes_used: set[str] = set()
        self.whereabouts: Any = None

    def check(self) -> None:
        from jitwarm.measure.cluster import import_ray

        import_ray()

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "jobs": self.jobs or 1, "ray_address": self.address}

    def open(self, run_dir: Path) -> None:
        import uuid

        from jitwarm.measure.cluster import connect

        super().open(run_dir)
        self.ray, self.started = connect(self.address, self.jobs or os.cpu_count() or 1)
        self.run_id = uuid.uuid4().hex[:16]
        self.remote = self.ray.remote(num_cpus=1, max_retries=0)(profile_task)
        # without it a task that never returns is reported on node "unknown"
        self.whereabouts = start_whereabouts(self.ray)

    def close(self) -> None:
        """Delete the run's directories on every node that ran a task (a node that is
        gone took them with it), then shut down a Ray this run started."""
        from jitwarm.measure.cluster import alive_nodes, shutdown

        ray = self.ray
        if ray is None:
            return
        try:
            if self.nodes_used and not os.environ.get("JITWARM_KEEP_TMP"):
                from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

                alive = alive_nodes(ray)
                alive = self.nodes_used if alive is None else alive
                cleanup = ray.remote(num_cpus=0, max_retries=0)(remove_run_dir)
                refs = [cleanup.options(scheduling_strategy=NodeAffinitySchedulingStrategy(
                    node, soft=False)).remote(self.run_id)
                    for node in sorted(self.nodes_used & alive)]
                ray.wait(refs, num_returns=len(refs), timeout=30)
        except Exception:  # cleaning up must not hide the run's result
            pass
        finally:
            if self.whereabouts is not None:
                with contextlib.suppress(Exception):
                    ray.kill(self.whereabouts)
                self.whereabouts = None
            if self.started:
                shutdown(ray)
            self.ray = None

    def holds_files(self, cache: Any) -> bool:
        return bool(cache.holds_files)

    def _source(self, sources: list[NodeCache]) -> NodeCache | None:
        """The first good cold process's cache whose node is alive."""
        from jitwarm.measure.cluster import alive_nodes

        alive = alive_nodes(self.ray)
        return next((s for s in sources if alive is None or s.node in alive), None)

    def run(self, runner: Runner, jobs: list[Job], sources: list[Any], on_start: OnStart,
            on_done: OnDone) -> None:
        ray = self.ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        env = runner.job_env()
        queue = list(jobs)
        pending: dict[Any, tuple[Job, float, NodeCache | None]] = {}

        def submit(job: Job) -> dict[str, Any] | None:
            """Start ``job``'s task; a record instead when it cannot start."""
            source: NodeCache | None = None
            options: dict[str, Any] = {}
            if job.state == "cached":
                source = self._source(sources)
                if source is None:
                    return {"state": job.state, "index": job.index, "status": "crashed",
                            "error": "no node that holds a good cold process's cache is "
                                     "alive"}
                options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(
                    source.node, soft=False)
            elif (self.jobs or 1) > 1:
                options["scheduling_strategy"] = "SPREAD"
            payload = {"spec": runner.job_spec(job.state, job.index), "env": env,
                       "timeout_s": runner.timeout_s, "run_id": self.run_id,
                       "dirname": job.dirname, "keep": job.state == "cold",
                       "whereabouts": self.whereabouts,
                       "copy_from": source.path if source else None}
            on_start(job)
            pending[self.remote.options(**options).remote(payload)] = (
                job, time.monotonic(), source)
            return None

        try:
            while queue or pending:
                while queue and len(pending) < (self.jobs or 1):
                    job = queue.pop(0)
                    rec = submit(job)
                    if rec is not None:
                        on_start(job)
                        if not on_done(job, self._mark(rec, "unknown", "unknown"), None):
                            queue.clear()
                if not pending:
                    continue
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
                finished: list[tuple[Job, dict[str, Any], Any]] = []
                for ref in ready:
                    job, t_sub, source = pending.pop(ref)
                    finished.append((job, *self._collect(ref, job, source)))
                now = time.monotonic()
                for ref, (job, t_sub, source) in list(pending.items()):
                    if now - t_sub > runner.timeout_s + REMOTE_GRACE_S:  # a stuck worker
                        pending.pop(ref)
                        self._cancel(ref)
                        rec = {"state": job.state, "index": job.index, "status": "timeout",
                               "error": f"the Ray task did not return within "
                                        f"{runner.timeout_s:g} s + {REMOTE_GRACE_S:g} s and "
                                        "was cancelled"}
                        finished.append((job, self._mark(rec, *self._node_of(job, source)), None))
                for job, rec, cache in finished:
                    if not on_done(job, rec, cache):
                        queue.clear()
                        for ref in list(pending):
                            pending.pop(ref)
                            self._cancel(ref)
                        return
        except BaseException as exc:  # Ctrl-C, SIGTERM, a usage error: end the running tasks
            from jitwarm.measure.cluster import as_signal

            for ref in pending:
                self._cancel(ref)
            if as_signal(exc) is not exc:
                raise as_signal(exc) from None
            raise

    def _cancel(self, ref: Any) -> None:
        try:
            self.ray.cancel(ref, force=True)
        except Exception:  # already finished, or its node is gone
            pass

    def _node_of(self, job: Job, source: NodeCache | None) -> tuple[str, str]:
        """Where a task that did not return ran: the node it was pinned to, else the one
        it said it started on, else ``unknown``."""
        if source is not None:
            return source.node, source.host
        return started_where(self.ray, self.whereabouts, job.dirname) or ("unknown", "unknown")

    def _mark(self, rec: dict[str, Any], node: str, host: str) -> dict[str, Any]:
        rec.update(executor=self.name, node=node, host=host)
        if node != "unknown":
            self.nodes_used.add(node)
        return rec

    def _collect(self, ref: Any, job: Job, source: NodeCache | None
                 ) -> tuple[dict[str, Any], NodeCache | None]:
        """A finished task's record (marked with its node) and its cache handle."""
        ray = self.ray
        base = {"state": job.state, "index": job.index}
        try:
            got = ray.get(ref)
        except Exception as exc:  # the task's worker died, its node died, ...
            name = type(exc).__name__
            cause = getattr(exc, "cause", None)
            if isinstance(cause, UsageError):
                return self._mark({**base, "status": "usage_error", "message": str(cause)},
                                  *self._node_of(job, source)), None
            return self._mark({**base, "status": "crashed",
                               "error": f"the Ray task failed ({name}): {shown(exc, 500)}"},
                              *self._node_of(job, source)), None
        rec = got.get("record") if isinstance(got, dict) else None
        node = shown(got.get("node"), 80) if isinstance(got, dict) else "unknown"
        host = shown(got.get("host"), 80) if isinstance(got, dict) else "unknown"
        if not isinstance(rec, dict) or not isinstance(rec.get("status"), str):
            return self._mark({**base, "status": "crashed",
                               "error": "the Ray task returned no record"}, node, host), None
        rec = {**rec, **base}
        self._mark(rec, node, host)
        cache = got.get("cache")
        if not isinstance(cache, str):
            return rec, None
        return rec, NodeCache(node, host, cache, bool(got.get("holds_files")), job.index)


#: ``--executor`` choices of ``jitwarm profile``: one subclass above and one line here
REGISTRY: dict[str, type[Launcher]] = {
    Launcher.name: Launcher,
    RayLauncher.name: RayLauncher,
}


def get_launcher(name: str, jobs: int | None = None, address: str | None = None) -> Launcher:
    """The launcher called ``name`` (``--executor``), checked, or a :class:`UsageError`."""
    cls = REGISTRY.get(name)
    if cls is None:
        raise UsageError(f"unknown --executor {shown(name)} "
                         f"(choose from {', '.join(REGISTRY)})")
    launcher = cls(jobs=jobs, address=address)
    launcher.check()
    return launcher
