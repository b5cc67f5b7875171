"""Warmup budgets: duration strings (``"500ms"``) and checks of a result against limits.

Used by the pytest plugin's ``@pytest.mark.jitwarm(...)`` marker. Duration-valued budgets
are compared with the *median across processes* of a cache state; counts
(``max_recompiles``, ``steady_state_within``) with the *worst process*, so one process
that never settles or recompiles is enough to fail.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass
from typing import Any

from ._errors import UsageError
from ._units import fmt_ns

_UNITS = {
    "ns": 1.0,
    "us": 1e3,
    "\u00b5s": 1e3,  # micro sign
    "\u03bcs": 1e3,  # greek small letter mu
    "ms": 1e6,
    "s": 1e9,
}
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_DURATION = re.compile(rf"^\s*({_NUMBER})\s*([^\s\d.+-][^\s]*)?\s*$")
_EXAMPLES = '"500ms", "2 s", "150us", "150µs" or "1.5e6ns"'


def parse_duration(value: Any, what: str = "duration") -> int:
    """Parse ``"500ms"``, ``"2 s"``, ``"150us"``/``"150µs"``, ``"1.5e6ns"`` into nanoseconds.

    A :class:`datetime.timedelta` is accepted too. Bare numbers are refused (a budget
    without a unit is ambiguous); so are negative, infinite and unknown-unit values.
    """
    if isinstance(value, _dt.timedelta):
        ns = value / _dt.timedelta(microseconds=1) * 1e3
        if ns < 0:
            raise UsageError(f"{what}={value!r} is negative")
        return int(round(ns))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise UsageError(f"{what}={value!r} has no unit: write it as a string such as {_EXAMPLES}")
    if not isinstance(value, str):
        raise UsageError(
            f"{what}={value!r} is not a duration: give a string such as {_EXAMPLES}"
        )
    m = _DURATION.match(value)
    if not m:
        raise UsageError(f"{what}={value!r} is not a duration: use a number and a unit, "
                         f"e.g. {_EXAMPLES}")
    number, unit = m.group(1), m.group(2)
    if unit is None:
        raise UsageError(f"{what}={value!r} has no unit: write e.g. {_EXAMPLES}")
    scale = _UNITS.get(unit)
    if scale is None:
        raise UsageError(f"{what}={value!r}: unknown unit {unit!r}; use ns, us (µs), ms or s")
    ns = float(number) * scale
    if not math.isfinite(ns):
        raise UsageError(f"{what}={value!r} is not a finite duration")
    if ns < 0:
        raise UsageError(f"{what}={value!r} is negative")
    return int(round(ns))


def _parse_count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{what}={value!r} must be a whole number (of calls), e.g. {what}=0")
    if value < 0:
        raise UsageError(f"{what}={value!r} must not be negative")
    return value


#: budget keyword -> (label, kind): kind "duration" compares a state's median,
#: "count" the worst process.
BUDGETS: dict[str, tuple[str, str]] = {
    "max_first_call": ("first call", "duration"),
    "max_compile": ("compile (first call)", "duration"),
    "max_warm": ("warm median", "duration"),
    "max_recompiles": ("recompiles", "count"),
    "steady_state_within": ("steady state from call", "count"),
}


def parse_budgets(kwargs: dict[str, Any], args: tuple[Any, ...] = ()) -> dict[str, int]:
    """Validate marker keywords into ``{budget: limit}`` (ns for durations, calls for counts)."""
    if args:
        raise UsageError(
            f"budgets are keywords, got positional {args!r}: e.g. "
            'jitwarm(max_first_call="500ms")'
        )
    unknown = sorted(set(kwargs) - set(BUDGETS))
    if unknown:
        raise UsageError(
            f"unknown budget {', '.join(unknown)}: choose from {', '.join(BUDGETS)}"
        )
    out: dict[str, int] = {}
    for key, value in kwargs.items():
        if BUDGETS[key][1] == "duration":
            out[key] = parse_duration(value, key)
        else:
            out[key] = _parse_count(value, key)
    return out


@dataclass(frozen=True)
class Check:
    """One budget against one cache state's measurement."""

    budget: str
    state: str
    measured: int | None  # None: not measured / never reached (fails)
    limit: int
    basis: str  # "median of N processes", "worst of N processes", ...

    @property
    def ok(self) -> bool:
        return self.measured is not None and self.measured <= self.limit

    def fmt(self, v: int | None) -> str:
        if BUDGETS[self.budget][1] == "duration":
            return fmt_ns(v) if v is not None else "not measured"
        if v is None:
            return "never steady" if self.budget == "steady_state_within" else "–"
        return str(v)


def check_budgets(result: Any, budgets: dict[str, int]) -> list[Check]:
    """Every budget against every measured cache state of ``result`` (a ProfileResult)."""
    checks: list[Check] = []
    for state, data in result.states.items():
        summary = data["summary"]
        ok = [p for p in data["processes"] if p.get("status") == "ok"]
        n = len(ok)
        for key, limit in budgets.items():
            if key == "max_first_call":
                measured, basis = summary.get("first_call_ns"), f"median of {n}"
            elif key == "max_compile":
                measured, basis = summary.get("compile_ns"), f"median of {n}"
            elif key == "max_warm":
                measured, basis = summary.get("warm_median_ns"), f"median of {n}"
            elif key == "max_recompiles":
                counts = [len(p.get("recompiles") or []) for p in ok]
                measured, basis = (max(counts) if counts else None), f"worst of {n}"
            else:  # steady_state_within
                calls = [p.get("steady_state_call") for p in ok]
                if not calls:
                    measured = None
                elif any(c is None for c in calls):
                    measured = None
                else:
                    measured = max(calls)
                basis = f"worst of {n}"
            checks.append(Check(key, state, measured, limit, basis + (" process" if n == 1
                                                                      else " processes")))
    return checks


def format_checks(checks: list[Check], title: str) -> str:
    """A plain-text table: budget, state, measured, limit, verdict."""
    rows = [("budget", "state", "measured", "budget", "basis", "")]
    for c in checks:
        rows.append((BUDGETS[c.budget][0], c.state, c.fmt(c.measured), c.fmt(c.limit),
                     c.basis, "ok" if c.ok else "EXCEEDED"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [title]
    for r in rows:
        lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    return "\n".join(lines)
