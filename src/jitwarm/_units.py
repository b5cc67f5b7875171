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
    """Format a ratio like ``3,200×``."""
    if x is None:
        return "–"
    if x >= 100:
        return f"{x:,.0f}×"
    return f"{x:.3g}×"


def fmt_warm_ci(summary: dict[str, Any]) -> str:
    """A state summary's warm median with the CI's larger half-width: ``182 ns ± 6 ns``."""
    med, ci = summary.get("warm_median_ns"), summary.get("warm_ci_ns")
    if med is None:
        return "–"
    if not ci:
        return fmt_ns(med)
    half = max(abs(ci[1] - med), abs(med - ci[0]))
    return f"{fmt_ns(med)} ± {fmt_ns(half, 2)}"
