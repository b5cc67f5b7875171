"""Every output file is written atomically (issue 12, item 10/11): on a full disk the good
file already there stays whole, no temporary file is left, the error is one line that names
the output (never the temporary file), and the exit code is 2. Output options never create
missing folders, and ``demo --json`` is checked before the run.

The full disk is real: a 64 KiB tmpfs mounted for the test (skipped where mounting is not
permitted, i.e. not root)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from _reports_synth import cli, result, write

from jitwarm.results.profile import save_or_rescue, write_atomic
from jitwarm.store.history import History

GOOD = "the good file, written before\n"


def _mount(d: Path, *opts: str) -> None:
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(("size=64k", *opts)), "tmpfs",
                        str(d)], check=True, capture_output=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot mount a 64 KiB tmpfs here (needs root): {exc}")


@pytest.fixture
def full_dir(tmp_path: Path):
    """A folder on a 64 KiB file system holding one small good file, ``good``."""
    d = tmp_path / "small"
    d.mkdir()
    _mount(d)
    (d / "good").write_text(GOOD, encoding="utf-8")
    yield d
    subprocess.run(["umount", "-l", str(d)], check=False, capture_output=True)


@pytest.fixture
def small_result(tmp_path: Path) -> Path:
    """A one-process result: its HTML report (~110 KB) overflows the small disk."""
    return write(tmp_path / "small.json", result(processes=1))


@pytest.fixture
def big_db(tmp_path: Path) -> Path:
    """A history with one run whose JSON and CSV exports are well over 64 KiB."""
    db = tmp_path / "h.db"
    with History(db) as h:
        h.add(result(processes=20))
    return db


def _intact(d: Path, name: str, err: str) -> None:
    assert (d / name).read_text(encoding="utf-8") == GOOD
    assert sorted(os.listdir(d)) == ["good"], "a temporary file was left behind"
    assert ".tmp" not in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.slow  # renders an HTML report (seconds)
def test_report_on_a_full_disk_keeps_the_good_file(full_dir: Path, small_result: Path) -> None:
    proc = cli("report", str(small_result), "-o", str(full_dir / "good"))
    assert proc.returncode == 2
    assert "No space left on device" in proc.stderr and str(full_dir / "good") in proc.stderr
    _intact(full_dir, "good", proc.stderr)


@pytest.mark.parametrize("fmt", ["json", "csv",
                                 pytest.param("html", marks=pytest.mark.slow)])
def test_history_export_on_a_full_disk_keeps_the_good_file(full_dir: Path, big_db: Path,
                                                           fmt: str) -> None:
    proc = cli("history", "export", "latest", "-f", fmt, "-o", str(full_dir / "good"),
               "--db", str(big_db))
    assert proc.returncode == 2, proc.stderr
    assert "No space left on device" in proc.stderr
    _intact(full_dir, "good", proc.stderr)


def test_pyperf_export_on_a_full_disk_keeps_the_good_file(full_dir: Path, big_db: Path) -> None:
    pytest.importorskip("pyperf")
    proc = cli("history", "export", "latest", "-f", "pyperf", "-o", str(full_dir / "good"),
               "--db", str(big_db))
    assert proc.returncode == 2, proc.stderr
    _intact(full_dir, "good", proc.stderr)


@pytest.mark.slow  # draws the plots and the report (seconds)
def test_plot_on_a_full_disk_keeps_the_good_file(full_dir: Path, small_result: Path,
                                                 tmp_path: Path) -> None:
    os.rename(full_dir / "good", full_dir / "p.svg")
    proc = cli("report", str(small_result), "-o", str(tmp_path / "r.html"), "--plot",
               str(full_dir / "p.svg"))
    assert proc.returncode == 2, proc.stderr
    assert (full_dir / "p.svg").read_text(encoding="utf-8") == GOOD
    assert os.listdir(full_dir) == ["p.svg"] and ".tmp" not in proc.stderr


def test_write_atomic_cleans_up_on_interrupt_and_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text(GOOD, encoding="utf-8")

    def writer(f) -> None:
        f.write(b"half of it")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, writer)
    assert target.read_text(encoding="utf-8") == GOOD
    assert os.listdir(tmp_path) == ["out.json"]


def test_write_atomic_names_the_output_not_the_temp_file(full_dir: Path) -> None:
    with pytest.raises(OSError) as info:
        write_atomic(full_dir / "good", "x" * 200_000)
    assert info.value.filename == str(full_dir / "good") and ".tmp" not in str(info.value)
    _intact(full_dir, "good", "one line\n")


def test_write_atomic_keeps_the_mode_and_replaces_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old", encoding="utf-8")
    real.chmod(0o640)
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new"
    assert real.stat().st_mode & 0o777 == 0o640


def test_write_atomic_does_not_create_folders(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        write_atomic(tmp_path / "missing" / "x.json", "{}")
    assert info.value.filename == str(tmp_path / "missing" / "x.json")
    assert not (tmp_path / "missing").exists()


def test_save_or_rescue_on_a_full_disk_rescues(full_dir: Path) -> None:
    from jitwarm._errors import UsageError

    with pytest.raises(UsageError) as info:
        save_or_rescue(full_dir / "good", '{"big": "' + "x" * 200_000 + '"}')
    msg = str(info.value)
    assert "No space left on device" in msg and ".tmp" not in msg
    rescue = Path(msg.rsplit("saved to ", 1)[1])
    try:
        assert json.loads(rescue.read_text(encoding="utf-8"))["big"].startswith("xxx")
    finally:
        rescue.unlink()
    _intact(full_dir, "good", "one line\n")


@pytest.mark.parametrize("args", [
    ("report", "{r}", "-o", "{m}/r.html"),
    ("report", "{r}", "-o", "{t}/r.html", "--plot", "{m}/p.png"),
    ("history", "export", "latest", "-o", "{m}/x.json", "--db", "{db}"),
    ("history", "export", "latest", "-f", "csv", "-o", "{m}/x.csv", "--db", "{db}"),
    ("demo", "--json", "{m}/d.json"),
    ("demo", "--html", "{m}/d.html"),
    ("demo", "--db", "{m}/h.db"),
])
def test_output_options_never_create_folders(tmp_path: Path, small_result: Path,
                                             big_db: Path, args: tuple[str, ...]) -> None:
    """Checked up front (the demo runs nothing), one line, exit 2, no folder made."""
    m = tmp_path / "missing" / "deeper"
    argv = [a.format(r=small_result, m=m, t=tmp_path, db=big_db) for a in args]
    proc = cli(*argv)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "does not exist" in proc.stderr and proc.stderr.count("\n") == 1
    assert "profiling" not in proc.stdout
    assert not (tmp_path / "missing").exists()


def test_profile_db_in_a_missing_folder_is_not_created(tmp_path: Path) -> None:
    from jitwarm.store.history import HistoryError

    with pytest.raises(HistoryError, match="does not exist"):
        History(tmp_path / "missing" / "h.db")
    assert not (tmp_path / "missing").exists()
