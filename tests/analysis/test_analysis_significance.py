"""Practical significance (issue #16): a change counts only when significant, larger than the
margin, not carried by outliers, and sustained."""

from __future__ import annotations

import json

import numpy as np

from jitwarm.analysis import analyze
from jitwarm.analysis._classify import default_sustain


def _noise(n, seed=0, sd=0.01):
    return 1000 * (1 + sd * np.random.default_rng(seed).normal(size=n))


def test_default_sustain_scales_with_n():
    assert default_sustain(100) == 10 and default_sustain(1000) == 50
    assert default_sustain(3000) == 150 and default_sustain(100_000) == 200


def test_short_burst_in_the_tail_is_a_transient_not_no_steady_state():
    x = _noise(3000, seed=1)
    x[2700:2760] *= 1.3  # the machine got busy for 60 calls, then the level came back
    a = analyze(x)
    assert a.classification == "flat", a.to_dict()["segments"]
    assert any(s.transient for s in a.segments)


def test_sustained_late_change_is_no_steady_state():
    x = _noise(3000, seed=2)
    x[2600:] *= 1.3
    a = analyze(x)
    assert a.classification == "no-steady-state"
    assert a.last_change is not None and abs(a.last_change.at - 2600) <= 3
    assert abs(a.last_change.ratio - 1.3) < 0.02


def test_trailing_short_change_is_not_the_reference():
    x = _noise(3000, seed=3)
    x[:300] *= 2
    x[2960:] *= 1.5  # the last 40 calls: not yet shown to last
    a = analyze(x)
    assert a.classification == "warmup" and abs(a.steady_state_start - 300) <= 3


def test_mean_shift_carried_by_outliers_does_not_count():
    rng = np.random.default_rng(4)
    x = _noise(3000, seed=4)
    tail = np.arange(2300, 3000)
    slow = tail[rng.random(tail.size) < 0.2]
    x[slow] *= 1.4  # one call in five is slower: the mean moves 8 %, the median does not
    assert analyze(x).classification == "flat"
    assert analyze(x, robust=False).classification != "flat"  # means alone would count it


def test_change_within_margin_does_not_count():
    x = _noise(2000, seed=5, sd=0.002)
    x[1000:] *= 1.04
    assert analyze(x).classification == "flat"


def test_last_change_in_json():
    x = _noise(1000, seed=6)
    x[:200] *= 2
    d = analyze(x).to_dict()
    json.dumps(d)
    assert d["last_change"]["at"] == d["steady_state_start"]
    assert 0.45 < d["last_change"]["ratio"] < 0.55
    assert d["sustain"] == 50 and all("transient" in s for s in d["segments"])
