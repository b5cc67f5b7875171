"""Compile units across processes: per-framework totals and the units ranked by time.

Each measured process records ``compiled`` (one record per top-level compile unit, see
:mod:`jitwarm.adapters.units`) and ``compile_ns_by_framework``; a state's summary (a
profile's, or a ``jitwarm run``'s) gets their medians here, so every report ranks and
totals them the same way.
"""

from __future__ import annotations

import statistics
from typing import Any

from jitwarm.cases.targets import CASE_MODULE_PREFIX

__all__ = ["by_framework", "rank_units", "shown_module", "uncached"]


def shown_module(module: str | None) -> str | None:
    """A unit's module as the user knows it: a case file's (imported under an internal
    name so that ``numpy.py`` cannot shadow NumPy) is shown as the file, ``cases.py``."""
    if module and module.startswith(CASE_MODULE_PREFIX) and len(module) > len(CASE_MODULE_PREFIX):
        return module[len(CASE_MODULE_PREFIX):] + ".py"
    return module


def by_framework(records: list[dict[str, Any]]) -> dict[str, int]:
    """Median over processes of each framework's compile time (0 where one did not)."""
    fws = sorted({fw for r in records for fw in (r.get("compile_ns_by_framework") or {})})
    return {fw: int(statistics.median((r.get("compile_ns_by_framework") or {}).get(fw, 0)
                                      for r in records)) for fw in fws}


def rank_units(records: list[dict[str, Any]], call: int | None = -1) -> list[dict[str, Any]]:
    """The compile units of ``records``, one row per (framework, name, module, signature,
    kind, first compile or recompile), ranked by time: ``duration_ns`` is the median over
    processes of the row's total per process (a function compiled twice counts twice),
    ``per_process`` how many units it holds per process. ``call``: only units of that call
    index (``-1``: all; ``None``: those before the first call, i.e. during setup)."""
    rows: dict[tuple[Any, ...], list[list[dict[str, Any]]]] = {}
    for i, r in enumerate(records):
        for u in r.get("compiled") or []:
            if call != -1 and u.get("call") != call:
                continue
            key = (u["framework"], u["name"], u.get("module"), u.get("signature"), u["kind"],
                   bool(u.get("recompile")))
            per = rows.setdefault(key, [[] for _ in records])
            per[i].append(u)
    ranked = []
    for (fw, name, module, sig, kind, recompile), per in rows.items():
        units = [u for us in per for u in us]
        ranked.append({
            "framework": fw, "name": name, "module": shown_module(module), "signature": sig, "kind": kind,
            "recompile": recompile, "per_process": round(len(units) / max(1, len(records)), 2),
            "duration_ns": int(statistics.median(sum(u["duration_ns"] for u in us)
                                                 for us in per)),
            "cache": units[0].get("cache"), "location": units[0].get("location"),
            "call": units[0].get("call"),
        })
    ranked.sort(key=lambda u: -u["duration_ns"])
    return ranked


def uncached(ranked: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """``{(framework, module): count}`` of units compiled with no disk cache in use."""
    out: dict[tuple[str, str], int] = {}
    for u in ranked:
        if u.get("cache") == "none" and u["kind"] == "compile":
            key = (u["framework"], u.get("module") or "?")
            out[key] = out.get(key, 0) + 1
    return out
