"""Warmup plans (TOML) and ``jitwarm prewarm PLAN --out DIR``.

A plan lists cases to compile ahead of time, and optionally further inputs to compile
them for::

    # warm.toml — targets resolve relative to this file
    [[case]]
    target = "kernels.py::poly"            # as `jitwarm profile` takes it

    [[case]]
    target = "model.py::mlp"
    inputs = [                              # each entry: one more call to compile for
      {shape = [8, 16], dtype = "float32"},   # every array argument -> this shape/dtype
      {batch = 32},                           # every array argument: leading dim 32
      {args = {"1" = 4}},                     # positional argument 1 -> the literal 4
      [{shape = [8, 16]}, {}],                # per positional argument ({} keeps it)
    ]

Keys of an input entry: ``shape`` (list of ints), ``dtype`` (numpy/torch/jax dtype name),
``batch`` (leading dimension), ``args`` (``{"index" = literal}``: static arguments). A
table applies to every array argument; a list gives one table per positional argument.
New arrays keep the original argument's kind (NumPy, torch tensor on the same device,
JAX array) and reuse its values (``numpy.resize``). ``[[case]] target`` means the same as
in the runtime :class:`jitwarm.Warmer` plan reader.

``prewarm`` runs every case in its own fresh process (``python -m
jitwarm.caches.prewarm_worker``) with every framework's cache redirected into ``DIR``
(``adapters.cache_env(DIR)`` plus ``JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES=none``, which
keeps the cache directory's path out of JAX's keys), calls it with its own arguments and
then each extra input, and records the compile events of each call in
``DIR/jitwarm-prewarm.json``. Where those processes run is the executor's business
(:mod:`jitwarm.caches.executors`: ``--jobs N`` local processes, or Ray tasks whose caches
are gathered, verified and merged into ``DIR``); the record then lists each task
(``tasks``: node, attempts, duration, compiles, cache writes) and any merge ``conflicts``.
"""

from __future__ import annotations

import datetime as _dt
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jitwarm._errors import UsageError, shown
from jitwarm._version import __version__
from jitwarm.cases.targets import Target, resolve_target

PREWARM_SCHEMA = "jitwarm.prewarm/1"
_INPUT_KEYS = {"shape", "dtype", "batch", "args"}


@dataclass
class PlanCase:
    """One ``[[case]]`` of a plan."""

    target: Target
    raw_target: str
    inputs: list[Any] = field(default_factory=list)
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.raw_target, "resolved": self.target.describe(),
                "name": self.name or self.target.name, "inputs": self.inputs}


@dataclass
class Plan:
    path: Path
    text: str
    cases: list[PlanCase]

    @property
    def root(self) -> Path:
        return self.path.parent.resolve()


def _check_input(entry: Any, where: str) -> None:
    tables = entry if isinstance(entry, list) else [entry]
    if not isinstance(entry, (dict, list)):
        raise UsageError(f"{where}: an input is a table or a list of tables, "
                         f"got {shown(repr(entry))}")
    for t in tables:
        if not isinstance(t, dict):
            raise UsageError(f"{where}: {shown(repr(t))} is not a table")
        unknown = set(t) - _INPUT_KEYS
        if unknown:
            raise UsageError(f"{where}: unknown key(s) {shown(', '.join(sorted(unknown)))} "
                             f"(allowed: {', '.join(sorted(_INPUT_KEYS))})")
        shape = t.get("shape")
        if shape is not None and (not isinstance(shape, list)
                                  or not all(isinstance(d, int) and d >= 0 for d in shape)):
            raise UsageError(f"{where}: shape must be a list of non-negative integers")
        if "batch" in t and (not isinstance(t["batch"], int) or t["batch"] < 0):
            raise UsageError(f"{where}: batch must be a non-negative integer")
        if "dtype" in t and not isinstance(t["dtype"], str):
            raise UsageError(f"{where}: dtype must be a string such as \"float32\"")
        if "args" in t:
            if not isinstance(t["args"], dict) or not all(
                    str(k).isdigit() for k in t["args"]):
                raise UsageError(f"{where}: args must map positional indexes to values, "
                                 "e.g. args = {\"1\" = 4}")


def resolve_plan_target(target: str, plan_dir: Path) -> str:
    """A plan target made absolute against the plan's directory (as the Warmer does)."""
    file_part = target.split("::", 1)[0]
    if ("::" in target or file_part.endswith(".py")) and not Path(file_part).is_absolute():
        return str(plan_dir / target)
    return target


def load_plan(path: str | Path) -> Plan:
    """Read and validate a plan; targets are resolved (statically) relative to it."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            raise UsageError("reading plans on Python 3.10 needs tomli "
                             "(pip install tomli)") from None

    from jitwarm.results.profile import read_input_text

    p = Path(path)
    # a regular UTF-8 file only (a leading BOM accepted): a FIFO is refused without a
    # blocking open, bad bytes are one line
    text = read_input_text(p, "plan")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{shown(p)}: not valid TOML: {shown(exc)}") from None
    except RecursionError:
        raise UsageError(f"{shown(p)}: not valid TOML: nested too deeply") from None
    entries = data.get("case")
    if not isinstance(entries, list) or not entries:
        raise UsageError(f"{shown(p)}: no [[case]] tables")
    cases = []
    for i, entry in enumerate(entries):
        where = f"{shown(p)}: [[case]] #{i + 1}"
        target = entry.get("target") if isinstance(entry, dict) else None
        if not isinstance(target, str):
            raise UsageError(f"{where} has no target = \"file.py::name\"")
        inputs = entry.get("inputs", [])
        if not isinstance(inputs, list):
            raise UsageError(f"{where}: inputs must be a list")
        for k, inp in enumerate(inputs):
            _check_input(inp, f"{where} inputs[{k}]")
        resolved = resolve_target(resolve_plan_target(target, p.parent))
        name = entry.get("name")
        cases.append(PlanCase(resolved, target, inputs, str(name) if name else None))
    return Plan(p.resolve(), text, cases)


def prewarm_env(out_dir: Path) -> dict[str, str]:
    """The environment of prewarm processes: every cache redirected into ``out_dir``."""
    from jitwarm.adapters import cache_env

    return dict(cache_env(out_dir))


def run_case_process(target: Target, cache_dir: Path, *, inputs: list[Any] | None = None,
                     timeout_s: float = 600.0, extra_env: dict[str, str] | None = None,
                     mode: str = "prewarm", options: dict[str, Any] | None = None
                     ) -> dict[str, Any]:
    """Run one case in a fresh ``jitwarm.caches.prewarm_worker`` process; returns its record.

    Started and ended by :func:`jitwarm.measure.spawn.run_worker` (own process group, ended on
    Ctrl-C/SIGTERM, bounded output tail); worker faults become records, never exceptions.
    """
    from jitwarm.measure.spawn import check_seconds, run_worker, worker_env

    check_seconds(timeout_s, "--timeout")
    try:
        work = Path(tempfile.mkdtemp(prefix="jitwarm-prewarm-"))
    except OSError as exc:  # a full or read-only temporary folder
        raise UsageError(f"cannot create a work folder in {shown(tempfile.gettempdir())}: "
                         f"{exc.strerror or exc}") from None
    try:
        result_path = work / "result.json"
        spec = {
            "target": {"spec": target.spec, "name": target.name, "file": target.file,
                       "module": target.module},
            "inputs": inputs or [],
            "result_path": str(result_path),
            "mode": mode,
            "options": options or {},
        }
        spec_path = work / "spec.json"
        try:
            spec_path.write_text(json.dumps(spec), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write the case's spec in {shown(work)}: "
                             f"{exc.strerror or exc}") from None
        env = worker_env({**prewarm_env(cache_dir), **(extra_env or {})})
        run = run_worker("jitwarm.caches.prewarm_worker", spec_path, result_path,
                         timeout_s=timeout_s, env=env)
        what = target.describe()
        if run.record is not None:
            rec = {**run.record, "process_wall_ns": run.wall_ns}
            if rec.get("status") != "ok":
                rec.setdefault("output_tail", run.tail)
            if run.timed_out:
                rec["lingered"] = (f"the process did not exit after writing its result and "
                                   f"was killed after {timeout_s:g} s; its result is kept")
            return rec
        if run.unreadable:
            return {"status": "crashed", "output_tail": run.tail,
                    "error": f"{what}: {run.unreadable}"}
        if run.timed_out:
            return {"status": "timeout", "output_tail": run.tail,
                    "error": f"{what} timed out after {timeout_s:g} s and was killed"}
        how = (f"crashed with {run.signal}" if run.signal
               else f"exited with code {run.returncode} without a result")
        return {"status": "crashed", "returncode": run.returncode, "signal": run.signal,
                "output_tail": run.tail, "error": f"{what}: the process {how}"}
    finally:
        shutil.rmtree(work, ignore_errors=True)


ProgressFn = Callable[[int, int, PlanCase, dict[str, Any] | None], None]


def prewarm(plan_path: str | Path, out_dir: str | Path, *, timeout_s: float = 600.0,
            progress: ProgressFn | None = None, executor: str = "local",
            jobs: int | None = None, ray_address: str | None = None) -> dict[str, Any]:
    """Compile every case of a plan into ``out_dir`` (a fresh process per case), run by
    the executor ``executor`` (:mod:`jitwarm.caches.executors`: ``local``, ``--jobs`` at
    once; ``ray``, one Ray task per case, caches gathered back, verified and merged).

    The manifest's ``tasks`` says where each case ran, how long, what it compiled and what
    it wrote; ``conflicts`` lists files two tasks wrote with different bytes (the first
    kept). Ctrl-C, SIGTERM or SIGHUP end the running case processes (Ray tasks) and raise
    :class:`PrewarmInterrupted` after writing the manifest of the cases that finished.
    """
    from dataclasses import asdict

    from jitwarm.caches.executors import Merger, Task, get_executor
    from jitwarm.measure.spawn import check_seconds

    check_seconds(timeout_s, "--timeout")
    runner = get_executor(executor, jobs, ray_address)
    plan = load_plan(plan_path)
    out = Path(out_dir).resolve()
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {shown(out)} exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create --out {shown(out)}: {exc.strerror or exc}") from None
    tasks = [Task(i, c.name or c.target.name, c.raw_target, asdict(c.target), c.inputs)
             for i, c in enumerate(plan.cases)]
    done: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
    merger = Merger(out)
    n = len(plan.cases)

    def on_start(o: Any) -> None:
        if progress:
            progress(o.task.index, n, plan.cases[o.task.index], None)

    def on_done(o: Any) -> None:
        if not runner.direct:
            merger.add(o)
        rec = {"target": o.task.raw_target, "name": o.task.name, **o.record}
        if runner.name != "local" or o.status != "ok":
            rec["node"] = o.node
        if o.attempts > 1:
            rec["attempts"] = o.attempts
        done[o.task.index] = (rec, _task_entry(o, runner.name))
        if progress:
            progress(o.task.index, n, plan.cases[o.task.index], rec)

    plan_info = {"path": str(plan.path), "name": plan.path.name, "text": plan.text}

    def manifest(interrupted: bool = False) -> dict[str, Any]:
        order = sorted(done)
        tasks_out = [done[i][1] for i in order]
        extra = {"executor": runner.describe(), "tasks": tasks_out,
                 "conflicts": merger.conflicts, "warnings": _cpu_warnings(tasks_out)}
        return write_prewarm_manifest(out, plan_info, plan.root, [done[i][0] for i in order],
                                      interrupted=interrupted, extra=extra)

    try:
        runner.run(tasks, out, timeout_s, on_start, on_done)
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, SIGHUP: the case processes are ended
        path: Path | None = None
        why = None
        try:
            manifest(interrupted=True)
            from jitwarm.caches.bundle import PREWARM_MANIFEST

            path = out / PREWARM_MANIFEST
        except OSError as err:
            why = err.strerror or str(err)
        raise PrewarmInterrupted(len(done), n, path, why, exc) from None
    try:
        return manifest()
    except OSError as exc:  # a full disk, a read-only --out: one line, nothing half-written
        from jitwarm.caches.bundle import PREWARM_MANIFEST

        raise UsageError(f"cannot write the prewarm manifest {shown(out / PREWARM_MANIFEST)}: "
                         f"{exc.strerror or exc} (the cases ran; their cache entries in "
                         f"{shown(out)} may be incomplete)") from None


def _cpu_warnings(tasks: list[dict[str, Any]]) -> list[str]:
    """A merged cache compiled on different CPUs, or on CPUs other than this machine's:
    Numba's and JAX's keys include the CPU, so some entries will miss on some hosts."""
    from jitwarm.caches.machine import cpu_model

    seen = sorted({t["cpu_model"] for t in tasks if t.get("cpu_model")})
    here = cpu_model()
    if len(seen) > 1:
        return [f"the tasks ran on {len(seen)} CPU models ({shown(', '.join(seen), 300)}): "
                "frameworks whose cache keys include the CPU (Numba, JAX) will miss on hosts "
                "unlike the one an entry was compiled on"]
    if seen and seen[0] != here:
        return [f"the tasks ran on {shown(seen[0], 120)}, this machine is {shown(here, 120)}: "
                "a bundle made here records this machine's CPU, not theirs"]
    return []


def _task_entry(o: Any, executor: str) -> dict[str, Any]:
    """One entry of the manifest's ``tasks``: where a case ran and what it compiled/wrote."""
    from jitwarm.caches.executors import compiled_units

    entry: dict[str, Any] = {
        "task": o.task.index + 1, "case": o.task.name, "target": o.task.raw_target,
        "executor": executor, "node": o.node, "host": o.host, "cpu_model": o.cpu_model,
        "status": o.status,
        "attempts": o.attempts, "duration_ns": o.duration_ns,
        "compiled": compiled_units(o.record), "cache_writes": o.writes,
    }
    if o.earlier:
        entry["earlier_attempts"] = o.earlier
    if o.status != "ok":
        entry["error"] = shown(o.record.get("error") or o.record.get("message") or "", 500)
    return entry


class PrewarmInterrupted(Exception):
    """Ctrl-C (or SIGTERM/SIGHUP) during ``prewarm``: the manifest of the cases that
    finished was written to ``path`` (None when it could not be: ``why``)."""

    def __init__(self, done: int, total: int, path: Path | None, why: str | None,
                 cause: BaseException) -> None:
        from jitwarm.measure.spawn import exit_code, signal_name

        super().__init__("interrupted")
        self.done, self.total, self.path, self.why = done, total, path, why
        self.exit_code = exit_code(cause)
        self.signal = signal_name(cause)

    def message(self) -> str:
        """One line saying what was kept, and where."""
        head = (f"interrupted ({self.signal}): the case process was ended; "
                f"{self.done} of {self.total} case(s) finished")
        if self.path is not None:
            return f"{head}; their manifest is {self.path} (status \"interrupted\")"
        return f"{head}; the manifest could not be written ({self.why})"


def write_prewarm_manifest(out: Path, plan: dict[str, Any] | None, source_root: Path | None,
                           records: list[dict[str, Any]], interrupted: bool = False,
                           extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write ``jitwarm-prewarm.json`` into a cache directory jitwarm filled (``status``
    "interrupted": only the cases listed finished; ``extra``: the executor's ``executor``,
    ``tasks`` and ``conflicts``)."""
    from jitwarm.caches.bundle import PREWARM_MANIFEST

    manifest = {
        "schema": PREWARM_SCHEMA,
        "jitwarm_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "plan": plan,
        "source_root": None if source_root is None else str(source_root),
        "env": {k: v for k, v in prewarm_env(out).items() if not v.startswith(str(out))},
        "cases": records,
        **(extra or {}),
    }
    if interrupted:
        manifest["status"] = "interrupted"
    from jitwarm.results.profile import write_atomic

    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / PREWARM_MANIFEST, json.dumps(manifest, indent=1))
    return manifest
