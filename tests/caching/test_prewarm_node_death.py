"""``jitwarm prewarm --executor ray`` when a node dies mid-run: only its task is lost, it
is reported with its node (learnt from the run's actor: Ray's error does not say it),
retried once on a node that is alive, and the merged cache holds every case. A real
two-node cluster on this machine (``_craft.two_node_cluster``), whose worker node is removed
while a task runs on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from _craft import UNDER_NODE, two_node_cluster, write

CASES = """
import os, time, jitwarm

MARKS = {marks!r}

{under}

def _kernel(fn):
    import numpy as np

    open(os.path.join(MARKS, "%s-%d" % (fn.__name__, os.getpid())), "w").close()
    doomed = os.path.join(os.path.dirname(MARKS), "doomed")
    if _under(int(open(doomed).read())):
        time.sleep(600)  # on the worker node: it dies under this task
    return fn, (np.arange(10.0),)

def _poly_first(x):
    return (x * x + 2 * x + 1).sum()

def _poly_second(x):
    return (x * x * x - 1).sum()

@jitwarm.case
def first():
    from numba import njit
    return _kernel(njit(cache=True)(_poly_first))

@jitwarm.case
def second():
    from numba import njit
    return _kernel(njit(cache=True)(_poly_second))
"""


@pytest.fixture(scope="module")
def cluster():
    yield from two_node_cluster()


@pytest.mark.slow
def test_a_node_that_dies_mid_prewarm_loses_only_its_task(cluster, tmp_path):
    pytest.importorskip("numba")
    from ray._private import ray_constants

    c, worker = cluster
    marks = tmp_path / "marks"
    marks.mkdir()
    write(tmp_path / "k.py", CASES.format(marks=str(marks), under=UNDER_NODE))
    raylet = worker.all_processes[ray_constants.PROCESS_TYPE_RAYLET][0].process.pid
    write(tmp_path / "doomed", str(raylet))
    plan = write(tmp_path / "plan.toml", "".join(
        f'[[case]]\ntarget = "k.py::{n}"\n\n' for n in ("first", "second")))
    out = tmp_path / "warm"
    proc = subprocess.Popen(
        [sys.executable, "-m", "jitwarm", "prewarm", str(plan), "--out", str(out),
         "--executor", "ray", "--ray-address", c.address, "--jobs", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while len(os.listdir(marks)) < 2:  # both tasks started, one on each node
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the tasks did not start"
        time.sleep(0.05)
    time.sleep(1.0)
    c.remove_node(worker)
    out_text, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out_text + err
    manifest = json.loads((out / "jitwarm-prewarm.json").read_text())
    tasks = {t["case"]: t for t in manifest["tasks"]}
    assert all(t["status"] == "ok" for t in tasks.values()), tasks
    lost = [t for t in tasks.values() if t["attempts"] == 2]
    assert len(lost) == 1, tasks  # only the task on the dead node, retried once
    (earlier,) = lost[0]["earlier_attempts"]
    assert earlier["status"] == "crashed" and earlier["node"] == worker.node_id, earlier
    assert lost[0]["node"] == c.head_node.node_id  # the retry ran where a node was alive
    assert len(list(out.rglob("*.nbi"))) == 2, list(out.rglob("*"))  # both caches merged
    assert "Traceback" not in err
