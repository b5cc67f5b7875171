"""A self-contained HTML report: one file, inline SVG plots and CSS, no scripts, no network.

One page holds one or several results (the demo: a section per case) with, per case: the
key figures, the classification and what it means, findings and advice, the cold-start
breakdown, the processes overlaid and one by one, the per-state and per-process tables,
every compile event, and the environment. Everything taken from the data is HTML-escaped.
"""

from __future__ import annotations

import datetime as _dt
import html
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from jitwarm._units import NO_INTERVAL, fmt_ns, fmt_ratio, fmt_warm_ci, warm_ci_half
from jitwarm.results.findings import cache_saves_sentence, findings, meaning
from jitwarm.results.profile import ProfileResult

CSS = """
:root { --fg:#111827; --muted:#6b7280; --line:#e5e7eb; --bg:#f8fafc; --card:#ffffff;
  --cold:#2563eb; --cached:#0d9488; --good:#16a34a; --warn:#d97706; --bad:#dc2626; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--fg);
  font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif; }
main { max-width:1240px; margin:0 auto; padding:28px 28px 60px; }
header.page { background:#0f172a; color:#e2e8f0; }
header.page .inner { max-width:1240px; margin:0 auto; padding:22px 28px; }
header.page h1 { margin:0; font-size:24px; letter-spacing:-0.01em; color:#fff; }
header.page h1 span { color:#93c5fd; font-weight:500; }
header.page p { margin:4px 0 0; color:#94a3b8; font-size:13px; }
nav.toc { margin:0 0 18px; font-size:14px; }
nav.toc a { margin-right:14px; }
a { color:#1d4ed8; text-decoration:none; } a:hover { text-decoration:underline; }
section.case { background:var(--card); border:1px solid var(--line); border-radius:12px;
  padding:22px 26px; margin:0 0 28px; box-shadow:0 1px 2px rgba(15,23,42,.04); }
section.case > h2 { margin:0 0 2px; font-size:22px; }
.sub { color:var(--muted); font-size:13px; margin:0 0 16px; }
h3 { font-size:15px; margin:26px 0 8px; text-transform:uppercase; letter-spacing:.04em;
  color:#334155; }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(170px,1fr)); gap:12px;
  margin:14px 0 8px; }
.card { border:1px solid var(--line); border-radius:10px; padding:12px 14px; background:#fcfdff; }
.card .label { font-size:12px; color:var(--muted); text-transform:uppercase;
  letter-spacing:.05em; }
.card .value { font-size:24px; font-weight:650; margin-top:2px; font-variant-numeric:tabular-nums; }
.card .note { font-size:12.5px; color:var(--muted); }
.card.cold { border-top:3px solid var(--cold); } .card.cached { border-top:3px solid var(--cached); }
.card.warm { border-top:3px solid var(--good); } .card.verdict { border-top:3px solid #64748b; }
.verdict-box { border-left:4px solid #64748b; background:#f1f5f9; padding:10px 14px;
  border-radius:6px; margin:14px 0 4px; }
.verdict-box.good { border-color:var(--good); background:#f0fdf4; }
.verdict-box.warn { border-color:var(--warn); background:#fffbeb; }
.verdict-box.bad { border-color:var(--bad); background:#fef2f2; }
ul.findings { margin:6px 0 0; padding-left:20px; } ul.findings li { margin:4px 0; }
table { border-collapse:collapse; width:100%; font-size:13px; margin:6px 0;
  font-variant-numeric:tabular-nums; }
th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line);
  vertical-align:top; }
th { background:#f8fafc; font-weight:600; color:#334155; font-size:12.5px; }
td.num { text-align:right; white-space:nowrap; } th.num { text-align:right; }
.tablewrap { overflow-x:auto; }
figure { margin:8px 0 4px; } figure svg { width:100%; height:auto; display:block; }
figcaption { color:var(--muted); font-size:13px; margin-top:4px; }
details summary { cursor:pointer; color:#1d4ed8; margin:6px 0; }
dl.env { display:grid; grid-template-columns:max-content 1fr; gap:3px 18px; font-size:13.5px;
  margin:6px 0; } dl.env dt { color:var(--muted); } dl.env dd { margin:0; }
pre { background:#0f172a; color:#e2e8f0; padding:12px; border-radius:8px; overflow-x:auto;
  font-size:12.5px; }
.error { border:1px solid #fecaca; background:#fef2f2; border-radius:8px; padding:10px 14px; }
code { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:.92em; }
footer { color:var(--muted); font-size:12.5px; text-align:center; margin-top:30px; }
"""


def esc(value: Any) -> str:
    """HTML-escape anything (None → en dash)."""
    return "–" if value is None else html.escape(str(value), quote=True)


def _slug(text: str, used: set[str]) -> str:
    base = re.sub(r"[^a-zA-Z0-9_-]+", "-", text).strip("-").lower() or "case"
    slug, k = base, 2
    while slug in used:
        slug, k = f"{base}-{k}", k + 1
    used.add(slug)
    return slug


def _table(head: Sequence[str], rows: Iterable[Sequence[Any]], num: Sequence[int] = ()) -> str:
    """A table; cells are escaped here (pass raw values)."""
    th = "".join(f'<th class="num">{esc(h)}</th>' if i in num else f"<th>{esc(h)}</th>"
                 for i, h in enumerate(head))
    body = []
    for row in rows:
        tds = "".join(f'<td class="num">{esc(c)}</td>' if i in num else f"<td>{esc(c)}</td>"
                      for i, c in enumerate(row))
        body.append(f"<tr>{tds}</tr>")
    return (f'<div class="tablewrap"><table><thead><tr>{th}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


def _verdict_tone(cls: str | None) -> str:
    if not cls:
        return ""
    if cls in ("consistent flat", "consistent warmup", "good-inconsistent"):
        return "good"
    if cls == "bad-inconsistent" or "slowdown" in cls:
        return "bad"
    return "warn"


def _card(kind: str, label: str, value: str, note: str = "") -> str:
    return (f'<div class="card {kind}"><div class="label">{esc(label)}</div>'
            f'<div class="value">{esc(value)}</div>'
            + (f'<div class="note">{esc(note)}</div>' if note else "") + "</div>")


def _warm_ci_note(warm: dict[str, Any]) -> str:
    """The warm card's note: ``± 6 ns (95% CI)``, or that one process has no interval."""
    half = warm_ci_half(warm)
    return half if half in ("", NO_INTERVAL) else f"{half} (95% CI)"


def _cards(r: ProfileResult) -> str:
    cold = r.summary("cold") or r.summary("in-process") or {}
    cold_name = "cold" if r.summary("cold") else "in-process"
    cached = r.summary("cached") or {}
    warm = cold or cached
    cards = [
        _card("cold", f"{cold_name} first call", fmt_ns(cold.get("first_call_ns")),
              f"compile {fmt_ns(cold.get('compile_ns'))}" if cold.get("compile_ns") is not None
              else ""),
    ]
    if cached:
        hits = cached.get("cache_hits")
        cards.append(_card("cached", "cached first call", fmt_ns(cached.get("first_call_ns")),
                           f"{hits} cache hit(s)" if hits is not None else ""))
    elif "cached" in r.skipped_states:
        cards.append(_card("cached", "cached first call", "skipped", r.skipped_states["cached"]))
    cards.append(_card("warm", "warm median", fmt_ns(warm.get("warm_median_ns")),
                       _warm_ci_note(warm)))
    cards.append(_card("warm", "first ÷ warm", fmt_ratio(cold.get("first_over_warm")),
                       "warm calls one first call costs"))
    call = warm.get("steady_state_call")
    cards.append(_card("verdict", "steady state",
                       "none reached" if call is None else f"after {call:,} calls",
                       "median over processes" if call is not None else
                       "see the verdict below"))
    return '<div class="cards">' + "".join(cards) + "</div>"


#: tone of the verdict-in-words labels (jitwarm.analysis.judge)
_LABEL_TONE = {"warms up": "good", "warm from the start": "good", "slows down": "bad",
               "no steady state": "warn", "inconsistent": "warn"}


def _verdicts(r: ProfileResult) -> str:
    """One box per state: the verdict in words (what differed, by how much, whether it
    matters, and the fix when it rests on one process's noise); Barrett's per-process
    classes stay as the detail."""
    from jitwarm.results.findings import state_verdict

    out = []
    for name, st in r.states.items():
        cls = st["summary"].get("classification")
        counts = st["summary"].get("classifications") or {}
        detail = ", ".join(f"{n} {c}" for c, n in counts.items())
        sub = f" <span class=\"sub\">({esc(detail)})</span>" if detail else ""
        v = state_verdict(st)
        if v is None:
            out.append(f'<div class="verdict-box {_verdict_tone(cls)}"><strong>{esc(name)}: '
                       f"{esc(cls)}</strong>{sub} — {esc(meaning(cls))}</div>")
            continue
        tone = "warn" if v.noise_dependent else _LABEL_TONE.get(v.label, "warn")
        label = v.label + (" (rests on 1 process)" if v.noise_dependent else "")
        out.append(f'<div class="verdict-box {tone}"><strong>{esc(name)}: {esc(label)}</strong>'
                   f"{sub} — {esc(v.text)}</div>")
    return "".join(out)


def _state_table(r: ProfileResult) -> str:
    rows = []
    for name, st in r.states.items():
        s = st["summary"]
        hm = "–" if s.get("cache_hits") is None else f"{s['cache_hits']}/{s['cache_misses']}"
        ok = f"{s.get('processes_ok', 0)}" + (f" (+{s['processes_failed']} failed)"
                                              if s.get("processes_failed") else "")
        rows.append([
            name, ok, fmt_ns(s.get("import_ns")), fmt_ns(s.get("setup_ns")),
            fmt_ns(s.get("first_call_ns")), fmt_ns(s.get("compile_ns")),
            f"{fmt_ns(s.get('function_compile_ns'))} / {fmt_ns(s.get('runtime_init_ns'))}",
            fmt_warm_ci(s), hm,
            "–" if s.get("steady_state_call") is None else f"{s['steady_state_call']:,}",
            s.get("recompiles", 0),
        ])
    return _table(
        ["state", "processes", "interpreter + imports", "setup", "first call", "compile",
         "fn compile / runtime init", "warm median ± CI", "cache hits/ misses",
         "steady after calls", "recompiles"],
        rows, num=range(1, 11),
    )


def _process_table(r: ProfileResult) -> str:
    rows = []
    for name, st in r.states.items():
        for p in st["processes"]:
            ok = p.get("status") == "ok"
            rows.append([
                name, p.get("index", 0) + 1, p.get("status"),
                fmt_ns(p.get("first_call_ns")), fmt_ns(p.get("compile_ns")),
                fmt_ns(p.get("warm_median_ns")), len(p.get("timings_ns") or []),
                "–" if p.get("steady_state_call") is None else f"{p['steady_state_call']:,}",
                len(p.get("recompiles") or []), p.get("classification") if ok else
                (p.get("error") or p.get("status")), p.get("stop_reason"),
            ])
    return _table(["state", "process", "status", "first call", "compile", "warm median",
                   "series length", "steady after calls", "recompiles", "classification",
                   "stopped by"], rows, num=(1, 3, 4, 5, 6, 7, 8))


def _events_table(r: ProfileResult) -> tuple[int, str]:
    rows = []
    for name, st in r.states.items():
        for p in st["processes"]:
            for e in p.get("compile_events") or []:
                rows.append([
                    name, p.get("index", 0) + 1,
                    "–" if e.get("call_index") is None else e["call_index"],
                    e.get("name"), e.get("kind"), e.get("signature"), e.get("cache"),
                    e.get("reason"), fmt_ns(e.get("duration_ns")), e.get("depth"),
                ])
    if not rows:
        return 0, "<p>No compile events were recorded (plain Python, or the framework " \
                  "reports none).</p>"
    table = _table(["state", "process", "call index", "name", "kind", "signature", "cache",
                    "reason", "duration", "depth"], rows, num=(1, 2, 8, 9))
    if len(rows) > 40:
        table = f"<details><summary>show all {len(rows)} compile events</summary>{table}</details>"
    return len(rows), table


def _environment(r: ProfileResult) -> str:
    env = r.environment or {}
    items: list[tuple[str, Any]] = []
    for k in ("python", "implementation", "platform", "machine", "cpu_model", "cpu_count",
              "cpu_affinity", "executable"):
        if k in env:
            items.append((k, env[k]))
    for k, v in (env.get("versions") or {}).items():
        items.append((f"version: {k}", v))
    for k, v in (env.get("threads") or {}).items():
        items.append((f"env: {k}", v))
    for name, st in r.states.items():
        rt = next((p.get("runtime") for p in st["processes"] if p.get("runtime")), None)
        if rt:
            items.append((f"runtime ({name})", ", ".join(f"{a}={b}" for a, b in rt.items())))
    settings = r.settings or {}
    items.append(("settings", ", ".join(f"{k}={v}" for k, v in settings.items())))
    dl = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items)
    return f'<dl class="env">{dl}</dl>'


def _error(r: ProfileResult) -> str:
    if not r.error:
        return ""
    e = r.error
    tb = e.get("traceback")
    return ('<div class="error"><strong>The measured code failed</strong> '
            f"({esc(e.get('state'))} process {esc(e.get('index'))}, phase {esc(e.get('phase'))}):"
            f" {esc(e.get('message'))}" + (f"<pre>{esc(tb)}</pre>" if tb else "") + "</div>")


def _figure(kind: str, r: ProfileResult, caption: str) -> str:
    from jitwarm.report.plots import figure, svg_text

    svg = svg_text(figure(kind, r))
    return f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>"


def _waterfall(rec: dict[str, Any], caption: str) -> str:
    from jitwarm.report.plots import svg_text, waterfall_figure

    svg = svg_text(waterfall_figure(rec, "timeline of one process"))
    return f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>"


def _units_table(units: Sequence[dict[str, Any]], limit: int = 50) -> str:
    rows = [(u["framework"], u["name"], u.get("module") or "–", fmt_ns(u["duration_ns"]),
             u.get("cache") or "–", u.get("per_process", "–"), u.get("location") or "–")
            for u in list(units)[:limit]]
    return _table(["framework", "compiled", "module", "time (median)", "cache",
                   "per process", "triggered at"], rows, num=(3, 5))


def case_section(r: ProfileResult, slug: str, plots: bool = True) -> str:
    """The HTML section of one result."""
    case = r.case or {}
    parts = [f'<section class="case" id="{esc(slug)}">',
             f"<h2>{esc(case.get('name'))}</h2>",
             f'<p class="sub">{esc(case.get("target"))} · framework {esc(r.framework)} · '
             f"status {esc(r.status)} · measured {esc(r.created)}</p>",
             _error(r), _cards(r), _verdicts(r)]
    lines = findings(r)
    if lines:
        parts.append("<h3>Findings and advice</h3><ul class=\"findings\">"
                     + "".join(f"<li>{esc(x)}</li>" for x in lines) + "</ul>")
    has_series = any(p.get("status") == "ok" and p.get("timings_ns")
                     for st in r.states.values() for p in st["processes"])
    if plots and has_series:
        parts.append("<h3>Cold start</h3>")
        parts.append(_figure("breakdown", r, "Time from process start to the first result "
                             "(medians across processes) beside the warm median per call: the "
                             "two differ by orders of magnitude, hence two scales."))
    first = next((p for p in (r.states.get("cold") or {}).get("processes", [])
                  if p.get("status") == "ok" and p.get("compiled")), None)
    if plots and first is not None:
        parts.append("<h3>Waterfall of a cold process</h3>" + _waterfall(
            first, "Cold process 1: interpreter, imports, setup and the first call, with every "
            "framework's compile units (what compiled, bars by framework) and GC pauses."))
    parts.append("<h3>By cache state</h3>" + _state_table(r))
    if plots and has_series:
        parts.append("<h3>Processes</h3>")
        parts.append(_figure("overlay", r, "Every process of a state on one axis (log-log): "
                             "curves that do not coincide are processes that warmed up "
                             "differently. A bar marks where each steady state starts."))
        parts.append("<details open><summary>each process on its own</summary>"
                     + _figure("timelines", r, "Per-call time (batched calls at their call "
                               "numbers; a batch's value is its per-call mean).")
                     + "</details>")
    parts.append(_process_table(r))
    units = (r.summary("cold") or r.summary("in-process") or {}).get("compiled") or []
    if units:
        parts.append(f"<h3>Compile units, longest first ({len(units)})</h3>"
                     + _units_table(units))
    n, events = _events_table(r)
    parts.append(f"<h3>Compile events ({n})</h3>{events}")
    parts.append("<h3>Environment</h3>" + _environment(r))
    parts.append("</section>")
    return "\n".join(p for p in parts if p)


def _labels(results: Sequence[ProfileResult]) -> list[str]:
    """Case names, with the framework added where a name repeats (the demo's ``mlp``s)."""
    names = [str(r.case.get("name") or "case") for r in results]
    return [f"{n} ({r.framework})" if names.count(n) > 1 and r.framework else n
            for n, r in zip(names, results, strict=True)]


def _overview(results: Sequence[ProfileResult], slugs: Sequence[str]) -> str:
    rows = []
    for r, slug, label in zip(results, slugs, _labels(results), strict=True):
        cold = r.summary("cold") or r.summary("in-process") or {}
        cached = r.summary("cached") or {}
        warm = cold or cached
        rows.append(
            f'<tr><td><a href="#{esc(slug)}">{esc(label)}</a></td>'
            f"<td>{esc(r.framework)}</td>"
            f'<td class="num">{esc(fmt_ns(cold.get("first_call_ns")))}</td>'
            f'<td class="num">{esc(fmt_ns(cold.get("compile_ns")))}</td>'
            f'<td class="num">{esc(fmt_ns(cached.get("first_call_ns")) if cached else "–")}</td>'
            f'<td class="num">{esc(fmt_warm_ci(warm))}</td>'
            f'<td class="num">{esc(fmt_ratio(cold.get("first_over_warm")))}</td>'
            f"<td>{esc(warm.get('classification'))}</td></tr>"
        )
    cols = ["case", "framework", "cold first call", "compile", "cached first call",
            "warm median ± CI", "first÷warm", "verdict"]
    head = "".join(f'<th class="num">{h}</th>' if i in (2, 3, 4, 5, 6) else f"<th>{h}</th>"
                   for i, h in enumerate(cols))
    return (f'<div class="tablewrap"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def render(results: ProfileResult | Sequence[ProfileResult], *, plots: bool = True,
           title: str | None = None) -> str:
    """The whole report as one HTML string."""
    rs = [results] if isinstance(results, ProfileResult) else list(results)
    used: set[str] = set()
    labels = _labels(rs)
    slugs = [_slug(str(r.case.get("name") or "case"), used) for r in rs]
    names = ", ".join(labels)
    title = title or f"jitwarm report: {names}"
    env = rs[0].environment if rs else {}
    host = " · ".join(str(x) for x in (env.get("cpu_model"), env.get("platform"),
                                       "Python " + str(env.get("python"))) if x)
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body = [
        '<header class="page"><div class="inner">',
        f"<h1>jitwarm <span>· {esc(names)}</span></h1>",
        f"<p>{esc(host)} · report generated {esc(now)}</p></div></header><main>",
    ]
    if len(rs) > 1:
        body.append('<nav class="toc">' + "".join(
            f'<a href="#{esc(s)}">{esc(label)}</a>' for label, s in zip(labels, slugs,
                                                                       strict=True))
                    + "</nav>")
    body.append(_overview(rs, slugs))
    body.append("<br>")
    for r, s in zip(rs, slugs, strict=True):
        body.append(case_section(r, s, plots=plots))
    version = rs[0].jitwarm_version if rs else ""
    body.append(f"<footer>jitwarm {esc(version)} · cold = fresh process, empty compile cache; "
                "cached = fresh process, cache filled by the cold runs; warm = steady state "
                "within a process. All times are medians unless noted.</footer></main>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")


def write_html(results: ProfileResult | Sequence[ProfileResult], path: str | Path,
               **kwargs: Any) -> Path:
    """Write :func:`render` atomically; returns the path."""
    from jitwarm.results.profile import write_atomic

    return write_atomic(path, render(results, **kwargs))


def render_program(result: dict[str, Any]) -> str:
    """A ``jitwarm run`` result as one page: per state the wall time and its parts, the
    waterfall of the first process of each state, the compile units ranked."""
    argv = " ".join(str(a) for a in result.get("argv", []))
    body = ['<header class="page"><div class="inner">',
            f"<h1>jitwarm run <span>· {esc(argv[:200])}</span></h1>",
            f"<p>measured {esc(result.get('created'))} · status {esc(result.get('status'))}"
            "</p></div></header><main>"]
    rows = []
    for name, st in (result.get("states") or {}).items():
        s = st.get("summary") or {}
        rows.append((name, f"{s.get('processes_ok', 0)}/{s.get('processes', 0)}",
                     fmt_ns(s.get("wall_ns")), fmt_ns(s.get("interpreter_ns")),
                     fmt_ns(s.get("import_ns")), fmt_ns(s.get("compile_ns")),
                     ", ".join(f"{k} {fmt_ns(v)}" for k, v in
                               (s.get("compile_ns_by_framework") or {}).items()) or "–"))
    body.append(_table(["state", "processes ok", "wall", "interpreter", "imports", "compile",
                        "by framework"], rows, num=(2, 3, 4, 5)))
    if result.get("cache_saves_ns") is not None:
        sentence = cache_saves_sentence(int(result["cache_saves_ns"]))
        body.append(f"<p>{esc(sentence[0].upper() + sentence[1:])}.</p>")
    for name, st in (result.get("states") or {}).items():
        first = next((p for p in st.get("processes", []) if p.get("compiled") is not None),
                     None)
        if first is not None:
            body.append(f"<h3>Waterfall: {esc(name)} process 1</h3>" + _waterfall(
                first, "The interpreter, each top-level import, every framework's compile "
                "units and GC pauses, on one time axis."))
    first_state = next(iter((result.get("states") or {}).values()), {})
    units = (first_state.get("summary") or {}).get("units") or []
    if units:
        body.append(f"<h3>Compile units, longest first ({len(units)})</h3>" + _units_table(units))
    body.append("</main>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>jitwarm run: {esc(argv[:100])}</title><style>{CSS}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")


def write_program_html(result: dict[str, Any], path: str | Path) -> Path:
    """Write :func:`render_program` atomically; returns the path."""
    return write_other_html(result, path)


def render_strategies(data: dict[str, Any]) -> str:
    """A strategies A/B (``jitwarm.strategies/1``, already checked) as one page: time to
    first result per strategy against its floor and ``none``, what each saves, why a
    strategy was skipped or failed, and each strategy's explanation."""
    from jitwarm.caches.strategies import floor_sentences
    from jitwarm.report.plots import strategies_figure, svg_text

    target = str(data.get("target") or "")
    body = ['<header class="page"><div class="inner">',
            f"<h1>jitwarm strategies <span>· {esc(target[:200])}</span></h1>",
            f"<p>framework {esc(data.get('framework'))} · status {esc(data.get('status'))}"
            "</p></div></header><main>"]
    rows, ok = [], False
    for name, r in (data.get("strategies") or {}).items():
        s = r.get("summary") or {}
        if r.get("status") != "ok":
            rows.append((name, f"{r.get('status')}: {str(r.get('reason') or '')[:300]}",
                         "", "", "", "", "", ""))
            continue
        ok = True
        over = r.get("ttfr_over_floor")
        rows.append((name, fmt_ns(r.get("ttfr_ns") or s.get("time_to_first_result_ns")),
                     fmt_ns(r.get("floor_ns")) + (f" ({r['floor_name']})" if r.get("floor_ns")
                                                  and r.get("floor_name") else ""),
                     "–" if over is None else f"{over:.2f}×",
                     fmt_ns(r.get("ttfr_saved_ns")), fmt_ns(s.get("first_call_ns")),
                     fmt_ns(s.get("compile_ns")), fmt_ns(s.get("warm_median_ns"))))
    if ok:
        body.append("<figure>" + svg_text(strategies_figure(data)) + "<figcaption>Time from "
                    "process start to the first result, median of each strategy's fresh "
                    "processes; the red tick is its floor: fresh processes that only import "
                    "what the strategy's result needs and, where the framework has one, do "
                    "the least user code's step before a result (ONNX Runtime: create one "
                    "session).</figcaption></figure>")
    body.append(_table(["strategy", "to first result", "floor", "÷ floor", "saved vs none",
                        "first call", "compile", "warm median"], rows,
                       num=(2, 3, 4, 5, 6, 7)))
    floor_lines = floor_sentences(data)
    if floor_lines:
        body.append("<h3>What is left of the floor</h3><ul class=\"findings\">"
                    + "".join(f"<li>{esc(x)}</li>" for x in floor_lines) + "</ul>")
    for name, r in (data.get("strategies") or {}).items():
        lines = [*(r.get("explanation") or []), *(f"still compiled: {m}"
                                                  for m in r.get("misses") or [])]
        if lines:
            body.append(f"<h3>{esc(name)}</h3><ul class=\"findings\">"
                        + "".join(f"<li>{esc(x)}</li>" for x in lines) + "</ul>")
    if data.get("notes"):
        body.append("<h3>Notes</h3><ul>" + "".join(f"<li>{esc(n)}</li>"
                                                   for n in data["notes"]) + "</ul>")
    body.append("</main>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>jitwarm strategies: {esc(target[:100])}</title><style>{CSS}</style>"
            "</head><body>" + "\n".join(body) + "</body></html>\n")


def write_other_html(data: dict[str, Any], path: str | Path) -> Path:
    """A checked strategies or ``jitwarm run`` result as its page, written atomically."""
    from jitwarm.results.profile import check_other, write_atomic

    schema = check_other(data)
    page = render_strategies(data) if schema == "jitwarm.strategies/1" else render_program(data)
    return write_atomic(path, page)
