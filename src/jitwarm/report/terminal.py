"""Terminal presentation with ``rich``: summary tables, errors, progress.

Like torch.utils.benchmark's ``Compare``: results in, a readable table out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from jitwarm._units import fmt_ns, fmt_ratio, fmt_warm_ci
from jitwarm.results.profile import ProfileResult


def console(stderr: bool = False) -> Console:
    """A console that drops colour when not writing to a terminal.

    ``emoji=False``: text like ``a:b:c`` from a case name or a path is printed as typed,
    never as emoji; user strings put into markup go through :func:`rich.markup.escape`.
    """
    con = Console(stderr=stderr, highlight=False, soft_wrap=False, emoji=False)
    if not con.is_terminal and "COLUMNS" not in os.environ:
        con.width = max(con.width, 140)  # files and pipes: no need to squeeze the tables
    return con


def _verdict_cell(result: ProfileResult, name: str | None) -> str:
    """The verdict in words for a table cell (falls back to Barrett's label)."""
    st = result.states.get(name) if name else None
    if not st:
        return "–"
    from jitwarm.results.findings import verdict_label

    label = verdict_label(st)
    return label if label else str(st["summary"].get("classification", "–"))


def summary_table(results: Sequence[ProfileResult], title: str = "jitwarm profile") -> Table:
    """One row per case: cold first call, compile part, cached first call, warm, ratio."""
    t = Table(title=title, title_justify="left")
    t.add_column("case")
    t.add_column("framework")
    t.add_column("cold first call", justify="right")
    t.add_column("compile", justify="right")
    t.add_column("fn compile / init", justify="right")
    t.add_column("cached first call", justify="right")
    t.add_column("warm median ± CI", justify="right")
    t.add_column("first÷warm", justify="right")
    t.add_column("steady from call", justify="right")
    t.add_column("verdict")
    for r in results:
        cold = r.summary("cold") or r.summary("in-process") or {}
        cached = r.summary("cached") or {}
        warm_src = cold or cached
        warm_name = next((n for n in ("cold", "in-process", "cached")
                          if r.summary(n)), None)
        cached_txt = fmt_ns(cached.get("first_call_ns")) if cached else (
            "skipped" if "cached" in r.skipped_states else "–"
        )
        if cached and cached.get("cache_hits") is not None:
            cached_txt += f" ({cached['cache_hits']} hits)"
        t.add_row(
            escape(str(r.case.get("name"))),
            escape(str(r.framework or "–")),
            fmt_ns(cold.get("first_call_ns")),
            fmt_ns(cold.get("compile_ns")),
            f"{fmt_ns(cold.get('function_compile_ns'))} / {fmt_ns(cold.get('runtime_init_ns'))}",
            cached_txt,
            fmt_warm_ci(warm_src),
            fmt_ratio(cold.get("first_over_warm")),
            "–" if warm_src.get("steady_state_call") is None else str(warm_src["steady_state_call"]),
            escape(_verdict_cell(r, warm_name)),
        )
    return t


def state_table(result: ProfileResult) -> Table:
    """Per cache state breakdown of the first call and the warm series."""
    t = Table(title=f"{escape(str(result.case.get('name')))}: by cache state",
              title_justify="left")
    for col in ("state", "processes", "import", "setup", "first call", "compile",
                "rest of 1st call", "warm median ± CI", "cache hits/misses", "verdict"):
        t.add_column(col, justify="left" if col in ("state", "verdict") else "right")
    for name, st in result.states.items():
        s = st["summary"]
        fc, cc = s.get("first_call_ns"), s.get("compile_ns")
        rest = None if fc is None or cc is None else fc - cc
        hm = "–" if s.get("cache_hits") is None else f"{s['cache_hits']}/{s['cache_misses']}"
        t.add_row(
            escape(name),
            f"{s['processes_ok']} ok" + (f", {s['processes_failed']} failed" if s["processes_failed"] else ""),
            fmt_ns(s.get("import_ns")),
            fmt_ns(s.get("setup_ns")),
            fmt_ns(fc),
            fmt_ns(cc),
            fmt_ns(rest),
            fmt_warm_ci(s),
            hm,
            escape(_verdict_cell(result, name)),
        )
    return t


def print_result(con: Console, result: ProfileResult) -> None:
    con.print(state_table(result))
    from jitwarm.results.findings import findings

    for line in findings(result):
        con.print(f"• {escape(line)}")


@contextmanager
def progress_bar(con: Console, total: int, enabled: bool = True) -> Iterator[Any]:
    """A rich progress bar over worker processes; yields a ``progress(state, i, n, rec)``."""
    if not enabled:
        yield None
        return
    prog = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=con,
        transient=True,
    )
    with prog:
        task = prog.add_task("starting", total=total)

        def update(state: str, i: int, n: int, rec: dict[str, Any] | None) -> None:
            if rec is None:
                prog.update(task, description=f"{state} process {i + 1}/{n}")
            else:
                prog.advance(task)

        yield update
