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

from jitwarm._errors import shown
from jitwarm._units import fmt_ns, fmt_ratio, fmt_warm_ci
from jitwarm.results.findings import cache_saves_sentence
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


def _where(location: str | None, limit: int = 60) -> str:
    """A unit's trigger location, shortened to its last path parts."""
    if not location:
        return "–"
    path, _, rest = location.partition(":")
    parts = path.split(os.sep)
    short = os.sep.join(parts[-2:]) + (":" + rest if rest else "")
    return short if len(short) <= limit else "…" + short[-(limit - 1):]


def compiles_table(units: Sequence[dict[str, Any]], title: str, top: int = 15,
                   total: int | None = None, calls: bool = True) -> Table:
    """The compile units ranked by time: what compiled (``load``: read from a disk cache),
    where it was triggered, its cache state; ``calls``: the call it happened in."""
    t = Table(title=title, title_justify="left")
    cols = ["framework", "compiled", "kind", "module", "×", "time", "share", "cache",
            *(["call"] if calls else []), "triggered at"]
    for col in cols:
        t.add_column(col, justify="right" if col in ("×", "time", "share", "call") else "left")
    for u in list(units)[:top]:
        call = u.get("call")
        # a share of the first call only for what happened in it (a program: of its run)
        share = (f"{100 * u['duration_ns'] / total:.0f} %"
                 if total and (call == 0 or not calls) else "–")
        kind = str(u.get("kind")) + (" (recompile)" if u.get("recompile") else "")
        t.add_row(escape(str(u["framework"])), escape(shown(str(u["name"]), 50)),
                  escape(kind), escape(shown(str(u.get("module") or "–"), 40)),
                  f"{u.get('per_process', 1):g}", fmt_ns(u["duration_ns"]), share,
                  escape(str(u.get("cache") or "–")),
                  *([("setup" if call is None else str(call))] if calls else []),
                  escape(_where(u.get("location"))))
    if len(units) > top:
        t.caption = f"{len(units) - top} more unit(s) in the JSON"
    return t


def print_program(con: Console, result: dict[str, Any], top: int = 15) -> None:
    """A ``jitwarm run`` result: per state, the wall time and its parts, then the compile
    units ranked by time, then what a warm cache saves."""
    t = Table(title=f"jitwarm run: {escape(shown(' '.join(result['argv']), 100))}",
              title_justify="left")
    for col in ("state", "processes", "wall", "interpreter", "imports", "compile",
                "by framework", "exit"):
        t.add_column(col, justify="left" if col in ("state", "by framework") else "right")
    for name, st in result["states"].items():
        s = st.get("summary") or {}
        fw = ", ".join(f"{k} {fmt_ns(v)}" for k, v in
                       (s.get("compile_ns_by_framework") or {}).items()) or "nothing compiled"
        codes = sorted({str(p.get("exit_code", p.get("status"))) for p in st["processes"]})
        t.add_row(escape(name), f"{s.get('processes_ok', 0)}/{s.get('processes', 0)} ok",
                  fmt_ns(s.get("wall_ns")), fmt_ns(s.get("interpreter_ns")),
                  fmt_ns(s.get("import_ns")), fmt_ns(s.get("compile_ns")), escape(fw),
                  escape(", ".join(codes)))
    con.print(t)
    cold = (result["states"].get("cold") or next(iter(result["states"].values()), {}))
    s = cold.get("summary") or {}
    if s.get("units"):
        con.print(compiles_table(s["units"], "top compiles (first state, median per process)",
                                 top, s.get("run_ns"), calls=False))
    saved = result.get("cache_saves_ns")
    if saved is not None:
        con.print(f"• {cache_saves_sentence(saved)} "
                  f"({fmt_ns(result['states']['cold']['summary'].get('wall_ns'))} cold → "
                  f"{fmt_ns(result['states']['cached']['summary'].get('wall_ns'))} cached)")
    for why in result.get("skipped_states", {}).values():
        con.print(f"• state 'cached' skipped: {escape(why)}")
    switches = {k: v for st in result["states"].values() for p in st["processes"]
                for k, v in (p.get("cache_switches") or {}).items()}
    for line in uncached_lines(s.get("units") or [], switches):
        con.print(f"• {escape(line)}")


def uncached_lines(units: Sequence[dict[str, Any]],
                   switches: dict[str, str] | None = None) -> list[str]:
    """Which compile units no disk cache can hold, grouped by module, and the library's
    own switch where the measured process found one (``switches``: package → call)."""
    from jitwarm.results.compiled import uncached

    out = []
    for (fw, module), n in sorted(uncached(list(units)).items(), key=lambda kv: -kv[1]):
        if fw == "numba":
            switch = (switches or {}).get(module.split(".")[0])
            offer = (f"the library offers {shown(switch, 60)} to cache them" if switch else
                     "look for a switch in the library; else @njit(cache=True) in its source")
            out.append(f"{n} Numba function(s) in {shown(module, 60)} were compiled without "
                       f"cache=True: no disk cache keeps them ({offer})")
        else:
            out.append(f"{n} {fw} unit(s) in {shown(module, 60)} were compiled with no "
                       "disk cache in use")
    return out


def nodes_table(result: ProfileResult) -> Table | None:
    """Where each process ran, when not on this machine (``--executor ray``): its state,
    node (the Ray node id, shortened), host, status and first call; None for a local run."""
    rows = [(name, p) for name, st in result.states.items() for p in st.get("processes", [])]
    if not any(p.get("executor") not in (None, "local") for _, p in rows):
        return None
    t = Table(title="where the processes ran", title_justify="left")
    for col in ("state", "process", "node", "host", "status", "first call"):
        t.add_column(col, justify="right" if col in ("process", "first call") else "left")
    for name, p in rows:
        t.add_row(escape(name), str(int(p.get("index") or 0) + 1),
                  escape(shown(str(p.get("node") or "–"), 13)),
                  escape(shown(str(p.get("host") or "–"), 40)),
                  escape(str(p.get("status"))),
                  fmt_ns(p.get("first_call_ns")) if p.get("status") == "ok" else "–")
    return t


def print_result(con: Console, result: ProfileResult) -> None:
    con.print(state_table(result))
    nodes = nodes_table(result)
    if nodes is not None:
        con.print(nodes)
    cold = result.summary("cold") or result.summary("in-process") or {}
    units = cold.get("compiled") or []
    if len(units) > 1 or (units and units[0].get("location")):  # not just the bare callable
        con.print(compiles_table(units, "top compiles (cold, median per process)", 10,
                                 cold.get("first_call_ns")))
    switches = {k: v for st in result.states.values() for p in st.get("processes", [])
                for k, v in (p.get("cache_switches") or {}).items()}
    for line in uncached_lines(units, switches):
        con.print(f"• {escape(line)}")
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
