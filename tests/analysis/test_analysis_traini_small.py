"""The Traini agreement figure on data inside the repository (no ../shared needed).

``data/traini-small.json.gz`` (250 KB) holds 5 of the 60 benchmarks of the shared Traini
et al. sample with all their forks, full 3,000-iteration series; it is weighted towards the
hard case: 14 of its 50 forks never reach a steady state (see ``data/README.md``). The
figure is computed exactly as in ``test_analysis_traini.py``. With the analysis as it is,
43 of 50 forks agree (86%) and the median start error is 1.5 iterations; the floors leave
room for three more disagreements, no more.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from test_analysis_traini import evaluate

SMALL = Path(__file__).resolve().parent / "data" / "traini-small.json.gz"


def test_small_subset_is_the_documented_one():
    with gzip.open(SMALL, "rt") as f:
        data = json.load(f)
    assert SMALL.stat().st_size <= 300_000
    benches = data["benchmarks"]
    assert len(benches) == 5 and "SEALABQualityGroup/steady-state" in data["source"]
    for b in benches:
        assert len(b["forks"]) == 10 and all(len(f) == 3000 for f in b["forks"])
    labels = [lab for b in benches for lab in b["labels"]["forks"]]
    assert labels.count("no steady state") == 14


def test_traini_small_agreement(report_figure):
    r = evaluate(SMALL)
    msg = (f"Traini {SMALL.name} (in the repo): {r['forks']} forks, steady/no-steady agreement "
           f"{r['agreement']:.1%}, median |start error| {r['median_start_error']:.1f} "
           f"iterations over {r['both_steady']} forks both call steady")
    report_figure(msg)
    assert r["forks"] == 50
    assert r["agreement"] >= 0.80, msg
    assert r["median_start_error"] <= 10, msg
