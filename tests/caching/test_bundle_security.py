"""A bundle's manifest is hostile: its own fields (contents, env, settings, relocation
records) must never move, write or run anything outside what the allow-lists permit, and
archives built to exhaust memory or time are refused early (issue #12)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _craft import cli, craft, ext_header, gzip_bomb, manifest_for, member, run_measured

from jitwarm.caches.bundle import BundleRefused, install, verify

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
    from jitwarm.caches.bundle import cache_settings

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
    from jitwarm.caches.bundle import export_lines

    assert export_lines({"NUMBA_CACHE_DIR": "/a b"}) == ["export NUMBA_CACHE_DIR='/a b'"]
    for bad in ("JAX_X=1; touch pwned; export JAX_Y", "PATH", "1ABC"):
        with pytest.raises(BundleRefused, match="refusing to print"):
            export_lines({bad: "1"})


# -- 8. bombs: headers, names, member counts and manifests of unbounded size ---------------------

MIB = 1 << 20


def _one_refusal(proc, rss: int, wall: float, reason: str) -> None:
    """Refused with a short message, quickly, in little memory, without a traceback."""
    assert proc.returncode == 1, proc.stdout + proc.stderr[-2000:]
    assert reason in proc.stderr and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert len(proc.stdout) + len(proc.stderr) < 1000
    assert 0 < rss < 250_000, f"peak RSS {rss} KiB"
    assert wall < 30, f"{wall:.1f} s"


@pytest.mark.slow
@pytest.mark.parametrize("kind", [b"L", b"x"])
def test_extension_header_bomb_is_refused_while_streaming(tmp_path, kind):
    """5 MB-class gzip holding a 1.2 GB GNU long name / long link / PAX header (the issue's
    bomb: >5 min and 10 GB before). Refused from the header alone, under `ulimit -v`."""
    bomb = gzip_bomb(tmp_path / "bomb.tar.gz", ext_header(kind, 1200 * MIB), b"A" * MIB, 1200,
                     b"\0" * 1024)
    assert bomb.stat().st_size < 5 * MIB
    cmds = [["bundle", "verify", str(bomb)]]
    if kind == b"L":
        cmds.append(["bundle", "install", str(bomb), "--target", str(tmp_path / "t")])
    for cmd in cmds:
        proc, rss, wall = run_measured(*cmd)
        _one_refusal(proc, rss, wall, "tar extension header of 1258291200 bytes")
    assert not (tmp_path / "t").exists()


@pytest.mark.parametrize("compression,kind", [("gz", b"L"), ("zst", b"K"), ("tar", b"x")])
def test_extension_header_size_checked_before_reading(tmp_path, compression, kind):
    """Only the header claims a huge size (the data is missing): refused for what it
    claims, whatever the compression."""
    import gzip

    data = ext_header(kind, 5 << 30) + b"A" * 4096
    path = tmp_path / f"b.tar.{compression}"
    if compression == "gz":
        path.write_bytes(gzip.compress(data))
    elif compression == "zst":
        zstandard = pytest.importorskip("zstandard")
        path.write_bytes(zstandard.ZstdCompressor().compress(data))
    else:
        path.write_bytes(data)
    v = verify(path)
    assert not v.ok and any("extension header" in r for r in v.reasons), v.reasons


def _raw_tar(path: Path, blocks: list[bytes]) -> Path:
    import gzip

    path.write_bytes(gzip.compress(b"".join(blocks) + b"\0" * 1024))
    return path


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 512)


def _pax(records: dict[str, str]) -> bytes:
    body = b""
    for k, v in records.items():
        rec = f" {k}={v}\n".encode()
        n = len(rec) + 1
        while len(str(n)) + len(rec) != n:
            n += 1
        body += str(n).encode() + rec
    return ext_header(b"x", len(body)) + _pad(body)


def test_gnu_sparse_map_bomb_is_refused(tmp_path):
    """A PAX GNU sparse 1.0 member whose map claims 10^12 entries: tarfile would read
    the map into a list as long as the (decompressed) stream allows."""
    info = tarfile_info("caches/numba/proj_0123/kern.f-2.py311.nbi", 10 * MIB)
    blocks = [_pax({"GNU.sparse.major": "1", "GNU.sparse.minor": "0",
                    "GNU.sparse.name": "caches/numba/proj_0123/x.nbc",
                    "GNU.sparse.realsize": "1"}),
              info, _pad(b"1000000000000\n" + b"0\n" * (4 * MIB))]
    bundle = _raw_tar(tmp_path / "sparse.tar.gz", [_manifest_block(), *blocks])
    v = verify(bundle)
    assert not v.ok and any("sparse" in r for r in v.reasons), v.reasons


def test_long_chains_of_extension_headers_are_refused(tmp_path):
    blocks = []
    for _ in range(3000):  # tarfile handles each by recursion
        blocks += [ext_header(b"L", 10), _pad(b"caches/x\0")]
    bundle = _raw_tar(tmp_path / "chain.tar.gz", [_manifest_block(), *blocks])
    v = verify(bundle)
    assert not v.ok and any("extension headers in a row" in r for r in v.reasons), v.reasons


def test_member_count_is_capped(tmp_path, monkeypatch):
    import jitwarm.caches.bundle as b

    monkeypatch.setattr(b, "_MAX_MEMBERS", 50)
    files = dict(GOOD)
    dirs = [member(f"caches/numba/d{i}/", b"", type=b"5") for i in range(60)]
    bundle = craft(tmp_path / "b.tar.gz", manifest_for(files), [*dirs, *_members(files)])
    _refused_by_both(bundle, tmp_path, "more than 50 members")


def test_manifest_size_is_capped(tmp_path):
    bundle = _raw_tar(tmp_path / "big.tar.gz", [_manifest_block(size=17 * MIB)])
    _refused_by_both(bundle, tmp_path, "implausibly large")


def test_deeply_nested_manifest_is_refused(tmp_path):
    data = b"[" * 200_000 + b"]" * 200_000
    bundle = _raw_tar(tmp_path / "deep.tar.gz", [_manifest_block(data=data)])
    _refused_by_both(bundle, tmp_path, "nested too deeply")


def test_long_member_names_are_truncated_in_messages(tmp_path):
    files = dict(GOOD)
    name = "caches/numba/proj_0123/" + "\x1b[31m" + "n" * 20_000 + ".nbc"
    bundle = craft(tmp_path / "b.tar.gz", manifest_for(files),
                   [*_members(files), member(name, b"x")])
    v = verify(bundle)
    assert not v.ok and len(v.reasons) == 1
    assert "not listed" in v.reasons[0] and len(v.reasons[0]) < 400, v.reasons
    assert "\x1b" not in v.reasons[0]
    proc = cli("bundle", "verify", str(bundle))
    assert proc.returncode == 1 and len(proc.stderr) < 1000, proc.stderr[-2000:]


def tarfile_info(name: str, size: int) -> bytes:
    import tarfile

    info = tarfile.TarInfo(name)
    info.size = size
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def _manifest_block(size: int | None = None, data: bytes | None = None) -> bytes:
    import json

    if data is None:
        data = json.dumps(manifest_for(dict(GOOD))).encode()
    head = tarfile_info("jitwarm-bundle.json", len(data) if size is None else size)
    return head + (_pad(data) if size is None else b"")


# -- bad input: corrupt archives, output folders that do not exist -------------------------------

def _one_line_error(proc) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


CORRUPT = [b"\x28\xb5\x2f\xfd" + bytes(range(256)) * 4, b"\x28\xb5\x2f\xfd",
           b"garbage" * 100, b"\x1f\x8b\x08\x00" + b"\xff" * 300]


@pytest.mark.parametrize("content", CORRUPT)
def test_corrupt_archive_is_a_usage_error(tmp_path, content):
    from jitwarm._errors import UsageError

    path = tmp_path / "bad.tar.zst"
    path.write_bytes(content)
    with pytest.raises(UsageError, match="not a readable bundle archive"):
        verify(path)
    with pytest.raises(UsageError, match="not a readable bundle archive"):
        install(path, target=tmp_path / "t")
    assert not (tmp_path / "t").exists()


@pytest.mark.parametrize("command", ["verify", "install"])
def test_corrupt_archive_is_one_line_exit_2(tmp_path, command):
    path = tmp_path / "bad.tar.zst"
    path.write_bytes(CORRUPT[0])
    extra = ["--target", str(tmp_path / "t")] if command == "install" else []
    proc = cli("bundle", command, str(path), *extra)
    _one_line_error(proc)
    assert "not a readable bundle archive" in proc.stderr
    assert not (tmp_path / "t").exists()


def test_truncated_real_bundle_is_one_line_exit_2(tmp_path):
    cache = tmp_path / "cache" / "jax"
    cache.mkdir(parents=True)
    (cache / "jit_f-abc-cache").write_bytes(bytes(range(256)) * 4000)
    from jitwarm._errors import UsageError
    from jitwarm.caches.bundle import create

    for name in ("b.tar.zst", "b.tar.gz"):
        bundle = tmp_path / name
        create(tmp_path / "cache", bundle)
        bundle.write_bytes(bundle.read_bytes()[: bundle.stat().st_size // 2])
        with pytest.raises(UsageError, match="not a readable bundle archive"):
            verify(bundle)
    _one_line_error(cli("bundle", "verify", str(bundle)))


def test_create_into_a_missing_folder_is_one_line_exit_2(tmp_path):
    cache = tmp_path / "cache" / "jax"
    cache.mkdir(parents=True)
    (cache / "jit_f-abc-cache").write_bytes(b"x")
    proc = cli("bundle", "create", str(tmp_path / "cache"), "-o", "missing/dir/x.tar.gz",
               cwd=tmp_path)
    _one_line_error(proc)
    assert "does not exist" in proc.stderr
    assert not (tmp_path / "missing").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]


# -- installing runs none of the bundle's code -------------------------------------------------

class _Payload:
    """Unpickling this creates a file: proof that a pickle from the bundle was run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("stamp", ["mtime", "content", "payload"])
def test_install_never_unpickles_the_bundles_index(tmp_path, stamp):
    """Re-stamping a Numba index must not load its pickle (it would run the maker's code at
    install time): the stamp is read with pickletools and patched in place."""
    import pickle

    marker = tmp_path / "ran"
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "kern.py").write_text("x = 1\n")
    size = (sources / "kern.py").stat().st_size
    stamps = {"mtime": (123.0, size), "content": b"\x00" * 32, "payload": _Payload(marker)}
    index = pickle.dumps("0.60") + pickle.dumps((stamps[stamp], {"k": _Payload(marker)}),
                                                protocol=-1)
    files = {"numba/proj_0123/kern.f-2.py311.nbi": index,
             "numba/proj_0123/kern.f-2.py311.1.nbc": b"data"}
    rec = {"proj_0123": {"rel": ".", "sources": {"kern.py": None}}}
    bundle = craft(tmp_path / "b.tar.gz", manifest_for(files, numba=rec), _members(files))
    res = install(bundle, target=tmp_path / "target", sources=sources)
    assert not marker.exists(), "the bundle's pickle ran during install"
    from jitwarm.adapters.numba_index import subdir_for

    installed = tmp_path / "target" / "numba" / subdir_for(sources.resolve())
    data = (installed / "kern.f-2.py311.nbi").read_bytes()
    if stamp == "mtime":  # only the 8 bytes of the mtime changed
        import struct

        assert any("mtime stamp rewritten" in n for n in res.notes), res.notes
        new_mtime = struct.pack(">d", (sources / "kern.py").stat().st_mtime)
        assert len(data) == len(index) and new_mtime in data and data != index
    else:
        assert data == index


def test_create_leaves_out_what_verify_would_refuse(tmp_path):
    """A stray file in a Numba cache folder is skipped (and said), so `create` never makes
    a bundle that its own `verify` refuses."""
    from jitwarm.caches.bundle import create

    sub = tmp_path / "cache" / "numba" / "proj_0123"
    sub.mkdir(parents=True)
    (sub / "kern.f-2.py311.nbi").write_bytes(b"index")
    (sub / "notes.txt").write_bytes(b"stray")
    (sub / "kern.cpython-311.pyc").write_bytes(b"stray")
    manifest = create(tmp_path / "cache", tmp_path / "b.tar.gz", sources=tmp_path)
    assert sorted(manifest["files"]) == ["numba/proj_0123/kern.f-2.py311.nbi"]
    assert len(manifest["skipped"]) == 2 and all("Numba" in s for s in manifest["skipped"])
    assert verify(tmp_path / "b.tar.gz").integrity_ok


@pytest.mark.parametrize("value", ["/" + "a" * 5000, "/tmp/x\0y", "relative/dir", 42, None,
                                   "/no/such/folder/here"])
def test_a_hostile_source_root_is_never_used_as_the_sources(value):
    from jitwarm.caches.bundle import _existing_dir

    assert _existing_dir(value) is None


def test_a_manifest_claiming_absurd_total_size_is_refused(tmp_path):
    """Sizes are the manifest's claims: hundreds of GiB in all is refused before reading
    members (the per-member checks would only notice while writing them)."""
    files = dict(GOOD)
    manifest = manifest_for(files)
    for info in manifest["files"].values():
        info["size"] = 200 << 30
    bundle = craft(tmp_path / "b.tar.gz", manifest, _members(files))
    v = verify(bundle)
    assert not v.ok and any("bytes in all" in r for r in v.reasons), v.reasons


def test_install_refuses_when_the_disk_cannot_hold_it(tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    files = dict(GOOD)
    bundle = craft(tmp_path / "b.tar.gz", manifest_for(files), _members(files))
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(100, 99, 1))
    with pytest.raises(BundleRefused, match="the disk has 1 free"):
        install(bundle, target=tmp_path / "target")
    assert not any((tmp_path / "target").rglob("*.nbc"))


def test_verify_json_on_an_unreadable_file_is_still_json(tmp_path):
    import json

    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"\x1f\x8b not really gzip")
    proc = cli("bundle", "verify", "--json", str(bad))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    assert data["ok"] is False and "not a readable bundle" in data["error"]
