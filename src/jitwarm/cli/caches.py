"""CLI commands for caches, plans and bundles: ``cache status|clear``, ``prewarm``,
``bundle create|verify|install``, and the A/B behind ``profile --strategies``.

Registered on the main typer app by :func:`register` (called at the end of ``_cli.py``).
Every user error: one message, exit code 2; a refused bundle: exit code 1 with the reason.
"""

from __future__ import annotations

import contextlib
import json as _json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from jitwarm._errors import JitwarmError, UsageError, shown
from jitwarm._units import fmt_ns
from jitwarm.report.terminal import console

cache_app = typer.Typer(help="Inspect and clear the frameworks' compile caches.",
                        no_args_is_help=True, add_completion=False)
bundle_app = typer.Typer(help="Portable, verified bundles of prewarmed caches.",
                         no_args_is_help=True, add_completion=False)


def fmt_bytes(n: int) -> str:
    """Bytes for humans (KiB, MiB, GiB)."""
    v = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if v < 1024 or unit == "GiB":
            return f"{v:.0f} {unit}" if unit == "B" else f"{v:.1f} {unit}"
        v /= 1024
    return f"{v:.1f} GiB"  # pragma: no cover


def _fail(err: JitwarmError) -> typer.Exit:
    console(stderr=True).print(f"[red]error:[/red] {escape(str(err))}")
    return typer.Exit(err.exit_code)


def _fail_line(err: JitwarmError) -> typer.Exit:
    """Print ``err`` as one line (never wrapped, user strings escaped and cut)."""
    console(stderr=True).print(f"[red]error:[/red] {escape(shown(err, 1000))}",
                               highlight=False, soft_wrap=True)
    return typer.Exit(err.exit_code)


def _dump(payload: Any) -> None:
    sys.stdout.write(_json.dumps(payload, indent=1, default=str) + "\n")


FrameworkArg = Annotated[str | None, typer.Argument(
    help="numba, torch, jax or onnxruntime (default: all).")]
SourcesOpt = Annotated[str | None, typer.Option(
    "--sources", help="Directory holding the sources (Numba's in-tree caches; the plan's "
                      "directory for bundles). Default: the working directory.")]


@cache_app.command("status")
def cache_status(
    framework: FrameworkArg = None,
    sources: SourcesOpt = None,
    config: Annotated[bool, typer.Option(
        "--config", help="Also import the frameworks' config modules (slower; the only "
                         "truth for settings made in config files).")] = False,
    json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Where each framework's cache lives now, its size, and what makes it do nothing; the
    remote caches the environment turns on, and whether their servers answer."""
    from jitwarm.adapters.remote import masked
    from jitwarm.caches.locations import locations, remote_caches

    try:
        locs = locations(framework, sources=Path(sources) if sources else None,
                         with_config=config)
        remotes = remote_caches(framework)
    except JitwarmError as exc:
        raise _fail(exc) from None
    if json:
        rows = [loc.to_dict() for loc in locs]
        seen: set[str] = set()
        for row in rows:  # a framework's remote caches ride on its first location
            if row["framework"] not in seen:
                seen.add(row["framework"])
                row["remote"] = [r.to_dict() for r in remotes
                                 if r.framework == row["framework"]]
        _dump(rows)
        return
    out = console()
    table = Table(title="compile caches", title_justify="left")
    for col in ("framework", "cache", "location", "resolved from", "size", "entries"):
        table.add_column(col, justify="right" if col in ("size", "entries") else "left")
    for loc in locs:
        where = str(loc.path) if loc.path else (
            f"{len(loc.scanned)} __pycache__ dir(s)" if loc.scanned else "—")
        table.add_row(loc.framework, loc.name, escape(where), escape(loc.source),
                      fmt_bytes(loc.size_bytes) if loc.exists else "—",
                      f"{loc.entries}" if loc.exists else "—")
    out.print(table)
    for loc in locs:
        for w in loc.warnings:
            out.print(f"[yellow]warning[/yellow] {loc.framework}: {escape(w)}")
    for loc in locs:
        for n in loc.notes:
            out.print(f"[dim]{loc.framework}: {escape(n)}[/dim]")
    if remotes:
        rt = Table(title="remote compile caches (from the environment)", title_justify="left")
        for col in ("framework", "caches", "server", "resolved from", "answers"):
            rt.add_column(col)
        for r in remotes:
            rt.add_row(r.framework, escape("; ".join(r.caches)), escape(masked(r.url)),
                       escape(r.source), "[green]yes[/green]" if r.problem is None
                       else "[red]NO[/red]")
        out.print(rt)
        for r in remotes:
            if r.problem is not None:
                out.print(f"[red]error[/red] {r.framework}: the remote cache "
                          f"{escape(masked(r.url))} does not answer ({escape(r.problem)}); "
                          f"{r.framework} will silently compile without it", soft_wrap=True)
            for n in r.notes:
                out.print(f"[yellow]warning[/yellow] {r.framework}: {escape(n)}")


@cache_app.command("clear")
def cache_clear(
    framework: Annotated[str, typer.Argument(help="numba, torch, jax or onnxruntime.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    sources: SourcesOpt = None,
) -> None:
    """Delete a framework's cache entries: only files the framework wrote, only inside its
    resolved cache directory (other files and the directory itself stay)."""
    from jitwarm.caches.locations import clear, clear_plan, entries_size, locations

    out = console()
    try:
        locs = locations(framework, sources=Path(sources) if sources else None)
        plans = []
        seen: set[Path] = set()
        for loc in locs:  # the default Triton dir lies inside Inductor's: count once
            paths = [p for p in clear_plan(loc) if p not in seen]
            seen.update(paths)
            plans.append((loc, paths))
        total = sum(len(p) for _, p in plans)
        if total == 0:
            out.print(f"nothing to clear for {escape(shown(framework))}")
            return
        for loc, paths in plans:
            if paths:
                where = loc.path or f"{len(loc.scanned)} __pycache__ dir(s)"
                label = loc.framework if loc.name == loc.framework else f"{loc.framework} {loc.name}"
                out.print(f"{label}: {len(paths)} cache entr"
                          f"{'y' if len(paths) == 1 else 'ies'} in {escape(shown(where))} "
                          f"({fmt_bytes(entries_size(paths))})", soft_wrap=True)
        if not yes:
            if not sys.stdin.isatty():
                raise UsageError("refusing to delete without confirmation: pass --yes")
            if not typer.confirm("delete them?", default=False):
                out.print("nothing deleted")
                raise typer.Exit(1)
        removed = freed = 0
        for loc, paths in plans:
            r, f = clear(loc, paths)
            removed += r
            freed += f
        out.print(f"deleted {removed} cache entr{'y' if removed == 1 else 'ies'}, "
                  f"{fmt_bytes(freed)}")
    except JitwarmError as exc:
        raise _fail_line(exc) from None


@cache_app.command("explain")
def cache_explain(
    target: Annotated[str, typer.Argument(help="FILE.py::CASE or package.module:CASE")],
    cache_dir: Annotated[str, typer.Option(
        "--cache-dir", help="A cache directory made by `jitwarm prewarm --out` or "
                            "`jitwarm bundle install --target`.")],
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds for the process.")] = 600.0,
    json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Run a case's first call against a cache directory and say why it compiled.

    The call runs against a throw-away copy of the directory: what it compiles is never
    written into the cache being diagnosed."""
    from jitwarm.caches.explain import explain_on_copy
    from jitwarm.cases.targets import resolve_target
    from jitwarm.measure.spawn import check_seconds

    try:
        check_seconds(timeout, "--timeout")
        tgt = resolve_target(target)
        root = Path(cache_dir)
        if not root.is_dir():
            raise UsageError(f"cache directory not found: {shown(root)}")
        rec = explain_on_copy(tgt, root.resolve(), timeout_s=timeout)
        if rec.get("status") == "usage_error":
            raise UsageError(rec["message"])
    except JitwarmError as exc:
        raise _fail_line(exc) from None
    if json:
        _dump(rec)
    else:
        out = console()
        if rec.get("status") != "ok":
            console(stderr=True).print(
                f"[red]error:[/red] {escape(shown(rec.get('message') or rec.get('error'), 1000))}",
                soft_wrap=True)
            raise typer.Exit(1)
        (call,) = rec["calls"]
        cache = call.get("cache") or {}
        out.print(f"first call {fmt_ns(call['duration_ns'])}, compiling {fmt_ns(call['compile_ns'])}, "
                  f"cache {cache.get('hits', '—')} hit / {cache.get('misses', '—')} miss")
        for line in rec.get("explanations") or []:  # one line each, for grep
            out.print(f"  - {escape(line)}", soft_wrap=True)
    raise typer.Exit(0 if rec.get("status") == "ok" else 1)


@cache_app.command("diff")
def cache_diff(
    a: Annotated[str, typer.Argument(metavar="A", help="A bundle (.tar.zst / .tar.gz).")],
    b: Annotated[str | None, typer.Argument(
        metavar="B", help="Another bundle (default: this machine, as --here).")] = None,
    here: Annotated[bool, typer.Option(
        "--here", help="Compare A with this machine (the default without B).")] = False,
    sources: Annotated[str | None, typer.Option(
        "--sources", help="With this machine: the checkout whose source files are compared "
                          "with the bundle's. Default: the working directory.")] = None,
    timeout: Annotated[float, typer.Option(
        "--timeout", help="Seconds for the process that reads this machine's settings.")
    ] = 300.0,
    json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Which input of the frameworks' cache keys differs between two bundles, or a bundle
    and this machine, and what it costs.

    Exit code 0: nothing differs; 1: an input differs; 2: a bad bundle or option."""
    from jitwarm.caches import keys
    from jitwarm.caches.bundle import read_manifest_only
    from jitwarm.measure.spawn import check_seconds

    try:
        if here and b is not None:
            raise UsageError("give a second bundle or --here, not both")
        check_seconds(timeout, "--timeout")
        left = read_manifest_only(a)
        notes: list[str] = []
        if b is None:
            if sources and not Path(sources).is_dir():
                raise UsageError(f"--sources {shown(sources)} is not a directory")
            right, notes = keys.here(left, Path(sources) if sources else Path.cwd(),
                                     timeout_s=timeout)
            sides = ("the bundle", "this host")
            names = {"a": a, "b": "this machine"}
        else:
            if sources:
                raise UsageError("--sources applies to a comparison with this machine only")
            right = read_manifest_only(b)
            sides = ("A", "B")
            names = {"a": a, "b": b}
        result = keys.compare(left, right, sides)
        result.notes.extend(notes)
    except JitwarmError as exc:
        raise _fail_line(exc) from None
    if json:
        _dump({"a": names["a"], "b": names["b"], **result.to_dict()})
        raise typer.Exit(0 if result.same else 1)
    out = console()

    def line(text: str, style: str = "") -> None:  # one line each, never wrapped
        body = escape(text)
        out.print(f"[{style}]{body}[/{style}]" if style else body, highlight=False,
                  soft_wrap=True)

    if b is None:
        line(f"comparing the bundle {shown(a, 300)} with this machine")
    else:
        line(f"comparing A = {shown(a, 300)} with B = {shown(b, 300)}")
    costly = [d for d in result.differences if d.costly]
    for d in costly:
        line(f"- {d.message}")
    for d in result.differences:
        if not d.costly:
            line(f"note: {d.message}", "dim")
    for n in result.notes:
        line(f"note: {n}", "dim")
    if costly:
        line(f"{len(costly)} input{'s' if len(costly) != 1 else ''} of the cache keys "
             f"differ{'s' if len(costly) == 1 else ''}", "bold")
    else:
        line("nothing differs: every recorded input of the cache keys is the same", "green")
    raise typer.Exit(0 if result.same else 1)


def _executors() -> dict[str, Any]:
    from jitwarm.caches.executors import REGISTRY

    return REGISTRY


def prewarm_cmd(
    plan: Annotated[str, typer.Argument(help="A TOML warmup plan ([[case]] target = ...).")],
    out_dir: Annotated[str, typer.Option("--out", "-o", help="Cache directory to fill.")],
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per case process.")] = 600.0,
    json: Annotated[bool, typer.Option("--json", help="Print the prewarm manifest as JSON.")] = False,
    executor: Annotated[str, typer.Option(
        "--executor", help="Where the case processes run: "
        + "; ".join(f"{k}: {v.help}" for k, v in _executors().items()))] = "local",
    jobs: Annotated[int | None, typer.Option(
        "--jobs", "-j", help="Cases at once (local default 1; ray default: the cluster's CPUs, "
        "a local Ray started with this many).")] = None,
    ray_address: Annotated[str | None, typer.Option(
        "--ray-address", help="Connect to this Ray cluster (e.g. ray://head:10001 or auto) "
        "instead of starting a local Ray.")] = None,
) -> None:
    """Compile a plan's cases in fresh processes, every cache redirected into --out."""
    from jitwarm.caches.prewarm import PrewarmInterrupted, prewarm

    err = console(stderr=True)

    def progress(i: int, n: int, case: Any, rec: dict[str, Any] | None) -> None:
        if rec is None:
            err.print(f"[{i + 1}/{n}] {escape(case.raw_target)} ...")

    try:
        manifest = prewarm(plan, out_dir, timeout_s=timeout, progress=progress,
                           executor=executor, jobs=jobs, ray_address=ray_address)
    except PrewarmInterrupted as exc:  # Ctrl-C, SIGTERM, SIGHUP: say what was kept
        with contextlib.suppress(OSError, ValueError):  # (a hung-up terminal)
            err.print(escape(shown(exc.message(), 1000)), style="yellow", soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except JitwarmError as exc:
        raise _fail_line(exc) from None
    if json:
        _dump(manifest)
    else:
        out = console()
        table = Table(title=f"prewarmed into {out_dir}", title_justify="left")
        for col in ("case", "framework", "call", "time", "compile", "events", "cache"):
            table.add_column(col)
        for rec in manifest["cases"]:
            if rec.get("status") != "ok":
                table.add_row(escape(rec["target"]), "—", "—", "—", "—", "—",
                              f"[red]{escape(str(rec.get('message') or rec.get('error')))}[/red]")
                continue
            for call in rec["calls"]:
                cache = call.get("cache") or {}
                top = [e for e in call["compile_events"] if e.get("depth") == 0]
                table.add_row(escape(rec["target"]), rec["framework"], escape(call["label"]),
                              fmt_ns(call["duration_ns"]), fmt_ns(call["compile_ns"]),
                              str(len(top)),
                              f"{cache.get('hits', '—')} hit / {cache.get('misses', '—')} miss")
        out.print(table)
        for rec in manifest["cases"]:
            for note in rec.get("notes") or []:
                out.print(f"[dim]{escape(rec['target'])}: {escape(note)}[/dim]")
        _print_tasks(manifest)
    _print_conflicts(manifest)
    failed = [r for r in manifest["cases"] if r.get("status") != "ok"]
    usage = [r for r in failed if r.get("status") == "usage_error"]
    if usage:
        raise _fail_line(UsageError(usage[0]["message"]))
    raise typer.Exit(1 if failed else 0)


def _print_tasks(manifest: dict[str, Any]) -> None:
    """Where each case ran and what came back (executors other than one local job)."""
    ex = manifest.get("executor") or {}
    if ex.get("name") == "local" and ex.get("jobs") == 1:
        return
    table = Table(title=f"tasks ({escape(str(ex.get('name')))})", title_justify="left")
    for col in ("task", "case", "node", "tries", "time", "compiles", "written", "status"):
        table.add_column(col)
    for t in manifest.get("tasks") or []:
        w = t.get("cache_writes") or {}
        status = t["status"] if t["status"] == "ok" else f"[red]{escape(t['status'])}[/red]"
        table.add_row(str(t["task"]), escape(t["case"]), escape(str(t["node"])[:16]),
                      str(t["attempts"]), fmt_ns(t["duration_ns"]), str(len(t["compiled"])),
                      f"{w.get('files', 0)} files, {fmt_bytes(w.get('bytes', 0))}", status)
    console().print(table)


def _print_conflicts(manifest: dict[str, Any]) -> None:
    """Files two tasks wrote with different bytes (the first kept), and refused files."""
    err = console(stderr=True)
    for w in manifest.get("warnings") or []:
        err.print(f"[yellow]warning:[/yellow] {escape(shown(w, 500))}", highlight=False,
                  soft_wrap=True)
    for c in manifest.get("conflicts") or []:
        k, d = c["kept"], c["dropped"]
        err.print(f"[yellow]conflict:[/yellow] {escape(shown(c['path'], 200))}: task {k['task']} "
                  f"({escape(shown(k['case'], 80))}) and task {d['task']} "
                  f"({escape(shown(d['case'], 80))}) wrote different bytes; kept task "
                  f"{k['task']}'s", highlight=False, soft_wrap=True)
    for t in manifest.get("tasks") or []:
        for why in (t.get("cache_writes") or {}).get("refused") or []:
            err.print(f"[yellow]not merged[/yellow] (task {t['task']}): {escape(shown(why, 300))}",
                      highlight=False, soft_wrap=True)
        if t.get("status") != "ok":
            err.print(f"[red]failed:[/red] task {t['task']} ({escape(shown(t['case'], 80))}) on "
                      f"node {escape(shown(t['node'], 80))} after {t['attempts']} "
                      f"attempt(s): {escape(shown(t.get('error') or t['status'], 300))}",
                      highlight=False, soft_wrap=True)


def _bundle_fail(err: JitwarmError) -> typer.Exit:
    """One line on stderr (never wrapped, escaped, bounded: it may carry a bundle's strings)."""
    console(stderr=True).print(f"[red]error:[/red] {escape(shown(err, 1000))}",
                               highlight=False, soft_wrap=True)
    return typer.Exit(err.exit_code)


@bundle_app.command("create")
def bundle_create(
    cache_dir: Annotated[str, typer.Argument(help="A cache directory filled by `jitwarm prewarm`.")],
    output: Annotated[str, typer.Option("--output", "-o", help="warm.tar.zst or warm.tar.gz")],
    sources: SourcesOpt = None,
) -> None:
    """Pack a prewarmed cache directory with a manifest (versions, CPU, GPU, SHA-256s)."""
    from jitwarm.caches.bundle import create

    try:
        manifest = create(cache_dir, output, sources=sources)
    except JitwarmError as exc:
        raise _bundle_fail(exc) from None
    out = console()
    size = sum(f["size"] for f in manifest["files"].values())
    out.print(f"wrote {escape(output)}: {len(manifest['files'])} files "
              f"({fmt_bytes(size)} uncompressed) of {', '.join(manifest['contents'])}")
    for s in manifest.get("skipped") or []:
        out.print(f"[yellow]skipped[/yellow] {escape(s)}")
    unreloc = [k for k, r in (manifest.get("numba") or {}).items() if r.get("rel") is None]
    if unreloc:
        out.print(f"[yellow]note[/yellow]: {len(unreloc)} Numba cache dir(s) belong to sources "
                  f"outside {escape(str(manifest.get('source_root')))}; they only hit where "
                  "the same absolute path exists")


@bundle_app.command("verify")
def bundle_verify(
    file: Annotated[str, typer.Argument(help="A bundle (.tar.zst / .tar.gz).")],
    json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check a bundle's integrity and that it can be used on this machine (exit 0/1)."""
    from jitwarm.caches.bundle import verify

    try:
        v = verify(file)
    except JitwarmError as exc:
        if json:  # a script reading --json still gets an object (and the line on stderr)
            _dump({"path": file, "ok": False, "integrity_ok": False,
                   "error": shown(exc, 1000), "reasons": [], "warnings": []})
        raise _bundle_fail(exc) from None
    if json:
        _dump(v.to_dict())
    else:
        out = console()
        m = v.manifest or {}
        if v.ok:
            out.print(f"[green]ok[/green]: {escape(file)} can be used here "
                      f"({len(m.get('files', {}))} files: {', '.join(m.get('contents', []))})")
        else:
            err = console(stderr=True)
            err.print(f"[red]not usable here[/red]: {escape(shown(file, 1000))}",
                      highlight=False, soft_wrap=True)
            for r in v.reasons:
                err.print(f"  - {escape(shown(r, 1000))}", highlight=False, soft_wrap=True)
        for w in v.warnings:
            out.print(f"[yellow]warning[/yellow]: {escape(w)}")
    raise typer.Exit(0 if v.ok else 1)


@bundle_app.command("install")
def bundle_install(
    file: Annotated[str, typer.Argument(help="A bundle (.tar.zst / .tar.gz).")],
    target: Annotated[str | None, typer.Option(
        "--target", help="Install into this directory (laid out as `prewarm --out`) instead "
                         "of the frameworks' current cache locations.")] = None,
    sources: SourcesOpt = None,
    json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Verify, then install a bundle and print the environment settings to use."""
    from jitwarm.caches.bundle import export_lines, install

    try:
        res = install(file, target=target, sources=sources)
        exports = export_lines(res.exports)
    except JitwarmError as exc:
        raise _bundle_fail(exc) from None
    if json:
        _dump(res.to_dict())
        return
    out = console()
    out.print(f"installed {res.files} file(s) ({res.unchanged} already present, "
              f"{res.replaced} replaced)")
    for what, where in res.destinations.items():
        out.print(f"  {escape(what)} -> {escape(where)}")
    for w in res.warnings:
        out.print(f"[yellow]warning[/yellow]: {escape(w)}")
    for n in res.notes:
        out.print(f"[dim]{escape(n)}[/dim]")
    if res.exports:
        out.print("use these settings in the processes that should start warm:")
        out.file.flush()
        for line in exports:  # plain lines: never wrapped, safe to copy or eval
            sys.stdout.write(line + "\n")
        sys.stdout.flush()


def run_strategies_cli(target: str, strategies: str, *, processes: int, calls: int,
                       max_time: float, timeout: float, json: str | None,
                       threads: int | None = None, gc_freeze: bool = False,
                       rounds: int = 1, quiet: bool = False,
                       remote_cache: str | None = None, html: str | None = None,
                       replicas: int = 1) -> int:
    """``jitwarm profile TARGET --strategies ...``: run the A/B, print it, return the exit code.

    Raises :class:`JitwarmError` for usage errors (the caller prints them).
    """
    from jitwarm.caches.strategies import (
        floor_sentences,
        parse_strategies,
        run_strategies,
        strategies_table,
    )
    from jitwarm.measure.process import Settings
    from jitwarm.results.profile import save_or_rescue

    err = console(stderr=True)

    def progress(strategy: str, message: str) -> None:
        if not quiet:
            err.print(f"[dim]{escape(strategy)}: {escape(message)}[/dim]")

    names = parse_strategies(strategies)
    if calls < 2:
        raise UsageError("--calls must be at least 2")
    settings = Settings(max_calls=calls, max_time_s=max_time, min_calls=min(50, calls),
                        threads=threads, gc_freeze=gc_freeze)
    result = run_strategies(target, names, processes=processes, settings=settings,
                            timeout_s=timeout, progress=progress, rounds=rounds,
                            options={"remote_cache": remote_cache}, replicas=replicas)
    data = result.to_dict()
    if html:  # written first: a --json '-' run still gets its page
        from jitwarm.report.html import write_other_html

        path = write_other_html(data, html)
        if not quiet:
            err.print(f"HTML report written to {escape(str(path))}")
    if json == "-":
        _dump(data)
        return 0 if result.ok else 1
    if not quiet:
        out = console()
        out.print(strategies_table(result))
        for line in floor_sentences(data):  # what is left of the floor
            out.print(f"[dim]{escape(line)}[/dim]", highlight=False, soft_wrap=True)
        for r in result.strategies:
            lines = [*r.explanation, *(f"still compiled: {m}" for m in r.misses)]
            if lines:
                out.print(f"[bold]{escape(r.strategy)}[/bold]")
                for line in lines:
                    out.print(f"  {escape(line)}", highlight=False, soft_wrap=True)
        for note in result.notes:
            out.print(f"[dim]{escape(note)}[/dim]")
    if json:
        save_or_rescue(json, _json.dumps(result.to_dict(), indent=1))
    return 0 if result.ok else 1


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main ``jitwarm`` app."""
    app.add_typer(cache_app, name="cache")
    app.add_typer(bundle_app, name="bundle")
    app.command("prewarm")(prewarm_cmd)
