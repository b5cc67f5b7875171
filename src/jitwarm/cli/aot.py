"""CLI commands for ahead-of-time artifacts: ``aot build``, ``aot verify``.

``jitwarm aot build TARGET -o DIR`` compiles a case ahead of time in a fresh process and
writes a verified folder (artifact, the case's arguments, a manifest with versions, CPU
facts and SHA-256s); ``jitwarm.load(DIR)`` loads it. Registered by :func:`register`.
A user error: one line, exit code 2; a refused artifact: one line, exit code 1.
"""

from __future__ import annotations

import json as _json
import sys
from typing import Annotated

import typer
from rich.markup import escape

from jitwarm._errors import JitwarmError, shown
from jitwarm.report.terminal import console

aot_app = typer.Typer(help="Ahead-of-time artifacts: build once, load with jitwarm.load(DIR).",
                      no_args_is_help=True, add_completion=False)


def _fail(err: JitwarmError) -> typer.Exit:
    console(stderr=True).print(f"[red]error:[/red] {escape(shown(err, 1000))}",
                               highlight=False, soft_wrap=True)
    return typer.Exit(err.exit_code)


def _bytes(manifest: dict) -> int:
    return sum(r["size"] for r in manifest["files"].values())


@aot_app.command("build")
def aot_build(
    target: Annotated[str, typer.Argument(help="The case: file.py::name or module:name.")],
    output: Annotated[str, typer.Option("--output", "-o",
                                        help="A new folder for the artifact.")],
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds the building process "
                                           "may take.")] = 600.0,
    kind: Annotated[str, typer.Option("--kind", help="aot: the framework's fastest load path; "
                                      "torchscript: torch.jit.trace + save (torch only).")
                    ] = "aot",
    json: Annotated[bool, typer.Option("--json", help="Print the manifest as JSON.")] = False,
) -> None:
    """Compile TARGET ahead of time (Numba: a numba.pycc module; torch: an AOTInductor
    package; JAX: the serialised executable, jax.export as fallback; ONNX Runtime: the
    optimised model) into a verified folder."""
    from jitwarm.caches.aot import build

    try:
        manifest = build(target, output, timeout_s=timeout, kind=kind)
    except JitwarmError as exc:
        raise _fail(exc) from None
    if json:
        sys.stdout.write(_json.dumps(manifest, indent=1) + "\n")
        return
    out = console()
    info = manifest["info"]
    out.print(f"wrote {escape(shown(output))}: {manifest['framework']} "
              f"({escape(manifest['loader'])}), {len(manifest['files'])} files, "
              f"{_bytes(manifest) / 1024:.0f} KiB", highlight=False)
    for note in info.get("notes") or []:
        out.print(f"[dim]{escape(shown(note, 400))}[/dim]", highlight=False)
    needs = ", ".join(f"{k} {v}" for k, v in manifest["versions"].items())
    out.print(f"loads where Python {manifest['python']['major_minor']} on "
              f"{manifest['machine']['system']}/{manifest['machine']['machine']} with {needs} "
              "and this CPU's features: fn = jitwarm.load(DIR)", highlight=False)


@aot_app.command("verify")
def aot_verify(
    folder: Annotated[str, typer.Argument(help="A folder written by `jitwarm aot build`.")],
) -> None:
    """Check an artifact's hashes and that it can be loaded on this machine (exit 0/1)."""
    from jitwarm.caches.aot import verify

    try:
        manifest = verify(folder)
    except JitwarmError as exc:
        raise _fail(exc) from None
    if manifest.get("fallback"):
        console(stderr=True).print(f"[red]not loadable[/red]: "
                                   f"{escape(shown(manifest['fallback'], 400))}",
                                   highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    console().print(f"[green]ok[/green]: {escape(shown(folder))} can be loaded here "
                    f"({manifest['framework']}, {manifest['loader']}, "
                    f"{len(manifest['files'])} files)", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``jitwarm aot`` to the main app."""
    app.add_typer(aot_app, name="aot")
