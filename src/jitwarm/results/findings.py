"""Findings and advice derived from a result's numbers, shared by the terminal and HTML.

Every sentence is computed from the data (nothing is said that the measurement does not
support); :func:`findings` returns them in reading order.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from jitwarm._errors import shown
from jitwarm._units import fmt_ns, fmt_ratio
from jitwarm.adapters import adapter_named
from jitwarm.results.profile import ProfileResult

#: one sentence per per-process class (Barrett et al. 2017)
CLASS_MEANING = {
    "flat": "the warm calls were steady from the start: after the first call there is no "
            "further warmup.",
    "warmup": "calls got faster and then settled: the code warms up for a while after the "
              "first call before reaching its steady state.",
    "slowdown": "calls got slower and then settled: performance degraded after the start "
                "(caches, memory growth, a deoptimisation), so the early calls flatter it.",
    "no-steady-state": "the timings never settled within the calls measured: there is no "
                       "warm figure to trust; measure longer or on a quieter machine.",
}


def meaning(classification: str | None) -> str:
    """What a state's classification (``consistent warmup``, ``bad-inconsistent``...) means."""
    if not classification:
        return "no classification: no process finished."
    if classification.startswith("consistent "):
        cls = classification.split(" ", 1)[1]
        return "every process agrees: " + CLASS_MEANING.get(cls, cls + ".")
    if classification == "good-inconsistent":
        return ("processes disagree, but each either was flat or warmed up and settled: the "
                "warm figure holds, the path to it varies.")
    if classification == "bad-inconsistent":
        return ("processes disagree: at least one slowed down or did not settle. Whether that "
                "matters depends on how large the change was and how many processes show it; "
                "the verdict in the findings says what differed and by how much.")
    if classification == "no-data":
        return "no process finished, so there is nothing to classify."
    return CLASS_MEANING.get(classification, classification + ".")


def state_verdict(state: dict[str, Any]) -> Any:
    """The verdict over a state's processes in words (:func:`jitwarm.analysis.judge`), or
    ``None`` when no finished process kept its timings.

    The series are re-analysed from ``timings_ns`` (the same analysis the workers ran), so
    the verdict can say where and by how much a process changed; ``batch_sizes`` maps series
    elements back to call numbers.
    """
    from jitwarm.analysis import analyze, judge
    from jitwarm.results.stats import calls_before

    ok = [p for p in _ok(state) if p.get("timings_ns")]
    if not ok:
        return None
    try:
        analyses = [analyze(p["timings_ns"]) for p in ok]
    except (ValueError, TypeError):  # a hand-edited file: no verdict rather than a crash
        return None
    sizes = [p.get("batch_sizes") or [[0, 1]] for p in ok]
    return judge(analyses, fmt=fmt_ns, call=lambda i, k: calls_before(k, sizes[i]))


def verdict_label(state: dict[str, Any]) -> str | None:
    """Short verdict for a table cell: the label, and when it rests on one process, so."""
    v = state_verdict(state)
    if v is None:
        return None
    return v.label + (" (rests on 1 process)" if v.noise_dependent else "")


def _ok(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in state.get("processes", []) if p.get("status") == "ok"]


def _first_state(result: ProfileResult) -> tuple[str | None, dict[str, Any] | None]:
    for name in ("cold", "in-process", *result.states):
        if name in result.states:
            return name, result.states[name]
    return None, None


def _cache_findings(result: ProfileResult) -> list[str]:
    from jitwarm.results.stats import compare_values

    lines: list[str] = []
    cold, cached = result.summary("cold"), result.summary("cached")
    if not (cold and cached and cold.get("first_call_ns") and cached.get("first_call_ns")):
        return lines
    fc_cold, fc_cached = cold["first_call_ns"], cached["first_call_ns"]
    saved = fc_cold - fc_cached
    pct = 100.0 * saved / fc_cold
    test = compare_values(
        [p["first_call_ns"] for p in _ok(result.states["cold"])],
        [p["first_call_ns"] for p in _ok(result.states["cached"])],
    )
    init = cached.get("runtime_init_ns")
    init_share = (init / fc_cached) if init and fc_cached else 0.0
    share = "practically all" if init_share >= 0.995 else f"{init_share:.0%}"
    why = (f": {share} of the cached first call ({fmt_ns(init)}) is one-time runtime "
           "initialisation and cache loading, not compilation"
           if init_share >= 0.5 else "")
    if saved <= 0 or test.verdict == "no significant change":
        lines.append(
            f"The disk cache did not measurably shorten the first call (cold {fmt_ns(fc_cold)}, "
            f"cached {fmt_ns(fc_cached)})" + (why or ".") + ("." if why else "")
        )
    elif pct < 50:
        lines.append(
            f"The disk cache saved {fmt_ns(saved)} ({pct:.0f}%) of the first call"
            + (why + "." if why else ": most of the first call is not compilation.")
        )
    else:
        lines.append(f"The disk cache saved {fmt_ns(saved)} ({pct:.0f}%) of the first call.")
    misses, hits = cached.get("cache_misses"), cached.get("cache_hits")
    # a compile with cache hits is expected for some frameworks (Dynamo re-traces, ORT
    # builds its session from the optimised model): only misses, or compiling with no
    # hit at all, mean the cache was not used
    if misses or (cached.get("compile_ns") and not hits):
        hint = (
            adapter_named(result.framework).cache_miss_hint
            or "`jitwarm cache explain` says why where the framework tells"
        )
        total = cached.get("cache_misses_total", misses)
        n = cached.get("processes_ok") or 0
        lines.append(
            "The cached state still compiled"
            + (f" ({total} cache miss(es) in {n} process(es))" if misses else "")
            + f": the disk cache was not used; {hint}."
        )
    return lines


def _recompile_findings(result: ProfileResult) -> list[str]:
    lines: list[str] = []
    for name, st in result.states.items():
        ok = _ok(st)
        recs = [r for p in ok for r in p.get("recompiles", [])]
        if not recs:
            continue
        per_proc = len(recs) / max(1, len(ok))
        reasons = Counter((r.get("reason") or "unknown reason") for r in recs)
        top = "; ".join(f"{n}× {reason}" for reason, n in reasons.most_common(3))
        hint = (adapter_named(result.framework).recompile_hint or "make the inputs' types and shapes "
                                                           "stable")
        total = sum(r.get("duration_ns") or 0 for r in recs) / max(1, len(ok))
        lines.append(
            f"{name}: {per_proc:.3g} recompile(s) per process during the warm series, "
            f"{fmt_ns(total)} per process ({top}): {hint}."
        )
    return lines


def gc_sentences(summary: dict[str, Any]) -> list[str]:
    """A sentence on garbage collection in the first call, when it is a visible share."""
    gc_ns, first = summary.get("first_call_gc_ns"), summary.get("first_call_ns")
    if not gc_ns or not first or gc_ns < 0.05 * first:
        return []
    full = summary.get("first_call_gc_full") or 0
    return [f"garbage collection took {fmt_ns(gc_ns)} of the first call ({100 * gc_ns / first:.0f} %, "
            f"{full} full collection(s)): tracing and compiling allocate enough to start "
            "collections, and a full one walks every object the imports left; gc.freeze() "
            "after setup moves those out of the collector's reach (measure it with "
            "--gc-freeze)"]


def findings(result: ProfileResult) -> list[str]:
    """Plain-sentence findings and advice, in reading order."""
    lines: list[str] = []
    name, st = _first_state(result)
    s = st["summary"] if st else {}
    fc = s.get("first_call_ns")
    if fc:
        own, init, comp = s.get("function_compile_ns"), s.get("runtime_init_ns"), s.get("compile_ns")
        if own is not None and init is not None and comp:
            lines.append(
                f"{name.capitalize() if name else ''} first call {fmt_ns(fc)}: the function's own "
                f"compile is {fmt_ns(own)}; {fmt_ns(init)} is one-time runtime initialisation "
                "paid by the first compile in a process."
            )
        elif comp == 0 and result.framework == "python":
            lines.append(f"First call {fmt_ns(fc)}: plain Python, nothing compiled.")
        if s.get("first_over_warm"):
            lines.append(
                f"The first call costs as much as {fmt_ratio(s['first_over_warm'])} warm calls "
                f"({fmt_ns(s.get('warm_median_ns'))} each)."
            )
    lines.extend(_cache_findings(result))
    for sname, state in result.states.items():
        lines.extend(f"{sname}: {x}" for x in gc_sentences(state["summary"]))
    lines.extend(_recompile_findings(result))
    for sname, state in result.states.items():
        summ = state["summary"]
        ok = _ok(state)
        classes = Counter(p.get("classification") or "no-steady-state" for p in ok)
        verdict = state_verdict(state)
        if verdict is not None and len(ok) > 0:
            lines.append(f"{sname}: {verdict.text}")
        # counted from the analysis the verdict's words come from (the workers' stopping rule
        # is stricter), so the two sentences cannot contradict each other
        unsteady = (Counter(verdict.process_classes)["no-steady-state"] if verdict is not None
                    else classes.get("no-steady-state", 0))
        if unsteady and not (verdict and verdict.noise_dependent
                                                    and verdict.label != "no steady state"):
            lines.append(
                f"{sname}: {unsteady} of {len(verdict.process_classes) if verdict else len(ok)} "
                "process(es) reached no "
                "steady state within the call cap: raise --calls or --max-time, or quiet the "
                "machine (CPU pinning, no turbo, nothing else running)."
            )
        call = summ.get("steady_state_call")
        if classes.get("warmup") and call and call >= 10:
            # warmup cost after the first call (the analysis' cost includes the first call)
            after = sorted(
                p["warmup_cost_ns"] - (p["first_call_ns"] - p["warm_median_ns"])
                for p in ok
                if p.get("classification") == "warmup" and p.get("warmup_cost_ns") is not None
                and p.get("first_call_ns") is not None and p.get("warm_median_ns") is not None
            )
            cost = after[len(after) // 2] if after else None
            lines.append(
                f"{sname}: after the first call, calls reach the steady state at call {call:,} "
                "(median over processes"
                + (f"; those calls cost {fmt_ns(cost)} more than steady ones" if cost and cost > 0
                   else "")
                + f"): warm up with about {call:,} calls before serving or timing."
            )
        ci, med = summ.get("warm_ci_ns"), summ.get("warm_median_ns")
        if ci and med:
            half = max(ci[1] - med, med - ci[0]) / med
            if half > 0.10:
                lines.append(
                    f"{sname}: the warm median's 95% CI is ±{half:.0%}: the warm figure is "
                    "noisy; more processes or a quieter machine will tighten it."
                )
    for sname, reason in result.skipped_states.items():
        lines.append(f"State '{sname}' skipped: {reason}.")
    for sname, state in result.states.items():
        for p in state["processes"]:
            if p.get("status") != "ok":
                on = (f" (on node {shown(p.get('node'), 13)}, host {shown(p.get('host'), 60)})"
                      if p.get("executor") not in (None, "local") else "")
                lines.append(
                    f"{sname} process {p.get('index', 0) + 1}{on}: "
                    f"{p.get('error') or p['status']}"
                )
    lines.extend(result.notes)
    return lines


def cache_saves_sentence(saved_ns: int) -> str:
    """What a warm cache did to a program's wall time, in words that fit its sign."""
    if saved_ns >= 0:
        return f"a warm cache saves {fmt_ns(saved_ns)} of the program's wall time"
    return (f"a warm cache saved nothing here: cached runs took {fmt_ns(-saved_ns)} longer "
            "(noise, or loading the cache costs more than compiling)")
