"""Reports people look at: plots (:mod:`.plots`), a self-contained HTML page (:mod:`.html`),
findings and advice (:mod:`.advice`), and :func:`emit_outputs`, which the ``profile`` and
``demo`` commands call to write them and store the run in the history.

matplotlib is imported only when a plot is drawn.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.markup import escape

from jitwarm._errors import UsageError, shown
from jitwarm.results.profile import (
    ProfileResult,
    check_output_path,
    read_json,
    unsaved_path,
    write_atomic,
)

__all__ = ["check_output_paths", "emit_outputs", "load_results"]


def load_results(path: str | Path) -> list[ProfileResult]:
    """Results from a jitwarm JSON file: one result object, or a list of them (the demo's).

    Anything else (not JSON, not a jitwarm result, a newer schema) raises UsageError.
    """
    data = read_json(path)
    items = data if isinstance(data, list) else [data]
    if not items:
        raise UsageError(f"{path} holds an empty list, not jitwarm results")
    out = []
    for item in items:
        try:
            out.append(ProfileResult.from_dict(item))
        except UsageError as exc:
            raise UsageError(f"{path}: {exc}") from None
    return out


def check_output_paths(plot: str | None, html: str | None) -> None:
    """Refuse bad output names before a long run, not after it."""
    if plot and Path(plot).suffix.lower() not in (".png", ".svg"):
        raise UsageError(f"--plot: use a .png or .svg file name, not {shown(Path(plot).name)!r}")
    for opt, dest in (("--plot", plot), ("--html", html)):
        check_output_path(dest, opt)  # a folder, a missing or read-only parent


def _suffixed(path: str, name: str, many: bool) -> Path:
    p = Path(path)
    if not many:
        return p
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name) or "case"
    return p.with_name(f"{p.stem}-{safe}{p.suffix}")


def emit_outputs(
    result: ProfileResult | Sequence[ProfileResult],
    *,
    plot: str | None,
    html: str | None,
    db: str | None,
    store: bool,
    console: Any,
    json_path: str | None = None,
    quiet: bool = False,
) -> list[int]:
    """Store the run(s) in the history, then write the plot and the HTML report.

    A history database that cannot be used (corrupted, locked) never loses the run: a
    warning names the problem, and unless the JSON already went to a file (``json_path``)
    it is written to ``./jitwarm-unsaved-<time>.json``. Returns the stored run ids.
    """
    from jitwarm.report.terminal import console as make_console
    from jitwarm.store.history import HistoryError, store_result

    results = [result] if isinstance(result, ProfileResult) else list(result)
    err = make_console(stderr=True)
    ids: list[int] = []
    if store:
        try:
            for r in results:
                run_id, db_path = store_result(r, db)
                ids.append(run_id)
                if not quiet:
                    console.print(f"stored as run {run_id} in {db_path} "
                                  f"(jitwarm history show {run_id})")
        except HistoryError as exc:
            err.print(f"[yellow]warning:[/yellow] run not stored in the history: {exc}")
            if json_path and json_path != "-":
                err.print(f"the result is kept in {json_path}")
            else:
                dest = unsaved_path()
                if len(results) == 1:
                    results[0].save(dest)
                else:
                    write_atomic(dest, json.dumps([r.to_dict() for r in results], indent=1))
                err.print(f"the result is kept in {dest.resolve()}")
    if plot:
        from jitwarm.report.plots import save_plot

        for r in results:
            dest = _suffixed(plot, str(r.case.get("name")), len(results) > 1)
            with _busy(err, f"drawing {dest}", quiet):
                path = _writing(dest, lambda r=r, dest=dest: save_plot(r, dest))
            if not quiet:
                console.print(f"plot written to {escape(shown(path))}")
    if html:
        from jitwarm.report.html import write_html

        with _busy(err, f"rendering the HTML report {html}", quiet):
            path = _writing(Path(html), lambda: write_html(results, html))
        if not quiet:
            console.print(f"HTML report written to {escape(shown(path.resolve()))}")
    return ids


def _writing(dest: Path, write: Any) -> Path:
    try:
        return write()
    except OSError as exc:
        raise UsageError(f"cannot write {shown(dest)}: {exc.strerror or exc}") from None


def _busy(err: Any, what: str, quiet: bool) -> Any:
    """A spinner on a terminal (rendering takes seconds), nothing otherwise."""
    if quiet or not err.is_terminal:
        return contextlib.nullcontext()
    return err.status(what)
