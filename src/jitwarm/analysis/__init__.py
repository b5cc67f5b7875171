"""Steady-state analysis of per-call timing series: "when is my JIT code warm?".

Change-point analysis after Barrett et al., "Virtual Machine Warmup Blows Hot and Cold"
(OOPSLA 2017) and Traini et al. (EMSE 2023). Depends on numpy and scipy only.
"""

from ._classify import (
    CLASSES,
    ProcessesAnalysis,
    Segment,
    SeriesAnalysis,
    analyze,
    analyze_processes,
    consistency,
    median_ci,
)
from ._pelt import change_points, pelt
from ._stopping import StopDecision, StoppingRule
from ._verdict import Verdict, judge

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
