"""The numbers jitwarm reports agree with a bare stopwatch (end to end, real Numba).

- cold first call: ``profile_target`` (a fresh worker process) vs a plain fresh ``python``
  process that imports numba and times its first call with ``perf_counter_ns``;
- warm median: :func:`jitwarm.profile` vs a bare in-process ``perf_counter_ns`` loop, for a
  fast call (timed in batches) and a slower one (timed call by call);
- the compile / runtime-init split of a real cold run is sane (both > 0, sum <= first call).

The machine these run on is small and shared: the two sides are interleaved round by round
(alternating which goes first), frameworks run on one thread, the warm figure is the median
of the per-round ratios of medians, the cold figure compares the fastest fresh process of
each side (the least disturbed by other work), and the tolerance is ±20%. That still catches a first call over-reported by 25% or a warm median
doubled (see docs/benchmarks.md, "How the numbers are guarded").
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

pytest.importorskip("numba")

import jitwarm  # noqa: E402

ROUNDS = 7
TOLERANCE = 0.20
ONE_THREAD = {"OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "OPENBLAS_NUM_THREADS": "1"}

CASE = """
import jitwarm

@jitwarm.case
def poly():
    from numba import njit

    @njit
    def compute(x):
        return x * x + 2 * x + 1

    return compute, (10,)
"""

STOPWATCH = """
import time
from numba import njit

@njit
def compute(x):
    return x * x + 2 * x + 1

t0 = time.perf_counter_ns()
compute(10)
t1 = time.perf_counter_ns()
print(t1 - t0)
"""


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch):
    for k, v in ONE_THREAD.items():
        monkeypatch.setenv(k, v)


@contextmanager
def _foreground() -> Iterator[str]:
    """Run (and let child processes inherit) a high scheduling priority where allowed.

    Other work on a shared machine slows fresh processes unevenly (a 370 ms first call
    reads 0.7-2.2 s under a load of 5 on 2 cores), which no tolerance absorbs. A raised
    priority (nice -15) gives both sides nearly a whole core; without the permission the
    measurement runs as it is, which is fine on a quiet CI machine.
    """
    old = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        os.setpriority(os.PRIO_PROCESS, 0, -15)
        how = "nice -15"
    except OSError:
        how = f"nice {old} (raising the priority is not permitted)"
    try:
        yield how
    finally:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, old)
        except OSError:  # pragma: no cover - lowering is always allowed
            pass


def _within(ratio: float) -> bool:
    return 1 - TOLERANCE <= ratio <= 1 + TOLERANCE


@pytest.fixture(scope="module")
def cold_rounds(tmp_path_factory) -> dict[str, Any]:
    """ROUNDS interleaved pairs: one jitwarm cold process, one bare stopwatch process."""
    d = tmp_path_factory.mktemp("accuracy-cold")
    (d / "bench_poly.py").write_text(textwrap.dedent(CASE), encoding="utf-8")
    (d / "stopwatch.py").write_text(textwrap.dedent(STOPWATCH), encoding="utf-8")
    env = {**os.environ, **ONE_THREAD}
    saved = {k: os.environ.get(k) for k in ONE_THREAD}
    os.environ.update(ONE_THREAD)  # the worker processes inherit it
    records, stopwatch = [], []
    try:
        with _foreground() as how:
            for i in range(ROUNDS):
                for side in ("jitwarm", "stopwatch")[:: 1 if i % 2 == 0 else -1]:
                    if side == "jitwarm":
                        r = jitwarm.profile_target(f"{d / 'bench_poly.py'}::poly",
                                                   processes=1, states=("cold",),
                                                   max_calls=200, max_time_s=0.5)
                        (p,) = r.states["cold"]["processes"]
                        assert p["status"] == "ok", p
                        records.append(p)
                    else:
                        out = subprocess.run([sys.executable, "stopwatch.py"], cwd=d,
                                             env=env, check=True, capture_output=True,
                                             text=True, timeout=300)
                        stopwatch.append(int(out.stdout.strip().splitlines()[-1]))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return {"records": records, "stopwatch": stopwatch, "priority": how}


@pytest.mark.slow
def test_cold_first_call_matches_a_fresh_process_stopwatch(cold_rounds, report_figure):
    jw = [p["first_call_ns"] for p in cold_rounds["records"]]
    sw = cold_rounds["stopwatch"]
    # Fresh processes on a busy machine are slowed by whatever else runs (a 370 ms first
    # call reads 2.5 s under load): the fastest process of each side, the one least
    # disturbed, is compared; the median of the paired ratios is shown beside it.
    ratio = min(jw) / min(sw)
    paired = statistics.median(a / b for a, b in zip(jw, sw, strict=True))
    msg = (f"accuracy: cold first call jitwarm / stopwatch = {ratio:.3f} (fastest of {ROUNDS} "
           f"interleaved fresh processes each: jitwarm {min(jw) / 1e6:.1f} ms, stopwatch "
           f"{min(sw) / 1e6:.1f} ms; median of paired ratios {paired:.3f}; "
           f"{cold_rounds['priority']})")
    report_figure(msg)
    assert _within(ratio), msg


@pytest.mark.slow
def test_compile_runtime_init_split_is_sane(cold_rounds, report_figure):
    """Numba's own compile and the runtime's one-time init are both real parts of the first
    call: neither is zero, and together they do not exceed it."""
    bad = []
    for p in cold_rounds["records"]:
        own, init, first = p["function_compile_ns"], p["runtime_init_ns"], p["first_call_ns"]
        if not (own and own > 0 and init > 0 and own + init <= first
                and 0 < p["compile_ns"] <= first):
            bad.append(f"first {first} ns, function compile {own} ns, runtime init {init} ns, "
                       f"compile events {p['compile_ns']} ns")
    p = cold_rounds["records"][0]
    report_figure(f"accuracy: split of a cold Numba first call {p['first_call_ns'] / 1e6:.1f} ms "
                  f"= function compile {p['function_compile_ns'] / 1e6:.1f} ms + runtime init "
                  f"{p['runtime_init_ns'] / 1e6:.1f} ms + warm call")
    assert not bad, "compile / runtime-init split out of bounds: " + "; ".join(bad)


def _fast() -> tuple[Any, tuple[Any, ...]]:
    from numba import njit

    @njit
    def compute(x):
        return x * x + 2 * x + 1

    compute(10)
    return compute, (10,)


def _slow() -> tuple[Any, tuple[Any, ...]]:
    def work(n):
        return sum(range(n))

    return work, (1000,)


def _bare_ns(fn: Any, args: tuple[Any, ...], budget_ns: int = 200_000_000) -> float:
    """Median per-call time of plain ``fn(x)`` loops timed with ``perf_counter_ns``.

    Nothing of jitwarm is involved. Blocks of ~20 µs (one call for slower functions) keep
    most blocks clear of the scheduler's preemptions, which the median then ignores.
    """
    pc = time.perf_counter_ns
    (x0,) = args
    t0 = pc()
    for _ in range(1000):
        fn(x0)
    one = max((pc() - t0) / 1000, 1.0)
    n = int(max(1, 20_000 // one))
    blocks = []
    end = pc() + budget_ns
    while pc() < end and len(blocks) < 20_000:
        t0 = pc()
        for _ in range(n):
            fn(x0)
        blocks.append((pc() - t0) / n)
    return statistics.median(blocks)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["fast-batched", "slower-per-call"])
def test_warm_median_matches_a_bare_loop(kind, report_figure):
    fn, args = _fast() if kind == "fast-batched" else _slow()
    ratios, jws, bares = [], [], []
    batches = set()
    with _foreground():
        for _ in range(ROUNDS):
            r = jitwarm.profile(fn, *args, max_calls=400, max_time_s=0.3)
            (p,) = r.states["in-process"]["processes"]
            batches.update(size for _, size in p["batch_sizes"])
            bare = _bare_ns(fn, args)
            jws.append(p["warm_median_ns"])
            bares.append(bare)
            ratios.append(p["warm_median_ns"] / bare)
    if kind == "fast-batched":
        assert max(batches) > 1, "the fast call was expected to be timed in batches"
    else:
        assert batches == {1}, "the slower call was expected to be timed call by call"
    ratio = statistics.median(ratios)
    msg = (f"accuracy: warm median ({kind}) jitwarm / bare loop = {ratio:.3f} (median of "
           f"{ROUNDS} interleaved rounds; jitwarm {statistics.median(jws):.0f} ns, bare "
           f"{statistics.median(bares):.0f} ns)")
    report_figure(msg)
    assert _within(ratio), msg


def test_tolerance_separates_the_known_mutations():
    """The ±20% band admits the ~8% jitwarm is known to read high, and rejects +25% and 2×."""
    assert _within(1.08) and _within(0.9)
    assert not _within(1.08 * 1.25) and not _within(2 * 0.9)


def test_stopwatch_script_loads_nothing_of_jitwarm():
    assert "jitwarm" not in STOPWATCH and "perf_counter_ns" in STOPWATCH
