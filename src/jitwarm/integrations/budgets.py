"""Warmup budgets: duration strings (``"500ms"``) and checks of a result against limits.

Used by the pytest plugin's ``@pytest.mark.jitwarm(...)`` marker. Duration-valued budgets
are compared with the *median across processes* of a cache state and fail only when the
lower bound of its confidence interval exceeds the budget (wall time is noisy; one slow
process must not fail CI). Counts (compiles, recompiles, cache misses, instructions
retired, ``steady_state_within``) are compared with the *worst process*: they come from
the frameworks' own counters, do not move with load, and make deterministic gates.
A budget that measured nothing (a skipped state, a counter this machine lacks) fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jitwarm._errors import UsageError
from jitwarm._units import fmt_ns, parse_big_count, parse_count, parse_duration  # noqa: F401  (parse_duration: re-exported)
from jitwarm.results.stats import worst_process as _worst

#: budget keyword -> (label, kind). "duration": the state's median across processes, which
#: fails only when the lower bound of its confidence interval exceeds the budget (one
#: noisy process cannot fail it); "count": the worst process. Counts come from the
#: frameworks' own counters and do not move with load: they make deterministic CI gates.
BUDGETS: dict[str, tuple[str, str]] = {
    "max_first_call": ("first call", "duration"),
    "max_compile": ("compile (first call)", "duration"),
    "max_warm": ("warm median", "duration"),
    "max_recompiles": ("recompiles", "count"),
    "max_compiles": ("compiles", "count"),
    "max_cache_misses": ("cache misses", "count"),
    "max_first_call_instructions": ("first-call instructions", "count"),
    "steady_state_within": ("steady state from call", "count"),
}
#: marker keywords that are not budgets
STATE_KEY = "state"
_STATES = ("cold", "cached", "in-process")


def parse_budgets(kwargs: dict[str, Any], args: tuple[Any, ...] = ()) -> dict[str, Any]:
    """Validate marker keywords into ``{budget: limit}`` (ns for durations, counts otherwise).

    ``state="cached"`` (kept under the key ``"state"`` as the state's name) limits the
    marker's budgets to that cache state; without it they apply to every measured state.
    """
    if args:
        raise UsageError(
            f"budgets are keywords, got positional {args!r}: e.g. "
            'jitwarm(max_first_call="500ms")'
        )
    unknown = sorted(set(kwargs) - set(BUDGETS) - {STATE_KEY})
    if unknown:
        raise UsageError(
            f"unknown budget {', '.join(unknown)}: choose from {', '.join(BUDGETS)} "
            f"(and state=)"
        )
    out: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key == STATE_KEY:
            if value not in _STATES:
                raise UsageError(f"state={value!r}: choose one of {', '.join(_STATES)}")
            out[key] = value
        elif BUDGETS[key][1] == "duration":
            out[key] = parse_duration(value, key)
        elif key == "max_first_call_instructions":
            out[key] = parse_big_count(value, key)
        else:
            out[key] = parse_count(value, key)
    if set(out) == {STATE_KEY}:
        raise UsageError(f"state={out[STATE_KEY]!r} without any budget: add e.g. "
                         'max_first_call="500ms"')
    return out


@dataclass(frozen=True)
class Check:
    """One budget against one cache state's measurement.

    ``measured`` is what is shown (a median, or the worst process); ``decisive`` is what is
    compared with the limit: the lower bound of the median's confidence interval for
    durations, the measured count otherwise. ``None`` means not measured, and fails.
    """

    budget: str
    state: str
    measured: int | None
    limit: int
    basis: str  # "median of N processes (95% CI ...)", "worst of N processes", ...
    decisive: int | None = None

    @property
    def ok(self) -> bool:
        value = self.measured if self.decisive is None else self.decisive
        return self.measured is not None and value is not None and value <= self.limit

    def fmt(self, v: int | None) -> str:
        if BUDGETS[self.budget][1] == "duration":
            return fmt_ns(v) if v is not None else "not measured"
        if v is None:
            return "never steady" if self.budget == "steady_state_within" else "not measured"
        return f"{v:,}" if self.budget == "max_first_call_instructions" else str(v)


_DURATION_KEYS = {"max_first_call": "first_call_ns", "max_compile": "compile_ns",
                  "max_warm": "warm_median_ns"}


def _duration(values: list[int | None], n: int) -> tuple[int | None, int | None, str]:
    """(median, lower bound of its 95% CI, basis) of one state's per-process values."""
    from jitwarm.results.stats import median, median_ci

    xs = [int(v) for v in values if v is not None]
    plural = "process" if n == 1 else "processes"
    if not xs:
        return None, None, f"median of {n} {plural}"
    med = int(round(median(xs)))
    if len(xs) == 1:
        return med, med, f"median of {n} {plural}"
    lo, hi = median_ci(xs)
    return med, int(lo), f"median of {n} {plural}, 95% CI {fmt_ns(lo)}–{fmt_ns(hi)}"


#: count budget -> the counter of :data:`jitwarm.results.stats.COUNTERS` it limits
_COUNTER_OF = {"max_recompiles": "recompiles", "max_compiles": "compiles",
               "max_cache_misses": "cache_misses",
               "max_first_call_instructions": "first_call_instructions"}


def _count(key: str, p: dict[str, Any]) -> int | None:
    """One process's value of a count budget (None: not measured)."""
    from jitwarm.results.stats import process_counter

    if key in _COUNTER_OF:
        return process_counter(_COUNTER_OF[key], p)
    return p.get("steady_state_call")  # steady_state_within


def _not_measured_reason(result: Any, key: str, ok: list[dict[str, Any]]) -> str:
    if key == "max_first_call_instructions":
        notes = {p.get("first_call_instructions_note") for p in ok} - {None}
        if notes:
            return "; ".join(sorted(notes))
    if key == "max_cache_misses":
        return f"{result.framework} reports no cache counters"
    return ""


def check_budgets(result: Any, budgets: dict[str, Any]) -> list[Check]:
    """Every budget against every measured cache state of ``result`` (a ProfileResult).

    With ``budgets["state"]`` only that state is checked. A budget for a state that was
    not measured (skipped, or every process failed) fails: a budget that measured nothing
    never passes.
    """
    wanted = budgets.get(STATE_KEY)
    limits = {k: v for k, v in budgets.items() if k != STATE_KEY}
    states = dict(result.states)
    if wanted is not None:
        states = {wanted: states[wanted]} if wanted in states else {}
    checks: list[Check] = []
    if not states:
        skipped = dict(getattr(result, "skipped_states", None) or {})
        for name in ([wanted] if wanted else (list(skipped) or ["(none)"])):
            why = skipped.get(name, "not measured")
            for key, limit in limits.items():
                checks.append(Check(key, name, None, limit, f"not measured: {why}"))
        return checks
    for state, data in states.items():
        ok = [p for p in data["processes"] if p.get("status") == "ok"]
        n = len(ok)
        plural = "process" if n == 1 else "processes"
        for key, limit in limits.items():
            if key in _DURATION_KEYS:
                med, lo, basis = _duration([p.get(_DURATION_KEYS[key]) for p in ok], n)
                checks.append(Check(key, state, med, limit, basis, decisive=lo))
                continue
            measured = _worst([_count(key, p) for p in ok])
            basis = f"worst of {n} {plural}"
            if measured is None and key != "steady_state_within":
                why = _not_measured_reason(result, key, ok)
                basis = f"not measured: {why}" if why else basis
            checks.append(Check(key, state, measured, limit, basis))
    return checks


def format_checks(checks: list[Check], title: str) -> str:
    """A plain-text table: budget, state, measured, limit, verdict."""
    rows = [("budget", "state", "measured", "budget", "basis", "")]
    for c in checks:
        rows.append((BUDGETS[c.budget][0], c.state, c.fmt(c.measured), c.fmt(c.limit),
                     c.basis, "ok" if c.ok else "EXCEEDED"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [title]
    for r in rows:
        lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    return "\n".join(lines)
