"""A bundle's manifest is hostile: its own fields (contents, env, settings, relocation
records) must never move, write or run anything outside what the allow-lists permit, and
archives built to exhaust memory or time are refused early (issue #12)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _craft import cli, craft, manifest_for, member

from jitwarm._bundle import BundleRefused, install, verify

GOOD = {"numba/proj_0123/kern.f-2.py311.nbi": b"index",
        "numba/proj_0123/kern.f-2.py311.1.nbc": b"data"}


def _members(files: dict[str, bytes]) -> list:
    return [member("caches/" + k, v) for k, v in files.items()]


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "victim"
    (victim / "deep").mkdir(parents=True)
    (victim / "precious.txt").write_text("keep me")
    (victim / "deep" / "more.txt").write_text("and me")
    return victim


def _victim_intact(victim: Path) -> None:
    assert (victim / "precious.txt").read_text() == "keep me"
    assert (victim / "deep" / "more.txt").read_text() == "and me"


def _refused_by_both(bundle: Path, tmp_path: Path, reason: str) -> None:
    """verify refuses, install refuses with the same reason and writes nothing."""
    v = verify(bundle)
    assert not v.ok and not v.integrity_ok
    assert any(reason in r for r in v.reasons), v.reasons
    target = tmp_path / "target"
    with pytest.raises(BundleRefused, match=reason):
        install(bundle, target=target, sources=tmp_path)
    assert not target.exists()
    assert not list(tmp_path.glob(".jitwarm-install-*"))


# -- 1. contents / env escape the target ------------------------------------------------------

@pytest.mark.parametrize("escape", ["../victim", "ABS", "numba/../../victim", "nonsense"])
def test_contents_and_env_cannot_name_other_folders(tmp_path, escape):
    victim = _victim(tmp_path)
    sub = str(victim) if escape == "ABS" else escape
    files = dict(GOOD)
    manifest = manifest_for(files, contents=["numba", sub],
                            env={"NUMBA_CACHE_DIR": "numba", "JITWARM_ORT_CACHE_DIR": sub,
                                 "TORCHINDUCTOR_CACHE_DIR": sub})
    bundle = craft(tmp_path / "b.tar.gz", manifest, _members(files))
    _refused_by_both(bundle, tmp_path, "contents")
    _victim_intact(victim)


@pytest.mark.parametrize("env", [
    {"NUMBA_CACHE_DIR": "../victim"},
    {"NUMBA_CACHE_DIR": "/tmp"},
    {"NUMBA_CACHE_DIR": "jax"},
    {"PATH": "numba"},
    {"NUMBA_CACHE_DIR": "numba", "LD_PRELOAD": "numba"},
    {"NUMBA_CACHE_DIR": ["numba"]},
])
def test_env_must_be_the_expected_locations(tmp_path, env):
    victim = _victim(tmp_path)
    files = dict(GOOD)
    bundle = craft(tmp_path / "b.tar.gz", manifest_for(files, env=env), _members(files))
    _refused_by_both(bundle, tmp_path, "env")
    _victim_intact(victim)


@pytest.mark.parametrize("field,value", [
    ("contents", "numba"), ("contents", [["numba"]]), ("contents", ["numba", "numba"]),
    ("env", ["numba"]), ("python", ["x"]), ("machine", "linux"), ("frameworks", ["numba"]),
    ("machine", {"system": "Linux", "cpu_flags": [["x"]]}), ("jax_keys_tied_to", ["x"]),
])
def test_malformed_manifest_fields_are_refused_not_crashed(tmp_path, field, value):
    files = dict(GOOD)
    bundle = craft(tmp_path / "b.tar.gz", manifest_for(files, **{field: value}), _members(files))
    _refused_by_both(bundle, tmp_path, field)


@pytest.mark.parametrize("name", [
    "numba/proj_0123/./kern.nbc",        # two spellings of one path
    "numba//proj_0123/kern.nbc",
    "numba/proj_0123/kern.cpython-311.pyc",  # not a Numba cache file: would be imported
    "numba/kern.nbc",                    # outside a Numba sub-directory
    "numba/a/b/kern.nbc",
    "elsewhere/kern.nbc",                # not a cache sub-directory
    "numba/proj_0123/" + "k" * 300 + ".nbc",
])
def test_member_names_outside_the_allow_list(tmp_path, name):
    files = {**GOOD, name: b"x"}
    bundle = craft(tmp_path / "b.tar.gz", manifest_for(files, contents=["numba"]),
                   _members(files))
    _refused_by_both(bundle, tmp_path, "unsafe or malformed entry")


def test_cli_refuses_escaping_contents(tmp_path):
    victim = _victim(tmp_path)
    files = dict(GOOD)
    manifest = manifest_for(files, contents=["numba", "../victim"],
                            env={"NUMBA_CACHE_DIR": "numba", "JITWARM_ORT_CACHE_DIR": "../victim"})
    bundle = craft(tmp_path / "b.tar.gz", manifest, _members(files))
    proc = cli("bundle", "verify", str(bundle))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    proc = cli("bundle", "install", str(bundle), "--target", str(tmp_path / "target"))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "target").exists()
    _victim_intact(victim)
