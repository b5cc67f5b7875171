"""Bad input to `jitwarm prewarm` (issue 12): one clear line on stderr, exit code 2, never a
traceback — a non-UTF-8 plan, a FIFO given as the plan (refused at once, never waited on),
absurdly nested TOML, a full disk under ``--out``; a plan with a UTF-8 byte-order mark is
accepted. Also what prewarm shares with profile (items 5, 7, 9): SIGTERM/SIGHUP end the
case's process and keep the manifest of the finished cases (exit 128 + signal), and a case
printing without end costs the parent a bounded tail of its output.

Plain-Python cases: no framework needed, each process starts in about a second.
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

from conftest import run_cli

CASE = """
import jitwarm

@jitwarm.case
def inc():
    return (lambda x: x + 1), (1,)
"""


def _plan(tmp_path: Path, text: str | bytes, name: str = "warm.toml") -> Path:
    (tmp_path / "kern.py").write_text(CASE, encoding="utf-8")
    p = tmp_path / name
    if isinstance(text, str):
        text = text.encode("utf-8")
    p.write_bytes(text)
    return p


def _refused(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    # (progress lines "[i/n] case ..." come before it once cases ran)
    lines = [ln for ln in proc.stderr.strip().splitlines() if not ln.startswith("[")]
    assert len(lines) == 1, proc.stderr
    for n in needles:
        assert n in lines[0], lines[0]


GOOD = '[[case]]\ntarget = "kern.py::inc"\n'


def test_non_utf8_plan(tmp_path: Path) -> None:
    plan = _plan(tmp_path, b'[[case]]\ntarget = "kern.py::inc"\n# caf\xe9 \xff\n')
    proc = run_cli("prewarm", str(plan), "--out", str(tmp_path / "w"), timeout=120)
    _refused(proc, "not UTF-8")
    assert not (tmp_path / "w").exists()


def test_fifo_plan_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "plan.toml"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    # nobody ever writes to the FIFO: opening it for a blocking read would wait forever
    proc = run_cli("prewarm", str(fifo), "--out", str(tmp_path / "w"), timeout=60)
    _refused(proc, "not a regular file")
    assert time.monotonic() - t0 < 60


def test_folder_and_missing_plan(tmp_path: Path) -> None:
    proc = run_cli("prewarm", str(tmp_path), "--out", str(tmp_path / "w"), timeout=120)
    _refused(proc, "folder")
    proc = run_cli("prewarm", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "w"),
                   timeout=120)
    _refused(proc, "no such file")


def test_deeply_nested_plan(tmp_path: Path) -> None:
    plan = _plan(tmp_path, GOOD + "x = " + "[" * 100_000 + "\n")
    proc = run_cli("prewarm", str(plan), "--out", str(tmp_path / "w"), timeout=120)
    _refused(proc, "nested too deeply")


def test_plan_with_bom_is_accepted(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "\ufeff" + GOOD)
    out = tmp_path / "w"
    proc = run_cli("prewarm", str(plan), "--out", str(out), "--json", timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    manifest = json.loads((out / "jitwarm-prewarm.json").read_text(encoding="utf-8"))
    assert [c["status"] for c in manifest["cases"]] == ["ok"]


def _mount_small(d: Path) -> None:
    d.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(d)],
                       check=True, capture_output=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot mount a 64 KiB tmpfs here (needs root): {exc}")


@pytest.fixture
def small_out(tmp_path: Path):
    """``--out`` on a real 64 KiB file system."""
    d = tmp_path / "small"
    _mount_small(d)
    yield d
    subprocess.run(["umount", "-l", str(d)], check=False, capture_output=True)


def test_full_disk_during_prewarm(tmp_path: Path, small_out: Path) -> None:
    # the manifest carries the plan's text: 100 KB of comment do not fit on 64 KiB
    plan = _plan(tmp_path, GOOD + ("# " + "x" * 98 + "\n") * 1000)
    proc = run_cli("prewarm", str(plan), "--out", str(small_out), timeout=300)
    _refused(proc, "No space left on device", str(small_out / "jitwarm-prewarm.json"))
    assert ".tmp" not in proc.stderr
    assert os.listdir(small_out) == [], "a temporary or partial file was left behind"


def test_output_flood_costs_the_parent_a_bounded_tail(tmp_path: Path) -> None:
    """100 MB printed by the case while prewarming: the parent keeps the end of it."""
    (tmp_path / "loud.py").write_text("""
import os, sys, jitwarm

@jitwarm.case
def loud():
    block = ("x" * 1023 + "\\n") * 1024
    for _ in range(100):
        sys.stdout.write(block)
    print("LAST-LINE-MARKER", flush=True)
    os._exit(3)
""", encoding="utf-8")
    plan = tmp_path / "warm.toml"
    plan.write_text('[[case]]\ntarget = "loud.py::loud"\n', encoding="utf-8")
    out = tmp_path / "w"
    measure = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True)\n"
        "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    proc = subprocess.run(
        [sys.executable, "-c", measure, sys.executable, "-m", "jitwarm", "prewarm", str(plan),
         "--out", str(out), "--json"], capture_output=True, text=True, timeout=300)
    code, peak_kib = map(int, proc.stdout.split())
    assert code == 1, proc.stderr
    assert peak_kib < 100 * 1024, f"peak RSS {peak_kib // 1024} MiB for 100 MB of output"
    (rec,) = json.loads((out / "jitwarm-prewarm.json").read_text())["cases"]
    assert rec["status"] == "crashed" and "exited with code 3" in rec["error"]
    assert rec["output_tail"].splitlines()[-1] == "LAST-LINE-MARKER"
    assert "earlier bytes of output not kept" in rec["output_tail"]
    assert len(rec["output_tail"]) < 10_000


# -- signals (items 5 and 7): prewarm takes Ctrl-C's path for SIGTERM and SIGHUP -------------

HANGS_SECOND = """
import os, time, jitwarm

@jitwarm.case
def slow():
    pids = {pids!r}
    n = len(os.listdir(pids))
    open(os.path.join(pids, str(os.getpid())), "w").close()
    if n >= 1:
        time.sleep(600)
    return (lambda x: x + 1), (1,)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_sighup_during_prewarm_keep_the_finished_cases(tmp_path: Path, sig: int,
                                                               code: int) -> None:
    pids = tmp_path / "pids"
    pids.mkdir()
    (tmp_path / "kern.py").write_text(HANGS_SECOND.format(pids=str(pids)), encoding="utf-8")
    plan = tmp_path / "warm.toml"
    plan.write_text('[[case]]\ntarget = "kern.py::slow"\n\n'
                    '[[case]]\ntarget = "kern.py::slow"\nname = "again"\n', encoding="utf-8")
    out = tmp_path / "w"
    proc = subprocess.Popen([sys.executable, "-m", "jitwarm", "prewarm", str(plan),
                             "--out", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    deadline = time.monotonic() + 90
    while len(os.listdir(pids)) < 2 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    workers = sorted(map(int, os.listdir(pids)))
    assert len(workers) == 2
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"prewarm did not exit 60 s after {signal.Signals(sig).name}")
    assert proc.returncode == code, err
    assert "Traceback" not in err
    manifest_path = out / "jitwarm-prewarm.json"
    assert signal.Signals(sig).name in err and str(manifest_path) in err, err
    assert "1 of 2 case(s) finished" in err, err
    manifest = json.loads(manifest_path.read_text())
    assert manifest["status"] == "interrupted"
    assert [c["status"] for c in manifest["cases"]] == ["ok"]
    end = time.monotonic() + 5
    while _alive(workers[1]) and time.monotonic() < end:
        time.sleep(0.05)
    assert not _alive(workers[1]), "the hanging case's process outlived prewarm"

