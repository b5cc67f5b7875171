"""Steady-state analysis of per-call timing series: "when is my JIT code warm?".

Change-point analysis after Barrett et al., "Virtual Machine Warmup Blows Hot and Cold"
(OOPSLA 2017) and Traini et al. (EMSE 2023). Depends on numpy and scipy only.
"""

from jitwarm.analysis._classify import (
    CLASSES,
    ProcessesAnalysis,
    Segment,
    SeriesAnalysis,
    analyze,
    analyze_processes,
    consistency,
    median_ci,
)
from jitwarm.analysis._pelt import change_points, pelt
from jitwarm.analysis._stopping import StopDecision, StoppingRule
from jitwarm.analysis._verdict import Verdict, judge

__all__ = [
    "CLASSES",
    "ProcessesAnalysis",
    "Segment",
    "SeriesAnalysis",
    "StopDecision",
    "StoppingRule",
    "Verdict",
    "analyze",
    "analyze_processes",
    "change_points",
    "consistency",
    "judge",
    "median_ci",
    "pelt",
]
