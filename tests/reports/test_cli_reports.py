"""The commands as a user runs them: a real ``jitwarm profile`` run of a plain-Python case
with --plot/--html/--db, ``jitwarm report``, bad result files (exit 2), and the history
database failing under a run (the result is never lost)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from _reports_synth import cli, result, write

from conftest import run_cli
from jitwarm._units import fmt_ns
from jitwarm.results.profile import ProfileResult
from jitwarm.store.history import History

CASE = """
import jitwarm

@jitwarm.case
def summing():
    def f(n):
        return sum(range(n))
    return f, (200,)
"""
FAST = ("--processes", "2", "--calls", "100", "--max-time", "1", "--cache", "cold")


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("real")
    (d / "bench_plain.py").write_text(CASE, encoding="utf-8")
    proc = run_cli("profile", "bench_plain.py", *FAST, "--json", "r.json", "--plot", "r.png",
                   "--html", "r.html", "--db", "h.db", cwd=d, env={"JITWARM_HOME": str(d)})
    return d, proc


def test_real_profile_run_writes_everything(real_run) -> None:
    d, proc = real_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    r = ProfileResult.load(d / "r.json")
    assert r.framework == "python" and r.summary("cold")["processes_ok"] == 2
    assert (d / "r.png").read_bytes()[:4] == b"\x89PNG"
    html = (d / "r.html").read_text(encoding="utf-8")
    s = r.summary("cold")
    assert fmt_ns(s["first_call_ns"]) in html and fmt_ns(s["warm_median_ns"]) in html
    assert "stored as run 1" in proc.stdout
    assert "HTML report written to" in proc.stdout and "plot written to r.png" in proc.stdout


def test_real_run_is_in_the_history(real_run) -> None:
    d, _ = real_run
    lst = cli("history", "list", "--db", str(d / "h.db"))
    assert lst.returncode == 0, lst.stderr
    assert "\x1b[" not in lst.stdout  # no colour codes when not a terminal
    rows = [ln for ln in lst.stdout.splitlines() if ln.strip()]
    assert rows[1].startswith("1 ") and "summing" in rows[1]  # ID first, one line per run
    js = json.loads(cli("history", "list", "--json", "--db", str(d / "h.db")).stdout)
    assert js[0]["id"] == 1 and js[0]["case"] == "summing" and js[0]["cwd"] == str(d)
    show = cli("history", "show", "1", "--db", str(d / "h.db"))
    assert show.returncode == 0 and "summing" in show.stdout and "by cache state" in show.stdout
    assert "\x1b[" not in show.stdout
    exported = cli("history", "export", "1", "--db", str(d / "h.db"))
    assert json.loads(exported.stdout) == json.loads((d / "r.json").read_text())
    out = d / "p.json"
    pp = cli("history", "export", "1", "--format", "pyperf", "-o", str(out),
                 "--db", str(d / "h.db"))
    assert pp.returncode == 0 and out.exists()


def test_json_to_stdout_stays_machine_readable(real_run) -> None:
    d, _ = real_run
    proc = run_cli("profile", "bench_plain.py", *FAST, "--json", "-", "--no-history",
                   cwd=d)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["case"]["name"] == "summing"  # nothing else on stdout


def test_corrupted_history_keeps_the_run(tmp_path: Path) -> None:
    (tmp_path / "bench_plain.py").write_text(CASE, encoding="utf-8")
    (tmp_path / "h.db").write_bytes(b"\x00garbage, not a database\xff" * 300)
    proc = run_cli("profile", "bench_plain.py", "--processes", "1", "--calls", "20",
                   "--max-time", "0.5", "--cache", "cold", "--db", "h.db", "--quiet",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "run not stored in the history" in proc.stderr and "corrupted" in proc.stderr
    saved = list(tmp_path.glob("jitwarm-unsaved-*.json"))
    assert len(saved) == 1 and str(saved[0].name) in proc.stderr
    assert ProfileResult.load(saved[0]).case["name"] == "summing"
    listing = cli("history", "list", "--db", str(tmp_path / "h.db"))
    assert listing.returncode == 2 and "corrupted" in listing.stderr
    assert "Traceback" not in listing.stderr


def test_locked_history_keeps_the_run(tmp_path: Path) -> None:
    (tmp_path / "bench_plain.py").write_text(CASE, encoding="utf-8")
    db = tmp_path / "h.db"
    History(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        proc = run_cli("profile", "bench_plain.py", "--processes", "1", "--calls", "20",
                       "--max-time", "0.5", "--cache", "cold", "--db", str(db),
                       "--json", "kept.json", "--quiet", cwd=tmp_path,
                       env={"JITWARM_DB_TIMEOUT": "0.3"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert proc.returncode == 0, proc.stderr
    assert "locked" in proc.stderr and "kept in kept.json" in proc.stderr
    assert not list(tmp_path.glob("jitwarm-unsaved-*.json"))  # --json already has it
    assert ProfileResult.load(tmp_path / "kept.json").case["name"] == "summing"


def test_reading_commands_never_create_a_database(tmp_path: Path) -> None:
    db = tmp_path / "none" / "h.db"
    lst = cli("history", "list", "--db", str(db))
    assert lst.returncode == 0 and "no history at" in lst.stdout
    assert cli("history", "list", "--json", "--db", str(db)).stdout.strip() == "[]"
    show = cli("history", "show", "1", "--db", str(db))
    assert show.returncode == 2 and "no history at" in show.stderr
    assert not db.parent.exists()


def test_report_command(tmp_path: Path) -> None:
    demo_like = [result("poly", processes=1), result("array_kernel", processes=1, seed=3)]
    src = write(tmp_path / "demo.json", demo_like)
    proc = cli("report", str(src), "-o", str(tmp_path / "out.html"), "--plot",
                   str(tmp_path / "p.svg"))
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "out.html").read_text(encoding="utf-8")
    assert 'id="poly"' in html and 'id="array_kernel"' in html
    assert (tmp_path / "p-poly.svg").exists() and (tmp_path / "p-array_kernel.svg").exists()


@pytest.mark.parametrize("content,message", [
    ("this is not json", "is not JSON"),
    ('{"hello": 1}', 'no "schema" field'),
    ('{"schema": "pyperf/1"}', "not a jitwarm profile result"),
    ('{"schema": "jitwarm.profile/99"}', "newer than this jitwarm reads"),
    ("[]", "empty list"),
])
def test_bad_result_files_exit_2(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    proc = cli("report", str(bad), "-o", str(tmp_path / "x.html"))
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.html").exists()


def test_missing_file_and_bad_plot_name_exit_2(tmp_path: Path) -> None:
    proc = cli("report", str(tmp_path / "nope.json"))
    assert proc.returncode == 2 and "cannot read result file" in proc.stderr
    good = write(tmp_path / "r.json", result(processes=1))
    proc = cli("report", str(good), "--plot", str(tmp_path / "x.pdf"))
    assert proc.returncode == 2 and ".png or .svg" in proc.stderr
    proc = cli("profile", "nothing.py", "--plot", "x.jpg")
    assert proc.returncode == 2 and ".png or .svg" in proc.stderr
