"""``jitwarm run -- python script.py ARGS``: a whole program in fresh processes, every
framework's compile hooks on, as ``python -m cProfile`` or ``py-spy record --`` are used."""

from __future__ import annotations

import json as _json
import sys
from typing import Annotated

import typer
from rich.markup import escape

from jitwarm._errors import JitwarmError, UsageError


def register(app: typer.Typer) -> None:
    @app.command("run", context_settings={"allow_extra_args": True,
                                          "ignore_unknown_options": True})
    def run(
        ctx: typer.Context,
        processes: Annotated[int, typer.Option("--processes", "-n", help="Fresh processes per cache state.")] = 3,
        cache: Annotated[str, typer.Option("--cache", help="Cache states to run: cold,cached.")] = "cold,cached",
        timeout: Annotated[float, typer.Option("--timeout", help="Kill a run of the script after this many seconds.")] = 600.0,
        json: Annotated[str | None, typer.Option("--json", help="Write the result JSON here ('-' for stdout).")] = None,
        html: Annotated[str | None, typer.Option("--html", help="Write an HTML report with the program's waterfall here.")] = None,
        top: Annotated[int, typer.Option("--top", help="Compile units to list, longest first.")] = 15,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No table, no progress bar.")] = False,
    ) -> None:
        """Run an unmodified script in fresh processes with every compile hook on:
        wall time, imports, every compile unit ranked with where it was triggered,
        per-framework totals, and what a warm cache saves.

        Usage: jitwarm run [OPTIONS] -- python script.py ARGS  (or -- python -m MODULE ARGS)
        """
        from jitwarm.cli.main import _fail, _say, keep_partial
        from jitwarm.measure.program import ProgramRunner
        from jitwarm.measure.runner import parse_states
        from jitwarm.measure.spawn import exit_code, signal_name
        from jitwarm.report import check_output_paths
        from jitwarm.report.terminal import console, print_program, progress_bar
        from jitwarm.results.profile import save_or_rescue

        try:
            if top < 0:
                raise UsageError("--top must be 0 or more")
            check_output_paths(None, html)
            states = parse_states(cache)
            runner = ProgramRunner(list(ctx.args), processes=processes, states=states,
                                   timeout_s=timeout)
        except JitwarmError as exc:
            raise _fail(exc) from None
        err = console(stderr=True)
        try:
            with progress_bar(err, processes * len(states),
                              enabled=err.is_terminal and not quiet) as prog:
                runner.progress = prog
                result = runner.run()
        except KeyboardInterrupt as exc:
            where = keep_partial(_json.dumps(runner.result, indent=1), json)
            _say(f"[yellow]interrupted[/yellow] ({signal_name(exc)}): the script's processes "
                 f"were ended; what finished was written to {escape(where)}")
            raise typer.Exit(exit_code(exc)) from None
        out = console(stderr=json == "-")
        if not quiet:
            print_program(out, result, top=top)
        try:
            if json == "-":
                sys.stdout.write(_json.dumps(result, indent=1) + "\n")
            elif json:
                path = save_or_rescue(json, _json.dumps(result, indent=1))
                if not quiet:
                    out.print(f"JSON written to {escape(str(path))}")
            if html:
                from jitwarm.report.html import write_program_html

                path = write_program_html(result, html)
                if not quiet:
                    out.print(f"HTML report written to {escape(str(path))}")
        except (JitwarmError, OSError) as exc:
            raise _fail(exc if isinstance(exc, JitwarmError) else UsageError(str(exc))) from None
        failed = next((p for st in result["states"].values() for p in st["processes"]
                       if p.get("status") != "ok"), None)
        if failed is not None:
            tb = failed.get("traceback") or failed.get("output_tail") or ""
            if tb:
                err.print(tb.rstrip()[-4000:], markup=False, highlight=False)
            err.print(f"[red]error:[/red] {failed.get('state')} process "
                      f"{int(failed.get('index', 0)) + 1}: "
                      f"{escape(str(failed.get('message') or failed.get('error')))}")
            raise typer.Exit(1)
