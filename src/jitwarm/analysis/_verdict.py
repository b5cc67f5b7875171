"""The verdict over several processes, in words people act on (issue #16, item 3).

Barrett et al.'s labels (``consistent warmup``, ``bad-inconsistent``...) say *that* processes
disagree; :func:`judge` says *what* differed, by how much, and whether it matters:

* **label** — what the code does, decided by the majority of processes so that one noisy
  process cannot flip it: ``warm from the start``, ``warms up``, ``slows down``,
  ``no steady state``, ``inconsistent`` (processes split evenly), ``no data``;
* **details** — one sentence per process that slowed down or never settled ("process 2 ran
  9% slower after call 400"), and the spread of the steady starts;
* **whether it matters** — the spread of the processes' warm medians ("the warm medians of
  all processes are within 7%"), and for a warmup its cost in calls and time;
* **noise_dependent** — the verdict rests on one process (a single process, or one process
  that differs from the others), with the fix: more processes, ``--threads 1``, ``--rounds``.

Every figure comes from the per-process analyses; nothing is said that they do not support.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from jitwarm.analysis._classify import SeriesAnalysis

LABELS = (
    "warm from the start",
    "warms up",
    "slows down",
    "no steady state",
    "inconsistent",
    "no data",
)
#: spread of the warm medians above which the text calls the warm figure uncertain
SPREAD_NOTABLE = 0.10
FIX = (
    "rerun with more processes (-n 10), with --threads 1 on a busy machine, or with "
    "--rounds 2 when comparing strategies"
)

_GOOD = ("flat", "warmup")
_BAD = ("slowdown", "no-steady-state")


@dataclass
class Verdict:
    label: str
    summary: str
    details: list[str] = field(default_factory=list)
    warm_spread: float | None = None
    noise_dependent: bool = False
    fix: str | None = None
    #: each process's class in the analysis these words come from
    process_classes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The whole verdict as one paragraph."""
        parts = [self.summary, *self.details] + ([self.fix] if self.fix else [])
        return " ".join(_sentence(p) for p in parts)

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "summary": self.summary,
            "details": list(self.details),
            "warm_spread": None if self.warm_spread is None else float(self.warm_spread),
            "noise_dependent": bool(self.noise_dependent),
            "fix": self.fix,
            "text": self.text,
        }


def _sentence(p: str) -> str:
    p = p[:1].upper() + p[1:]
    return p if p.endswith(".") else p + "."


def _fmt_plain(v: float) -> str:
    return f"{v:.4g}"


def _level(p: SeriesAnalysis) -> float | None:
    """The process's warm level: its steady median, else the level after its last change."""
    if p.steady_median is not None:
        return p.steady_median
    if p.last_change is not None:
        return p.last_change.after
    return p.segments[-1].median if p.segments else None


def _pct(r: float) -> str:
    v = abs(r - 1.0) * 100.0
    return f"{v:.0f}%" if v >= 1.5 else f"{v:.1f}%"


def _describe_bad(i: int, p: SeriesAnalysis, call: Callable[[int, int], int]) -> str:
    c = p.last_change
    name = f"process {i + 1}"
    if c is None:  # cannot happen for slowdown / no-steady-state, but say something true
        return f"{name} was classified {p.classification}"
    way = "slower" if c.ratio > 1 else "faster"
    at = call(i, c.at)
    if p.classification == "slowdown":
        return f"{name} ran {_pct(c.ratio)} {way} after call {at:,}"
    left = p.n - c.at
    return (
        f"{name} ran {_pct(c.ratio)} {way} from call {at:,} to the end (its last {left:,} "
        "calls), too late to call it steady"
    )


def _majority_label(classes: Sequence[str]) -> str:
    cnt = Counter(classes)
    good = cnt["flat"] + cnt["warmup"]
    bad = cnt["slowdown"] + cnt["no-steady-state"]
    if good > bad:
        return "warms up" if cnt["warmup"] >= cnt["flat"] else "warm from the start"
    if bad > good:
        return "no steady state" if cnt["no-steady-state"] >= cnt["slowdown"] else "slows down"
    return "inconsistent"


def judge(
    processes: Sequence[SeriesAnalysis],
    *,
    fmt: Callable[[float], str] = _fmt_plain,
    call: Callable[[int, int], int] | None = None,
    fix: str = FIX,
) -> Verdict:
    """The verdict over ``processes`` (one :class:`SeriesAnalysis` each).

    ``fmt`` formats a duration in the series' unit (``fmt_ns`` for a profile); ``call(i, k)``
    maps element ``k`` of process ``i``'s series to a call number (batched series).
    """
    call = call or (lambda _i, k: k)
    k = len(processes)
    if k == 0:
        return Verdict("no data", "no process finished, so there is nothing to judge")
    classes = [p.classification for p in processes]
    label = _majority_label(classes)
    bad = [i for i, c in enumerate(classes) if c in _BAD]
    good = [i for i, c in enumerate(classes) if c in _GOOD]
    levels = [lv for p in processes if (lv := _level(p)) is not None and lv > 0]
    spread = (max(levels) / min(levels) - 1.0) if len(levels) >= 2 else None

    # the behaviour, with the cost of the warmup in calls and time
    agree = len(bad) if label in ("slows down", "no steady state") else len(good)
    who = "" if k == 1 else (f" in all {k} processes" if agree == k else
                             f" in {agree} of {k} processes")
    warm = [(i, p) for i, p in enumerate(processes) if p.classification == "warmup"]
    if label == "warms up":
        calls = sorted(call(i, p.warmup_calls or 0) for i, p in warm)
        costs = [p.warmup_cost for _, p in warm if p.warmup_cost is not None]
        span = f"{calls[0]:,}" if calls[0] == calls[-1] else f"{calls[0]:,}–{calls[-1]:,}"
        summary = f"warms up{who}: steady after {span} calls"
        if costs:
            summary += (f", which cost {fmt(float(np.median(costs)))} more than steady calls "
                        "would have (first call included" + ("; median)" if len(costs) > 1
                                                              else ")"))
    elif label == "warm from the start":
        summary = f"warm from the start{who}: no warmup beyond the first call"
    elif label == "slows down":
        summary = f"slows down{who}: calls got slower and stayed slower"
    elif label == "no steady state":
        summary = f"no steady state{who}: the timings changed level too late to trust"
    else:
        summary = f"inconsistent: {len(good)} of {k} processes settled, {len(bad)} did not"

    details = [_describe_bad(i, processes[i], call) for i in bad]
    if spread is not None:
        lo, hi = min(levels), max(levels)
        if spread <= SPREAD_NOTABLE:
            details.append(
                f"the warm medians of all processes are within {_pct(1 + spread)} "
                f"({fmt(lo)}–{fmt(hi)})"
                + (": the difference does not change the warm figure much" if bad else "")
            )
        else:
            details.append(
                f"the warm medians differ by up to {_pct(1 + spread)} between processes "
                f"({fmt(lo)}–{fmt(hi)}): the warm figure is uncertain"
            )
    # A verdict that rests on one process: a single process, a single process that differs,
    # or a majority of one (changing one process's class would change the label).
    noise_dependent = bool(bad) and (k == 1 or len(bad) == 1 or abs(len(bad) - len(good)) <= 1)
    if noise_dependent and k == 1:
        details.append("this rests on a single process, which may have met machine noise")
    elif noise_dependent and len(bad) == 1:
        details.append(
            f"only one of {k} processes differs, so this may be one process's noise "
            "(a busy machine), not the code"
        )
    elif noise_dependent:
        details.append(
            f"{len(good)} of {k} processes settled and {len(bad)} did not: one process more "
            "either way would change the verdict"
        )
    return Verdict(
        label=label,
        summary=summary,
        details=details,
        warm_spread=spread,
        noise_dependent=noise_dependent,
        fix=fix if (noise_dependent or (spread is not None and spread > SPREAD_NOTABLE)) else None,
        process_classes=classes,
    )


__all__ = ["FIX", "LABELS", "SPREAD_NOTABLE", "Verdict", "judge"]
