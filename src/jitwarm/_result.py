"""Result objects and the versioned JSON contract ``jitwarm.profile/1``.

``ProfileResult`` holds what a run measured; :func:`summarize_state` condenses one cache
state's per-process records. All durations are integer nanoseconds.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import UsageError
from ._stats import median, median_ci
from .analysis import consistency

SCHEMA = "jitwarm.profile/1"
SCHEMA_PREFIX = "jitwarm.profile/"
SCHEMA_VERSION = 1


def _med_int(values: list[Any]) -> int | None:
    vals = [v for v in values if v is not None]
    return int(round(median(vals))) if vals else None


def write_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file, so a partial file never
    replaces a good one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


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
        import tempfile

        rescue = write_atomic(unsaved_path(tempfile.gettempdir()), text)
        why = exc.strerror or str(exc)
        if exc.filename and str(exc.filename) != str(path):
            why += f": {exc.filename}"
        raise UsageError(f"cannot write {path} ({why}); the result was saved to {rescue}") from None


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


def summarize_state(processes: list[dict[str, Any]]) -> dict[str, Any]:
    """Summary of one cache state: medians across processes, warm median with its CI."""
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
    warms = [p["warm_median_ns"] for p in ok]
    if len(ok) >= 2:
        lo, hi = median_ci(warms)
        summary["warm_ci_basis"] = "order-statistic CI of the median across processes"
    else:
        ci = ok[0].get("steady_ci_ns") or [warms[0], warms[0]]
        lo, hi = ci
        summary["warm_ci_basis"] = "within the single process's steady run"
    summary["warm_ci_ns"] = [int(lo), int(hi)]
    classes = [p.get("classification") or "no-steady-state" for p in ok]
    summary["classification"] = consistency(classes)
    summary["classifications"] = dict(Counter(classes))
    starts = [p["steady_state_start"] for p in ok if p.get("steady_state_start") is not None]
    summary["steady_state_start_range"] = [min(starts), max(starts)] if starts else None
    fc, wm = summary["first_call_ns"], summary["warm_median_ns"]
    summary["first_over_warm"] = (fc / wm) if fc and wm else None
    hits = [p["cache"]["hits"] for p in ok if p.get("cache")]
    misses = [p["cache"]["misses"] for p in ok if p.get("cache")]
    summary["cache_hits"] = sum(hits) if hits else None
    summary["cache_misses"] = sum(misses) if misses else None
    summary["compile_events"] = _med_int([len(p.get("compile_events", [])) for p in ok])
    summary["recompiles"] = sum(len(p.get("recompiles", [])) for p in ok)
    summary.update(first_call_anatomy(ok))
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
        from ._display import result_html

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


def read_json(path: str | Path) -> Any:
    """Parse a result file; unreadable or non-JSON files are a UsageError (exit 2)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read result file {path}: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path} is not JSON: {exc.msg} (line {exc.lineno})") from None


def check_schema(d: Any) -> None:
    """Refuse anything that is not a jitwarm profile result we can read."""
    if not isinstance(d, dict) or not isinstance(d.get("schema"), str):
        raise UsageError("not a jitwarm result: no \"schema\" field")
    schema = d["schema"]
    if not schema.startswith(SCHEMA_PREFIX):
        raise UsageError(f"not a jitwarm profile result (schema {schema!r})")
    try:
        version = int(schema[len(SCHEMA_PREFIX):])
    except ValueError:
        raise UsageError(f"unrecognised schema {schema!r}") from None
    if version > SCHEMA_VERSION:
        raise UsageError(
            f"result schema {schema!r} is newer than this jitwarm reads ({SCHEMA}): upgrade jitwarm"
        )


def _fmt(ns: Any) -> str:
    from ._units import fmt_ns

    return fmt_ns(ns)


def _json_default(o: Any) -> Any:
    if isinstance(o, float) and math.isnan(o):
        return None
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
