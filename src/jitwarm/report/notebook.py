"""Rich display of a :class:`~jitwarm.ProfileResult` in Jupyter (``_repr_html_``).

A compact fragment for a notebook cell: a per-state summary table with inline styles
(nothing that restyles the notebook around it), what the verdict means, the caveats, and
the report's overlay plot of every process's series as inline SVG when the report package
and matplotlib are available.
"""

from __future__ import annotations

import html
from typing import Any

from jitwarm._units import fmt_ns, fmt_ratio, fmt_warm_ci

_TD = "padding:3px 10px;border-bottom:1px solid #e5e7eb;text-align:{align};white-space:nowrap"
_TH = "padding:3px 10px;border-bottom:2px solid #cbd5e1;text-align:{align};font-weight:600"


def _esc(v: Any) -> str:
    return "–" if v is None else html.escape(str(v), quote=True)


COLUMNS = ("state", "processes", "import + setup", "first call", "compile", "fn compile / init",
           "warm median ± CI", "first÷warm", "steady from call", "verdict")


def state_rows(result: Any) -> list[tuple[str, ...]]:
    """One row of display strings per cache state (the table's body)."""
    rows = []
    for state, data in result.states.items():
        s = data["summary"]
        imp, setup = s.get("import_ns"), s.get("setup_ns")
        rows.append((
            state,
            f"{s.get('processes_ok', 0)} ok" + (f", {s['processes_failed']} failed"
                                               if s.get("processes_failed") else ""),
            "–" if imp is None and setup is None else
            f"{fmt_ns(imp)} + {fmt_ns(setup)}",
            fmt_ns(s.get("first_call_ns")),
            fmt_ns(s.get("compile_ns")),
            f"{fmt_ns(s.get('function_compile_ns'))} / {fmt_ns(s.get('runtime_init_ns'))}",
            fmt_warm_ci(s),
            fmt_ratio(s.get("first_over_warm")),
            "–" if s.get("steady_state_call") is None else str(s["steady_state_call"]),
            str(s.get("classification") or "–"),
        ))
    return rows


def _meaning(classification: str | None) -> str | None:
    try:
        from jitwarm.results.findings import meaning
    except ImportError:  # pragma: no cover - the report package ships with jitwarm
        return None
    return meaning(classification)


def _plot(result: Any) -> str:
    """The report's overlay plot as inline SVG, or '' when it cannot be drawn here."""
    has_series = any(p.get("status") == "ok" and p.get("timings_ns")
                     for st in result.states.values() for p in st["processes"])
    if not has_series:
        return ""
    try:
        from jitwarm.report.plots import figure, svg_text
    except ImportError:  # matplotlib missing: the table alone
        return ""
    svg = svg_text(figure("overlay", result))
    return (f'<div style="max-width:900px">{svg}</div><div style="color:#6b7280;'
            'font-size:12px">Per-call time of every process (log-log); a bar marks where '
            "each steady state starts.</div>")


def result_html(result: Any, plots: bool = True) -> str:
    """The HTML fragment Jupyter shows for a ProfileResult."""
    case = result.case or {}
    where = ("in this process" if "in-process" in result.states
             else f"{result.settings.get('processes')} fresh process(es) per cache state")
    head = "".join(
        f'<th style="{_TH.format(align="left" if i in (0, 1, 9) else "right")}">{_esc(c)}</th>'
        for i, c in enumerate(COLUMNS))
    body = []
    for row in state_rows(result):
        cells = "".join(
            f'<td style="{_TD.format(align="left" if i in (0, 1, 9) else "right")}">'
            f"{_esc(v)}</td>" for i, v in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    parts = [
        '<div class="jitwarm-result" style="font-family:system-ui,sans-serif;font-size:13px">',
        f'<div style="font-size:15px;font-weight:600;margin:2px 0">jitwarm · '
        f"{_esc(case.get('name'))} <span style=\"font-weight:400;color:#6b7280\">"
        f"({_esc(result.framework)}, {_esc(where)}, status {_esc(result.status)})</span></div>",
        f'<table style="border-collapse:collapse;margin:4px 0"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>",
    ]
    if result.error:
        parts.append(f'<div style="color:#b91c1c">the measured code failed: '
                     f"{_esc(result.error.get('message'))}</div>")
    for state, data in result.states.items():
        text = _meaning(data["summary"].get("classification"))
        if text:
            parts.append(f"<div><b>{_esc(state)}</b>: {_esc(text)}</div>")
    for note in result.notes:
        parts.append(f'<div style="color:#92400e">caveat: {_esc(note)}</div>')
    for state, reason in result.skipped_states.items():
        parts.append(f'<div style="color:#6b7280">{_esc(state)} skipped: {_esc(reason)}</div>')
    if plots:
        parts.append(_plot(result))
    parts.append("</div>")
    return "\n".join(p for p in parts if p)
