"""Agreement with the published steady-state labels of Traini et al. (EMSE 2023).

The labels call a fork steady when its steady state starts by iteration 2,499 of 3,000 (the
steady run covers the last 500 iterations, 1/6 of the series). The package defaults are used
as they are (``last_fraction`` 20 %), so the figures are what a user gets; issue #16's
targets: false ``no-steady-state`` on labelled-steady forks <= 3 %, steady/not agreement
>= 85 %, median start error <= 20 iterations.
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


def evaluate(path: Path, **kwargs) -> dict:
    """Steady/not agreement, false no-steady-state rate and start error against the labels."""
    with gzip.open(path, "rt") as f:
        data = json.load(f)
    agree = total = labelled_steady = false_nss = labelled_not = true_nss = 0
    errors = []
    for bench in data["benchmarks"]:
        labels = bench["labels"]
        for k, fork in enumerate(bench["forks"]):
            a = analyze(fork, **kwargs)
            ours = a.classification != "no-steady-state"
            theirs = labels["forks"][k] == "steady state"
            total += 1
            agree += ours == theirs
            labelled_steady += theirs
            false_nss += theirs and not ours
            labelled_not += not theirs
            true_nss += not theirs and not ours
            if ours and theirs:
                errors.append(abs(a.steady_state_start - labels["steady_state_starts"][k]))
    return {
        "forks": total,
        "agreement": agree / total,
        "labelled_steady": labelled_steady,
        "false_nss": false_nss,
        "false_nss_rate": false_nss / max(labelled_steady, 1),
        "labelled_not": labelled_not,
        "true_nss": true_nss,
        "median_start_error": float(np.median(errors)),
        "both_steady": len(errors),
    }


def _check(path: Path, report_figure):
    r = evaluate(path)
    msg = (
        f"Traini {path.name}: {r['forks']} forks, steady/no-steady agreement "
        f"{r['agreement']:.1%}, false no-steady-state {r['false_nss']}/{r['labelled_steady']} "
        f"labelled-steady forks ({r['false_nss_rate']:.1%}), no-steady-state on "
        f"{r['true_nss']}/{r['labelled_not']} labelled-not-steady forks, median |start error| "
        f"{r['median_start_error']:.1f} iterations over {r['both_steady']} forks both call steady"
    )
    print(msg)
    report_figure(msg)
    assert r["false_nss_rate"] <= 0.03, msg
    assert r["agreement"] >= 0.85, msg
    assert r["median_start_error"] <= 20, msg


def test_traini_subset(report_figure):
    _check(SUBSET, report_figure)


@pytest.mark.slow
@pytest.mark.skipif(not FULL.exists(), reason="../shared Traini sample not present")
def test_traini_full(report_figure):
    _check(FULL, report_figure)
