"""Agreement with the published steady-state labels of Traini et al. (EMSE 2023).

The labels call a fork steady when its steady state starts by iteration 2,499 of 3,000, i.e.
the steady run covers at least the last 500 iterations (1/6 of the series); we use the same
cut-off (``last_fraction=1/6``) and otherwise the package defaults.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from jitwarm.analysis import analyze

HERE = Path(__file__).resolve()
FULL = HERE.parents[2].parent / "shared" / "data" / "steady-state" / "traini-sample.json.gz"
SUBSET = HERE.parent / "data" / "traini-subset.json.gz"
LAST_FRACTION = 500 / 3000


def evaluate(path: Path) -> dict:
    with gzip.open(path, "rt") as f:
        data = json.load(f)
    agree = total = 0
    errors = []
    for bench in data["benchmarks"]:
        labels = bench["labels"]
        for k, fork in enumerate(bench["forks"]):
            a = analyze(fork, last_fraction=LAST_FRACTION)
            ours = a.classification != "no-steady-state"
            theirs = labels["forks"][k] == "steady state"
            total += 1
            agree += ours == theirs
            if ours and theirs:
                errors.append(abs(a.steady_state_start - labels["steady_state_starts"][k]))
    return {
        "forks": total,
        "agreement": agree / total,
        "median_start_error": float(np.median(errors)),
        "both_steady": len(errors),
    }


def _check(path: Path, report_figure):
    r = evaluate(path)
    msg = (
        f"Traini {path.name}: {r['forks']} forks, steady/no-steady agreement "
        f"{r['agreement']:.1%}, median |start error| {r['median_start_error']:.1f} iterations "
        f"over {r['both_steady']} forks both call steady"
    )
    print(msg)
    report_figure(msg)
    assert r["agreement"] >= 0.85, msg
    assert r["median_start_error"] <= 20, msg


def test_traini_subset(report_figure):
    _check(SUBSET, report_figure)


@pytest.mark.slow
@pytest.mark.skipif(not FULL.exists(), reason="../shared Traini sample not present")
def test_traini_full(report_figure):
    _check(FULL, report_figure)
