"""The verdict in words (issue #16, item 3) and its stability on a busy machine."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from jitwarm.analysis import analyze, analyze_processes, judge
from jitwarm.analysis._generate import busy_machine_processes


def _warm(n=1000, seed=0, sd=0.01):
    x = 1000 * (1 + sd * np.random.default_rng(seed).normal(size=n))
    x[:100] *= 1.5
    x[0] = 1e6
    return x


def test_stable_verdict_on_a_busy_machine(report_figure):
    """Same process mix, 10 seeds: the user-facing verdict is the same >= 9 times."""
    labels, barrett = Counter(), Counter()
    for seed in range(10):
        pa = analyze_processes(busy_machine_processes(seed))
        labels[pa.verdict.label] += 1
        barrett[pa.consistency] += 1
    top, count = labels.most_common(1)[0]
    msg = (f"busy-machine mix, 10 seeds: verdict {dict(labels)}; Barrett's label "
           f"{dict(barrett)}")
    print(msg)
    report_figure(msg)
    assert top == "warms up" and count >= 9, msg


def test_one_process_slowing_down_is_said_in_words():
    ps = [_warm(seed=s) for s in range(5)]
    ps[1][400:] *= 1.09
    pa = analyze_processes(ps)
    assert pa.consistency == "bad-inconsistent"  # Barrett's label is unchanged...
    v = pa.verdict  # ...and the verdict says what differed, by how much, whether it matters
    assert v.label == "warms up" and v.noise_dependent
    assert "Process 2 ran 9% slower after call 400" in v.text
    assert "warm medians of all processes are within 9%" in v.text
    assert "one of 5 processes" in v.text and "-n 10" in v.text and "--threads 1" in v.text
    json.dumps(pa.to_dict())
    assert pa.to_dict()["verdict"]["label"] == "warms up"


def test_warmup_cost_in_calls_and_time():
    v = judge([analyze(_warm(seed=s)) for s in range(3)], fmt=lambda v: f"{v / 1e3:.3g} ms")
    assert v.label == "warms up" and not v.noise_dependent and v.fix is None
    assert "steady after 100 calls" in v.summary and "ms more than steady calls" in v.summary
    assert "all 3 processes" in v.summary


def test_reproducible_slowdown_is_not_noise():
    ps = []
    for s in range(4):
        x = 1000 * (1 + 0.01 * np.random.default_rng(s).normal(size=1000))
        x[500:] *= 1.5
        ps.append(x)
    v = analyze_processes(ps).verdict
    assert v.label == "slows down" and not v.noise_dependent
    assert v.details[0].startswith("process 1 ran 50% slower after call 50")


def test_single_process_and_split_and_empty():
    x = 1000 * (1 + 0.01 * np.random.default_rng(9).normal(size=1000))
    x[900:] *= 1.3
    v = judge([analyze(x)])
    assert v.label == "no steady state" and v.noise_dependent
    assert "single process" in v.text and "to the end" in v.text
    v2 = judge([analyze(x), analyze(_warm())])
    assert v2.label == "inconsistent" and v2.noise_dependent
    assert judge([]).label == "no data"


@pytest.mark.parametrize("spread", [1.03, 1.4])
def test_spread_of_warm_medians(spread):
    ps = [_warm(seed=1), _warm(seed=2) * spread]
    v = analyze_processes(ps).verdict
    if spread < 1.1:
        assert "within 3%" in v.text and v.fix is None
    else:
        assert "differ by up to 40%" in v.text and "uncertain" in v.text and v.fix
