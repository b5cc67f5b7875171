"""Durations for humans: ns/µs/ms/s chosen by magnitude."""

from __future__ import annotations

from typing import Any


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
