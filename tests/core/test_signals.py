"""Signals, hangs and floods through the real CLI and real worker processes (plain Python
cases): SIGTERM/SIGHUP take Ctrl-C's path, ``kill -9`` of the parent ends its workers,
every long command keeps what finished and says where, a finished measurement survives
a thread the case left running, a flood of output costs the parent a bounded tail."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_cli

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="process groups, PR_SET_PDEATHSIG and /proc")

FAST = ["--calls", "60", "--max-time", "1", "--cache", "cold"]

#: a case whose first worker succeeds and whose second hangs in setup after recording its
#: pid (and starting a helper process of its own, in its process group)
HANGS_SECOND = """
import os, subprocess, sys, time, jitwarm

@jitwarm.case
def slow():
    pids = {pids!r}
    n = len(os.listdir(pids))
    open(os.path.join(pids, str(os.getpid())), "w").close()
    if n >= {ok}:
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        time.sleep(600)
    return (lambda x: x + 1), (1,)
"""


def _state(pid: int) -> str | None:
    """The process's state letter, None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def _group_alive(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group."""
    alive = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            fields = Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            alive.append(int(d))
    return alive


def _start(args: list[str], tmp: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "TMPDIR": str(tmp)}
    return subprocess.Popen(
        [sys.executable, "-m", "jitwarm", *args], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=env, cwd=tmp,
        # a background job inherits SIGINT ignored: give the CLI the terminal's default
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for(pids: Path, n: int, proc: subprocess.Popen[str], timeout: float = 90) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(os.listdir(pids)) < n:
        if proc.poll() is not None:
            pytest.fail(f"the CLI ended early: {proc.communicate()}")
        time.sleep(0.05)
    found = sorted(map(int, os.listdir(pids)))
    assert len(found) >= n, found
    time.sleep(0.3)  # let the hanging case start its helper process
    return found


def _finish(proc: subprocess.Popen[str], sig: int) -> tuple[str, str]:
    proc.send_signal(sig)
    try:
        return proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGUSR1)  # the CLI dumps its stacks on SIGUSR1
        time.sleep(2)
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"no exit 60 s after the signal; its stacks:\n{err[-6000:]}")


def _assert_no_workers(pids: list[int]) -> None:
    for pid in pids:  # each worker led its own process group
        deadline = time.monotonic() + 5
        while _group_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _group_alive(pid), f"worker group {pid} still running"


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_sighup_end_workers_and_keep_partial(case_file, tmp_path, sig, code):
    pids = tmp_path / "pids"
    pids.mkdir()
    path = case_file(HANGS_SECOND.format(pids=str(pids), ok=1))
    out_json = tmp_path / "partial.json"
    proc = _start(["profile", str(path), "--processes", "3", *FAST,
                   "--json", str(out_json)], tmp_path)
    workers = _wait_for(pids, 2, proc)
    out, err = _finish(proc, sig)
    assert proc.returncode == code, out + err
    assert "Traceback" not in err
    assert signal.Signals(sig).name in err and str(out_json) in err, err
    data = json.loads(out_json.read_text())
    assert data["status"] == "interrupted"
    kept = data["states"]["cold"]["processes"]
    assert kept[0]["status"] == "ok" and kept[0]["first_call_ns"] > 0
    _assert_no_workers(workers)
    assert not list(tmp_path.glob("jitwarm-run-*")), "the run folder was left behind"


def test_interrupt_with_nothing_finished_says_so(case_file, tmp_path):
    """No "partial result kept" when nothing was: the first process hangs, no --json."""
    pids = tmp_path / "pids"
    pids.mkdir()
    path = case_file(HANGS_SECOND.format(pids=str(pids), ok=0))
    proc = _start(["profile", str(path), "--processes", "2", *FAST, "--no-history"], tmp_path)
    workers = _wait_for(pids, 1, proc)
    out, err = _finish(proc, signal.SIGTERM)
    assert proc.returncode == 143, out + err
    assert "partial result kept" not in err and "nothing to keep" in err, err
    _assert_no_workers(workers)


def test_kill_9_of_the_parent_ends_the_worker(case_file, tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    path = case_file(f"""
        import os, time, jitwarm

        @jitwarm.case
        def hang():
            open(os.path.join({str(pids)!r}, str(os.getpid())), "w").close()
            time.sleep(600)
            return len, ((),)
    """)
    proc = _start(["profile", str(path), "--processes", "1", *FAST], tmp_path)
    (worker,) = _wait_for(pids, 1, proc)
    proc.kill()
    proc.communicate()
    deadline = time.monotonic() + 10
    while _state(worker) not in (None, "Z") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _state(worker) in (None, "Z"), "the worker outlived its killed parent"


def test_non_daemon_thread_keeps_the_measurement(case_file, tmp_path):
    """The worker wrote its result, then a thread the case started kept it alive."""
    path = case_file("""
        import threading, time, jitwarm

        @jitwarm.case
        def threaded():
            threading.Thread(target=time.sleep, args=(600,)).start()  # not a daemon
            return (lambda x: x + 1), (1,)
    """)
    out_json = tmp_path / "r.json"
    t0 = time.monotonic()
    proc = run_cli("profile", str(path), "--processes", "1", *FAST, "--timeout", "40",
                   "--json", str(out_json), "--no-history")
    took = time.monotonic() - t0
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(out_json.read_text())["states"]["cold"]["processes"][0]["status"] == "ok"
    assert took < 30, f"waited {took:.0f} s: the worker did not end after its result"


def test_result_written_before_a_timeout_is_kept(case_file, tmp_path):
    """The parent's side: a worker that hangs after writing its result (here in an atexit
    handler, longer than --timeout) is killed, and its result used all the same."""
    path = case_file("""
        import atexit, time, jitwarm

        @jitwarm.case
        def stuck_at_exit():
            atexit.register(time.sleep, 600)
            return (lambda x: x + 1), (1,)
    """)
    out_json = tmp_path / "r.json"
    proc = run_cli("profile", str(path), "--processes", "1", *FAST, "--timeout", "4",
                   "--json", str(out_json), "--no-history")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out_json.read_text())
    rec = data["states"]["cold"]["processes"][0]
    assert rec["status"] == "ok" and rec["first_call_ns"] > 0
    assert "did not exit after writing its result" in " ".join(data["notes"])


def test_ctrl_c_during_strategies_keeps_the_partial_ab(case_file, tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    path = case_file(HANGS_SECOND.format(pids=str(pids), ok=1))
    out_json = tmp_path / "ab.json"
    proc = _start(["profile", str(path), "--strategies", "none,aot", "--processes", "3",
                   "--calls", "60", "--max-time", "1", "--json", str(out_json), "-q"], tmp_path)
    workers = _wait_for(pids, 2, proc)
    out, err = _finish(proc, signal.SIGINT)
    assert proc.returncode == 130, out + err
    assert "interrupted" in err and str(out_json) in err and "Traceback" not in err, err
    data = json.loads(out_json.read_text())
    assert data["schema"] == "jitwarm.strategies/1" and data["status"] == "interrupted"
    kept = data["strategies"]["none"]["processes"]
    assert kept[0]["status"] == "ok" and kept[0]["first_call_ns"] > 0
    _assert_no_workers(workers)


def test_ctrl_c_during_prewarm_keeps_the_finished_cases(case_file, tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    path = case_file(HANGS_SECOND.format(pids=str(pids), ok=1))
    plan = tmp_path / "plan.toml"
    plan.write_text(f'[[case]]\ntarget = "{path.name}::slow"\n\n'
                    f'[[case]]\ntarget = "{path.name}::slow"\nname = "again"\n')
    out_dir = tmp_path / "warm"
    proc = _start(["prewarm", str(plan), "--out", str(out_dir)], tmp_path)
    workers = _wait_for(pids, 2, proc)
    out, err = _finish(proc, signal.SIGINT)
    assert proc.returncode == 130, out + err
    manifest_path = out_dir / "jitwarm-prewarm.json"
    assert "1 of 2 case(s) finished" in err and str(manifest_path) in err, err
    manifest = json.loads(manifest_path.read_text())
    assert manifest["status"] == "interrupted"
    assert [c["status"] for c in manifest["cases"]] == ["ok"]
    _assert_no_workers(workers)


def test_sigterm_during_sweep_says_what_happened(case_file, tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    path = case_file(HANGS_SECOND.format(pids=str(pids), ok=0))
    proc = _start(["sweep", f"{path}::slow", "-q"], tmp_path)
    workers = _wait_for(pids, 1, proc)
    out, err = _finish(proc, signal.SIGTERM)
    assert proc.returncode == 143, out + err
    assert "interrupted (SIGTERM)" in err and "nothing was measured" in err, err
    _assert_no_workers(workers)
    assert not list(tmp_path.glob("jitwarm-sweep-*"))


def test_output_flood_costs_the_parent_a_bounded_tail(case_file, tmp_path):
    """200 MB printed by the case: the parent keeps the end of it, not all of it."""
    path = case_file("""
        import os, sys, jitwarm

        @jitwarm.case
        def loud():
            line = "x" * 1023 + "\\n"
            block = line * 1024
            for _ in range(200):
                sys.stdout.write(block)
            print("LAST-LINE-MARKER", flush=True)
            os._exit(3)
    """)
    out_json = tmp_path / "r.json"
    measure = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True)\n"
        "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    proc = subprocess.run(
        [sys.executable, "-c", measure, sys.executable, "-m", "jitwarm", "profile", str(path),
         "--processes", "1", *FAST, "--json", str(out_json), "--no-history"],
        capture_output=True, text=True, timeout=300)
    code, peak_kib = map(int, proc.stdout.split())
    assert code == 1, proc.stderr
    assert peak_kib < 200 * 1024, f"peak RSS {peak_kib // 1024} MiB for 200 MB of output"
    rec = json.loads(out_json.read_text())["states"]["cold"]["processes"][0]
    assert rec["status"] == "crashed" and "exited with code 3" in rec["error"]
    assert rec["output_tail"].splitlines()[-1] == "LAST-LINE-MARKER"
    assert "earlier bytes of output not kept" in rec["output_tail"]
    assert len(rec["output_tail"]) < 10_000


@pytest.mark.parametrize("args", [
    ["profile", "{case}", "--timeout", "nan"],
    ["profile", "{case}", "--timeout", "-1"],
    ["profile", "{case}", "--timeout", "inf"],
    ["profile", "{case}", "--max-time", "nan"],
    ["profile", "{case}", "--max-time", "inf"],
    ["profile", "{case}", "--max-time", "-1"],
    ["profile", "{case}", "--strategies", "none", "--timeout", "nan"],
    ["profile", "{case}", "--strategies", "none", "--max-time", "inf"],
    ["profile", "{case}", "--strategies", "none", "--rounds", "0"],
    ["sweep", "{case}", "--timeout", "nan"],
    ["sweep", "{case}", "--timeout", "-1"],
    ["prewarm", "{plan}", "--out", "{tmp}/w", "--timeout", "nan"],
    ["prewarm", "{plan}", "--out", "{tmp}/w", "--timeout", "0"],
])
def test_bad_numeric_options_exit_2(case_file, tmp_path, args):
    path = case_file("""
        import jitwarm

        @jitwarm.case
        def plain():
            return (lambda x: x + 1), (1,)
    """)
    plan = tmp_path / "p.toml"
    plan.write_text(f'[[case]]\ntarget = "{path.name}::plain"\n')
    full = [a.format(case=f"{path}::plain", plan=plan, tmp=tmp_path) for a in args]
    proc = run_cli(*full, "--no-history" if args[0] == "profile" and "--strategies" not in args
                   else "-q" if args[0] != "prewarm" else "--json", timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "must be" in lines[0] and "Traceback" not in proc.stderr, lines
    assert not (tmp_path / "w").exists()


def test_history_failure_after_a_json_rescue_names_the_rescue(case_file, tmp_path):
    """Not "the result is kept in <the path that could not be written>"."""
    path = case_file("""
        import jitwarm

        @jitwarm.case
        def plain():
            return (lambda x: x + 1), (1,)
    """)
    (tmp_path / "afile").write_text("not a directory")
    bad_json = tmp_path / "afile" / "r.json"
    db_dir = tmp_path / "db-is-a-folder"
    db_dir.mkdir()
    proc = run_cli("profile", str(path), "--processes", "1", *FAST, "--json", str(bad_json),
                   "--db", str(db_dir), cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = " ".join(proc.stderr.split())
    assert f"kept in {bad_json}" not in err, err
    rescued = err.split("the result was saved to ", 1)[1].split()[0]
    assert f"kept in {rescued}" in err, err
    assert json.loads(Path(rescued).read_text())["schema"] == "jitwarm.profile/1"


def test_ctrl_c_during_a_wave_of_replicas_ends_every_replica(case_file, tmp_path):
    """--replicas: the wave's processes run from threads of the parent; Ctrl-C (which only
    the main thread receives) must end all of them and keep the ones that finished."""
    pids = tmp_path / "pids"
    pids.mkdir()
    path = case_file(HANGS_SECOND.format(pids=str(pids), ok=1))
    out_json = tmp_path / "ab.json"
    proc = _start(["profile", str(path), "--strategies", "none", "--replicas", "2",
                   "--processes", "2", "--calls", "20", "--max-time", "0.2",
                   "--json", str(out_json), "-q"], tmp_path)
    workers = _wait_for(pids, 2, proc)  # both replicas of wave 1 started: one hangs
    time.sleep(2)  # the other one finishes its measurement
    out, err = _finish(proc, signal.SIGINT)
    assert proc.returncode == 130, out + err
    assert "interrupted" in err and "Traceback" not in err, err
    data = json.loads(out_json.read_text())
    assert data["status"] == "interrupted"
    kept = data["strategies"].get("none", {}).get("processes") or []
    assert all(p["status"] == "ok" and p["wave"] == 0 for p in kept), kept
    _assert_no_workers(workers)
