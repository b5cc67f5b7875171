"""The ``jitwarm sweep`` command: compile cost of each new shape/signature, one process."""

from __future__ import annotations

import json as _json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from jitwarm._errors import CaseError, JitwarmError


def sweep_table(result: dict[str, Any]) -> Table:
    """One row per input set: first call, its compile part and reason, warm call, specialisations."""
    from rich.markup import escape

    from jitwarm._errors import shown
    from jitwarm._units import fmt_ns
    from jitwarm.cases.targets import LABEL_CHARS

    case = result.get("case", {})
    table = Table(title=f"{case.get('name')}: compile cost per input set "
                        f"({result.get('framework')}, one fresh process)")
    for col in ("input set", "first call", "compile", "compiles (reason)", "warm call",
                "specialisations", "called again"):
        table.add_column(col, justify="left" if col in ("input set", "compiles (reason)") else "right")
    revisit = {r["index"]: r for r in result.get("revisit", [])}
    for row in result.get("sets", []):
        compiles = row.get("compiles") or []
        if compiles:
            reasons = "; ".join(
                f"{c.get('reason') or c.get('kind')}" + (f" [{c['cache']}]" if c.get("cache") else "")
                for c in compiles
            )
            what = f"{len(compiles)}: {reasons}"
        else:
            what = "none (reused a specialisation)"
        again = revisit.get(row["index"], {})
        again_txt = fmt_ns(again.get("call_ns"))
        if again.get("compiles"):
            again_txt += " (recompiled)"
        # the label comes from the case (its own words, or its arguments): one short line
        label = escape(shown(row.get("label"), LABEL_CHARS))
        table.add_row(label, fmt_ns(row["first_call_ns"]), fmt_ns(row.get("compile_ns")),
                      what, fmt_ns(row.get("warm_median_ns")),
                      str(row.get("specializations") if row.get("specializations") is not None else "-"),
                      again_txt)
    return table


def register(app: typer.Typer) -> None:
    """Add the ``sweep`` command to the jitwarm CLI."""

    @app.command()
    def sweep(
        target: Annotated[str, typer.Argument(help="FILE.py, FILE.py::CASE or package.module:CASE")],
        shapes: Annotated[str | None, typer.Option(
            "--shapes", help="Input shapes passed to the case's shapes= parameter, e.g. "
                             "32,64 or 32x64,64x64 (default: the case's jitwarm.inputs).")] = None,
        calls: Annotated[int, typer.Option("--calls", help="Warm calls per input set.")] = 20,
        threads: Annotated[int | None, typer.Option(
            "--threads", help="Framework threads in the measured process.")] = None,
        timeout: Annotated[float, typer.Option("--timeout", help="Kill the process after this many seconds.")] = 600.0,
        json: Annotated[str | None, typer.Option("--json", help="Write the sweep JSON here ('-' for stdout).")] = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No table.")] = False,
    ) -> None:
        """Compile cost and specialisations of each new input shape/signature (one fresh process)."""
        from jitwarm.cases.targets import resolve_target
        from jitwarm.measure.spawn import check_seconds, exit_code, signal_name
        from jitwarm.measure.sweep import parse_shapes, run_sweep
        from jitwarm.report.terminal import console

        err = console(stderr=True)
        try:
            if threads is not None and threads < 1:
                from jitwarm._errors import UsageError

                raise UsageError("--threads must be at least 1")
            check_seconds(timeout, "--timeout")
            parsed = parse_shapes(shapes) if shapes is not None else None
            tgt = resolve_target(target)
            if not quiet and err.is_terminal:
                err.print(f"[bold]sweeping[/bold] {target} in one fresh process")
            result = run_sweep(tgt, shapes=parsed, warm_calls=calls, threads=threads,
                               timeout_s=timeout)
        except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, SIGHUP (_spawn.Terminated)
            # a sweep is one process: its input sets are only reported when it ends
            try:
                err.print(f"[yellow]interrupted[/yellow] ({signal_name(exc)}): the sweep "
                          "process was ended before it finished; a sweep is one process, "
                          "so nothing was measured to keep and no JSON was written")
            except (OSError, ValueError):
                pass
            raise typer.Exit(exit_code(exc)) from None
        except CaseError as exc:
            if exc.traceback:
                err.print(exc.traceback.rstrip(), markup=False, highlight=False)
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
        except JitwarmError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(exc.exit_code) from None
        out = console(stderr=json == "-")
        if not quiet:
            out.print(sweep_table(result))
            for note in result.get("notes", []):
                out.print(f"• {note}")
        if json == "-":
            sys.stdout.write(_json.dumps(result, indent=1) + "\n")
        elif json:
            from jitwarm.results.profile import save_or_rescue

            try:
                save_or_rescue(json, _json.dumps(result, indent=1))
            except JitwarmError as exc:
                err.print(f"[red]error:[/red] {exc}")
                raise typer.Exit(exc.exit_code) from None
            out.print(f"JSON written to {json}")
