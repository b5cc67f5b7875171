"""prewarm executors: --jobs N local processes, Ray tasks (a real local Ray), the merge.

The merge and the checks of gathered files are unit tests (crafted task outputs, no Ray);
the rest runs real Numba kernels in fresh processes and, for Ray, a local Ray started once
for the module with two CPUs (shut down after).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _craft import cli, write

from jitwarm._errors import UsageError
from jitwarm.caches.executors import (
    REGISTRY,
    Gathered,
    Merger,
    Outcome,
    Task,
    check_gathered,
    get_executor,
)

KERNELS = """
import jitwarm

@jitwarm.case
def poly():
    import numpy as np
    from numba import njit

    @njit(cache=True)
    def poly_k(x):
        return (x * x + 2 * x + 1).sum()

    return poly_k, (np.arange(10.0),)

@jitwarm.case
def norm():
    import numpy as np
    from numba import njit

    @njit(cache=True)
    def norm_k(x):
        return np.sqrt((x * x).sum())

    return norm_k, (np.arange(10.0),)
"""

INPUTS = [{"dtype": "float32"}, {"shape": [3, 4]}]
PLAN = """
[[case]]
target = "kern.py::poly"
inputs = [{dtype = "float32"}, {shape = [3, 4]}]

[[case]]
target = "kern.py::norm"
inputs = [{dtype = "float32"}, {shape = [3, 4]}]
"""

FAULTS = """
import os, time, jitwarm

@jitwarm.case
def fine():
    return (lambda x: x + 1), (1,)

@jitwarm.case
def crash():
    os._exit(1)

@jitwarm.case
def hang():
    time.sleep(600)
"""


def _numba_sub(files: dict[str, bytes]) -> dict[str, bytes]:
    return {f"numba/proj_0123/{k}": v for k, v in files.items()}


def _outcome(index: int, files: dict[str, bytes], node: str = "n1") -> Outcome:
    task = Task(index, f"case{index + 1}", f"k.py::case{index + 1}", {}, [])
    gathered = [Gathered(p, hashlib.sha256(d).hexdigest(), len(d), data=d)
                for p, d in files.items()]
    return Outcome(task, {"status": "ok"}, node=node, host="h", duration_ns=1, files=gathered)


# -- unit: merge and verification ---------------------------------------------------------------

def test_conflict_keeps_the_first_and_names_both_tasks(tmp_path):
    merger = Merger(tmp_path)
    first = _numba_sub({"k.f-1.py311.nbi": b"index A", "k.f-1.py311.1.nbc": b"same"})
    second = _numba_sub({"k.f-1.py311.nbi": b"index B", "k.f-1.py311.1.nbc": b"same",
                         "k.f-1.py311.2.nbc": b"only B"})
    w1 = merger.add(_outcome(0, first, node="node-a"))
    w2 = merger.add(_outcome(1, second, node="node-b"))
    assert (w1["files"], w1["conflicts"]) == (2, 0)
    assert (w2["files"], w2["identical"], w2["conflicts"]) == (1, 1, 1)
    idx = tmp_path / "numba/proj_0123/k.f-1.py311.nbi"
    assert idx.read_bytes() == b"index A"  # never silently overwritten
    (c,) = merger.conflicts
    assert c["path"] == "numba/proj_0123/k.f-1.py311.nbi"
    assert (c["kept"]["task"], c["kept"]["node"]) == (1, "node-a")
    assert (c["dropped"]["task"], c["dropped"]["node"]) == (2, "node-b")
    assert c["kept"]["sha256"] == hashlib.sha256(b"index A").hexdigest()
    assert c["dropped"]["sha256"] == hashlib.sha256(b"index B").hexdigest()


def test_gathered_files_are_checked_like_bundle_members():
    good = b"\x00data"

    def entry(path, data=good, **over):
        e = {"path": path, "data": data, "size": len(data),
             "sha256": hashlib.sha256(data).hexdigest()}
        e.update(over)
        return e

    entries = [
        entry("numba/proj_0123/k.f-1.py311.nbi"),
        entry("../escape.nbi"),
        entry("/etc/passwd"),
        entry("numba/../../x.nbc"),
        entry("elsewhere/file.bin"),
        entry("numba/proj_0123/evil.sh"),
        entry("numba/proj_0123/k.f-1.py311.1.nbc", sha256="0" * 64),
        entry("numba/proj_0123/k.f-1.py311.2.nbc", size=1),
        {**entry("numba/proj_0123/k.f-1.py311.3.nbc"), "data": "text"},
        entry("numba/proj_0123/k.f-1.py311.nbi"),  # twice
        "not an object",
    ]
    ok, refused = check_gathered(entries)
    assert [g.path for g in ok] == ["numba/proj_0123/k.f-1.py311.nbi"]
    assert len(refused) == len(entries) - 1, refused
    assert check_gathered({"path": "x"})[0] == []
    ok, refused = check_gathered([entry("numba/p_1/k.f-1.py311.nbi", data=b"x" * 10)],
                                 cap_file=5)
    assert ok == [] and "too large" in refused[0]


def test_merge_never_writes_through_a_link(tmp_path):
    out = tmp_path / "out"
    outside = tmp_path / "outside"
    outside.mkdir()
    (out / "numba").mkdir(parents=True)
    (out / "numba" / "proj_0123").symlink_to(outside)
    writes = Merger(out).add(_outcome(0, _numba_sub({"k.f-1.py311.nbi": b"x"})))
    assert writes["files"] == 0 and "link" in writes["refused"][0]
    assert list(outside.iterdir()) == []


def test_tasks_on_different_cpus_are_a_warning():
    from jitwarm.caches.machine import cpu_model
    from jitwarm.caches.prewarm import _cpu_warnings

    assert _cpu_warnings([{"cpu_model": cpu_model()}, {"cpu_model": None}]) == []
    (w,) = _cpu_warnings([{"cpu_model": "znver3"}, {"cpu_model": "znver4"}])
    assert "2 CPU models (znver3, znver4)" in w
    (w,) = _cpu_warnings([{"cpu_model": "some other CPU"}])
    assert "a bundle made here records this machine's CPU" in w


def test_bad_executor_options_are_usage_errors():
    assert set(REGISTRY) == {"local", "ray"}
    with pytest.raises(UsageError, match="unknown --executor"):
        get_executor("slurm")
    with pytest.raises(UsageError, match="--jobs"):
        get_executor("local", jobs=0)
    with pytest.raises(UsageError, match="--ray-address needs --executor ray"):
        get_executor("local", address="ray://x:10001")


def test_cli_bad_executor_and_missing_ray_are_one_line(tmp_path):
    write(tmp_path / "k.py", FAULTS)
    plan = write(tmp_path / "plan.toml", '[[case]]\ntarget = "k.py::fine"\n')
    proc = cli("prewarm", str(plan), "--out", str(tmp_path / "o"), "--executor", "nope")
    assert proc.returncode == 2 and "unknown --executor" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    # Ray not installed: simulated by making `import ray` fail in the CLI's process
    code = ("import runpy, sys; sys.modules['ray'] = None; "
            f"sys.argv = ['jitwarm', 'prewarm', {str(plan)!r}, '--out', "
            f"{str(tmp_path / 'o2')!r}, '--executor', 'ray']; "
            "runpy.run_module('jitwarm', run_name='__main__')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "pip install 'jitwarm[fleet]'" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_unreachable_ray_address_is_one_line_at_once(tmp_path):
    """ray.init would retry a dead address for minutes: nothing answering is exit 2 now."""
    pytest.importorskip("ray")
    write(tmp_path / "k.py", FAULTS)
    plan = write(tmp_path / "plan.toml", '[[case]]\ntarget = "k.py::fine"\n')
    t0 = time.monotonic()
    proc = cli("prewarm", str(plan), "--out", str(tmp_path / "o"), "--executor", "ray",
               "--ray-address", "127.0.0.1:1", timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "nothing answers at 127.0.0.1:1" in proc.stderr and "Traceback" not in proc.stderr
    assert time.monotonic() - t0 < 60


# -- end to end -----------------------------------------------------------------------------------

def _project(base: Path) -> Path:
    src = base / "project"
    write(src / "kern.py", KERNELS)
    write(src / "warm.toml", PLAN)
    return src


def _assert_hits(src: Path, cache: Path) -> None:
    """Every case and input of the plan loads from ``cache``: Numba's own counters say hit."""
    from jitwarm.caches.prewarm import run_case_process
    from jitwarm.cases.targets import resolve_target

    for name in ("poly", "norm"):
        rec = run_case_process(resolve_target(f"{src / 'kern.py'}::{name}"), cache,
                               inputs=INPUTS, timeout_s=300)
        assert rec["status"] == "ok", rec
        assert len(rec["calls"]) == 3
        for call in rec["calls"]:
            assert call["cache"] == {"hits": 1, "misses": 0}, (name, call)
            assert [e for e in call["compile_events"] if e["depth"] == 0] == []


def _assert_two_tasks(manifest: dict, executor: str) -> None:
    assert manifest["executor"]["name"] == executor
    assert manifest["conflicts"] == [] and manifest["warnings"] == []  # one CPU, this one
    tasks = manifest["tasks"]
    assert [t["case"] for t in tasks] == ["poly", "norm"]
    for t in tasks:
        assert t["status"] == "ok" and t["attempts"] == 1 and t["executor"] == executor
        assert t["node"] and t["duration_ns"] > 0
        assert len(t["compiled"]) == 3  # three signatures, each compiled once
        for unit in t["compiled"]:  # the process-wide compile units, from Numba's hooks
            assert (unit["framework"], unit["kind"], unit["cache"]) == ("numba", "compile", "miss")
            assert unit["name"].endswith(f"{t['case']}_k") and unit["duration_ns"] > 0
        assert [u["call"] for u in t["compiled"]] == [0, 1, 2]
        w = t["cache_writes"]
        assert w["files"] == 4 and w["bytes"] > 0 and w["conflicts"] == 0 and not w["refused"]
    assert [c["status"] for c in manifest["cases"]] == ["ok", "ok"]


@pytest.mark.slow
def test_local_jobs_2_merges_and_hits(tmp_path):
    pytest.importorskip("numba")
    src = _project(tmp_path)
    out = tmp_path / "warm"
    proc = cli("prewarm", str(src / "warm.toml"), "--out", str(out), "--jobs", "2", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    manifest = json.loads(proc.stdout)
    _assert_two_tasks(manifest, "local")
    assert manifest["executor"]["jobs"] == 2
    assert json.loads((out / "jitwarm-prewarm.json").read_text())["tasks"] == manifest["tasks"]
    assert len(list((out / "numba").glob("*/*.nbc"))) == 6
    _assert_hits(src, out)


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def _interrupt_while_one_case_hangs(tmp_path: Path, extra: list[str], sig: int
                                     ) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run a plan of a quick case and a stuck one; once the quick one finished and the
    stuck one runs, send ``sig``. Returns the CLI's outcome and the stuck process's pid."""
    pids = tmp_path / "pids"
    pids.mkdir()
    write(tmp_path / "k.py", f"""
        import os, time, jitwarm

        @jitwarm.case
        def quick():
            open(os.path.join({str(pids)!r}, "quick-%d" % os.getpid()), "w").close()
            return (lambda x: x + 1), (1,)

        @jitwarm.case
        def stuck():
            open(os.path.join({str(pids)!r}, "stuck-%d" % os.getpid()), "w").close()
            time.sleep(600)
        """)
    plan = write(tmp_path / "plan.toml",
                 '[[case]]\ntarget = "k.py::quick"\n\n[[case]]\ntarget = "k.py::stuck"\n')
    out = tmp_path / "warm"
    proc = subprocess.Popen(
        [sys.executable, "-m", "jitwarm", "prewarm", str(plan), "--out", str(out), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        names = os.listdir(pids)
        quick = [int(n.split("-")[1]) for n in names if n.startswith("quick-")]
        stuck = [int(n.split("-")[1]) for n in names if n.startswith("stuck-")]
        if quick and stuck and _gone(quick[0]):
            break
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    else:
        pytest.fail("the cases did not start")
    time.sleep(1.0)  # the finished case's record reaches the parent
    proc.send_signal(sig)
    out_text, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out_text, err), stuck[0]


def _assert_kept_the_quick_case(tmp_path: Path, done: subprocess.CompletedProcess[str],
                                stuck: int, code: int) -> None:
    err = done.stderr
    assert done.returncode == code, done.stdout + err
    assert "1 of 2 case(s) finished" in err and "Traceback" not in err, err
    manifest = json.loads((tmp_path / "warm" / "jitwarm-prewarm.json").read_text())
    assert manifest["status"] == "interrupted"
    assert [c["name"] for c in manifest["cases"]] == ["quick"]
    assert [t["case"] for t in manifest["tasks"]] == ["quick"]
    deadline = time.monotonic() + 5
    while not _gone(stuck) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(stuck), "the stuck case's process is still running"


@pytest.mark.slow
def test_ctrl_c_with_jobs_ends_the_running_cases_and_keeps_what_merged(tmp_path):
    done, stuck = _interrupt_while_one_case_hangs(tmp_path, ["--jobs", "2"], signal.SIGINT)
    _assert_kept_the_quick_case(tmp_path, done, stuck, 130)


# -- a real local Ray -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def local_ray():
    """A local Ray with two CPUs for this module; its workers inherit this environment
    (PYTHONPATH included), so they import the jitwarm under test."""
    ray = pytest.importorskip("ray")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.mark.slow
def test_ray_prewarm_gathers_merges_bundles_installs_and_hits(local_ray, tmp_path):
    pytest.importorskip("numba")
    from jitwarm.caches.prewarm import prewarm

    src = _project(tmp_path)
    out = tmp_path / "warm"
    manifest = prewarm(src / "warm.toml", out, executor="ray", jobs=2, timeout_s=300)
    _assert_two_tasks(manifest, "ray")
    import ray

    assert {t["node"] for t in manifest["tasks"]} == {ray.get_runtime_context().get_node_id()}
    assert all(c["node"] for c in manifest["cases"])
    assert len(list((out / "numba").glob("*/*.nbc"))) == 6
    bundle = tmp_path / "warm.tar.gz"
    proc = cli("bundle", "create", str(out), "-o", str(bundle))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    installed = tmp_path / "elsewhere" / "cache"
    proc = cli("bundle", "install", str(bundle), "--target", str(installed))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _assert_hits(src, installed)


@pytest.mark.slow
def test_ray_crash_and_hang_are_retried_once_and_reported(local_ray, tmp_path):
    write(tmp_path / "k.py", FAULTS)
    plan = write(tmp_path / "plan.toml", "".join(
        f'[[case]]\ntarget = "k.py::{n}"\n\n' for n in ("fine", "crash", "hang")))
    out = tmp_path / "warm"
    proc = cli("prewarm", str(plan), "--out", str(out), "--executor", "ray",
               "--ray-address", local_ray, "--timeout", "8", timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    manifest = json.loads((out / "jitwarm-prewarm.json").read_text())
    assert manifest["executor"] == {"name": "ray", "jobs": 2, "ray_address": local_ray}
    tasks = {t["case"]: t for t in manifest["tasks"]}
    assert tasks["fine"]["status"] == "ok" and tasks["fine"]["attempts"] == 1
    for name, status in (("crash", "crashed"), ("hang", "timeout")):
        t = tasks[name]
        assert (t["status"], t["attempts"]) == (status, 2), t
        assert t["node"] != "unknown" and t["earlier_attempts"][0]["status"] == status
        assert f"failed: task {t['task']} ({name}) on node {t['node']} after 2 attempt(s)" \
            in " ".join(proc.stderr.split()), proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ray_interrupt_cancels_the_tasks_and_keeps_what_merged(local_ray, tmp_path, sig, code):
    """Ctrl-C (and SIGTERM, which Ray's own handler would otherwise take) cancels the
    running Ray task, whose case process ends, and writes the manifest of what merged."""
    done, stuck = _interrupt_while_one_case_hangs(
        tmp_path, ["--executor", "ray", "--ray-address", local_ray], sig)
    _assert_kept_the_quick_case(tmp_path, done, stuck, code)
