"""Bad input and faults through the real CLI and real worker processes (plain Python cases).

Every user error: one clear message, the documented exit code, never a bare traceback;
partial results are written.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import run_cli

FAST = ["--processes", "1", "--calls", "60", "--max-time", "1", "--cache", "cold"]

PLAIN = """
import jitwarm

@jitwarm.case
def plain():
    def f(x):
        return x + 1
    return f, (1,)
"""


def assert_clean_error(proc, code, *needles):
    out = proc.stdout + proc.stderr
    assert proc.returncode == code, out
    for n in needles:
        assert n in out, out
    return out


@pytest.mark.parametrize(
    "target, needle",
    [
        ("nope.py", "target file not found"),
        ("{dir}/empty.py", "no case found"),
        ("{dir}/ok.py::missing", "unknown case 'missing'"),
    ],
)
def test_usage_errors_exit_2(tmp_path, case_file, target, needle):
    case_file("x = 1\n", name="empty.py")
    case_file(PLAIN, name="ok.py")
    proc = run_cli("profile", target.format(dir=tmp_path), *FAST, cwd=tmp_path)
    out = assert_clean_error(proc, 2, needle)
    assert "Traceback" not in out


def test_wrong_shape_exit_2(case_file):
    path = case_file("""
        import jitwarm

        @jitwarm.case
        def bad():
            return 42
    """)
    out = assert_clean_error(run_cli("profile", str(path), *FAST), 2, "returned int", "expected (callable, args)")
    assert "Traceback" not in out


def test_bad_option_exit_2(case_file):
    path = case_file(PLAIN)
    assert_clean_error(run_cli("profile", str(path), "--cache", "warmish"), 2, "unknown cache state")
    assert_clean_error(run_cli("profile", str(path), "--processes", "0"), 2, "at least 1")


def test_setup_raises_exit_1_with_user_traceback_once(case_file, tmp_path):
    path = case_file("""
        import jitwarm

        def helper():
            raise ValueError("boom in setup")

        @jitwarm.case
        def bad():
            helper()
    """)
    out_json = tmp_path / "r.json"
    proc = run_cli("profile", str(path), *FAST, "--json", str(out_json))
    out = assert_clean_error(proc, 1, "case setup raised ValueError: boom in setup", "in helper")
    assert out.count("Traceback (most recent call last)") == 1
    assert "_worker.py" not in out  # the user's frames, not ours
    data = json.loads(out_json.read_text())
    assert data["status"] == "error" and data["error"]["phase"] == "setup"


def test_first_call_raises_keeps_finished_states(case_file, tmp_path):
    # cold succeeds (populating a marker), cached fails on its first call
    marker = tmp_path / "marker"
    path = case_file(f"""
        import os, jitwarm

        class Cached:
            _cache = None  # looks like nothing to numba; plain python adapter

        @jitwarm.case
        def flaky():
            seen = os.path.exists({str(marker)!r})
            open({str(marker)!r}, "w").close()
            def f(x):
                if seen:
                    raise RuntimeError("second process fails")
                return x
            return f, (1,)
    """)
    out_json = tmp_path / "r.json"
    proc = run_cli("profile", str(path), "--processes", "2", "--calls", "60", "--max-time", "1",
                   "--cache", "cold", "--json", str(out_json))
    assert_clean_error(proc, 1, "first call raised RuntimeError: second process fails")
    data = json.loads(out_json.read_text())
    assert data["status"] == "error" and data["error"]["index"] == 1


def test_hang_is_killed_and_named(case_file, tmp_path):
    path = case_file("""
        import time, jitwarm

        @jitwarm.case
        def hang():
            time.sleep(600)
            return len, ((),)
    """)
    out_json = tmp_path / "r.json"
    t0 = time.monotonic()
    proc = run_cli("profile", str(path), *FAST, "--timeout", "3", "--json", str(out_json))
    assert time.monotonic() - t0 < 60
    out = assert_clean_error(proc, 1, "cold process 1: timed out after 3 s")
    assert "cold process 1: cold process 1" not in out  # the prefix once, not twice
    data = json.loads(out_json.read_text())
    assert data["states"]["cold"]["processes"][0]["status"] == "timeout"


@pytest.mark.parametrize("how, sig", [("os.abort()", "SIGABRT"), ("ctypes.string_at(0)", "SIGSEGV")])
def test_crash_recorded_others_still_run(case_file, tmp_path, how, sig):
    marker = tmp_path / "crashed"
    path = case_file(f"""
        import ctypes, os, jitwarm

        @jitwarm.case
        def crashy():
            if not os.path.exists({str(marker)!r}):
                open({str(marker)!r}, "w").close()
                {how}
            return (lambda x: x + 1), (1,)
    """)
    out_json = tmp_path / "r.json"
    proc = run_cli("profile", str(path), "--processes", "2", "--calls", "60", "--max-time", "1",
                   "--cache", "cold", "--json", str(out_json))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"crashed with {sig}" in proc.stdout
    procs = json.loads(out_json.read_text())["states"]["cold"]["processes"]
    assert procs[0]["status"] == "crashed" and procs[0]["signal"] == sig
    assert procs[1]["status"] == "ok" and procs[1]["first_call_ns"] > 0


def test_ctrl_c_writes_partial_json_exit_130(case_file, tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    path = case_file(f"""
        import os, time, jitwarm

        @jitwarm.case
        def slow():
            n = len(os.listdir({str(pids)!r}))
            open(os.path.join({str(pids)!r}, str(os.getpid())), "w").close()
            if n >= 1:
                time.sleep(600)  # the second process hangs until interrupted
            return (lambda x: x + 1), (1,)
    """)
    out_json = tmp_path / "partial.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "jitwarm", "profile", str(path), "--processes", "3", "--calls", "60",
         "--max-time", "1", "--cache", "cold", "--json", str(out_json)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # a shell's background job (`cmd &`, nohup) inherits SIGINT ignored, and Python then
        # installs no KeyboardInterrupt handler: give the CLI the terminal's default
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(os.listdir(pids)) < 2:
        time.sleep(0.1)
    assert len(os.listdir(pids)) == 2
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # say where it is stuck (the CLI's SIGUSR1 dump)
        proc.send_signal(signal.SIGUSR1)
        time.sleep(2)
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"no exit 60 s after Ctrl-C; its stacks:\n{err[-6000:]}\n{out[-2000:]}")
    assert proc.returncode == 130, out + err
    assert "interrupted" in err and "Traceback" not in err
    data = json.loads(out_json.read_text())
    assert data["status"] == "interrupted"
    kept = data["states"]["cold"]["processes"]
    assert kept[0]["status"] == "ok" and kept[0]["first_call_ns"] > 0
    for pid in map(int, os.listdir(pids)):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_module_target_in_cwd(tmp_path):
    (tmp_path / "mycases.py").write_text(PLAIN)
    out = tmp_path / "r.json"
    proc = run_cli("profile", "mycases:plain", *FAST, "--json", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    assert data["case"]["module"] == "mycases" and data["states"]["cold"]["summary"]["processes_ok"] == 1
    assert data["framework"] == "python"


def test_unwritable_json_rescued(case_file, tmp_path):
    path = case_file(PLAIN)
    (tmp_path / "afile").write_text("not a directory")
    proc = run_cli("profile", str(path), *FAST, "--json", str(tmp_path / "afile" / "r.json"))
    assert proc.returncode == 2
    assert "the result was saved to" in proc.stderr and "Traceback" not in proc.stderr
    rescued = proc.stderr.split("the result was saved to", 1)[1].split()[0]
    assert json.loads(open(rescued).read())["schema"] == "jitwarm.profile/1"
    # and the run is in the history all the same: nothing measured is lost
    db = tmp_path / "h.db"
    proc = run_cli("profile", str(path), *FAST, "--json", str(tmp_path / "afile" / "r.json"),
                   "--db", str(db))
    assert proc.returncode == 2 and "stored as run" in proc.stdout + proc.stderr
    listed = run_cli("history", "list", "--db", str(db))
    assert listed.returncode == 0 and "plain" in listed.stdout, listed.stdout + listed.stderr


def test_other_commands_unwritable_outputs_exit_2(case_file, tmp_path):
    """prewarm --out and sweep --json into a path under a file: one line, exit 2."""
    path = case_file(PLAIN)
    (tmp_path / "afile").write_text("not a directory")
    plan = tmp_path / "p.toml"
    plan.write_text(f'[[case]]\ntarget = "{path.name}::plain"\n')
    proc = run_cli("prewarm", str(plan), "--out", str(tmp_path / "afile" / "cache"))
    assert proc.returncode == 2 and "cannot create --out" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run_cli("sweep", f"{path}::plain", "-q", "--json", str(tmp_path / "afile" / "s.json"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "afile" in proc.stderr and "the result was saved to" in proc.stderr
    rescued = proc.stderr.split("the result was saved to", 1)[1].split()[0]
    assert json.loads(open(rescued).read())
