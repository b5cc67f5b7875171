"""``jitwarm profile --executor``: each measured process a Ray task, its record carrying
its node; the faults.

The option checks run without Ray; the rest runs the CLI in a fresh process against the
module's Ray (``--ray-address`` its GCS address): a real two-node cluster on this machine
(``ray.cluster_utils.Cluster``: a head and a worker node, one CPU each), started once; the
last test kills the worker node.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _craft import NUMBA_CASE, UNDER_NODE, cli, two_node_cluster, write

FAULTS = """
import os, signal, time, jitwarm

MARKS = {marks!r}

def _nth():
    # which process of the run this is: one after another (--jobs 1), counted by files
    n = len(os.listdir(MARKS))
    open(os.path.join(MARKS, "%d-%d" % (n, os.getpid())), "w").close()
    return n

@jitwarm.case
def faults():
    n = _nth()
    if n == 0:
        os._exit(3)  # the measured process crashes: data, as locally
    if n == 1:
        os.kill(os.getppid(), signal.SIGKILL)  # its Ray worker dies: the task is lost
        time.sleep(60)
    if n == 2:
        time.sleep(600)  # the measured process hangs: killed at --timeout, data
    return (lambda x: x + 1), (1,)

@jitwarm.case
def second_hangs():
    if _nth() == 1:
        time.sleep(600)
    return (lambda x: x + 1), (1,)

{under}

@jitwarm.case
def hangs_on_the_doomed_node():
    import numpy as np
    from numba import njit

    _nth()
    doomed = os.path.join(os.path.dirname(MARKS), "doomed")
    if _under(int(open(doomed).read())):
        time.sleep(600)

    @njit(cache=True)
    def poly_k(x):
        return (x * x + 2 * x + 1).sum()

    return poly_k, (np.arange(10.0),)
"""


def _faults(tmp_path: Path) -> Path:
    marks = tmp_path / "marks"
    marks.mkdir()
    return write(tmp_path / "faults.py", FAULTS.format(marks=str(marks), under=UNDER_NODE))


# -- options, no Ray started ------------------------------------------------------------------

def test_bad_executor_options_are_one_line(tmp_path):
    case = write(tmp_path / "k.py", NUMBA_CASE)
    for args, text in (
        (["--executor", "nope"], "unknown --executor nope (choose from local, ray)"),
        (["--jobs", "2"], "--jobs applies to --executor ray"),
        (["--ray-address", "127.0.0.1:1"], "--ray-address needs --executor ray"),
        (["--executor", "ray", "--strategies", "none"], "--executor applies to a profile by "
                                                        "cache state"),
    ):
        proc = cli("profile", f"{case}::poly", *args, "--no-history", timeout=120)
        assert proc.returncode == 2, (args, proc.stdout + proc.stderr)
        assert text in " ".join(proc.stderr.split()), (args, proc.stderr)
        assert "Traceback" not in proc.stderr


def test_without_ray_installed_one_line_names_the_extra(tmp_path):
    case = write(tmp_path / "k.py", NUMBA_CASE)
    code = ("import runpy, sys; sys.modules['ray'] = None; "
            f"sys.argv = ['jitwarm', 'profile', {f'{case}::poly'!r}, '--executor', 'ray', "
            "'--no-history']; runpy.run_module('jitwarm', run_name='__main__')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "pip install 'jitwarm[fleet]'" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_unreachable_ray_address_is_one_line_exit_2(tmp_path):
    pytest.importorskip("ray")
    case = write(tmp_path / "k.py", NUMBA_CASE)
    t0 = time.monotonic()
    proc = cli("profile", f"{case}::poly", "--executor", "ray", "--ray-address",
               "127.0.0.1:1", "--no-history", "--json", str(tmp_path / "r.json"), timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "nothing answers at 127.0.0.1:1" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "r.json").exists()  # refused before anything ran
    assert time.monotonic() - t0 < 60


def test_cached_processes_use_the_first_cold_cache_whose_node_is_alive():
    """A node that died took its cold cache with it: the cached processes copy the next
    good cold process's, on its node; none alive, none."""
    from jitwarm.measure.launchers import NodeCache, RayLauncher

    class FakeRay:
        alive = {"n1": False, "n2": True}

        def nodes(self):
            return [{"NodeID": n, "Alive": a} for n, a in self.alive.items()]

    launcher = RayLauncher()
    launcher.ray = FakeRay()
    sources = [NodeCache("n1", "h1", "/c/0", True, 0), NodeCache("n2", "h2", "/c/1", True, 1)]
    assert launcher._source(sources) is sources[1]
    FakeRay.alive["n2"] = False
    assert launcher._source(sources) is None
    FakeRay.alive["n1"] = True
    assert launcher._source(sources) is sources[0]


# -- a real local Ray -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cluster():
    """A two-node Ray cluster on this machine for the module (``_craft.two_node_cluster``)."""
    yield from two_node_cluster()


@pytest.fixture()
def local_ray(cluster):
    """``(address, the node ids)`` of the module's cluster."""
    c, worker = cluster
    return c.address, {c.head_node.node_id, worker.node_id}


def _run_dirs() -> set[str]:
    import tempfile

    return {n for n in os.listdir(tempfile.gettempdir()) if n.startswith("jitwarm-ray-profile-")}


@pytest.mark.slow
def test_ray_profile_cold_and_cached_on_the_cluster_with_their_nodes(local_ray, tmp_path):
    pytest.importorskip("numba")
    address, nodes = local_ray
    case = write(tmp_path / "k.py", NUMBA_CASE)
    out = tmp_path / "r.json"
    before = _run_dirs()
    proc = cli("profile", f"{case}::poly", "-n", "2", "--calls", "20", "--max-time", "1",
               "--executor", "ray", "--ray-address", address, "--jobs", "2",
               "--json", str(out), "--no-history", timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(out.read_text())
    assert result["settings"]["executor"] == {"name": "ray", "jobs": 2, "ray_address": address}
    for state in ("cold", "cached"):
        procs = result["states"][state]["processes"]
        assert [p["index"] for p in procs] == [0, 1]
        for p in procs:
            assert p["status"] == "ok", p
            assert p["executor"] == "ray" and p["node"] in nodes, p
            assert p["host"] == os.uname().nodename
    # the cached processes ran on the node that holds the first cold process's cache
    filler = result["states"]["cold"]["processes"][0]["node"]
    assert {p["node"] for p in result["states"]["cached"]["processes"]} == {filler}
    # Numba's own counters: the cold processes compiled, the cached ones loaded its cache
    assert all(p["cache"] == {"hits": 0, "misses": 1}
               for p in result["states"]["cold"]["processes"])
    assert all(p["cache"] == {"hits": 1, "misses": 0} and p["compile_ns"] == 0
               for p in result["states"]["cached"]["processes"])
    assert "where the processes ran" in proc.stdout and filler[:12] in proc.stdout
    assert _run_dirs() == before  # the run's directories on the node are gone
    from jitwarm.results.profile import ProfileResult

    ProfileResult.from_dict(result)  # the new fields pass the reader's checks


@pytest.mark.slow
def test_ray_profile_crash_hang_and_lost_task_are_reported_with_their_node(local_ray, tmp_path):
    address, nodes = local_ray
    case = _faults(tmp_path)
    out = tmp_path / "r.json"
    proc = cli("profile", f"{case}::faults", "-n", "4", "--cache", "cold", "--calls", "5",
               "--timeout", "8", "--executor", "ray", "--ray-address", address,
               "--json", str(out), "--no-history", timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # one process measured
    procs = json.loads(out.read_text())["states"]["cold"]["processes"]
    assert [p["status"] for p in procs] == ["crashed", "crashed", "timeout", "ok"], procs
    assert procs[0]["returncode"] == 3 and "exited with code 3" in procs[0]["error"]
    assert procs[1]["error"].startswith("the Ray task failed (")
    assert procs[2]["error"] == "timed out after 8 s and was killed"
    assert all(p["node"] in nodes and p["executor"] == "ray" for p in procs), procs
    said = " ".join(proc.stdout.split())
    assert f"cold process 2 (on node {procs[1]['node'][:12]}…" in said, proc.stdout
    assert "Traceback" not in proc.stderr


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.slow
def test_ray_profile_sigterm_ends_the_task_and_keeps_what_finished(local_ray, tmp_path):
    address, nodes = local_ray
    case = _faults(tmp_path)
    out = tmp_path / "r.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "jitwarm", "profile", f"{case}::second_hangs", "-n", "2",
         "--cache", "cold", "--calls", "5", "--executor", "ray", "--ray-address", address,
         "--json", str(out), "--no-history"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    marks = tmp_path / "marks"
    deadline = time.monotonic() + 120
    while len(os.listdir(marks)) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the second process did not start"
        time.sleep(0.05)
    hung = int(sorted(os.listdir(marks))[1].split("-")[1])
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    said = " ".join(err.split())
    assert "interrupted (SIGTERM)" in said and "1 finished process(es) kept" in said, err
    assert "Traceback" not in err
    result = json.loads(out.read_text())
    assert result["status"] == "interrupted"
    procs = result["states"]["cold"]["processes"]
    assert [(p["index"], p["status"]) for p in procs] == [(0, "ok")]
    assert procs[0]["node"] in nodes
    deadline = time.monotonic() + 10
    while not _gone(hung) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(hung), "the hung measured process is still running"


@pytest.mark.slow
def test_a_node_that_dies_loses_only_its_tasks(cluster, tmp_path):
    """Two cold processes at once, one on each node; the worker node dies while its process
    runs: that process is reported lost with its node, the other's cache serves the cached
    processes on the head. (Last in the module: the worker node stays dead.)"""
    pytest.importorskip("numba")
    from ray._private import ray_constants

    c, worker = cluster
    head = c.head_node.node_id
    case = _faults(tmp_path)
    raylet = worker.all_processes[ray_constants.PROCESS_TYPE_RAYLET][0].process.pid
    write(tmp_path / "doomed", str(raylet))
    out = tmp_path / "r.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "jitwarm", "profile", f"{case}::hangs_on_the_doomed_node",
         "-n", "2", "--calls", "5", "--executor", "ray", "--ray-address", c.address,
         "--jobs", "2", "--json", str(out), "--no-history"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    marks = tmp_path / "marks"
    deadline = time.monotonic() + 120
    while len(os.listdir(marks)) < 2:  # both cold processes started, one on each node
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the cold processes did not start"
        time.sleep(0.05)
    time.sleep(1.0)
    c.remove_node(worker)
    out_text, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out_text + err
    result = json.loads(out.read_text())
    cold = result["states"]["cold"]["processes"]
    lost = [p for p in cold if p["status"] != "ok"]
    assert len(lost) == 1 and lost[0]["status"] == "crashed", cold
    assert lost[0]["node"] == worker.node_id and "the Ray task failed" in lost[0]["error"], cold
    assert [p["node"] for p in cold if p["status"] == "ok"] == [head]
    cached = result["states"]["cached"]["processes"]
    assert [(p["status"], p["node"]) for p in cached] == [("ok", head)] * 2, cached
    assert all(p["cache"] == {"hits": 1, "misses": 0} for p in cached)
