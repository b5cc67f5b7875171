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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jitwarm._errors import UsageError, shown
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
    marker's budgets to that cache state; without it they apply to every state the
    measurement asked for. A budget's value may also be a mapping from cache state to
    limit, ``max_first_call={"cold": "2 s", "cached": "500ms"}``: then that budget applies
    to the states named there only (kept as ``{state: limit}``).
    """
    if args:
        raise UsageError(
            f"budgets are keywords, got positional {args!r}: e.g. "
            'jitwarm(max_first_call="500ms")'
        )
    unknown = sorted(set(kwargs) - set(BUDGETS) - {STATE_KEY})
    if unknown:
        raise UsageError(
            f"unknown budget {', '.join(shown(str(k), 60) for k in unknown)}: choose from "
            f"{', '.join(BUDGETS)} (and state=)"
        )
    out: dict[str, Any] = {}
    wanted = kwargs.get(STATE_KEY)
    if wanted is not None:
        if wanted not in _STATES:
            raise UsageError(f"state={shown(repr(wanted))}: choose one of {', '.join(_STATES)}")
        out[STATE_KEY] = wanted
    for key, value in kwargs.items():
        if key == STATE_KEY:
            continue
        if isinstance(value, Mapping):
            if not value:
                raise UsageError(f"{key}={{}}: name at least one cache state, e.g. "
                                 f'{key}={{"cached": ...}}')
            per_state = {}
            for state, limit in value.items():
                if state not in _STATES:
                    raise UsageError(f"{key}: unknown cache state {shown(repr(state), 60)}: choose "
                                     f"from {', '.join(_STATES)}")
                if wanted is not None and state != wanted:
                    raise UsageError(f"{key} sets a limit for state {state!r} in a marker "
                                     f"limited to state={wanted!r}: drop one of the two")
                per_state[state] = _limit(key, limit, f"{key}[{state!r}]")
            out[key] = per_state
        else:
            out[key] = _limit(key, value, key)
    if set(out) == {STATE_KEY}:
        raise UsageError(f"state={out[STATE_KEY]!r} without any budget: add e.g. "
                         'max_first_call="500ms"')
    return out


def _limit(key: str, value: Any, name: str) -> int:
    """One budget's limit: ns for a duration, a count otherwise (``name`` for errors)."""
    if BUDGETS[key][1] == "duration":
        return parse_duration(value, name)
    if key == "max_first_call_instructions":
        return parse_big_count(value, name)
    return parse_count(value, name)


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

    @property
    def unmeasured(self) -> bool:
        """Failed because nothing was measured (a skipped state, a missing counter)."""
        return self.measured is None and self.basis.startswith("not measured")

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


def _states_to_check(result: Any, budgets: dict[str, Any]) -> list[str]:
    """The cache states a marker's budgets apply to: its ``state``, else every state the
    measurement asked for (measured or skipped) and every state a per-state limit names."""
    wanted = budgets.get(STATE_KEY)
    if wanted is not None:
        return [wanted]
    names: list[str] = []
    settings = getattr(result, "settings", None) or {}
    for name in [*(settings.get("states") or []), *result.states,
                 *(getattr(result, "skipped_states", None) or {})]:
        if name not in names:
            names.append(name)
    for limit in budgets.values():
        if isinstance(limit, dict):
            names.extend(s for s in limit if s not in names)
    return names


def _not_measured(result: Any, state: str) -> str:
    """Why ``state`` has no measurement in ``result``, for a failing budget."""
    skipped = dict(getattr(result, "skipped_states", None) or {})
    if state in skipped:
        return f"the {state} state was skipped: {skipped[state]}"
    settings = getattr(result, "settings", None) or {}
    asked = settings.get("states") or list(result.states)
    if state not in asked:
        how = "measure in fresh processes with cache=\"cold,cached\"" if state != "in-process" \
            else "measure with in_process=True"
        return f"the {state} state was not measured ({how})"
    return f"the {state} state was not measured"


def check_budgets(result: Any, budgets: dict[str, Any]) -> list[Check]:
    """Every budget against every cache state it applies to in ``result`` (a ProfileResult).

    With ``budgets["state"]`` only that state is checked; a per-state limit
    (``{state: limit}``) is checked against its states only; other budgets apply to every
    state the measurement asked for. A budget for a state that was not measured (skipped,
    not asked for, or every process failed) fails with the reason: a budget that measured
    nothing never passes.
    """
    checks: list[Check] = []
    states = _states_to_check(result, budgets)
    for state in states or ["(none)"]:
        limits = {}
        for key, limit in budgets.items():
            if key == STATE_KEY:
                continue
            if isinstance(limit, dict):
                if state not in limit:
                    continue
                limit = limit[state]
            limits[key] = limit
        data = result.states.get(state)
        if data is None:
            why = _not_measured(result, state) if state != "(none)" else "nothing measured"
            for key, limit in limits.items():
                checks.append(Check(key, state, None, limit, f"not measured: {why}"))
            continue
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
    reasons: list[str] = []  # why a state or counter was not measured: below the table
    for c in checks:
        verdict = "ok" if c.ok else "NOT MEASURED" if c.unmeasured else "EXCEEDED"
        basis = c.basis
        if c.unmeasured:
            why = c.basis.removeprefix("not measured").lstrip(": ")
            if why:
                if why not in reasons:
                    reasons.append(why)
                basis = f"not measured [{reasons.index(why) + 1}]"
        rows.append((BUDGETS[c.budget][0], c.state, c.fmt(c.measured), c.fmt(c.limit),
                     basis, verdict))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [title]
    for r in rows:
        lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    lines.extend(f"  [{i}] {why}" for i, why in enumerate(reasons, 1))
    return "\n".join(lines)
