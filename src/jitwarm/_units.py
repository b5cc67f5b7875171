"""Durations for humans: ns/µs/ms/s chosen by magnitude."""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import Any

from jitwarm._errors import UsageError


def _sig(v: float, digits: int) -> str:
    """``digits`` significant digits without scientific notation (``120``, ``1.25``)."""
    whole = len(str(int(abs(v)))) if abs(v) >= 1 else 1
    return f"{v:.{max(0, digits - whole)}f}"


def fmt_ns(ns: Any, digits: int = 3) -> str:
    """Format nanoseconds with a readable unit, e.g. ``182 ns``, ``1.25 ms``, ``9.71 s``."""
    if ns is None:
        return "–"
    v = float(ns)
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if abs(v) >= scale:
            return f"{_sig(v / scale, digits)} {unit}"
    return f"{v:.0f} ns"


def fmt_ratio(x: Any) -> str:
    """Format a ratio like ``3,200×``, ``1.27×`` or ``0.00147×``: three significant digits,
    never ``0.00×`` (below 0.0001 in scientific notation, ``1.5e-05×``)."""
    if x is None:
        return "–"
    if x >= 100:
        return f"{x:,.0f}×"
    if x == 0:
        return "0×"
    return f"{x:.3g}×"


def fmt_ratio_range(lo: Any, hi: Any) -> str:
    """An interval of ratios, ``0.95–1.03×``, each end with three significant digits."""
    return f"{fmt_ratio(lo)[:-1]}–{fmt_ratio(hi)}"


#: what a summary of one process says instead of an interval
NO_INTERVAL = "1 process: no interval"


def warm_ci_half(summary: dict[str, Any]) -> str:
    """The warm CI's larger half-width, ``± 6 ns``; ``± <1 ns`` when it rounds to nothing;
    :data:`NO_INTERVAL` for one process (processes are the independent unit: the spread of
    one process's own calls is not an interval of its median); "" when there is no CI."""
    med, ci = summary.get("warm_median_ns"), summary.get("warm_ci_ns")
    if med is None:
        return ""
    if summary.get("processes_ok") == 1:
        return NO_INTERVAL
    if not ci:
        return ""
    half = max(abs(ci[1] - med), abs(med - ci[0]))
    return f"± {fmt_ns(half, 2)}" if half >= 0.5 else "± <1 ns"


def fmt_warm_ci(summary: dict[str, Any]) -> str:
    """A state summary's warm median with the CI's larger half-width: ``182 ns ± 6 ns``,
    ``182 ns (1 process: no interval)``."""
    med = summary.get("warm_median_ns")
    if med is None:
        return "–"
    half = warm_ci_half(summary)
    if half == NO_INTERVAL:
        return f"{fmt_ns(med)} ({half})"
    return f"{fmt_ns(med)} {half}" if half else fmt_ns(med)


# -- parsing what users write: durations and counts (budgets, gates) --------------------

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


_SCALE = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_COUNT = re.compile(rf"^\s*({_NUMBER})\s*([kMGT]?)\s*$")


def parse_count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{what}={value!r} must be a whole number (of calls), e.g. {what}=0")
    if value < 0:
        raise UsageError(f"{what}={value!r} must not be negative")
    return value


def parse_big_count(value: Any, what: str) -> int:
    """A whole number, or a string with an SI suffix: ``2_000_000_000``, ``"2G"``, ``"1.5e9"``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return parse_count(value, what)
    m = _COUNT.match(value) if isinstance(value, str) else None
    if not m:
        raise UsageError(f"{what}={value!r} is not a count: give a whole number or a string "
                         f'such as "2.5G", "800M" or "1.5e9"')
    n = float(m.group(1)) * _SCALE[m.group(2)]
    if not math.isfinite(n) or n < 0:
        raise UsageError(f"{what}={value!r} must be a finite, non-negative count")
    return int(round(n))
