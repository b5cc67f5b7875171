"""The numbers jitwarm reports agree with a bare stopwatch (end to end, real Numba).

- cold first call: ``profile_target`` (a fresh worker process) vs a plain fresh ``python``
  process that imports numba and times its first call with ``perf_counter_ns``;
- warm median: :func:`jitwarm.profile` vs a bare in-process ``perf_counter_ns`` loop, for a
  fast call (timed in batches) and a slower one (timed call by call);
- the compile / runtime-init split of a real cold run is sane (both > 0, sum <= first call).

The machine these run on is small and shared: the two sides are interleaved round by round
(alternating which goes first) at a raised priority where permitted, frameworks run on one
thread, each figure is the median of the per-round ratios, and the tolerance is ±20%. That still catches a first call over-reported by 25% or a warm median
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
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("numba")

import jitwarm  # noqa: E402

ROUNDS = 11  # interleaved; the median of 11 rides out a minute of load on a shared 2-core machine
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


#: imported at start-up by every measured fresh process (both sides alike): each runs in its
#: own session (jitwarm's workers start one; the stopwatch is started so), hence in its own
#: Linux autogroup, whose nice is what counts against other sessions' work
BOOST = """
import os
try:
    os.setpriority(os.PRIO_PROCESS, 0, -15)
except OSError:
    pass
try:
    with open("/proc/self/autogroup", "w") as f:
        f.write("-15")
except OSError:
    pass
"""
PROBE = "print(open('/proc/self/autogroup').read().strip().split(' ', 1)[1])"


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch):
    for k, v in ONE_THREAD.items():
        monkeypatch.setenv(k, v)


AUTOGROUP = Path("/proc/self/autogroup")


def _autogroup_nice() -> int | None:
    try:
        return int(AUTOGROUP.read_text().split("nice")[1])
    except (OSError, IndexError, ValueError):
        return None


def _set_autogroup_nice(value: int) -> bool:
    try:
        AUTOGROUP.write_text(str(value))
        return True
    except OSError:
        return False


@contextmanager
def _foreground() -> Iterator[str]:
    """Raise this process's scheduling priority where allowed (children inherit it).

    Other work on a shared machine slows fresh processes unevenly (a 370 ms first call
    reads 0.7-3 s under a load of 5 on 2 cores), which no tolerance absorbs. With Linux's
    autogroups a process's nice value only counts within its session, so the session's
    autogroup is raised too (``/proc/self/autogroup``); both are put back afterwards.
    Without the permission the measurement runs as it is, fine on a quiet CI machine.
    """
    old_nice = os.getpriority(os.PRIO_PROCESS, 0)
    old_group = _autogroup_nice()
    raised = []
    try:
        os.setpriority(os.PRIO_PROCESS, 0, -15)
        raised.append("nice -15")
    except OSError:
        pass
    if old_group is not None and _set_autogroup_nice(-15):
        raised.append("autogroup nice -15")
    try:
        yield ", ".join(raised) or "normal priority (raising it is not permitted here)"
    finally:
        if old_group is not None and "autogroup nice -15" in raised:
            _set_autogroup_nice(old_group)
        try:
            os.setpriority(os.PRIO_PROCESS, 0, old_nice)
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
    (d / "boost").mkdir()
    (d / "boost" / "sitecustomize.py").write_text(BOOST, encoding="utf-8")
    paths = [str(d / "boost"), *filter(None, [os.environ.get("PYTHONPATH")])]
    extra = {**ONE_THREAD, "PYTHONPATH": os.pathsep.join(paths)}
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)  # jitwarm's worker processes inherit it
    env = dict(os.environ)
    records, stopwatch = [], []

    def fresh(*args: str) -> str:
        out = subprocess.run([sys.executable, *args], cwd=d, env=env, check=True,
                             capture_output=True, text=True, timeout=300,
                             start_new_session=True)
        return out.stdout.strip().splitlines()[-1]

    try:
        priority = fresh("-c", PROBE)
        for i in range(ROUNDS):
            for side in ("jitwarm", "stopwatch")[:: 1 if i % 2 == 0 else -1]:
                if side == "jitwarm":
                    r = jitwarm.profile_target(f"{d / 'bench_poly.py'}::poly", processes=1,
                                               states=("cold",), max_calls=200,
                                               max_time_s=0.5)
                    (p,) = r.states["cold"]["processes"]
                    assert p["status"] == "ok", p
                    records.append(p)
                else:
                    stopwatch.append(int(fresh("stopwatch.py")))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return {"records": records, "stopwatch": stopwatch, "priority": f"autogroup {priority}"}


@pytest.mark.slow
def test_cold_first_call_matches_a_fresh_process_stopwatch(cold_rounds, report_figure):
    jw = [p["first_call_ns"] for p in cold_rounds["records"]]
    sw = cold_rounds["stopwatch"]
    ratio = statistics.median(a / b for a, b in zip(jw, sw, strict=True))
    fastest = min(jw) / min(sw)
    msg = (f"accuracy: cold first call jitwarm / stopwatch = {ratio:.3f} (median of {ROUNDS} "
           f"interleaved pairs of fresh processes; jitwarm {statistics.median(jw) / 1e6:.1f} ms, "
           f"stopwatch {statistics.median(sw) / 1e6:.1f} ms; fastest of each {fastest:.3f}; "
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
