"""Report and history commands: ``jitwarm report`` and ``jitwarm history ...``.

Registered on the main app by :func:`register`. Every user error (bad result file, newer
schema, unusable history database, unknown run): one message, exit code 2.
"""

from __future__ import annotations

import io
import json as _json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from jitwarm._errors import JitwarmError, UsageError, shown
from jitwarm._units import fmt_ns
from jitwarm.report.terminal import console, print_result
from jitwarm.results.stats import PRACTICAL_MARGIN

DbOpt = Annotated[str | None, typer.Option("--db", help="History database (default: "
                                           "$JITWARM_HOME/history.db or "
                                           "~/.local/share/jitwarm/history.db).")]


def _fail(err: JitwarmError) -> typer.Exit:
    # the message may carry strings from a file: no terminal control, no flood
    console(stderr=True).print(f"[red]error:[/red] {escape(shown(err, 1000))}",
                               highlight=False, soft_wrap=True)
    return typer.Exit(err.exit_code)


#: what a presenter raises on a value no check foresaw: still bad input, not a crash
_MALFORMED = (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError,
              RecursionError)


def _malformed(source: str, exc: BaseException) -> UsageError:
    return UsageError(f"{shown(source)}: the result has a field jitwarm cannot use "
                      f"({type(exc).__name__}: {shown(exc, 120)})")


def report(
    files: Annotated[list[str], typer.Argument(help="Result JSON file(s) from jitwarm profile "
                                                     "--json or the demo.")],
    output: Annotated[str, typer.Option("--output", "-o", help="HTML file to write.")]
    = "jitwarm-report.html",
    plot: Annotated[str | None, typer.Option("--plot", help="Also write the plots (.png or "
                                                            ".svg).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing.")] = False,
) -> None:
    """Write a self-contained HTML report (and optionally plots) from result files."""
    from jitwarm.report import check_output_paths, emit_outputs, load_results

    try:
        check_output_paths(plot, output)
        if _other_result(files, output, plot, quiet):
            return
        results = [r for f in files for r in load_results(f)]
        try:
            emit_outputs(results, plot=plot, html=output, db=None, store=False,
                         console=console(), quiet=quiet)
        except _MALFORMED as exc:
            raise _malformed(", ".join(files), exc) from None
    except JitwarmError as exc:
        raise _fail(exc) from None


def _other_result(files: list[str], output: str, plot: str | None, quiet: bool) -> bool:
    """A strategies A/B or a ``jitwarm run`` result gets its own page (one file at a time);
    returns whether ``files`` was one."""
    from jitwarm.report.html import write_other_html
    from jitwarm.results.profile import read_json

    other = {"jitwarm.strategies/1", "jitwarm.run/1"}
    datas = [read_json(f) for f in files]
    kinds = [d.get("schema") if isinstance(d, dict) else None for d in datas]
    if not any(k in other for k in kinds):
        return False
    if len(files) != 1 or plot:
        raise UsageError("a strategies or `jitwarm run` result is reported alone, one file "
                         "at a time, without --plot")
    path = write_other_html(datas[0], output)
    if not quiet:
        console().print(f"HTML report written to {escape(str(path))}")
    return True


history = typer.Typer(
    help="Stored runs: list, show, compare, export. Every `jitwarm profile` run is stored "
         "(unless --no-history).",
    no_args_is_help=True,
    add_completion=False,
)


def _ref_data(h: Any, ref: str) -> tuple[str, dict[str, Any]]:
    """A run id (or 'latest', -1, ...) from the history, or a result JSON file."""
    from jitwarm.results.profile import check_schema
    from jitwarm.store.history import is_run_ref

    p = Path(ref)
    if not is_run_ref(ref) and p.suffix == ".json":
        from jitwarm.report import load_results

        rs = load_results(p)
        if len(rs) != 1:
            raise UsageError(f"{shown(ref)} holds {len(rs)} results; compare needs one")
        return p.name, rs[0].to_dict()
    run = h.get(ref)
    try:
        check_schema(run.data)
    except UsageError as exc:
        raise UsageError(f"run {run.id} in {shown(h.path)}: {exc}") from None
    return f"#{run.id}", run.data or {}


@history.command("list")
def history_list(
    db: DbOpt = None,
    case: Annotated[str | None, typer.Option("--case", help="Only runs of this case name.")]
    = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many of the newest runs "
                                                             "(0: all).")] = 20,
    json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")] = False,
) -> None:
    """One stored run per line, its integer ID first (oldest first, newest last)."""
    from rich import box
    from rich.table import Table

    from jitwarm.store.history import History, NoHistory

    try:
        with History(db, create=False) as h:
            runs = h.list(case=case, limit=limit or None)
            path = h.path
    except NoHistory as exc:
        if json:
            sys.stdout.write("[]\n")
        else:
            console().print(escape(str(exc)), highlight=False)
        return
    except JitwarmError as exc:
        raise _fail(exc) from None
    if json:
        sys.stdout.write(_json.dumps([r.to_dict() for r in runs], indent=1) + "\n")
        return
    con = console()
    if not runs:
        con.print(f"no runs stored in {escape(shown(path))}")
        return
    plain = not con.is_terminal  # pipes: one plain line per run, the ID first
    t = Table(title=None if plain else f"jitwarm history ({escape(shown(path))})",
              title_justify="left",
              box=None if plain else box.HEAVY_HEAD, pad_edge=not plain)
    for col in ("ID", "stored (UTC)", "case", "framework", "status", "cold first call",
                "compile", "warm median", "verdict", "git"):
        t.add_column(col, justify="right" if col in ("cold first call", "compile", "warm median")
                     or (col == "ID" and not plain) else "left")
    for r in runs:
        s = r.summary.get("cold") or r.summary.get("in-process") or {}
        warm = s or r.summary.get("cached") or {}
        try:
            cells = (str(r.id), (r.stored_at or "").replace("T", " ")[:19]
                     .replace("+00:00", ""), str(r.case_name), str(r.framework or "–"),
                     str(r.status), fmt_ns(s.get("first_call_ns")), fmt_ns(s.get("compile_ns")),
                     fmt_ns(warm.get("warm_median_ns")), str(warm.get("classification", "–")),
                     r.git_label())
        except _MALFORMED:  # a summary no jitwarm wrote: list the run, not its numbers
            cells = (str(r.id), str(r.stored_at), str(r.case_name), str(r.framework or "–"),
                     str(r.status), "?", "?", "?", "?", "?")
        t.add_row(*(escape(shown(c, 80)) for c in cells))
    con.print(t)


@history.command("show")
def history_show(
    run_id: Annotated[str, typer.Argument(metavar="ID", help="Run ID, 'latest' or 'latest~N'.")],
    db: DbOpt = None,
) -> None:
    """A stored run: where and when it ran, its tables and findings."""
    from jitwarm.store.history import History

    try:
        with History(db, create=False) as h:
            run = h.get(run_id)
        result = run.result()
    except JitwarmError as exc:
        raise _fail(exc) from None
    con = console()
    con.print(f"[bold]run {run.id}[/bold]: {escape(shown(run.case_name))} "
              f"({escape(shown(run.target))}) stored {escape(shown(run.stored_at))} on "
              f"{escape(shown(run.host or '?'))}", highlight=False)
    con.print(f"git: {shown(run.git_commit or 'not a git work tree')}"
              + (" (uncommitted changes)" if run.git_dirty else "")
              + f" · cwd: {shown(run.cwd)}", highlight=False, markup=False)
    try:
        print_result(con, result)
    except _MALFORMED as exc:
        raise _fail(_malformed(f"run {run.id}", exc)) from None


@history.command("compare")
def history_compare(
    a: Annotated[str, typer.Argument(metavar="A", help="Baseline: run ID, 'latest', 'latest~1' "
                                                       "(the one before), or a result .json "
                                                       "file.")],
    b: Annotated[str, typer.Argument(metavar="B", help="Contender, the same way.")],
    db: DbOpt = None,
    alpha: Annotated[float, typer.Option("--alpha", help="1 - the confidence of the intervals "
                                                         "(0.05: 95% intervals, from the "
                                                         "Mann-Whitney U test).")] = 0.05,
    min_effect: Annotated[float, typer.Option("--min-effect", help="Practical margin: a change "
                                                                   "counts only when its whole "
                                                                   "interval lies beyond it "
                                                                   "(0.05 = 5%).")]
    = PRACTICAL_MARGIN,
    json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")] = False,
    fail_on_regression: Annotated[bool, typer.Option(
        "--fail-on-regression", help="Exit 1 when any metric got significantly slower.")]
    = False,
    fail_on: Annotated[list[str] | None, typer.Option(
        "--fail-on", metavar="GATE",
        help="Exit 1 when a gate fails (repeatable, or comma-separated): counters "
             "'compiles@cached>0', 'cache_misses+0', 'recompiles+0', 'compiled_units+0', "
             "'first_call_instructions:+2%'; wall time, failing only when the interval's "
             "lower bound exceeds the limit: 'first_call:+10%', 'warm_median+50ns', "
             "'first_call>500ms'. See docs/reports.md.")] = None,
) -> None:
    """Two runs side by side per metric, and whether each changed significantly."""
    from rich.table import Table

    from jitwarm.store.history import (
        History,
        check_gates,
        compare_runs,
        environment_differences,
        parse_gates,
    )

    if not 0 < alpha < 1:
        raise _fail(UsageError("--alpha must be between 0 and 1"))
    if min_effect < 0:
        raise _fail(UsageError("--min-effect must be >= 0"))
    try:
        gates = parse_gates(fail_on or [])
    except JitwarmError as exc:
        raise _fail(exc) from None
    try:
        from jitwarm.store.history import is_run_ref

        needs_db = any(is_run_ref(x) or Path(x).suffix != ".json" for x in (a, b))
        if needs_db:
            with History(db, create=False) as h:
                la, da = _ref_data(h, a)
                lb, db_ = _ref_data(h, b)
        else:
            la, da = _ref_data(None, a)
            lb, db_ = _ref_data(None, b)
    except JitwarmError as exc:
        raise _fail(exc) from None
    try:
        rows = compare_runs(da, db_, alpha=alpha, min_effect=min_effect)
        caveats = environment_differences(da, db_)
        checks = check_gates(gates, da, db_, confidence=1 - alpha)
    except _MALFORMED as exc:
        raise _fail(_malformed(f"{la} or {lb}", exc)) from None
    ca, cb = (da.get("case") or {}).get("name"), (db_.get("case") or {}).get("name")
    if ca != cb:
        caveats.insert(0, f"different cases: {ca} vs {cb}")
    slower = [m for m in rows if m.verdict == "slower"]
    if json:
        out: dict[str, Any] = {"a": la, "b": lb, "alpha": alpha, "min_effect": min_effect,
                               "metrics": [m.to_dict() for m in rows], "caveats": caveats}
        if gates:
            out["gates"] = [c.to_dict() for c in checks]
        sys.stdout.write(_json.dumps(out, indent=1) + "\n")
    else:
        con = console()
        t = Table(title=escape(f"{shown(la)} ({shown(ca)}) → {shown(lb)} ({shown(cb)})"),
                  title_justify="left")
        level = f"{1 - alpha:.0%}"
        for col in ("metric", "A", "B", "change", f"{level} CI", "p", "verdict"):
            t.add_column(col, justify="left" if col in ("metric", "verdict") else "right")
        for m in rows:
            calls = m.key == "steady_state_call"
            style = {"slower": "red", "faster": "green"}.get(m.verdict, "")
            verdict = m.verdict + (f" ({m.note})" if m.note else "")
            if style:
                verdict = f"[{style}]{verdict}[/{style}]"
            t.add_row(
                m.label, _show(m.median_a, calls) + f" (n={len(m.a)})",
                _show(m.median_b, calls) + f" (n={len(m.b)})",
                "–" if m.change is None else f"{m.change:+.1%}", _ci_cell(m),
                "–" if m.p_value is None else f"{m.p_value:.3g}", verdict,
            )
        con.print(t)
        con.print(f"Medians of per-process values; {level} CI of the change from every "
                  f"process (Hodges-Lehmann, Mann-Whitney U); a change counts only when the "
                  f"whole interval lies beyond ±{min_effect:.0%}.", highlight=False)
        for c in caveats:
            con.print(f"[yellow]caveat:[/yellow] {escape(shown(c))}", highlight=False)
        if checks:
            con.print(_gates_table(checks))
    if (fail_on_regression and slower) or any(c.failed for c in checks):
        raise typer.Exit(1)


def _ci_cell(m: Any) -> str:
    """The change's interval, or why there is none."""
    from jitwarm._units import NO_INTERVAL

    if m.change_ci is not None:
        return f"{m.change_ci[0]:+.1%} … {m.change_ci[1]:+.1%}"
    if m.verdict == "n/a":
        return "–"
    if min(len(m.a), len(m.b)) == 1:
        return NO_INTERVAL
    return "no interval" if m.ci_level is None else "see note"


def _gates_table(checks: list[Any]) -> Any:
    """The ``--fail-on`` gates: one row per gate and cache state."""
    from rich.table import Table

    t = Table(title="gates (--fail-on)", title_justify="left")
    for col in ("gate", "state", "A", "B", "basis", "result"):
        t.add_column(col, justify="right" if col in ("A", "B") else "left")
    for c in checks:
        style = {"ok": "green", "undecided": "yellow"}.get(c.status, "red")
        result = "FAILED" if c.status == "failed" else c.status
        t.add_row(escape(shown(c.gate.text, 80)), c.state or "–", c.gate.fmt(c.a),
                  c.gate.fmt(c.b), escape(c.basis), f"[{style}]{result}[/{style}]")
    return t


def _show(v: float | None, calls: bool) -> str:
    if v is None:
        return "–"
    return f"{v:,.0f}" if calls else fmt_ns(v)


@history.command("export")
def history_export(
    run_id: Annotated[str, typer.Argument(metavar="ID", help="Run ID, 'latest' or 'latest~N'.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="json, pyperf, csv or html.")]
    = "json",
    output: Annotated[str | None, typer.Option("--output", "-o", help="File to write ('-': "
                                                                      "stdout, json/csv).")]
    = None,
    db: DbOpt = None,
) -> None:
    """Export a stored run: its result JSON, a pyperf file, the per-call CSV, or HTML."""
    from jitwarm.store.history import History, export_csv, export_pyperf

    fmt = fmt.lower()
    if fmt not in ("json", "pyperf", "csv", "html"):
        raise _fail(UsageError(f"--format must be json, pyperf, csv or html, not {fmt!r}"))
    if output is None:
        if fmt in ("pyperf", "html"):
            raise _fail(UsageError(f"--format {fmt} needs -o FILE"))
        output = "-"
    if output == "-" and fmt in ("pyperf", "html"):
        raise _fail(UsageError(f"--format {fmt} cannot go to stdout; give -o FILE"))
    from jitwarm.results.profile import check_output_path, write_atomic

    try:
        check_output_path(output, "--output")
        with History(db, create=False) as h:
            run = h.get(run_id)
        data = run.data or {}
        err = console(stderr=True)
        if fmt == "json":
            text = _json.dumps(data, indent=1) + "\n"
            if output == "-":
                sys.stdout.write(text)
            else:
                write_atomic(output, text)
        elif fmt == "csv":
            if output == "-":
                export_csv(data, sys.stdout)
            else:
                buf = io.StringIO(newline="")
                export_csv(data, buf)
                write_atomic(output, buf.getvalue())
        elif fmt == "pyperf":
            for note in export_pyperf(data, output):
                err.print(f"[yellow]note:[/yellow] {escape(shown(note))}", highlight=False)
        else:
            from jitwarm.report.html import write_html

            write_html(run.result(), output)
        if output != "-":
            err.print(f"run {run.id} exported as {fmt} to {escape(shown(output))}",
                      highlight=False)
    except OSError as exc:
        raise _fail(UsageError(f"cannot write {shown(output)}: {exc.strerror or exc}")) from None
    except JitwarmError as exc:
        raise _fail(exc) from None
    except _MALFORMED as exc:
        raise _fail(_malformed(f"run {run_id}", exc)) from None


def register(app: typer.Typer) -> None:
    """Add ``report`` and the ``history`` group to the main app."""
    app.command("report")(report)
    app.add_typer(history, name="history")
