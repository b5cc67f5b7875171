"""History database: storing, listing, migrations, concurrency, corruption and locks."""

from __future__ import annotations

import json
import multiprocessing as mp
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from _reports_synth import result

from jitwarm.report import emit_outputs
from jitwarm.results.profile import ProfileResult
from jitwarm.store.history import (
    MIGRATIONS,
    SCHEMA_VERSION,
    History,
    HistoryError,
    default_db_path,
    git_info,
    migrate,
    store_result,
)


class _Quiet:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def print(self, *args, **kwargs) -> None:
        self.lines.append(" ".join(str(a) for a in args))


def test_store_list_get_roundtrip(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    data = result("poly")
    with History(db) as h:
        a = h.add(data, git={"commit": "abc123" * 6 + "ab", "dirty": True}, cwd="/proj")
        b = h.add(result("other", seed=2))
        assert (a, b) == (1, 2)
        runs = h.list()
        assert [r.id for r in runs] == [1, 2]
        assert [r.case_name for r in runs] == ["poly", "other"]
        assert h.list(case="other")[0].id == 2
        run = h.get(1)
        assert run.data == json.loads(json.dumps(data))  # the full JSON, unchanged
        assert run.git_commit.startswith("abc123") and run.git_dirty is True
        assert run.git_label().endswith("+dirty")
        assert run.cwd == "/proj"
        assert run.summary["cold"]["first_call_ns"] == data["states"]["cold"]["summary"][
            "first_call_ns"]
        assert h.get("latest").id == 2 and h.get(-2).id == 1 and h.get("latest~1").id == 1
        assert isinstance(run.result(), ProfileResult)
        with pytest.raises(HistoryError, match="no run 7"):
            h.get(7)
        with pytest.raises(HistoryError, match="integer"):
            h.get("abc")
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_default_path_follows_jitwarm_home(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JITWARM_HOME", str(tmp_path / "jh"))
    assert default_db_path() == tmp_path / "jh" / "history.db"
    monkeypatch.delenv("JITWARM_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "xdg" / "jitwarm" / "history.db"


def test_migration_from_v1_backfills_and_newer_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    con = sqlite3.connect(db, isolation_level=None)
    assert migrate(con, upto=1) == 1
    data = result("legacy")
    con.execute(
        "INSERT INTO runs (stored_at, case_name, environment, result) VALUES (?, ?, ?, ?)",
        ("2025-01-01T00:00:00+00:00", "legacy", "{}", json.dumps(data)),
    )
    con.close()
    with History(db) as h:  # opening applies migration 2: host column, summaries
        run = h.list()[0]
        assert run.case_name == "legacy"
        assert run.summary["cold"]["warm_median_ns"] == data["states"]["cold"]["summary"][
            "warm_median_ns"]
        assert h.add(result("new")) == 2
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    con.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    con.commit()
    con.close()
    with pytest.raises(HistoryError, match="newer than this jitwarm"):
        History(db)


def _writer(args: tuple[str, int, int]) -> int:
    db, worker, n = args
    for i in range(n):
        with History(db, timeout=60) as h:
            h.add({"schema": "jitwarm.profile/1", "case": {"name": f"w{worker}-{i}"},
                   "states": {}, "environment": {}})
    return n


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    db = str(tmp_path / "busy.db")  # a new file: the 8 processes also race to create it
    # fork (where there is one) skips 8 fresh interpreter imports; each writer is still its
    # own process with its own connection
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ctx.Pool(8) as pool:
        done = pool.map(_writer, [(db, w, 25) for w in range(8)])
    assert sum(done) == 200
    with History(db) as h:
        assert h.count() == 200
        names = {r.case_name for r in h.list(limit=None)}
    assert names == {f"w{w}-{i}" for w in range(8) for i in range(25)}


def test_corrupted_database_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "bad.db"
    db.write_bytes(b"this is not sqlite at all \x00\xff" * 200)
    with pytest.raises(HistoryError, match="corrupted") as exc:
        History(db)
    assert str(db) in str(exc.value)


def test_locked_database_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "locked.db"
    History(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(HistoryError, match="locked"):
            with History(db, timeout=0.2) as h:
                h.add(result())
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with History(db) as h:  # released: usable again, nothing half-written
        assert h.count() == 0


@pytest.mark.parametrize("fault", ["corrupt", "locked"])
def test_run_is_kept_when_history_fails(tmp_path: Path, monkeypatch, fault: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JITWARM_DB_TIMEOUT", "0.2")
    db = tmp_path / "h.db"
    holder = None
    if fault == "corrupt":
        db.write_bytes(b"\xde\xad\xbe\xef" * 1000)
    else:
        History(db).close()
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
    r = ProfileResult.from_dict(result("kept"))
    try:
        ids = emit_outputs(r, plot=None, html=None, db=str(db), store=True, console=_Quiet())
    finally:
        if holder:
            holder.execute("ROLLBACK")
            holder.close()
    assert ids == []
    saved = list(tmp_path.glob("jitwarm-unsaved-*.json"))
    assert len(saved) == 1
    assert ProfileResult.load(saved[0]).to_dict() == r.to_dict()


def test_json_path_given_means_no_extra_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "h.db"
    db.write_bytes(b"garbage" * 100)
    r = ProfileResult.from_dict(result())
    r.save(tmp_path / "out.json")
    emit_outputs(r, plot=None, html=None, db=str(db), store=True, console=_Quiet(),
                 json_path=str(tmp_path / "out.json"))
    assert not list(tmp_path.glob("jitwarm-unsaved-*.json"))


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_commit_and_dirty_flag(tmp_path: Path) -> None:
    assert git_info(tmp_path) is None  # not a work tree
    env = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "f.txt").write_text("a")
    subprocess.run(["git", "add", "f.txt"], cwd=tmp_path, check=True)
    subprocess.run(["git", *env, "commit", "-qm", "x"], cwd=tmp_path, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True,
                          text=True, check=True).stdout.strip()
    assert git_info(tmp_path) == {"commit": head, "dirty": False}
    (tmp_path / "f.txt").write_text("b")
    assert git_info(tmp_path) == {"commit": head, "dirty": True}
    run_id, path = store_result(ProfileResult.from_dict(result()), tmp_path / "h.db",
                                cwd=str(tmp_path))
    with History(path) as h:
        run = h.get(run_id)
    assert run.git_commit == head and run.git_dirty is True
