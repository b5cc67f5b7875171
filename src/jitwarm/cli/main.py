"""The ``jitwarm`` command line (typer). Every user error: one message, exit code 2."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.markup import escape

from jitwarm._errors import JitwarmError, UsageError
from jitwarm.cases.targets import resolve_target
from jitwarm.measure.process import Settings
from jitwarm.measure.runner import RunInterrupted, Runner, parse_states
from jitwarm.report.framework_table import framework_table
from jitwarm.report.terminal import console, print_result, progress_bar, summary_table
from jitwarm.results.profile import ProfileResult, save_or_rescue

app = typer.Typer(
    name="jitwarm",
    help="Measure, explain and eliminate JIT warmup.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

#: the demo's cases, each run only when its framework is installed
DEMO_CASES = (
    ("jitwarm.examples.numba_cases:poly", "numba"),
    ("jitwarm.examples.numba_cases:array_kernel", "numba"),
    ("jitwarm.examples.torch_cases:mlp", "torch"),
    ("jitwarm.examples.jax_cases:mlp", "jax"),
    ("jitwarm.examples.onnx_cases:mlp", "onnxruntime"),
)


def _fail(err: JitwarmError) -> typer.Exit:
    console(stderr=True).print(f"[red]error:[/red] {escape(str(err))}")
    return typer.Exit(err.exit_code)


def _write_json(result: ProfileResult, dest: str | None, con: Any, quiet: bool = False) -> None:
    if not dest:
        return
    if dest == "-":
        sys.stdout.write(result.to_json() + "\n")
        return
    try:
        path = save_or_rescue(dest, result.to_json())
    except UsageError as exc:  # remember where the rescue went, for later messages
        exc.rescued = str(exc).rsplit("the result was saved to ", 1)[-1]  # type: ignore[attr-defined]
        raise
    if not quiet:
        con.print(f"JSON written to {path}")


def _check_numbers(*, processes: int, calls: int, max_time: float, timeout: float,
                   threads: int | None, rounds: int) -> None:
    """Every numeric option of ``profile``, before anything runs (nan, inf and negative
    seconds are refused: nan would disable the hang kill)."""
    from jitwarm.measure.spawn import check_seconds

    if processes < 1:
        raise UsageError("--processes must be at least 1")
    if calls < 2:
        raise UsageError("--calls must be at least 2")
    check_seconds(max_time, "--max-time")
    check_seconds(timeout, "--timeout")
    if threads is not None and threads < 1:
        raise UsageError("--threads must be at least 1")
    if rounds < 1:
        raise UsageError("--rounds must be at least 1")


def _run(target: str, *, processes: int, calls: int, max_time: float, cache: str,
         timeout: float, quiet: bool, threads: int | None = None,
         gc_freeze: bool = False, launcher: Any = None) -> ProfileResult:
    """Resolve and run one target with a progress bar; raises JitwarmError/RunInterrupted."""
    if calls < 2:
        raise UsageError("--calls must be at least 2")
    from jitwarm.measure.spawn import check_seconds

    check_seconds(max_time, "--max-time")
    states = parse_states(cache)
    tgt = resolve_target(target)
    if threads is not None and threads < 1:
        raise UsageError("--threads must be at least 1")
    settings = Settings(max_calls=calls, max_time_s=max_time, min_calls=min(50, calls),
                        threads=threads, gc_freeze=gc_freeze)
    err = console(stderr=True)
    total = processes * len(states)
    with progress_bar(err, total, enabled=err.is_terminal and not quiet) as prog:
        runner = Runner(tgt, processes=processes, states=states, settings=settings,
                        timeout_s=timeout, progress=prog, launcher=launcher)
        return runner.run()


def _finish(result: ProfileResult, json_dest: str | None, quiet: bool) -> int:
    """Print, write JSON, and turn the result's status into an exit code."""
    out = console(stderr=json_dest == "-")
    if not quiet:
        print_result(out, result)
    _write_json(result, json_dest, out, quiet)
    if result.status == "error" and result.error:
        err = console(stderr=True)
        tb = result.error.get("traceback") or ""
        if tb:
            err.print(tb.rstrip(), markup=False, highlight=False)
        err.print(f"[red]error:[/red] {escape(str(result.error.get('message')))}")
        return 1
    failed = [s for s in result.states.values() if s["summary"]["processes_ok"] == 0]
    return 1 if failed else 0


ProcessesOpt = Annotated[int, typer.Option("--processes", "-n", help="Fresh processes per cache state.")]
CallsOpt = Annotated[int, typer.Option("--calls", help="Cap on the warm series length per process.")]
MaxTimeOpt = Annotated[float, typer.Option("--max-time", help="Cap on each process's warm series, seconds.")]
CacheOpt = Annotated[str, typer.Option("--cache", help="Cache states to run: cold,cached (cached alone: one unreported cold process fills the cache first).")]
TimeoutOpt = Annotated[float, typer.Option("--timeout", help="Kill a worker process after this many seconds.")]
JsonOpt = Annotated[str | None, typer.Option("--json", help="Write the result JSON here ('-' for stdout).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No table, no progress bar.")]
PlotOpt = Annotated[str | None, typer.Option("--plot", help="Write the plots here (.png or .svg).")]
HtmlOpt = Annotated[str | None, typer.Option("--html", help="Write a self-contained HTML report here.")]
DbOpt = Annotated[str | None, typer.Option("--db", help="History database (default: $JITWARM_HOME/history.db or ~/.local/share/jitwarm/history.db).")]
ThreadsOpt = Annotated[int | None, typer.Option("--threads", help="Framework threads in each worker (torch/OMP/MKL/Numba); default: the framework's own.")]
def _strategies_help() -> str:
    from jitwarm.caches.strategies import strategies_help

    return strategies_help()


StrategiesOpt = Annotated[str | None, typer.Option("--strategies", help="A/B of warmup elimination instead of cache states, comma-separated: " + _strategies_help())]
GcFreezeOpt = Annotated[bool, typer.Option("--gc-freeze", help="Call gc.freeze() in each worker after setup, before the first call (as a service would after loading), to measure what garbage collection costs the first call.")]
RoundsOpt = Annotated[int, typer.Option("--rounds", help="With --strategies: repeat the whole A/B this many times and pool the processes, so the strategies interleave in time (use on a busy machine).")]
RemoteCacheOpt = Annotated[str | None, typer.Option("--remote-cache", help="With --strategies remote-cache: the Redis server the replicas share, redis://HOST:PORT (a /DB number may follow); checked before anything runs.")]
NoHistoryOpt = Annotated[bool, typer.Option("--no-history", help="Do not store the run in the history.")]


def _launchers_help() -> str:
    from jitwarm.measure.launchers import REGISTRY

    return "; ".join(f"{k}: {v.help}" for k, v in REGISTRY.items())


ExecutorOpt = Annotated[str, typer.Option("--executor", help="Where the measured processes run: " + _launchers_help())]
JobsOpt = Annotated[int | None, typer.Option("--jobs", "-j", help="With --executor ray: processes at once (default 1; processes at once on one node share its cores).")]
RayAddressOpt = Annotated[str | None, typer.Option("--ray-address", help="With --executor ray: the Ray cluster to connect to (HOST:PORT, ray://HOST:10001 or auto); default: a local Ray for the run.")]


def _say(text: str) -> None:
    """A line on stderr that never fails (after SIGHUP the terminal may be gone)."""
    try:
        console(stderr=True).print(text)
    except (OSError, ValueError):
        pass


def keep_partial(text: str, dest: str | None) -> str:
    """Write an interrupted command's partial JSON to ``dest`` ('-': stdout), or, when none
    was asked for or it cannot be written, to a new rescue file in the temp directory.
    Returns where it went, for the message."""
    import tempfile

    from jitwarm.results.profile import unsaved_path, write_atomic

    if dest == "-":
        try:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
            return "stdout"
        except (OSError, ValueError):
            pass
    elif dest:
        try:
            return str(write_atomic(dest, text))
        except OSError as exc:
            _say(f"[red]error:[/red] cannot write {escape(_short(dest))} "
                 f"({escape(exc.strerror or str(exc))})")
    return str(write_atomic(unsaved_path(tempfile.gettempdir()), text))


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _keep_interrupted(exc: RunInterrupted, json: str | None, db: str | None,
                      no_history: bool) -> None:
    """An interrupted profile: keep what finished (JSON, history) and say where."""
    from jitwarm.report import emit_outputs

    result = exc.result
    finished = sum(1 for st in result.states.values() for p in st["processes"]
                   if p.get("status") == "ok")
    where: list[str] = []
    written = None
    if json or (finished and no_history):
        written = keep_partial(result.to_json(), json)
        where.append(f"written to {escape(written)}" if written != "stdout" else
                     "written to stdout")
    if finished and not no_history:
        try:
            ids = emit_outputs(result, plot=None, html=None, db=db, store=True,
                               console=console(stderr=True),
                               json_path=written if written != "stdout" else None, quiet=True)
        except (JitwarmError, OSError):
            ids = []
        if ids:
            where.append(f"stored in the history as run {ids[0]} "
                         f"(jitwarm history show {ids[0]})")
    if finished and not where:
        where.append(f"written to {escape(keep_partial(result.to_json(), None))}")
    what = (f"{finished} finished process(es) kept: " + " and ".join(where) if where
            else "no process had finished: nothing to keep" if not finished
            else "nothing kept")
    _say(f"[yellow]interrupted[/yellow] ({exc.signal}): the worker processes were ended; "
         f"{what}")


@app.command()
def profile(
    target: Annotated[str, typer.Argument(help="FILE.py, FILE.py::CASE or package.module:CASE")],
    processes: ProcessesOpt = 5,
    calls: CallsOpt = 2000,
    max_time: MaxTimeOpt = 10.0,
    cache: CacheOpt = "cold,cached",
    timeout: TimeoutOpt = 300.0,
    json: JsonOpt = None,
    quiet: QuietOpt = False,
    plot: PlotOpt = None,
    html: HtmlOpt = None,
    db: DbOpt = None,
    no_history: NoHistoryOpt = False,
    threads: ThreadsOpt = None,
    strategies: StrategiesOpt = None,
    gc_freeze: GcFreezeOpt = False,
    rounds: RoundsOpt = 1,
    remote_cache: RemoteCacheOpt = None,
    executor: ExecutorOpt = "local",
    jobs: JobsOpt = None,
    ray_address: RayAddressOpt = None,
) -> None:
    """Cold start in fresh processes, compile attribution and the warm steady state.

    With --strategies, measure the first call under each warmup-elimination strategy
    instead, and report what each saves.
    """
    from jitwarm.report import check_output_paths

    if rounds != 1 and strategies is None:
        raise _fail(UsageError("--rounds applies to --strategies (a profile's processes "
                               "are already one per cache state in turn)"))
    if remote_cache is not None and strategies is None:
        raise _fail(UsageError("--remote-cache applies to --strategies remote-cache"))
    if strategies is not None:
        from jitwarm.cli.caches import run_strategies_cli

        given = [name for name, v in (("--plot", plot), ("--db", db),
                                      ("--cache", cache != "cold,cached"),
                                      ("--executor", executor != "local"), ("--jobs", jobs),
                                      ("--ray-address", ray_address)) if v]
        if given:  # never silently ignore what the user asked for
            raise _fail(UsageError(f"{', '.join(given)} applies to a profile by cache state; "
                                   "with --strategies the result is the table, --json and "
                                   "--html"))

        from jitwarm.caches.strategies import StrategiesInterrupted

        try:
            check_output_paths(None, html)
            _check_numbers(processes=processes, calls=calls, max_time=max_time,
                           timeout=timeout, threads=threads, rounds=rounds)
            code = run_strategies_cli(target, strategies, processes=processes, calls=calls,
                                      max_time=max_time, timeout=timeout, json=json,
                                      threads=threads, gc_freeze=gc_freeze, rounds=rounds,
                                      quiet=quiet, remote_cache=remote_cache, html=html)
        except StrategiesInterrupted as exc:
            import json as _json

            done = [s.strategy for s in exc.result.strategies if s.processes]
            where = keep_partial(_json.dumps(exc.result.to_dict(), indent=1), json)
            _say(f"[yellow]interrupted[/yellow] ({exc.signal}): the worker processes were "
                 f"ended; the partial A/B ({', '.join(done) or 'no strategy measured'}) "
                 f"written to {escape(where)}")
            raise typer.Exit(exc.exit_code) from None
        except JitwarmError as exc:
            raise _fail(exc) from None
        raise typer.Exit(code)

    try:
        _check_numbers(processes=processes, calls=calls, max_time=max_time, timeout=timeout,
                       threads=threads, rounds=rounds)
        check_output_paths(plot, html)
        from jitwarm.measure.launchers import get_launcher

        launcher = get_launcher(executor, jobs=jobs, address=ray_address)
        result = _run(target, processes=processes, calls=calls, max_time=max_time,
                      cache=cache, timeout=timeout, quiet=quiet, threads=threads,
                      gc_freeze=gc_freeze, launcher=launcher)
    except RunInterrupted as exc:
        _keep_interrupted(exc, json, db, no_history)
        raise typer.Exit(exc.exit_code) from None
    except JitwarmError as exc:
        raise _fail(exc) from None
    json_error: JitwarmError | None = None
    written: str | None = json
    try:
        code = _finish(result, json, quiet)
    except JitwarmError as exc:  # the JSON went to a rescue file: still store the run
        json_error, code = exc, exc.exit_code
        written = getattr(exc, "rescued", None)  # never the path that could not be written
    _emit_and_exit(result, code, json_error, plot=plot, html=html, db=db, store=not no_history,
                   console=console(stderr=json == "-"), json_path=written, quiet=quiet)


def _emit_and_exit(results: Any, code: int, json_error: JitwarmError | None,
                   **outputs: Any) -> NoReturn:
    """Plot/HTML/history outputs of finished results, then the exit: a JSON that could not
    be written (and went to a rescue file) is reported after the other outputs are kept."""
    from jitwarm.report import emit_outputs

    if results is not None:
        try:
            emit_outputs(results, **outputs)
        except JitwarmError as exc:
            raise _fail(exc) from None
    if json_error is not None:
        raise _fail(json_error)
    raise typer.Exit(code)


@app.command()
def demo(
    processes: ProcessesOpt = 3,
    json: Annotated[str, typer.Option("--json", help="Where to write the demo's JSON results.")] = "jitwarm-demo.json",
    quiet: QuietOpt = False,
    html: Annotated[str, typer.Option("--html", help="Where to write the demo's HTML report.")] = "jitwarm-demo.html",
    plot: PlotOpt = None,
    db: DbOpt = None,
    no_history: NoHistoryOpt = False,
) -> None:
    """Profile the built-in example cases and print the warmup table."""
    import json as _json

    from jitwarm._errors import shown
    from jitwarm.cli.reports import _fail as _fail  # one line however long the path
    from jitwarm.report import check_output_paths
    from jitwarm.results.profile import check_output_path

    out = console()
    results: list[ProfileResult] = []
    code = 0
    try:  # every output is checked before minutes of measuring, not after
        check_output_path(json, "--json")
        check_output_path(db, "--db")
        check_output_paths(plot, html)
        cases = [t for t, module in DEMO_CASES if importlib.util.find_spec(module) is not None]
        if not cases:
            raise UsageError("no framework installed for the demo: pip install 'jitwarm[numba]'")
        for target in cases:
            if not quiet:
                out.print(f"[bold]profiling[/bold] {target} ({processes} fresh processes per cache state)")
            r = _run(target, processes=processes, calls=2000, max_time=5.0,
                     cache="cold,cached", timeout=300.0, quiet=quiet)
            results.append(r)
            if r.status != "complete":
                code = _finish(r, None, quiet) or 1
    except RunInterrupted as exc:
        results.append(exc.result)
        code = 130
    except JitwarmError as exc:
        raise _fail(exc) from None
    json_error: JitwarmError | None = None
    if results:
        try:  # the folder may have gone during the run: the results go to a rescue file
            save_or_rescue(json, _json.dumps([r.to_dict() for r in results], indent=1))
        except JitwarmError as exc:
            json_error = exc
    if not quiet:
        out.print(framework_table(results, title="Warmup by framework, measured on this machine"))
        out.print(summary_table(results, title="Warm steady state"))
        for r in results:
            print_result(out, r)
        if results and json_error is None:
            out.print(f"results written to {escape(shown(Path(json).resolve()))}")
    _emit_and_exit(results or None, code, json_error, plot=plot, html=html, db=db,
                   store=not no_history, console=out,
                   json_path=None if json_error else json, quiet=quiet)


@app.command()
def analyze(
    file: Annotated[str, typer.Argument(help="A series: JSON list, {\"timings\": [...]}, "
                                            "{\"processes\": [[...], ...]}, one number per line, "
                                            "or a jitwarm result JSON.")],
    json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Steady-state analysis of a timing series (change points and classification)."""
    from jitwarm.cli.analyze import main as analyze_main

    raise typer.Exit(analyze_main(file, as_json=json))


def main() -> None:
    """Console-script entry point.

    ``kill -USR1 <pid>`` prints every thread's Python stack to stderr (faulthandler):
    a way to see where a long or stuck run is, without stopping it.
    """
    import faulthandler
    import signal

    from jitwarm.measure.spawn import signals_as_interrupt

    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:  # plugin adapters (entry points, $JITWARM_ADAPTERS): a broken one is bad input
        from jitwarm.adapters import load_plugins

        load_plugins(entry_points=True)
    except ValueError as exc:
        print(f"jitwarm: {exc}", file=sys.stderr)
        sys.exit(2)
    # SIGTERM/SIGHUP take Ctrl-C's path: workers ended, partial results kept, 128 + signal
    with signals_as_interrupt() as state:
        try:
            app()
        except KeyboardInterrupt as exc:
            from jitwarm.measure.spawn import exit_code, signal_name

            _say(f"[yellow]interrupted[/yellow] ({signal_name(exc)})")
            sys.exit(exit_code(exc))
        except SystemExit as exc:
            # click turns an uncaught KeyboardInterrupt (so a Terminated too) into exit 130
            if exc.code == 130 and state.signum is not None:
                sys.exit(128 + state.signum)
            raise


from jitwarm.cli.reports import register as _register_reports  # noqa: E402, I001
_register_reports(app)

from jitwarm.cli.caches import register as _register_caches  # noqa: E402, I001
_register_caches(app)

from jitwarm.cli.sweep import register as _register_frameworks  # noqa: E402, I001
_register_frameworks(app)

from jitwarm.cli.run import register as _register_run  # noqa: E402, I001
_register_run(app)

from jitwarm.cli.aot import register as _register_aot  # noqa: E402, I001
_register_aot(app)
