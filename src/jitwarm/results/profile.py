"""Result objects and the versioned JSON contract ``jitwarm.profile/1``.

``ProfileResult`` holds what a run measured; :func:`summarize_state` condenses one cache
state's per-process records. All durations are integer nanoseconds.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import stat
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from jitwarm._errors import UsageError, shown
from jitwarm.analysis import consistency
from jitwarm.results.compiled import by_framework, rank_units
from jitwarm.results.stats import median, median_ci

SCHEMA = "jitwarm.profile/1"
SCHEMA_PREFIX = "jitwarm.profile/"
SCHEMA_VERSION = 1


def _med_int(values: list[Any]) -> int | None:
    vals = [v for v in values if v is not None]
    return int(round(median(vals))) if vals else None


#: what :func:`write_atomic` writes: text (UTF-8), bytes, or a function that writes into
#: the binary file object it is given (a CSV writer, ``savefig``, pyperf's ``dump``)
Payload = str | bytes | Callable[[BinaryIO], object]


def _umask() -> int:
    mask = os.umask(0o22)
    os.umask(mask)
    return mask


def _as_named(exc: OSError, path: Path) -> OSError:
    """The same error naming ``path``, never the temporary file."""
    return OSError(exc.errno, exc.strerror or str(exc), str(path))


def _emit(f: BinaryIO, data: Payload) -> None:
    if isinstance(data, str):
        f.write(data.encode("utf-8"))
    elif isinstance(data, bytes):
        f.write(data)
    else:
        data(f)


def write_atomic(path: str | Path, data: Payload) -> Path:
    """Write ``data`` to ``path`` so that ``path`` holds either its old content or the whole
    new one, never a part: the one writer of every file jitwarm produces.

    The data goes to a temporary file in the same folder (so the final rename cannot cross
    file systems), is flushed and fsynced, then ``os.replace``s the target. On any failure
    (a full disk, a writer that raises, Ctrl-C) the temporary file is removed and the old
    file is untouched; an ``OSError`` names ``path``, never the temporary file. A missing
    folder is not created (an output option never makes folders silently). A symlink is
    kept (what it points to is replaced); a device or FIFO (``/dev/stdout``) is written
    straight through, as there is nothing to replace.
    """
    path = Path(path)
    try:
        st: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise _as_named(exc, path) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
    if st is not None and not stat.S_ISREG(st.st_mode):
        try:
            with open(path, "wb") as f:
                _emit(f, data)
        except OSError as exc:
            raise _as_named(exc, path) from None
        return path
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:60]}.", suffix=".tmp",
                                   dir=target.parent)
    except OSError as exc:
        raise _as_named(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            _emit(f, data)
            f.flush()
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), (st.st_mode & 0o7777) if st is not None else 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _as_named(exc, path) from None
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dfd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    return path


def check_output_path(dest: str | Path | None, option: str) -> None:
    """Refuse an output path that cannot be written, before any work is done: a folder,
    a missing or unwritable parent folder (never created silently). ``-`` (stdout) passes."""
    if dest is None or str(dest) in ("", "-"):
        return
    p = Path(dest)
    if p.is_dir():
        raise UsageError(f"{option}: {shown(dest)} is a folder; give a file name")
    parent = p.parent
    if not parent.exists():
        raise UsageError(f"{option}: the folder {shown(parent)} does not exist "
                         "(outputs never create folders)")
    if not parent.is_dir():
        raise UsageError(f"{option}: {shown(parent)} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option}: cannot write in the folder {shown(parent)} "
                         "(read-only or no permission)")


def unsaved_path(directory: str | Path = ".") -> Path:
    """A new ``jitwarm-unsaved-<time>[-k].json`` in ``directory`` (never an existing file)."""
    import datetime as _dt

    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(directory) / f"jitwarm-unsaved-{stamp}.json"
    k, path = 1, base
    while path.exists():
        k += 1
        path = base.with_name(f"jitwarm-unsaved-{stamp}-{k}.json")
    return path


def save_or_rescue(path: str | Path, text: str) -> Path:
    """:func:`write_atomic`, or, when ``path`` cannot be written, a rescue file in the temp
    directory and a :class:`UsageError` that names it: a measured result is never lost."""
    try:
        return write_atomic(path, text)
    except OSError as exc:
        why = exc.strerror or str(exc)
        try:
            rescue = write_atomic(unsaved_path(tempfile.gettempdir()), text)
        except OSError as again:
            raise UsageError(f"cannot write {shown(path)} ({why}), nor a rescue copy in "
                             f"{tempfile.gettempdir()} ({again.strerror or again}): the "
                             "result is lost") from None
        raise UsageError(f"cannot write {shown(path)} ({why}); the result was saved to "
                         f"{rescue}") from None


def first_call_anatomy(ok: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians across processes of what a first call spent outside the user's code.

    ``compile_phases_ns``: per phase kind the adapters report (JAX trace / lower /
    backend_compile, Dynamo and Inductor phases...), the time inside that kind's events
    during the first call. ``first_call_gc_ns``: time inside Python's garbage collector.
    """
    per: list[Counter[str]] = []
    for p in ok:
        c: Counter[str] = Counter()
        for e in p.get("compile_events") or []:
            if e.get("depth") == 1 and e.get("call_index") == 0 and e.get("kind"):
                c[e["kind"]] += int(e.get("duration_ns") or 0)
        per.append(c)
    kinds = list(dict.fromkeys(k for c in per for k in c))  # in order of appearance
    gcs = [p.get("first_call_gc") for p in ok if p.get("first_call_gc")]
    return {
        # a process without a phase spent 0 in it (Counter gives 0)
        "compile_phases_ns": {k: _med_int([c[k] for c in per]) for k in kinds},
        "first_call_gc_ns": _med_int([g["ns"] for g in gcs]),
        "first_call_gc_full": _med_int([g["collections"][2] for g in gcs]),
    }


def _top_level(p: dict[str, Any]) -> int:
    return sum(1 for e in p.get("compile_events") or [] if e.get("depth", 0) == 0)


def summarize_state(processes: list[dict[str, Any]]) -> dict[str, Any]:
    """Summary of one set of fresh processes (a cache state, or a strategy of the A/B).

    The one summariser: every key says in ``docs/json-schema.md`` what it aggregates.
    Timings and counters are medians of the per-process values (``*_total``: sums over
    processes); ranges are min/max over processes; ``warm_ci_ns`` is the order-statistic
    CI of the median across processes (within the steady run for a single process).
    """
    ok = [p for p in processes if p.get("status") == "ok"]
    failed = [p for p in processes if p.get("status") != "ok"]
    summary: dict[str, Any] = {
        "processes_ok": len(ok),
        "processes_failed": len(failed),
    }
    if not ok:
        summary.update(
            first_call_ns=None, compile_ns=None, warm_median_ns=None, warm_ci_ns=None,
            classification="no-data", steady_state_start=None,
        )
        return summary
    for key in (
        "import_ns",
        "setup_ns",
        "first_call_ns",
        "compile_ns",
        "function_compile_ns",
        "runtime_init_ns",
        "warm_median_ns",
        "steady_state_start",
        "steady_state_call",
        "warmup_cost_ns",
    ):
        summary[key] = _med_int([p.get(key) for p in ok])
    warms = [p["warm_median_ns"] for p in ok if p.get("warm_median_ns") is not None]
    if len(warms) >= 2:
        lo, hi = median_ci(warms)
        summary["warm_ci_basis"] = "order-statistic CI of the median across processes"
        summary["warm_ci_ns"] = [int(lo), int(hi)]
    elif warms:
        w = warms[0]
        one = next(p for p in ok if p.get("warm_median_ns") is not None)
        lo, hi = one.get("steady_ci_ns") or [w, w]
        summary["warm_ci_basis"] = "within the single process's steady run"
        summary["warm_ci_ns"] = [int(lo), int(hi)]
    else:
        summary["warm_ci_ns"] = None
    # every process's steady-state CI (its median where there is none): the warm range
    lows, highs = [], []
    for p in ok:
        w = p.get("warm_median_ns")
        if w is not None:
            ci = p.get("steady_ci_ns") or [w, w]
            lows.append(min(ci[0], w))
            highs.append(max(ci[1], w))
    summary["warm_range_ns"] = [int(min(lows)), int(max(highs))] if lows else None
    firsts = [p["first_call_ns"] for p in ok if p.get("first_call_ns") is not None]
    summary["first_call_range_ns"] = [min(firsts), max(firsts)] if firsts else None
    classes = [p.get("classification") or "no-steady-state" for p in ok]
    summary["classification"] = consistency(classes)
    summary["classifications"] = dict(Counter(classes))
    starts = [p["steady_state_start"] for p in ok if p.get("steady_state_start") is not None]
    summary["steady_state_start_range"] = [min(starts), max(starts)] if starts else None
    fc, wm = summary["first_call_ns"], summary["warm_median_ns"]
    summary["first_over_warm"] = (fc / wm) if fc and wm else None
    hits = [p["cache"].get("hits") or 0 for p in ok if p.get("cache")]
    misses = [p["cache"].get("misses") or 0 for p in ok if p.get("cache")]
    summary["cache_hits"] = _med_int(hits) if hits else None
    summary["cache_misses"] = _med_int(misses) if misses else None
    summary["cache_hits_total"] = sum(hits) if hits else None
    summary["cache_misses_total"] = sum(misses) if misses else None
    summary["compile_events"] = _med_int([_top_level(p) for p in ok])
    recompiles = [len(p.get("recompiles") or []) for p in ok]
    summary["recompiles"] = _med_int(recompiles)
    summary["recompiles_total"] = sum(recompiles)
    if fc is not None:
        summary["time_to_first_result_ns"] = _med_int(
            [(p.get("import_ns") or 0) + (p.get("setup_ns") or 0) + p["first_call_ns"]
             for p in ok if p.get("first_call_ns") is not None])
    summary.update(first_call_anatomy(ok))
    summary["compile_ns_by_framework"] = by_framework(ok)
    summary["compiled"] = rank_units(ok)
    return summary


@dataclass
class ProfileResult:
    """Everything one ``jitwarm profile`` run measured (see ``docs/json-schema.md``)."""

    case: dict[str, Any]
    framework: str | None
    environment: dict[str, Any]
    settings: dict[str, Any]
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped_states: dict[str, str] = field(default_factory=dict)
    status: str = "complete"  # complete | interrupted | error
    error: dict[str, Any] | None = None
    created: str = ""
    jitwarm_version: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def frameworks(self) -> list[str]:
        """Every framework seen compiling in any measured process."""
        return sorted({fw for st in self.states.values() for p in st.get("processes", [])
                       for fw in (p.get("frameworks") or [])})

    def add_state(self, name: str, processes: list[dict[str, Any]]) -> None:
        self.states[name] = {"processes": processes, "summary": summarize_state(processes)}

    def summary(self, state: str) -> dict[str, Any] | None:
        st = self.states.get(state)
        return None if st is None else st["summary"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "jitwarm_version": self.jitwarm_version,
            "created": self.created,
            "status": self.status,
            "case": self.case,
            "framework": self.framework,
            "frameworks": self.frameworks,
            "environment": self.environment,
            "settings": self.settings,
            "states": self.states,
            "skipped_states": self.skipped_states,
            "error": self.error,
            "notes": self.notes,
        }

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=_json_default)

    def save(self, path: str | Path) -> Path:
        """Write the JSON atomically (a partial file never replaces a good one)."""
        return write_atomic(path, self.to_json())

    @classmethod
    def from_dict(cls, d: Any) -> ProfileResult:
        check_schema(d)
        return cls(
            case=d.get("case", {}),
            framework=d.get("framework"),
            environment=d.get("environment", {}),
            settings=d.get("settings", {}),
            states=d.get("states", {}),
            skipped_states=d.get("skipped_states", {}),
            status=d.get("status", "complete"),
            error=d.get("error"),
            created=d.get("created", ""),
            jitwarm_version=d.get("jitwarm_version", ""),
            notes=d.get("notes", []),
        )

    @classmethod
    def load(cls, path: str | Path) -> ProfileResult:
        return cls.from_dict(read_json(path))

    # convenience accessors for notebooks
    def _repr_html_(self) -> str:
        """Jupyter's rich display: summary table, verdicts, caveats and the series plot."""
        from jitwarm.report.notebook import result_html

        return result_html(self)

    def __repr__(self) -> str:
        parts = []
        for name, st in self.states.items():
            s = st["summary"]
            parts.append(
                f"{name}: first={_fmt(s.get('first_call_ns'))} compile={_fmt(s.get('compile_ns'))}"
                f" warm={_fmt(s.get('warm_median_ns'))} [{s.get('classification')}]"
            )
        return f"<ProfileResult {self.case.get('name')!r} ({self.framework}) " + "; ".join(parts) + ">"


def read_input_text(path: str | Path, what: str = "file") -> str:
    """The text of an input file, as UTF-8 (a leading byte-order mark is accepted).

    Only regular files are read: a FIFO, socket or device is refused without opening it
    for a blocking read (it would wait forever). Every failure is one :class:`UsageError`.
    """
    name = shown(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise UsageError(f"cannot read {what} {name}: no such file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} {name}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise UsageError(f"{what} {name} is a folder, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise UsageError(f"{what} {name} is not a regular file (a FIFO, socket or "
                             "device); give a file")
        with os.fdopen(fd, "rb", closefd=False) as f:
            raw = f.read()
    except OSError as exc:
        raise UsageError(f"cannot read {what} {name}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{what} {name} is not UTF-8 text (byte {exc.start} is "
                         f"0x{raw[exc.start]:02x})") from None


def parse_json(text: str, name: str) -> Any:
    """``json.loads`` whose every failure (bad syntax, absurd nesting, huge numbers) is
    one :class:`UsageError` naming ``name``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{shown(name)} is not JSON: {exc.msg} (line {exc.lineno})") from None
    except RecursionError:
        raise UsageError(f"{shown(name)} is nested too deeply to be read") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise UsageError(f"{shown(name)} is not usable JSON: {shown(exc)}") from None


def read_json(path: str | Path) -> Any:
    """Parse a result file; unreadable or non-JSON files are a UsageError (exit 2)."""
    return parse_json(read_input_text(path, "result file"), str(path))


def check_schema(d: Any) -> None:
    """Refuse anything that is not a jitwarm profile result we can read."""
    if not isinstance(d, dict) or not isinstance(d.get("schema"), str):
        raise UsageError("not a jitwarm result: no \"schema\" field")
    schema = d["schema"]
    if not schema.startswith(SCHEMA_PREFIX):
        raise UsageError(f"not a jitwarm profile result (schema {shown(repr(schema))})")
    try:
        version = int(schema[len(SCHEMA_PREFIX):])
    except ValueError:
        raise UsageError(f"unrecognised schema {shown(repr(schema))}") from None
    if version > SCHEMA_VERSION:
        raise UsageError(
            f"result schema {shown(repr(schema))} is newer than this jitwarm reads ({SCHEMA}): "
            "upgrade jitwarm"
        )
    check_types(d)


# --------------------------------------------------------------------------- field types
# A small type grammar for the fields the presenters read: "num" (a finite number or
# null), "int", "str", "bool" (each also null), ("list", item), ("map", value) for dicts
# with free keys, and a dict {key: spec} for known keys (others are not checked).

_N = "num"
_EVENT = {k: _N for k in ("start_ns", "end_ns", "duration_ns", "depth", "call_index")} | {
    k: "str" for k in ("name", "kind", "signature", "cache", "reason")}
_UNIT: dict[str, Any] = {k: _N for k in ("start_ns", "duration_ns", "call", "per_process")} | {
    k: "str" for k in ("module", "signature", "cache", "location", "reason")} | {
    k: ("req", "str") for k in ("framework", "name", "kind")} | {"recompile": "bool"}
_UNIT["duration_ns"] = ("req", _N)
_UNIT["start_ns"] = ("req", _N)
_UNIT["children"] = ("list", ("req", _UNIT))  # nested phases: the same fields, checked alike
#: a summary's row of compile units ranked across processes (``results.compiled``): no start
_RANKED: dict[str, Any] = {k: v for k, v in _UNIT.items() if k not in ("start_ns", "children")}
_PROCESS: dict[str, Any] = {
    **{k: _N for k in ("index", "pid", "interpreter_ns", "import_ns", "setup_ns",
                       "first_call_ns", "compile_ns", "function_compile_ns", "runtime_init_ns",
                       "timer_overhead_ns", "specializations", "steady_state_start",
                       "steady_state_call", "warm_median_ns", "warmup_cost_ns", "returncode",
                       "signal", "gc_frozen")},
    **{k: "str" for k in ("state", "status", "classification", "stop_reason",
                          "framework_version", "executor", "node", "host")},
    "timings_ns": ("list", _N), "batch_sizes": ("list", ("list", _N)),
    "compile_events": ("list", _EVENT),
    "recompiles": ("list", {"call_index": _N, "duration_ns": _N, "name": "str",
                            "signature": "str", "reason": "str"}),
    "cache": {"hits": _N, "misses": _N}, "disk_cache": "bool",
    "first_call_gc": {"ns": _N, "collections": ("list", _N), "pauses": ("list", ("list", _N))},
    "steady_ci_ns": ("list", _N), "change_points": ("list", _N), "outliers": ("list", _N),
    "notes": ("list", "str"), "runtime": ("map", "any"),
    "compiled": ("list", _UNIT), "compile_ns_by_framework": ("map", _N),
    "frameworks": ("list", "str"), "callable_framework": "str",
    "cache_switches": ("map", "str"), "packages": ("list", "str"),
}
_SUMMARY: dict[str, Any] = {
    **{k: _N for k in ("processes_ok", "processes_failed", "import_ns", "setup_ns",
                       "first_call_ns", "compile_ns", "function_compile_ns", "runtime_init_ns",
                       "warm_median_ns", "steady_state_start", "steady_state_call",
                       "warmup_cost_ns", "first_over_warm", "cache_hits", "cache_misses",
                       "compile_events", "recompiles", "first_call_gc_ns",
                       "first_call_gc_full")},
    "classification": "str", "warm_ci_basis": "str", "warm_ci_ns": ("list", _N),
    "classifications": ("map", _N), "steady_state_start_range": ("list", _N),
    "compile_phases_ns": ("map", _N), "compile_ns_by_framework": ("map", _N),
    "compiled": ("list", ("req", _RANKED)),
}
_RESULT: dict[str, Any] = {
    "jitwarm_version": "str", "created": "str", "status": "str", "framework": "str",
    "case": {"target": "str", "name": "str", "file": "str", "module": "str"},
    "environment": {**{k: "str" for k in ("python", "implementation", "platform",
                                          "machine", "cpu_model")},
                    "cpu_count": _N, "cpu_affinity": _N, "versions": ("map", "str"),
                    "threads": ("map", "any")},
    "settings": {**{k: _N for k in ("max_calls", "max_time_s", "exact_calls", "min_calls",
                                    "threads", "processes", "timeout_s")},
                 "states": ("list", "str"),
                 "executor": {"name": "str", "jobs": _N, "ray_address": "str"}},
    "states": ("map", ("req", {"processes": ("req", ("list", ("req", _PROCESS))),
                               "summary": ("req", _SUMMARY)})),
    "skipped_states": ("map", "str"), "error": ("map", "any"), "notes": ("list", "str"),
    "frameworks": ("list", "str"),
}
_STRATEGY: dict[str, Any] = {
    **{k: _N for k in ("ttfr_ns", "floor_ns", "ttfr_over_floor", "ttfr_saved_ns", "speedup",
                       "saves_ns", "warm_ratio")},
    "strategy": "str", "status": ("req", "str"), "reason": "str", "floor_name": "str",
    "floor_imports": ("list", ("req", "str")), "explanation": ("list", "str"),
    "misses": ("list", "str"),
    "packages_beyond_floor": ("list", ("req", "str")),
    "floor_packages_unused": ("list", ("req", "str")),
    "summary": {k: _N for k in ("time_to_first_result_ns", "first_call_ns", "compile_ns",
                                "warm_median_ns", "processes_ok", "import_ns", "setup_ns")},
    "fleet": {**{k: _N for k in ("processes_ok", "waves", "ttfr_p50_ns", "ttfr_p95_ns",
                                 "wave_last_ttfr_ns", "wave_cpu_ns", "waves_overlapping")},
              "cpu_scope": "str"},
    # a variant (aot+gc-freeze) against its strategy without it (caches.strategies)
    "vs_plain": {"strategy": "str", "variant": "str", "gc_frozen": _N,
                 **{k: ("list", _N) for k in ("ttfr_ns", "first_call_ns", "ttfr_ratio_ci",
                                               "first_call_ratio_ci", "first_call_gc_ns")},
                 "ttfr_verdict": "str", "first_call_verdict": "str"},
}
_STRATEGIES: dict[str, Any] = {
    "target": "str", "framework": "str", "status": "str", "notes": ("list", "str"),
    "strategies": ("req", ("map", ("req", _STRATEGY))), "floors": ("map", ("list", _N)),
    "floor_breakdown": ("map", ("req", {
        **{k: _N for k in ("interpreter_ns", "imports_end_ns", "modules", "breakdown_processes",
                           "other_packages_ns", "jitwarm_load_import_ns")},
        "packages": ("list", ("req", "str")),
        **{k: ("list", ("req", {"module": ("req", "str"), "ns": ("req", _N)}))
           for k in ("imports", "by_package", "sub_imports")}})),
}
_RUN_PROCESS: dict[str, Any] = {
    **{k: _N for k in ("index", "exit_code", "wall_ns", "run_ns", "interpreter_ns",
                       "import_ns", "compile_ns")},
    **{k: "str" for k in ("state", "status", "message", "traceback", "error")},
    "compiled": ("list", ("req", _UNIT)), "compile_ns_by_framework": ("map", _N),
    "imports": ("list", ("req", {"module": ("req", "str"), "start_ns": ("req", _N),
                                 "duration_ns": ("req", _N)})),
    "gc": {"ns": _N, "pauses": ("list", ("req", ("list", ("req", _N))))},
    "cache_switches": ("map", "str"),
}
_RUN: dict[str, Any] = {
    "argv": ("list", "str"), "status": "str", "created": "str", "cache_saves_ns": _N,
    "notes": ("list", "str"), "skipped_states": ("map", "str"),
    "states": ("req", ("map", ("req", {
        "processes": ("req", ("list", ("req", _RUN_PROCESS))),
        "summary": {**{k: _N for k in ("processes", "processes_ok", "wall_ns",
                                       "interpreter_ns", "import_ns", "compile_ns", "run_ns")},
                    "compile_ns_by_framework": ("map", _N),
                    "units": ("list", ("req", _RANKED))}}))),
}
_NAMES = {"num": "a number", "str": "a string", "bool": "true or false"}


def check_other(d: Any) -> str:
    """A strategies A/B (``jitwarm.strategies/1``) or ``jitwarm run`` (``jitwarm.run/1``)
    result, checked like a profile's before anything reads it; returns its schema."""
    schema = d.get("schema") if isinstance(d, dict) else None
    spec = {"jitwarm.strategies/1": _STRATEGIES, "jitwarm.run/1": _RUN}.get(str(schema))
    if spec is None:
        raise UsageError(f"unrecognised schema {shown(repr(schema))}")
    _check(d, spec, "result")
    return str(schema)


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number" if math.isfinite(v) else "a non-finite number"
    return {str: "a string", list: "a list", dict: "an object"}.get(type(v), type(v).__name__)


def _check(v: Any, spec: Any, where: str) -> None:
    if spec == "any":
        return
    if isinstance(spec, tuple) and spec[0] == "req":
        if v is None:
            raise UsageError(f"{where}: expected {_wanted(spec[1])}, not null")
        spec = spec[1]
    if v is None:  # an optional field left empty
        return
    if isinstance(spec, str):
        ok = {"num": isinstance(v, (int, float)) and not isinstance(v, bool)
              and math.isfinite(v),
              "str": isinstance(v, str), "bool": isinstance(v, bool)}[spec]
        if not ok:
            raise UsageError(f"{where}: expected {_NAMES[spec]}, not {_kind(v)}")
        if spec == "num":
            _check_range(v, where)
        return
    if isinstance(spec, dict) or spec[0] == "map":
        if not isinstance(v, dict):
            raise UsageError(f"{where}: expected an object, not {_kind(v)}")
        if isinstance(spec, dict):
            for key, sub in spec.items():
                if key in v:
                    _check(v[key], sub, f"{where}.{key}")
                elif isinstance(sub, tuple) and sub[0] == "req":
                    raise UsageError(f"{where}.{key}: missing")
        else:
            for key, item in v.items():
                _check(item, spec[1], f"{where}.{shown(key, 40)}")
        return
    if not isinstance(v, list):
        raise UsageError(f"{where}: expected a list, not {_kind(v)}")
    for i, item in enumerate(v):
        _check(item, spec[1], f"{where}[{i}]")


#: the largest magnitude a number may have, and the longest duration (ns: about 11 days)
_MAX_NUM = 1e18
_MAX_DURATION_NS = 1e15
#: ``*_ns`` fields that are positions on a time axis or differences, so may be negative
_SIGNED_NS = frozenset({"start_ns", "end_ns", "ttfr_saved_ns", "saves_ns", "cache_saves_ns"})


def _check_range(v: float, where: str) -> None:
    """Refuse a number no measurement gives: an absurd magnitude, or a negative or
    absurdly long duration (a ``*_ns`` field, or an item of a list of them)."""
    if abs(v) > _MAX_NUM:
        raise UsageError(f"{where}: {v:.3g} is out of range")
    field = where.rsplit(".", 1)[-1].split("[", 1)[0]
    if field.endswith("_ns") and field not in _SIGNED_NS and not 0 <= v <= _MAX_DURATION_NS:
        raise UsageError(f"{where}: a duration must be 0 to {_MAX_DURATION_NS:.0e} ns, "
                         f"not {v:.3g}")


def _wanted(spec: Any) -> str:
    if isinstance(spec, str):
        return _NAMES.get(spec, "a value")
    return "an object" if isinstance(spec, dict) or spec[0] == "map" else "a list"


def check_types(d: dict[str, Any]) -> None:
    """Refuse a result whose fields have the wrong types (a string where numbers belong,
    an object where a list does, a null summary): one :class:`UsageError` naming the field,
    instead of a crash deep inside a table or a plot."""
    for key, spec in _RESULT.items():
        if key in d:
            _check(d[key], spec, key)


def _fmt(ns: Any) -> str:
    from jitwarm._units import fmt_ns

    return fmt_ns(ns)


def _json_default(o: Any) -> Any:
    if isinstance(o, float) and math.isnan(o):
        return None
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
