"""Classification, steady statistics, warmup cost, break-even, validation, consistency."""

from __future__ import annotations

import json

import numpy as np
import pytest

from jitwarm.analysis import CLASSES, analyze, analyze_processes
from jitwarm.analysis._classify import break_even, median_ci
from jitwarm.analysis._outliers import find_outliers


def _noise(n, seed=0, sd=0.01):
    return 1 + sd * np.random.default_rng(seed).normal(size=n)


def test_flat():
    a = analyze(1000 * _noise(500))
    assert a.classification == "flat"
    assert a.steady_state_start == 0 and a.warmup_calls == 0 and a.warmup_cost == 0.0
    assert a.change_points == [] or all(s.equivalent_to_steady for s in a.segments)


@pytest.mark.parametrize("factor", [1_000, 50_000])
@pytest.mark.parametrize("n", [100, 1000, 3000, 30_000])
def test_compile_spike_then_flat_is_warmup(factor, n):
    x = 1000 * _noise(n, seed=n)
    x[0] *= factor
    a = analyze(x)
    assert a.classification == "warmup"
    assert a.steady_state_start in (1, 2)
    assert 0 not in a.outliers
    assert a.warmup_cost == pytest.approx(
        x[0] - a.steady_median + (x[1] - a.steady_median) * (a.steady_state_start == 2)
    )


def test_step_warmup_and_cost():
    x = 1000 * _noise(1000, seed=1)
    x[:200] *= 2
    a = analyze(x)
    assert a.classification == "warmup"
    assert abs(a.steady_state_start - 200) <= 2
    lo, hi = a.steady_ci
    assert lo <= a.steady_median <= hi and (hi - lo) / a.steady_median < 0.01
    assert a.warmup_cost == pytest.approx(
        float(np.sum(x[: a.steady_state_start] - a.steady_median))
    )


def test_slowdown():
    x = 1000 * _noise(1000, seed=2)
    x[500:] *= 1.5
    a = analyze(x)
    assert a.classification == "slowdown" and abs(a.steady_state_start - 500) <= 2


def test_change_in_last_quarter_is_no_steady_state():
    x = 1000 * _noise(1000, seed=3)
    x[900:] *= 1.5
    a = analyze(x)
    assert a.classification == "no-steady-state"
    assert a.steady_state_start is None and a.steady_median is None and a.warmup_cost is None
    assert a.to_dict()["steady_ci"] is None


def test_small_change_within_tolerance_is_flat():
    x = 1000 * _noise(2000, seed=4, sd=0.002)
    x[:1000] *= 1.02  # detected, but inside ±5%
    a = analyze(x)
    assert a.change_points  # the step is found...
    assert a.classification == "flat"  # ...and judged equivalent
    assert analyze(x, tolerance=0.01).classification == "warmup"


def test_quantised_timer_does_not_break():
    x = np.r_[np.full(300, 200.0), np.full(700, 100.0)]
    x[np.random.default_rng(0).random(1000) < 0.1] += 1.0
    a = analyze(x)
    assert a.classification == "warmup" and abs(a.steady_state_start - 300) <= 2
    assert analyze(np.full(100, 7.0)).classification == "flat"
    assert analyze(np.zeros(50)).classification == "flat"


def test_outliers_marked_not_deleted():
    x = 1000 * _noise(1000, seed=6)
    x[[5, 500, 700]] *= 20
    a = analyze(x)
    assert 500 in a.outliers and 700 in a.outliers and 5 not in a.outliers
    assert a.n == 1000
    idx, cleaned = find_outliers(x / np.median(x))
    assert len(cleaned) == 1000 and list(idx) == a.outliers


def test_to_dict_is_json():
    x = 1000 * _noise(300)
    x[0] = 1e7
    d = analyze(x, baseline=2000.0).to_dict()
    json.dumps(d)
    assert d["classification"] in CLASSES
    for key in ("steady_state_start", "steady_median", "change_points", "outliers", "segments"):
        assert key in d
    assert all(type(v) is int for v in d["change_points"])


def test_break_even_exact_and_extrapolated():
    x = np.array([100.0, 10, 10, 10, 10])
    assert break_even(x, 40.0, 10.0) == 3  # 120 <= 3 * 40
    # beyond the series: deficit 140 - 5*12 = 80 ... with baseline 12 and steady 10 → 40 more calls
    assert break_even(x, 12.0, 10.0) == 5 + 40
    assert break_even(x, 10.0, 10.0) is None
    assert break_even(x, 12.0, None) is None
    a = analyze(np.r_[1e6, np.full(99, 10.0)], baseline=20.0)
    assert a.break_even_calls == int(np.ceil((1e6 - 20.0) / 10.0)) + 1


def test_median_ci_contains_median():
    rng = np.random.default_rng(0)
    v = rng.lognormal(size=1001)
    med, lo, hi = median_ci(v, 0.95)
    assert med == pytest.approx(np.median(v)) and lo < med < hi
    assert median_ci(np.array([3.0]), 0.95) == (3.0, 3.0, 3.0)


@pytest.mark.parametrize(
    "bad",
    [[], [1.0, float("nan")], [1.0, float("inf")], [1.0, -2.0], [[1.0, 2.0]], ["a", "b"]],
)
def test_validation(bad):
    with pytest.raises(ValueError):
        analyze(bad)


def test_processes_consistency():
    flat = [1000 * _noise(300, seed=s) for s in range(3)]
    warm = []
    for s in range(3):
        x = 1000 * _noise(300, seed=10 + s)
        x[: 50 + 10 * s] *= 2
        warm.append(x)
    slow = 1000 * _noise(300, seed=20)
    slow[150:] *= 1.5
    pa = analyze_processes(warm)
    assert pa.consistency == "consistent warmup"
    assert pa.steady_state_starts["min"] == 50 and pa.steady_state_starts["max"] == 70
    assert pa.steady_state_starts["median"] == 60 and pa.steady_state_starts["iqr"] == 10
    assert analyze_processes(flat).consistency == "consistent flat"
    assert analyze_processes(flat + warm).consistency == "good-inconsistent"
    assert analyze_processes(warm + [slow]).consistency == "bad-inconsistent"
    json.dumps(pa.to_dict())
    with pytest.raises(ValueError):
        analyze_processes([])


def test_runtime_imports_only_numpy_and_scipy():
    import subprocess
    import sys

    def new_modules(imports: str) -> set[str]:
        code = (
            "import sys, jitwarm; before = set(sys.modules);"
            f"{imports};"
            "print(sorted({m.split('.')[0] for m in set(sys.modules) - before}"
            " - set(sys.stdlib_module_names)))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        return {m for m in eval(out) if not m.startswith("_") and m != "cython_runtime"}

    # what NumPy and the two SciPy modules the analysis uses import themselves (e.g.
    # numpy.f2py takes charset_normalizer when it is installed) is theirs, not ours
    theirs = new_modules("import numpy, scipy.ndimage, scipy.special")
    ours = new_modules("import jitwarm.analysis, jitwarm.cli.analyze, jitwarm.analysis._generate")
    assert ours <= {"jitwarm", "numpy", "scipy"} | theirs, (ours, theirs)


def test_binomial_quantile_matches_scipy_stats():
    from scipy import stats

    from jitwarm.analysis._classify import _binom_half_ppf

    for m in [*range(1, 120), 1000, 12345, 1_000_000]:
        for q in (0.005, 0.025, 0.05, 0.25):
            assert _binom_half_ppf(q, m) == int(stats.binom.ppf(q, m, 0.5)), (m, q)
