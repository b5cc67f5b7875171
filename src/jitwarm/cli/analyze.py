"""Logic behind ``jitwarm analyze FILE [--json]`` (the typer command calls :func:`main`).

Accepted files:

* one series: a JSON list of numbers, a JSON object with ``"timings"``, or plain text with
  one number per line (blank lines and ``#`` comments ignored);
* several processes: a JSON object with ``"processes": [[...], ...]`` (items may also be
  objects with ``"timings"`` or ``"timings_ns"``);
* a jitwarm profile result (``"schema": "jitwarm.profile/1"``): every
  ``states.<state>.processes[*].timings_ns`` is a series; each state is analysed on its own
  (processes whose ``status`` is not ``"ok"`` are skipped; a state left without series is
  reported as ``"no-data"``).

Only regular files are read (a FIFO or device is refused rather than waited on), as UTF-8
with or without a byte-order mark. Bad input (missing/unreadable file, not UTF-8, malformed
or absurdly nested content, empty series, NaN/inf or negative values) prints one message
on stderr and returns 2; nothing is raised.

``--json`` output is standard JSON (RFC 8259): a value that is not finite (an unbounded
confidence interval, say) is written as ``null``, never as ``Infinity`` or ``NaN``.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from jitwarm.analysis._classify import (
    ProcessesAnalysis,
    SeriesAnalysis,
    analyze,
    analyze_processes,
    as_series,
)

PROFILE_SCHEMA = "jitwarm.profile/1"


class InputError(Exception):
    pass


def _series(obj, where: str) -> list[float]:
    if not isinstance(obj, list):
        raise InputError(f"{where}: expected a list of numbers")
    for i, v in enumerate(obj):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InputError(f"{where}: item {i} is not a number ({_shown(repr(v), 60)})")
    try:
        as_series(obj)
        return [float(v) for v in obj]
    except (ValueError, OverflowError) as exc:
        raise InputError(f"{where}: {_shown(exc)}") from None


def _process_item(p, where: str) -> list[float]:
    if isinstance(p, dict):
        for key in ("timings_ns", "timings"):
            if key in p:
                return _series(p[key], f"{where}.{key}")
        raise InputError(f"{where}: expected 'timings_ns' or 'timings'")
    return _series(p, where)


def _processes(lst, where: str) -> list[list[float]]:
    if not isinstance(lst, list) or not lst:
        raise InputError(f"{where}: expected a non-empty list of series")
    return [_process_item(p, f"{where}[{i}]") for i, p in enumerate(lst)]


def load(path: str):
    """Return ("series", list) | ("processes", list of lists) | ("profile", {state: lists})."""
    from jitwarm._errors import UsageError
    from jitwarm.results.profile import read_input_text

    name = _shown(path)
    if Path(path).is_dir():
        raise InputError(f"{name}: is a folder, not a file")
    try:
        text = read_input_text(path, "series file")
    except UsageError as exc:
        raise InputError(str(exc)) from None
    stripped = text.strip()
    if not stripped:
        raise InputError(f"{name}: file is empty")
    if stripped[0] in "[{":
        try:
            obj = json.loads(stripped, parse_constant=_reject_constant)
        except RecursionError:
            raise InputError(f"{name}: JSON nested too deeply to be a series") from None
        except ValueError as exc:
            raise InputError(f"{name}: malformed JSON ({_shown(exc)})") from None
        return _from_json(obj, name)
    values = []
    for lineno, line in enumerate(text.splitlines(), 1):
        s = line.split("#", 1)[0].strip()
        if not s:
            continue
        try:
            v = float(s)
        except ValueError:
            raise InputError(f"{name}:{lineno}: not a number: {_shown(repr(s), 60)}") from None
        if not math.isfinite(v):
            raise InputError(f"{name}:{lineno}: non-finite value {_shown(repr(s), 60)}")
        values.append(v)
    return "series", _series(values, name)


def _shown(s: object, limit: int = 200) -> str:
    from jitwarm._errors import shown

    return shown(s, limit)


def _finite(v):
    """``v`` with every non-finite float replaced by None (JSON has no Infinity/NaN)."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    if hasattr(v, "item") and hasattr(v, "dtype"):  # numpy scalar
        return _finite(v.item())
    return v


def _reject_constant(name):
    raise ValueError(f"non-finite value {name}")


def _from_json(obj, path: str):
    if isinstance(obj, list):
        return "series", _series(obj, path)
    if not isinstance(obj, dict):
        raise InputError(f"{path}: expected a JSON list or object")
    if obj.get("schema") == PROFILE_SCHEMA:
        states = obj.get("states")
        if not isinstance(states, dict) or not states:
            raise InputError(f"{path}: profile has no 'states'")
        out = {}
        for name, st in states.items():
            if not isinstance(st, dict) or not isinstance(st.get("processes"), list):
                raise InputError(f"{path}: states.{_shown(name, 40)} has no 'processes' list")
            # Failed processes (status != "ok") carry no series: skip them, keep the state.
            usable = [
                p
                for p in st["processes"]
                if isinstance(p, dict) and p.get("status", "ok") == "ok" and p.get("timings_ns")
            ]
            where = f"{path}: states.{_shown(name, 40)}.processes"
            out[name] = _processes(usable, where) if usable else []
        if not any(out.values()):
            raise InputError(f"{path}: profile holds no timing series")
        return "profile", out
    if "processes" in obj:
        return "processes", _processes(obj["processes"], f"{path}: processes")
    if "timings" in obj:
        return "series", _series(obj["timings"], f"{path}: timings")
    if "timings_ns" in obj:
        return "series", _series(obj["timings_ns"], f"{path}: timings_ns")
    raise InputError(f"{path}: expected 'timings', 'processes' or a {PROFILE_SCHEMA} result")


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.6g}"


def _summary(a: SeriesAnalysis, indent: str = "") -> str:
    lines = [f"{indent}classification: {a.classification}  (n={a.n})"]
    if a.steady_state_start is not None:
        lo, hi = a.steady_ci
        lines.append(
            f"{indent}steady state from call {a.steady_state_start}: median {_fmt(a.steady_median)}"
            f" (95% CI {_fmt(lo)} – {_fmt(hi)})"
        )
        lines.append(f"{indent}warmup: {a.warmup_calls} calls, excess {_fmt(a.warmup_cost)}")
    else:
        lines.append(f"{indent}no steady state")
    cps = ", ".join(str(c) for c in a.change_points[:12])
    more = " …" if len(a.change_points) > 12 else ""
    lines.append(f"{indent}change points: {cps or 'none'}{more}; outliers: {len(a.outliers)}")
    return "\n".join(lines)


def _multi_summary(pa: ProcessesAnalysis, indent: str = "") -> str:
    lines = [f"{indent}{len(pa.processes)} processes: {pa.consistency}"]
    if pa.verdict is not None:
        lines.append(f"{indent}verdict: {pa.verdict.label}. {pa.verdict.text}")
    s = pa.steady_state_starts
    if s.get("count"):
        lines.append(
            f"{indent}steady-state start: min {s['min']}, median {_fmt(s['median'])}, "
            f"max {s['max']}, IQR {_fmt(s['iqr'])}"
        )
    for i, a in enumerate(pa.processes):
        lines.append(f"{indent}process {i}:")
        lines.append(_summary(a, indent + "  "))
    return "\n".join(lines)


def _single_json(a: SeriesAnalysis) -> dict:
    return a.to_dict()


def _multi_json(pa: ProcessesAnalysis) -> dict:
    return {
        "consistency": pa.consistency,
        "steady_state_starts": pa.steady_state_starts,
        "processes": [_single_json(a) for a in pa.processes],
        "verdict": None if pa.verdict is None else pa.verdict.to_dict(),
    }


def main(path: str, as_json: bool = False) -> int:
    """Analyse FILE; print results (stdout) or one error line (stderr). Returns 0 or 2."""
    try:
        kind, data = load(path)
        if kind == "series":
            a = analyze(data)
            out = _single_json(a) if as_json else _summary(a)
        elif kind == "processes":
            pa = analyze_processes(data)
            out = _multi_json(pa) if as_json else _multi_summary(pa)
        else:
            results = {name: analyze_processes(s) for name, s in data.items() if s}
            if as_json:
                out = {"states": {k: _multi_json(v) for k, v in results.items()}}
                for name in data:
                    if name not in results:
                        out["states"][name] = {"consistency": "no-data", "processes": []}
            else:
                out = "\n".join(
                    f"state {k}:\n{_multi_summary(v, '  ')}" for k, v in results.items()
                )
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, OverflowError, RecursionError) as exc:  # validation inside analyze
        print(f"error: {_shown(path)}: {_shown(exc)}", file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps(_finite(out), indent=2, allow_nan=False))
    else:
        print(out)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1], "--json" in sys.argv[2:]))
