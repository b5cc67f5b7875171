"""Replicas: a wave of measured processes started together (a fleet scaling out), each
measured as alone, and the CPU a process tree burns to its first result."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from jitwarm.cases.targets import resolve_target
from jitwarm.measure.process import Settings
from jitwarm.measure.runner import Runner

# setup sleeps, so two processes of a wave are both alive for a while however loaded the
# machine is: what is checked is that they ran at once, not how fast
SLOW_SETUP = """
import time

import jitwarm

def add(a, b):
    return a + b

@jitwarm.case
def plain():
    time.sleep(0.5)
    return add, (1, 2)
"""

FAST = Settings(max_calls=20, max_time_s=0.2, min_calls=5)


def test_a_wave_of_two_replicas_runs_at_once_and_both_are_recorded(case_file, tmp_path):
    path = case_file(SLOW_SETUP)
    runner = Runner(resolve_target(f"{path}::plain"), processes=1, states=("cold",),
                    settings=FAST, timeout_s=120, replicas=2, work=tmp_path / "work")
    res = runner.run()
    procs = res.states["cold"]["processes"]
    assert [p["status"] for p in procs] == ["ok", "ok"], procs
    assert [(p["wave"], p["replica"], p["index"]) for p in procs] == [(0, 0, 0), (0, 1, 1)]
    assert procs[0]["pid"] != procs[1]["pid"]
    # both were running at one moment: the second started before the first ended
    spans = [(p["wave_offset_ns"], p["wave_offset_ns"] + p["process_wall_ns"]) for p in procs]
    assert max(s for s, _ in spans) < min(e for _, e in spans), spans
    for p in procs:
        assert p["cpu_to_first_result_ns"] > 0 and p["cpu_scope"], p
        assert p["first_call_ns"] > 0 and p["warm_median_ns"] > 0
    # each had its own cache directory, kept in the work folder the caller gave
    assert runner.run_dir is not None
    assert (runner.run_dir / "caches" / "cold-0").is_dir()
    assert (runner.run_dir / "caches" / "cold-1").is_dir()
    assert res.settings["replicas"] == 2
    # the waves go through the local launcher: its records say where they ran
    assert {(p["executor"], p["node"] == p["host"]) for p in procs} == {("local", True)}
    assert res.settings["executor"]["name"] == "local"


def test_waves_of_replicas_are_refused_with_ray_before_anything_runs(case_file, tmp_path):
    """A wave measures replicas competing for one machine's cores; Ray would spread or
    queue them. Refused (as are a seed cache and a work folder on this machine) before
    Ray is even imported: the launcher is only constructed, never opened."""
    from jitwarm._errors import UsageError
    from jitwarm.measure.launchers import RayLauncher

    target = resolve_target(f"{case_file(SLOW_SETUP)}::plain")
    with pytest.raises(UsageError, match="--replicas .* needs --executor local"):
        Runner(target, processes=1, states=("cold",), replicas=2, launcher=RayLauncher())
    with pytest.raises(UsageError, match="needs --executor local"):
        Runner(target, processes=1, states=("cold",), work=tmp_path, launcher=RayLauncher())
    Runner(target, processes=1, states=("cold",), replicas=1, launcher=RayLauncher())


def test_one_replica_is_the_plain_run(case_file):
    res = Runner(resolve_target(f"{case_file(SLOW_SETUP)}::plain"), processes=2,
                 states=("cold",), settings=FAST, timeout_s=120).run()
    procs = res.states["cold"]["processes"]
    assert [p["index"] for p in procs] == [0, 1]
    assert not any("wave" in p for p in procs) and "replicas" not in res.settings


def test_strategies_with_replicas_give_a_fleet_view(case_file):
    from jitwarm.caches.strategies import run_strategies, strategies_table

    path = case_file(SLOW_SETUP)
    res = run_strategies(f"{path}::plain", ["none"], processes=1, replicas=2, settings=FAST,
                         timeout_s=120)
    (none,) = res.strategies
    assert none.status == "ok" and len(none.processes) == 2, none.reason
    fleet = none.fleet
    assert fleet["processes_ok"] == 2 and fleet["waves"] == 1, fleet
    assert fleet["waves_overlapping"] == 1, none.processes
    ttfr = sorted(p["time_to_first_result_ns"] for p in none.processes)
    assert ttfr[0] <= fleet["ttfr_p50_ns"] <= fleet["ttfr_p95_ns"] <= ttfr[1]
    assert fleet["wave_last_ttfr_ns"] == ttfr[1]
    assert fleet["wave_cpu_ns"] == sum(p["cpu_to_first_result_ns"] for p in none.processes)
    assert res.settings["replicas"] == 2
    cols = [c.header for c in strategies_table(res).columns]
    assert "p95 to first result" in cols and "CPU to first result / wave" in cols
    # the fleet view is checked like every field when a result file is read back
    from jitwarm._errors import UsageError
    from jitwarm.results.profile import check_other

    data = res.to_dict()
    assert check_other(data) == "jitwarm.strategies/1"
    data["strategies"]["none"]["fleet"]["ttfr_p95_ns"] = "fast"
    with pytest.raises(UsageError, match="fleet.ttfr_p95_ns"):
        check_other(data)


def test_a_variant_runs_in_waves_too(case_file):
    """A variant (``none+gc-freeze``) is measured in its own session: it keeps the waves."""
    from jitwarm.caches.strategies import run_strategies

    res = run_strategies(f"{case_file(SLOW_SETUP)}::plain", ["none", "none+gc-freeze"],
                         processes=1, replicas=2, settings=FAST, timeout_s=120)
    by = {r.strategy: r for r in res.strategies}
    frozen = by["none+gc-freeze"]
    assert frozen.status == "ok", frozen.reason
    assert sorted(p["replica"] for p in frozen.processes) == [0, 1]
    assert all(p.get("gc_frozen", 0) > 0 for p in frozen.processes), frozen.processes
    assert frozen.fleet is not None and frozen.fleet["processes_ok"] == 2


def test_replicas_below_one_are_refused(case_file):
    from jitwarm._errors import UsageError
    from jitwarm.caches.strategies import run_strategies

    with pytest.raises(UsageError, match="--replicas must be at least 1"):
        run_strategies(f"{case_file(SLOW_SETUP)}::plain", ["none"], replicas=0)


CHILD = ("import os, sys\n"
         "t = os.times()\n"
         "while os.times().user + os.times().system - t.user - t.system < 0.3:\n"
         "    pass\n"
         "u = os.times()\n"
         "print(u.user + u.system, flush=True)\n"
         "sys.stdin.read()\n")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_tree_cpu_counts_a_live_child_the_process_has_not_waited_for():
    """What a compile worker pool is to torch: a child still running at the first result,
    its CPU invisible to the parent's own os.times()."""
    from jitwarm.measure.cpu import TREE, tree_cpu

    child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        child_cpu_s = float(child.stdout.readline())  # it burnt that much and is alive
        t = os.times()
        own_ns = (t.user + t.system + t.children_user + t.children_system) * 1e9
        got = tree_cpu()
    finally:
        child.communicate("")
    assert got["cpu_scope"] == TREE
    # /proc counts in clock ticks (10 ms): allow two of them
    assert got["cpu_ns"] >= own_ns + child_cpu_s * 1e9 - 2e7, (got, own_ns, child_cpu_s)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jitwarm", *args], capture_output=True,
                          text=True, timeout=600, env=os.environ.copy())


def test_cli_replicas_prints_the_fleet_columns_and_refuses_misuse_in_one_line(case_file):
    target = f"{case_file(SLOW_SETUP)}::plain"
    proc = _cli("profile", target, "--strategies", "none", "--replicas", "2", "-n", "1",
                "--calls", "10", "--max-time", "0.2", "--quiet", "--json", "-")
    assert proc.returncode == 0, proc.stderr
    import json

    data = json.loads(proc.stdout)
    assert data["settings"]["replicas"] == 2
    assert data["strategies"]["none"]["fleet"]["processes_ok"] == 2
    for args, why in ((["--replicas", "2"], "--replicas applies to --strategies"),
                      (["--strategies", "none", "--replicas", "0"],
                       "--replicas must be at least 1"),
                      (["--strategies", "none", "--replicas", "2", "--executor", "ray"],
                       "--replicas starts each wave's processes at once on this machine: "
                       "it needs --executor local, not --executor ray"),
                      (["--replicas", "2", "--executor", "ray"],
                       "it needs --executor local")):
        proc = _cli("profile", target, *args, "-n", "1")
        assert proc.returncode == 2 and why in " ".join(proc.stderr.split()), proc.stderr
        assert "Traceback" not in proc.stderr


def test_preparing_processes_get_the_measured_thread_cap(tmp_path, case_file):
    """A bundle's prewarm that ran with every core filled a torch cache keyed by that
    thread count; measured processes capped at one thread all missed it (found by
    benchmarks/fleet.py). The preparing processes' environment carries the cap."""
    from jitwarm.caches.strategies import _Session

    target = resolve_target(f"{case_file(SLOW_SETUP)}::plain")
    capped = _Session(target, 1, Settings(threads=1), 60, None, tmp_path)
    assert capped.base_env["OMP_NUM_THREADS"] == "1"
    assert capped.base_env["JITWARM_THREADS"] == "1"
    assert "OMP_NUM_THREADS" not in _Session(target, 1, Settings(), 60, None, tmp_path).base_env
