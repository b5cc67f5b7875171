"""Plots of a result (matplotlib, no pyplot: works headless and never touches a notebook's
backend). PNG or SVG by the file's extension.

- :func:`draw_timelines`: the per-call series of every process, one panel each (log-log:
  call number on x, batched elements placed at their call numbers), with outliers, change
  points, the steady-state run shaded with its median, compile and recompile events where
  they happened, and the first call annotated with its compile part;
- :func:`draw_breakdown`: the cold start per cache state (interpreter + imports, setup,
  compile, rest of the first call) beside the warm median with its CI;
- :func:`draw_overlay`: every process of a state on one axis, so inconsistency is visible
  at a glance;
- :func:`draw_waterfall`: one process as a timeline — interpreter, imports, setup, the
  first call (or a whole program), every framework's compile units and GC pauses.

:func:`result_figure` puts the three together; :func:`save_plot` writes it.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

from jitwarm._errors import UsageError
from jitwarm._units import fmt_ns
from jitwarm.results.profile import ProfileResult, write_atomic

STATE_COLOURS = {"cold": "#2563eb", "cached": "#0d9488", "in-process": "#7c3aed"}
PART_COLOURS = {
    "interpreter + imports": "#94a3b8",
    "setup": "#cbd5e1",
    "compile": "#f97316",
    "rest of first call": "#fbbf24",
}
STEADY = "#16a34a"
OUTLIER = "#dc2626"
COMPILE = "#ea580c"
PROCESS_COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2",
                   "#be185d", "#65a30d", "#a16207", "#475569")
RC = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e5e7eb",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "svg.fonttype": "none",
    "font.family": ["DejaVu Sans", "sans-serif"],
}

_NS_FMT = FuncFormatter(lambda v, _pos: fmt_ns(v, 2))


def _calls_fmt(v: float, _pos: Any) -> str:
    if v >= 1e6:
        return f"{v / 1e6:g}M"
    if v >= 1e3:
        return f"{v / 1e3:g}k"
    return f"{v:g}"


def call_numbers(batch_sizes: Sequence[Sequence[int]] | None, n: int) -> list[int]:
    """1-based call number of the first call in each of the ``n`` series elements."""
    sizes = [list(x) for x in (batch_sizes or [[0, 1]])] or [[0, 1]]
    out: list[int] = []
    call = 1
    for i, (start, size) in enumerate(sizes):
        end = sizes[i + 1][0] if i + 1 < len(sizes) else n
        for _ in range(max(0, min(end, n) - max(start, len(out)))):
            out.append(call)
            call += int(size)
    while len(out) < n:  # batch_sizes shorter than the series: count single calls
        out.append(call)
        call += 1
    return out[:n]


def _ok(result: ProfileResult, state: str) -> list[dict[str, Any]]:
    return [p for p in result.states[state]["processes"]
            if p.get("status") == "ok" and p.get("timings_ns")]


def _log_axes(ax: Any) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(_NS_FMT)
    ax.xaxis.set_major_locator(LogLocator(base=10))
    ax.xaxis.set_major_formatter(FuncFormatter(_calls_fmt))
    # no minor ticks: decades are enough to read, and minor ticks on log axes cost most of
    # the drawing time
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_minor_locator(NullLocator())
        axis.set_minor_formatter(NullFormatter())


def _narrow_range_ticks(ax: Any, values: Sequence[float]) -> None:
    """Within about a decade, decades alone leave the y axis unlabelled: add 2× and 5×."""
    lo, hi = min(values), max(values)
    if hi / max(lo, 1.0) < 30:
        ax.yaxis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0)))
        ax.yaxis.set_minor_formatter(_NS_FMT)


MAX_POINTS = 4000  # per drawn line; beyond, buckets keep their min and max (spikes survive)


def decimate(x: Sequence[float], y: Sequence[float], max_points: int = MAX_POINTS,
             ) -> tuple[list[float], list[float]]:
    """Thin a long series for drawing: per bucket its first point, minimum and maximum, in
    order, so the line's envelope and every spike look as in the full series."""
    n = len(y)
    if n <= max_points:
        return list(x), list(y)
    buckets = max_points // 3
    size = n / buckets
    xs: list[float] = []
    ys: list[float] = []
    for b in range(buckets):
        lo, hi = int(b * size), min(n, int((b + 1) * size))
        if lo >= hi:
            continue
        idx = {lo, min(range(lo, hi), key=y.__getitem__), max(range(lo, hi), key=y.__getitem__)}
        for i in sorted(idx):
            xs.append(x[i])
            ys.append(y[i])
    if xs[-1] != x[-1]:
        xs.append(x[-1])
        ys.append(y[-1])
    return xs, ys


def _pos(values: Sequence[float]) -> list[float]:
    """Log axes cannot show 0 ns: clip to 1 ns (shown, not dropped)."""
    return [max(1.0, float(v)) for v in values]


def draw_process(ax: Any, p: dict[str, Any], colour: str = "#2563eb", *,
                 annotate: bool = True) -> None:
    """One process's timeline on ``ax`` with every marker the analysis provides."""
    t = _pos(p["timings_ns"])
    x = call_numbers(p.get("batch_sizes"), len(t))
    n = len(t)
    _log_axes(ax)
    _narrow_range_ticks(ax, t)
    ax.plot(*decimate(x, t), color=colour, lw=0.7, alpha=0.9, zorder=2)
    ax.scatter(x[:1], t[:1], s=28, color=colour, zorder=4)
    outl = [i for i in p.get("outliers") or [] if 0 <= i < n]
    if outl:
        ax.scatter([x[i] for i in outl], [t[i] for i in outl], marker="x", s=14, lw=0.8,
                   color=OUTLIER, zorder=3)
    cps = [i for i in p.get("change_points") or [] if 0 < i < n]
    if cps:
        ax.vlines([x[i] for i in cps], 0, 1, transform=ax.get_xaxis_transform(),
                  color="#6b7280", lw=0.6, ls=(0, (3, 3)), zorder=1)
    start, med = p.get("steady_state_start"), p.get("warm_median_ns")
    if start is not None and 0 <= start < n:
        ax.axvspan(x[start], x[-1], color=STEADY, alpha=0.10, lw=0, zorder=0)
        if med:
            ax.hlines(max(1, med), x[start], x[-1], color=STEADY, lw=1.6, zorder=5)
    elif med:
        ax.axhline(max(1, med), color=STEADY, lw=1.2, ls="--", zorder=5)
    events = [e for e in p.get("compile_events") or []
              if e.get("depth", 0) == 0 and e.get("call_index") is not None
              and 0 <= e["call_index"] < n]
    later = [e for e in events if e["call_index"] > 0]
    first = [e for e in events if e["call_index"] == 0]
    if first:
        ax.scatter([x[0]], [t[0]], marker="o", s=90, facecolors="none", edgecolors=COMPILE,
                   lw=1.4, zorder=6)
    if later:
        ax.scatter([x[e["call_index"]] for e in later], [t[e["call_index"]] for e in later],
                   marker="^", s=46, color=COMPILE, edgecolors="white", lw=0.5, zorder=6)
    if annotate:
        comp = p.get("compile_ns")
        text = f"first call {fmt_ns(p.get('first_call_ns', t[0]))}"
        if comp:
            text += f"\ncompile {fmt_ns(comp)}"
        ax.annotate(text, (x[0], t[0]), xytext=(10, -4), textcoords="offset points",
                    va="top", fontsize=8, color="#111827")
    # head-room so the annotation and the first point are inside the axes
    ax.set_xlim(0.7, max(x[-1] * 1.4, 10))


def draw_timelines(fig: Any, result: ProfileResult) -> None:
    """A grid of per-process timelines: one column per cache state, one row per process."""
    states = [s for s in result.states if _ok(result, s)]
    if not states:
        ax = fig.add_subplot(1, 1, 1)
        ax.text(0.5, 0.5, "no process finished", ha="center", va="center")
        ax.set_axis_off()
        return
    rows = max(len(_ok(result, s)) for s in states)
    axes = fig.subplots(rows, len(states), squeeze=False, sharex=True, sharey=True)
    for c, state in enumerate(states):
        procs = _ok(result, state)
        for r in range(rows):
            ax = axes[r][c]
            if r >= len(procs):
                ax.set_axis_off()
                continue
            p = procs[r]
            draw_process(ax, p, STATE_COLOURS.get(state, "#2563eb"))
            ax.set_title(_process_title(state, r, p), loc="left", fontsize=8.5,
                         fontweight="normal", linespacing=1.4)
            if r == len(procs) - 1:
                ax.set_xlabel("call number (log)")
            if c == 0:
                ax.set_ylabel("time per call")
    fig.legend(handles=_legend_handles(), loc="outside upper center", ncols=7,
               fontsize=8, handlelength=1.6)


def _process_title(state: str, r: int, p: dict[str, Any]) -> str:
    head = f"{state} · process {p.get('index', r) + 1}: {p.get('classification') or '–'}"
    bits = []
    start, med = p.get("steady_state_start"), p.get("warm_median_ns")
    if start is not None and med:
        bits.append(f"steady {fmt_ns(med)} after {p.get('steady_state_call', start):,} calls")
    elif med:
        bits.append(f"2nd-half median {fmt_ns(med)}")
    n_rec = len(p.get("recompiles") or [])
    if n_rec:
        bits.append(f"{n_rec} recompile(s)")
    bits.append(f"{len(p.get('change_points') or [])} change pts, "
                f"{len(p.get('outliers') or [])} outliers")
    return head + "\n" + " · ".join(bits)


def _legend_handles() -> list[Any]:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    return [
        Line2D([], [], color="#475569", lw=0.9, label="per-call time"),
        Line2D([], [], color=OUTLIER, marker="x", ls="none", label="outlier"),
        Line2D([], [], color="#6b7280", lw=0.8, ls=(0, (3, 3)), label="change point"),
        Patch(facecolor=STEADY, alpha=0.18, label="steady-state run"),
        Line2D([], [], color=STEADY, lw=1.6, label="steady median (dashed: none)"),
        Line2D([], [], marker="o", mfc="none", mec=COMPILE, ls="none", ms=8,
               label="compiled in first call"),
        Line2D([], [], marker="^", color=COMPILE, ls="none", label="recompile"),
    ]


def draw_breakdown(fig: Any, result: ProfileResult) -> None:
    """Time to the first result per cache state (stacked parts) beside the warm median."""
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[3, 1.25])
    states = [s for s in result.states if result.states[s]["summary"].get("first_call_ns")]
    labels = []
    for i, state in enumerate(states):
        s = result.states[state]["summary"]
        fc, comp = s.get("first_call_ns") or 0, s.get("compile_ns") or 0
        parts = {
            "interpreter + imports": s.get("import_ns") or 0,
            "setup": s.get("setup_ns") or 0,
            "compile": comp,
            "rest of first call": max(0, fc - comp),
        }
        left = 0.0
        for name, v in parts.items():
            ax1.barh(i, v / 1e6, left=left / 1e6, color=PART_COLOURS[name], height=0.6,
                     label=name if i == 0 else None, edgecolor="white", lw=0.6)
            if v / max(1, sum(parts.values())) > 0.08:
                ax1.text((left + v / 2) / 1e6, i, fmt_ns(v, 2), ha="center", va="center",
                         fontsize=8, color="#111827")
            left += v
        ax1.annotate(fmt_ns(left), (left / 1e6, i), xytext=(6, 0), textcoords="offset points",
                     va="center", fontsize=9, fontweight="bold")
        labels.append(state)
    ax1.set_yticks(range(len(states)), labels)
    ax1.invert_yaxis()
    ax1.set_xlabel("ms from process start (medians across processes)")
    ax1.set_title("cold start: time to the first result", loc="left")
    ax1.grid(axis="y", visible=False)
    ax1.margins(x=0.18)
    if states:
        ax1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=4)
    meds = [(st, result.states[st]["summary"]) for st in result.states
            if result.states[st]["summary"].get("warm_median_ns")]
    for i, (state, s) in enumerate(meds):
        med = s["warm_median_ns"]
        ci = s.get("warm_ci_ns") or [med, med]
        ax2.barh(i, med, color=STATE_COLOURS.get(state, "#64748b"), height=0.6, alpha=0.85)
        ax2.errorbar(med, i, xerr=[[med - ci[0]], [ci[1] - med]], color="#111827",
                     capsize=3, lw=1)
        ax2.annotate(fmt_ns(med), (max(ci[1], med), i), xytext=(7, 0),
                     textcoords="offset points", va="center", fontsize=9, fontweight="bold")
    ax2.set_yticks(range(len(meds)), [m[0] for m in meds])
    ax2.invert_yaxis()
    ax2.xaxis.set_major_formatter(_NS_FMT)
    ax2.set_title("warm median (95% CI)", loc="left")
    ax2.grid(axis="y", visible=False)
    ax2.margins(x=0.45)
    ax2.set_xlim(left=0)


def draw_overlay(fig: Any, result: ProfileResult) -> None:
    """All processes of each state on one axis (one colour per process)."""
    states = [s for s in result.states if _ok(result, s)]
    if not states:
        return
    axes = fig.subplots(1, len(states), squeeze=False, sharey=True)[0]
    for ax, state in zip(axes, states, strict=True):
        _log_axes(ax)
        for k, p in enumerate(_ok(result, state)):
            col = PROCESS_COLOURS[k % len(PROCESS_COLOURS)]
            t = _pos(p["timings_ns"])
            x = call_numbers(p.get("batch_sizes"), len(t))
            _narrow_range_ticks(ax, t)
            ax.plot(*decimate(x, t), color=col, lw=0.7, alpha=0.75,
                    label=f"process {p.get('index', k) + 1}: {p.get('classification') or '–'}")
            start = p.get("steady_state_start")
            if start is not None and p.get("warm_median_ns") and 0 <= start < len(t):
                ax.hlines(max(1, p["warm_median_ns"]), x[start], x[-1], color=col, lw=1.8)
                ax.plot([x[start]], [max(1, p["warm_median_ns"])], marker="|", ms=12,
                        color=col, mew=2)
        summ = result.states[state]["summary"]
        ax.set_title(f"{state}: {len(_ok(result, state))} processes · "
                     f"{summ.get('classification')}", loc="left")
        ax.set_xlabel("call number (log); bars mark where each steady state starts")
        ax.legend(loc="upper center")
    axes[0].set_ylabel("time per call")


FRAMEWORK_COLOURS = {"numba": "#2563eb", "torch": "#ea580c", "jax": "#16a34a",
                     "onnxruntime": "#9333ea", "tensorrt": "#0891b2", "numba_cuda": "#1d4ed8"}
Bar = tuple[float, float, str]  # start (ns from process start), duration, label


def waterfall_lanes(rec: dict[str, Any]) -> tuple[list[tuple[str, str, list[Bar]]], float]:
    """The lanes of one process's timeline from its record (a profile process or a
    ``jitwarm run`` process): ``[(lane, colour, bars)]`` and where the measured call or
    script run starts, both in ns from the process's start."""
    lanes: list[tuple[str, str, list[Bar]]] = []
    interp = float(rec.get("interpreter_ns") or 0)
    if "run_ns" in rec:  # a whole program: imports are timed one by one
        t0 = interp
        lanes.append(("process", "#94a3b8", [(0.0, interp, "interpreter"),
                                              (t0, float(rec["run_ns"]), "script")]))
        imports = [(t0 + i["start_ns"], float(i["duration_ns"]), str(i["module"]))
                   for i in rec.get("imports") or []]
        if imports:
            lanes.append(("imports", "#64748b", imports))
        gc = (rec.get("gc") or {}).get("pauses") or []
    else:
        imp, setup = float(rec.get("import_ns") or 0), float(rec.get("setup_ns") or 0)
        t0 = imp + setup
        lanes.append(("process", "#94a3b8", [
            (0.0, interp, "interpreter"), (interp, max(0.0, imp - interp), "imports"),
            (imp, setup, "setup"), (t0, float(rec.get("first_call_ns") or 0), "first call")]))
        gc = (rec.get("first_call_gc") or {}).get("pauses") or []
    by_fw: dict[str, list[Bar]] = {}
    for u in rec.get("compiled") or []:
        by_fw.setdefault(str(u["framework"]), []).append(
            (t0 + u["start_ns"], float(u["duration_ns"]), str(u["name"])))
    for fw, bars in sorted(by_fw.items()):
        lanes.append((fw, FRAMEWORK_COLOURS.get(fw, "#f97316"), bars))
    if gc:
        lanes.append(("gc", "#dc2626", [(t0 + p[0], float(p[1]), "") for p in gc
                                         if len(p) == 2]))
    return lanes, t0


def draw_waterfall(fig: Any, rec: dict[str, Any], title: str) -> None:
    """One process as a waterfall: a lane each for the process's phases, imports, every
    framework's compile units (one bar per unit, the longest named) and GC pauses."""
    ax = fig.subplots()
    lanes, _t0 = waterfall_lanes(rec)
    end = max([b[0] + b[1] for _, _, bars in lanes for b in bars] or [1.0])
    for y, (_lane, colour, bars) in enumerate(lanes):
        ax.broken_barh([(b[0] / 1e6, max(b[1], end * 2e-4) / 1e6) for b in bars], (y - 0.35, 0.7),
                       facecolors=colour, edgecolor="white", lw=0.4)
        named = sorted(bars, key=lambda b: -b[1])[:6]
        for b in named:
            if b[2] and b[1] > end * 0.04:
                ax.text((b[0] + b[1] / 2) / 1e6, y, f"{b[2][:28]} {fmt_ns(b[1], 2)}",
                        ha="center", va="center", fontsize=7, color="#111827", clip_on=True)
    ax.set_yticks(range(len(lanes)), [lane for lane, _, _ in lanes])
    ax.invert_yaxis()
    ax.set_xlabel("ms from process start")
    ax.set_xlim(0, end / 1e6 * 1.01)
    ax.grid(axis="y", visible=False)
    ax.set_title(title, loc="left")


def waterfall_figure(rec: dict[str, Any], title: str) -> Figure:
    """:func:`draw_waterfall` alone, sized by its number of lanes."""
    lanes, _ = waterfall_lanes(rec)
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(11.0, 1.2 + 0.45 * len(lanes)), layout="constrained")
        draw_waterfall(fig, rec, title)
    return fig


def strategies_figure(data: dict[str, Any]) -> Figure:
    """The strategies A/B: each strategy's median time to first result as a bar, its
    floor (fresh processes that only import what it needs, and create one session for ONNX
    Runtime) as a tick, ``none`` first."""
    rows = [(name, r) for name, r in (data.get("strategies") or {}).items()
            if r.get("status") == "ok" and (r.get("ttfr_ns") or
                                             (r.get("summary") or {}).get("time_to_first_result_ns"))]
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(11.0, 1.4 + 0.5 * max(1, len(rows))), layout="constrained")
        ax = fig.subplots()
        for y, (name, r) in enumerate(rows):
            ttfr = float(r.get("ttfr_ns") or r["summary"]["time_to_first_result_ns"])
            ax.barh(y, ttfr / 1e6, color="#64748b" if name == "none" else "#2563eb",
                    height=0.6)
            ax.annotate(fmt_ns(ttfr), (ttfr / 1e6, y), xytext=(6, 0),
                        textcoords="offset points", va="center", fontsize=9,
                        fontweight="bold")
            floor = r.get("floor_ns")
            if floor:
                ax.plot([floor / 1e6] * 2, [y - 0.4, y + 0.4], color="#dc2626", lw=2)
        ax.set_yticks(range(len(rows)), [str(n)[:40] for n, _ in rows])
        ax.invert_yaxis()
        ax.set_xlabel("ms from process start to the first result (median); red: the floor")
        ax.set_title("time to first result by strategy", loc="left")
        ax.grid(axis="y", visible=False)
        ax.margins(x=0.15)
    return fig


def result_figure(result: ProfileResult) -> Figure:
    """Breakdown, overlay and per-process timelines in one figure."""
    states = [s for s in result.states if _ok(result, s)]
    rows = max([len(_ok(result, s)) for s in states] or [1])
    cols = max(1, len(states))
    width = max(11.0, 5.5 * cols)
    heights = [2.6 + 0.35 * len(result.states), 3.4, 2.5 * rows]
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(width, sum(heights) + 0.8), layout="constrained")
        fig.suptitle(f"jitwarm · {result.case.get('name')} ({result.framework})",
                     x=0.01, ha="left", fontsize=13, fontweight="bold")
        top, mid, bottom = fig.subfigures(3, 1, height_ratios=heights)
        draw_breakdown(top, result)
        draw_overlay(mid, result)
        draw_timelines(bottom, result)
    return fig


def figure(kind: str, result: ProfileResult) -> Figure:
    """One of the plots alone: ``breakdown``, ``overlay`` or ``timelines``."""
    states = [s for s in result.states if _ok(result, s)]
    cols = max(1, len(states))
    rows = max([len(_ok(result, s)) for s in states] or [1])
    size = {
        "breakdown": (11.0, 2.4 + 0.4 * len(result.states)),
        "overlay": (max(11.0, 5.5 * cols), 3.6),
        "timelines": (max(11.0, 5.5 * cols), 0.6 + 2.5 * rows),
    }
    if kind not in size:
        raise ValueError(f"unknown plot {kind!r}")
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=size[kind], layout="constrained")
        {"breakdown": draw_breakdown, "overlay": draw_overlay,
         "timelines": draw_timelines}[kind](fig, result)
    return fig


def save_plot(result: ProfileResult, path: str | Path, dpi: int = 130) -> Path:
    """Write :func:`result_figure` as PNG or SVG (by extension)."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise UsageError(f"--plot: use a .png or .svg file name, not {path.name!r}")
    fig = result_figure(result)

    def draw(f: BinaryIO) -> None:
        with matplotlib.rc_context(RC):
            fig.savefig(f, format=fmt, dpi=dpi)

    return write_atomic(path, draw)


def svg_text(fig: Figure) -> str:
    """The figure as an ``<svg>`` element for inlining in HTML (ids salted per figure)."""
    buf = io.StringIO()
    with matplotlib.rc_context({**RC, "svg.hashsalt": uuid.uuid4().hex}):
        fig.savefig(buf, format="svg")
    text = buf.getvalue()
    return text[text.index("<svg"):]
