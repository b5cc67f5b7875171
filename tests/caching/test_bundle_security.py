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


# -- 2. Numba relocation records escape the sources --------------------------------------------

def _in_tree(monkeypatch) -> None:
    """No NUMBA_CACHE_DIR: Numba's part goes to __pycache__ next to the sources."""
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)


def _numba_bundle(tmp_path: Path, rel, sources=None) -> Path:
    files = dict(GOOD)
    rec = {"proj_0123": {"rel": rel, "sources": sources if sources is not None
                         else {"kern.py": None}}}
    return craft(tmp_path / "b.tar.gz", manifest_for(files, numba=rec), _members(files))


@pytest.mark.parametrize("rel", ["ABS", "../victim", "../../../../../../../tmp", "a/../../victim",
                                 "~/x", "C:/x", "a\\..\\..\\victim", ["a"]])
def test_relocation_record_cannot_leave_the_sources(tmp_path, monkeypatch, rel):
    _in_tree(monkeypatch)
    victim = _victim(tmp_path)
    (victim / "kern.py").write_text("# a source, so an unchecked install writes __pycache__")
    sources = tmp_path / "sources"
    sources.mkdir()
    bundle = _numba_bundle(tmp_path, str(victim) if rel == "ABS" else rel)
    v = verify(bundle)
    assert not v.ok and any("Numba record" in r for r in v.reasons), v.reasons
    with pytest.raises(BundleRefused, match="Numba record"):
        install(bundle, sources=sources)
    assert not (victim / "__pycache__").exists()
    assert not (tmp_path / "__pycache__").exists()
    _victim_intact(victim)


@pytest.mark.parametrize("sources", [{"../kern.py": None}, {"/etc/kern.py": None},
                                     {"kern.txt": None}, {"kern.py": "nothex"}, ["kern.py"]])
def test_relocation_record_sources_are_plain_py_names(tmp_path, sources):
    bundle = _numba_bundle(tmp_path, ".", sources)
    _refused_by_both(bundle, tmp_path, "Numba record")


def test_relocation_through_a_symlink_in_the_sources_writes_nothing_outside(
        tmp_path, monkeypatch):
    """A valid record naming a folder that is a symlink leading out of the sources: the
    entries are not installed (a note says why), nothing is written outside."""
    _in_tree(monkeypatch)
    victim = _victim(tmp_path)
    (victim / "kern.py").write_text("# outside the sources")
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "link").symlink_to(victim)
    bundle = _numba_bundle(tmp_path, "link")
    assert verify(bundle).ok
    res = install(bundle, sources=sources)
    assert res.files == 0
    assert any("outside" in n for n in res.notes), res.notes
    assert not (victim / "__pycache__").exists()


def test_relocation_needs_an_existing_source_and_a_plain_pycache(tmp_path, monkeypatch):
    _in_tree(monkeypatch)
    sources = tmp_path / "sources"
    (sources / "pkg").mkdir(parents=True)
    bundle = _numba_bundle(tmp_path, "pkg")
    res = install(bundle, sources=sources)  # no pkg/kern.py: no __pycache__ is made
    assert res.files == 0 and not (sources / "pkg" / "__pycache__").exists(), res.notes
    (sources / "pkg" / "kern.py").write_text("x = 1\n")
    victim = _victim(tmp_path)
    (sources / "pkg" / "__pycache__").symlink_to(victim)
    res = install(bundle, sources=sources)
    assert res.files == 0 and any("not a plain folder" in n for n in res.notes), res.notes
    assert not list(victim.glob("*.nb*"))
    (sources / "pkg" / "__pycache__").unlink()
    res = install(bundle, sources=sources)  # the control: a real source, a real folder
    assert res.files == 2
    assert (sources / "pkg" / "__pycache__" / "kern.f-2.py311.1.nbc").read_bytes() == b"data"


# -- 3. shell injection through the printed settings ---------------------------------------------

JAX_FILES = {**GOOD, "jax/jit_f-abc-cache": b"entry"}


def _settings_bundle(tmp_path: Path, settings: dict) -> Path:
    files = dict(JAX_FILES)
    from jitwarm._bundle import cache_settings

    manifest = manifest_for(files, settings={**cache_settings(), **settings},
                            env={"NUMBA_CACHE_DIR": "numba", "JAX_COMPILATION_CACHE_DIR": "jax"})
    return craft(tmp_path / "b.tar.gz", manifest, _members(files))


@pytest.mark.parametrize("settings", [
    {"JAX_X=1; touch pwned; export JAX_Y": "1"},
    {"JAX_$(touch pwned)": "1"},
    {"JAX_NOT_A_KNOWN_SETTING": "1"},
    {"LD_PRELOAD": "/tmp/evil.so"},
    {"PATH": "/tmp"},
    {"JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES": "$(touch pwned)"},
    {"JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES": "none\nexport PATH=/tmp"},
    {"JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES": 1},
])
def test_settings_names_and_values_are_allow_listed(tmp_path, settings):
    _refused_by_both(_settings_bundle(tmp_path, settings), tmp_path, "setting")


def test_eval_of_install_output_runs_nothing(tmp_path):
    """The documented `eval "$(jitwarm bundle install ...)"` with a hostile setting name."""
    bundle = _settings_bundle(tmp_path, {"JAX_X=1; touch pwned; export JAX_Y": "1"})
    work = tmp_path / "work"
    work.mkdir()
    import shlex
    import subprocess
    import sys

    cmd = (f"eval \"$({shlex.quote(sys.executable)} -m jitwarm bundle install "
           f"{shlex.quote(str(bundle))} --target {shlex.quote(str(tmp_path / 'target'))})\"")
    proc = subprocess.run(["bash", "-c", cmd], cwd=work, capture_output=True, text=True,
                          timeout=120)
    assert not (work / "pwned").exists()
    assert "setting" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_good_settings_print_as_quoted_exports(tmp_path):
    bundle = _settings_bundle(tmp_path, {})
    target = tmp_path / "my target; $(x)"
    proc = cli("bundle", "install", str(bundle), "--target", str(target))
    assert proc.returncode == 0, proc.stderr
    import shlex

    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("export ")]
    parsed = dict(shlex.split(ln)[1].split("=", 1) for ln in lines)
    assert parsed["JAX_COMPILATION_CACHE_DIR"] == str(target / "jax")
    assert parsed["JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES"] == "none"


def test_export_lines_refuses_unknown_names():
    from jitwarm._bundle import export_lines

    assert export_lines({"NUMBA_CACHE_DIR": "/a b"}) == ["export NUMBA_CACHE_DIR='/a b'"]
    for bad in ("JAX_X=1; touch pwned; export JAX_Y", "PATH", "1ABC"):
        with pytest.raises(BundleRefused, match="refusing to print"):
            export_lines({bad: "1"})
