"""The "Warmup by framework" table: one row per framework's case, cold vs cached vs warm."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.markup import escape
from rich.table import Table

from jitwarm._units import fmt_ns, fmt_ratio
from jitwarm.results.profile import ProfileResult


def _trigger(framework: str | None) -> str:
    from jitwarm.adapters import by_name

    try:
        return by_name(framework or "python").trigger
    except KeyError:
        return "–"


def framework_row(result: ProfileResult) -> dict[str, Any]:
    """The table's figures for one result, as numbers (``None`` where not measured)."""
    cold = result.summary("cold") or result.summary("in-process") or {}
    cached = result.summary("cached") or {}
    first = cold.get("first_call_ns")
    warm = cold.get("warm_median_ns") or cached.get("warm_median_ns")
    cached_first = cached.get("first_call_ns")
    saved = None if first is None or cached_first is None else first - cached_first
    return {
        "case": result.case.get("name"),
        "framework": result.framework,
        "trigger": _trigger(result.framework),
        "cold_first_call_ns": first,
        "compile_ns": cold.get("compile_ns"),
        "cached_first_call_ns": cached_first,
        "cached_skipped": result.skipped_states.get("cached"),
        "cache_hits": cached.get("cache_hits"),
        "warm_ns": warm,
        "cold_over_warm": (first / warm) if first and warm else None,
        "cache_saved_ns": saved,
        "cache_saved_fraction": (saved / first) if saved is not None and first else None,
        "status": result.status,
    }


def framework_table(results: Sequence[ProfileResult],
                    title: str = "Warmup by framework") -> Table:
    """One row per result: framework, trigger, cold first call, compile part, cached first
    call, warm call, cold÷warm and what the disk cache saved."""
    t = Table(title=title, title_justify="left")
    t.add_column("framework")
    t.add_column("trigger")
    t.add_column("cold first call", justify="right")
    t.add_column("compile part", justify="right")
    t.add_column("cached first call", justify="right")
    t.add_column("warm call", justify="right")
    t.add_column("cold÷warm", justify="right")
    t.add_column("what the cache saved", justify="right")
    for r in results:
        row = framework_row(r)
        if row["status"] == "error":
            msg = (r.error or {}).get("message", "error")
            t.add_row(escape(str(row["framework"] or row["case"])), escape(str(row["trigger"])),
                      f"error: {escape(str(msg))}",
                      "", "", "", "", "")
            continue
        if row["cached_first_call_ns"] is not None:
            cached_txt = fmt_ns(row["cached_first_call_ns"])
            if row["cache_hits"] is not None:
                cached_txt += f" ({row['cache_hits']} hits)"
        else:
            cached_txt = "skipped" if row["cached_skipped"] else "–"
        if row["cache_saved_ns"] is None:
            saved_txt = "–"
        else:
            frac = row["cache_saved_fraction"]
            saved_txt = fmt_ns(row["cache_saved_ns"]) + (
                f" ({frac:.0%})" if frac is not None else "")
        comp = fmt_ns(row["compile_ns"])
        if row["compile_ns"] is not None and row["cold_first_call_ns"]:
            comp += f" ({row['compile_ns'] / row['cold_first_call_ns']:.0%})"
        t.add_row(
            escape(f"{row['framework']} ({row['case']})"),
            escape(str(row["trigger"])),
            fmt_ns(row["cold_first_call_ns"]),
            comp,
            cached_txt,
            fmt_ns(row["warm_ns"]),
            fmt_ratio(row["cold_over_warm"]),
            saved_txt,
        )
    return t
