"""Numba: prewarm a plan, bundle it, move sources and bundle elsewhere, install, hit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from _craft import NUMBA_CASE, NUMBA_PLAN, cli, write

pytest.importorskip("numba")

from jitwarm.adapters.numba_index import read_index, subdir_for, write_index  # noqa: E402
from jitwarm.caches.prewarm import run_case_process  # noqa: E402
from jitwarm.cases.targets import resolve_target  # noqa: E402

INPUTS = [{"dtype": "float32"}, {"shape": [3, 4]}]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A plan prewarmed in one directory and bundled (zst and gz)."""
    base = tmp_path_factory.mktemp("origin")
    src = base / "project"
    write(src / "kern.py", NUMBA_CASE)
    write(src / "warm.toml", NUMBA_PLAN)
    cache = base / "cache"
    proc = cli("prewarm", str(src / "warm.toml"), "--out", str(cache), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    manifest = json.loads(proc.stdout)
    zst = base / "warm.tar.zst"
    proc = cli("bundle", "create", str(cache), "-o", str(zst))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    gz = base / "warm.tar.gz"
    proc = cli("bundle", "create", str(cache), "-o", str(gz))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {"src": src, "cache": cache, "zst": zst, "gz": gz, "prewarm": manifest}


def _moved_copy(tmp_path: Path, made: dict) -> Path:
    moved = tmp_path / "elsewhere" / "checkout"
    moved.mkdir(parents=True)
    shutil.copy2(made["src"] / "kern.py", moved / "kern.py")
    os.utime(moved / "kern.py", (1_000_000_000, 1_000_000_000))  # a fresh checkout's mtime
    return moved


def _calls(case: Path, cache_dir: Path) -> list[dict]:
    rec = run_case_process(resolve_target(f"{case}::poly"), cache_dir, inputs=INPUTS,
                           timeout_s=300)
    assert rec["status"] == "ok", rec
    return rec["calls"]


@pytest.mark.slow
def test_prewarm_records_compile_events(made):
    case = made["prewarm"]["cases"][0]
    assert case["status"] == "ok" and case["framework"] == "numba"
    assert [c["label"] for c in case["calls"]] == [
        "case arguments", '{"dtype": "float32"}', '{"shape": [3, 4]}']
    for call in case["calls"]:  # three different signatures: three compiles, written
        assert call["cache"] == {"hits": 0, "misses": 1}
        top = [e for e in call["compile_events"] if e["depth"] == 0]
        assert len(top) == 1 and call["compile_ns"] > 0
    assert made["prewarm"]["source_root"] == str(made["src"].resolve())
    assert len(list((made["cache"] / "numba").glob("*/*.nbc"))) == 3


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["zst", "gz"])
def test_bundle_moved_and_installed_hits(made, tmp_path, kind):
    moved = _moved_copy(tmp_path, made)
    proc = cli("bundle", "verify", str(made[kind]))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    target = tmp_path / "installed"
    proc = cli("bundle", "install", str(made[kind]), "--target", str(target),
               "--sources", str(moved))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"export NUMBA_CACHE_DIR={target / 'numba'}" in proc.stdout
    # re-keyed for the new directory of the sources
    assert (target / "numba" / subdir_for(moved)).is_dir()
    calls = _calls(moved / "kern.py", target)
    for call in calls:
        assert call["cache"] == {"hits": 1, "misses": 0}, call
        assert call["compile_events"] == []
    # the installed bundle is Numba's disk cache: loading the three signatures must beat
    # compiling them (docs/benchmarks.md: 1.5x on a whole first call, more on later ones)
    cold = sum(c["duration_ns"] for c in made["prewarm"]["cases"][0]["calls"])
    ratio = cold / sum(c["duration_ns"] for c in calls)
    assert ratio > 1.2, f"Numba disk-cache hits only {ratio:.2f}x faster than compiling"


@pytest.mark.slow
def test_plain_copy_of_the_cache_misses_after_a_move(made, tmp_path):
    """Without jitwarm's re-keying a moved checkout misses: the fix is what makes it hit."""
    moved = _moved_copy(tmp_path, made)
    copy = tmp_path / "copied"
    shutil.copytree(made["cache"], copy)
    calls = _calls(moved / "kern.py", copy)
    assert calls[0]["cache"] == {"hits": 0, "misses": 1}
    assert [e for e in calls[0]["compile_events"] if e["depth"] == 0]


@pytest.mark.slow
def test_install_in_tree_without_numba_cache_dir(made, tmp_path):
    moved = _moved_copy(tmp_path, made)
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    proc = subprocess.run([sys.executable, "-m", "jitwarm", "bundle", "install",
                           str(made["zst"]), "--sources", str(moved)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(list((moved / "__pycache__").glob("*.nbc"))) == 3
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(moved)!r})
        from jitwarm.cases.targets import resolve_target, load_case, build
        t = resolve_target({str(moved / 'kern.py')!r} + "::poly")
        b = build(load_case(t), t.name)
        b.fn(*b.args)
        print(sum(b.fn.stats.cache_hits.values()), sum(b.fn.stats.cache_misses.values()))
    """)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-2:] == ["1", "0"]


@pytest.mark.slow
def test_legacy_mtime_stamp_is_restamped(made, tmp_path):
    """Older Numba stamps an index with the source's (mtime, size): install re-stamps it."""
    cache = tmp_path / "legacy-cache"
    shutil.copytree(made["cache"], cache)
    (idx,) = list((cache / "numba").glob("*/*.nbi"))
    version, _, overloads = read_index(idx)
    src = made["src"] / "kern.py"
    write_index(idx, version, (123.0, src.stat().st_size), overloads)
    bundle = tmp_path / "legacy.tar.gz"
    assert cli("bundle", "create", str(cache), "-o", str(bundle)).returncode == 0
    moved = _moved_copy(tmp_path, made)
    target = tmp_path / "inst"
    proc = cli("bundle", "install", str(bundle), "--target", str(target), "--sources", str(moved))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (new_idx,) = list((target / "numba" / subdir_for(moved)).glob("*.nbi"))
    _, stamp, again = read_index(new_idx)
    st = (moved / "kern.py").stat()
    assert stamp == (st.st_mtime, st.st_size)
    assert again == overloads


@pytest.mark.slow
def test_changed_source_is_reported_not_rekeyed(made, tmp_path):
    moved = _moved_copy(tmp_path, made)
    (moved / "kern.py").write_text((moved / "kern.py").read_text() + "\n# edited\n")
    proc = cli("bundle", "install", str(made["gz"]), "--target", str(tmp_path / "t"),
               "--sources", str(moved))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "changed since the bundle was made" in proc.stdout


@pytest.mark.slow
def test_install_into_a_target_defaults_to_where_the_bundle_was_made(made, tmp_path):
    """Installed with --target from another working directory and no --sources: the
    entries stay keyed for the sources where they were made (which still exist), and hit."""
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    target = tmp_path / "installed"
    proc = cli("bundle", "install", str(made["gz"]), "--target", str(target), cwd=elsewhere)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "where the bundle was made" in proc.stdout
    assert (target / "numba" / subdir_for(made["src"])).is_dir()
    for call in _calls(made["src"] / "kern.py", target):
        assert call["cache"] == {"hits": 1, "misses": 0}, call
