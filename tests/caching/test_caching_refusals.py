"""Bundles that must never be installed: tampered, escaping paths, links, devices, platform."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from _craft import cli, craft, manifest_for, member

from jitwarm.caches.bundle import BundleRefused, install, verify

GOOD = {"numba/proj_0123/kern.f-2.py311.nbi": b"index", "numba/proj_0123/kern.f-2.py311.1.nbc": b"data"}


def _members(files: dict[str, bytes]) -> list:
    return [member("caches/" + k, v) for k, v in files.items()]


def _assert_refused(bundle: Path, tmp_path: Path, reason: str) -> None:
    v = verify(bundle)
    assert not v.ok
    assert any(reason in r for r in v.reasons), v.reasons
    target = tmp_path / "target"
    with pytest.raises(BundleRefused, match=reason):
        install(bundle, target=target, sources=tmp_path)
    assert not target.exists()
    assert not list(tmp_path.glob(".jitwarm-install-*"))
    assert not (tmp_path / "evil").exists() and not (tmp_path.parent / "evil").exists()


def test_valid_crafted_bundle_installs(tmp_path):
    """The control: the same construction without a defect verifies and installs."""
    pytest.importorskip("numba")
    bundle = craft(tmp_path / "ok.tar.gz", manifest_for(GOOD), _members(GOOD))
    v = verify(bundle)
    assert v.ok, v.reasons
    res = install(bundle, target=tmp_path / "target", sources=tmp_path)
    assert res.files == 2
    assert (tmp_path / "target/numba/proj_0123/kern.f-2.py311.1.nbc").read_bytes() == b"data"


def test_tampered_file_hash(tmp_path):
    files = dict(GOOD)
    bundle = craft(tmp_path / "b.tar.gz", manifest_for(files),
                   [member("caches/numba/proj_0123/kern.f-2.py311.nbi", b"index"),
                    member("caches/numba/proj_0123/kern.f-2.py311.1.nbc", b"evil")])
    _assert_refused(bundle, tmp_path, "SHA-256 does not match")


def test_tampered_real_bundle(tmp_path):
    """Flip one byte of a cache file inside a real bundle made by `bundle create`."""
    cache = tmp_path / "cache" / "jax"
    cache.mkdir(parents=True)
    (cache / "jit_f-abc-cache").write_bytes(b"x" * 1000)
    bundle = tmp_path / "real.tar"
    proc = cli("bundle", "create", str(tmp_path / "cache"), "-o", str(bundle))
    assert proc.returncode == 0, proc.stderr
    data = bytearray(bundle.read_bytes())
    pos = data.index(b"x" * 1000)
    data[pos + 500] = ord("y")
    bundle.write_bytes(bytes(data))
    proc = cli("bundle", "verify", str(bundle))
    assert proc.returncode == 1 and "SHA-256" in proc.stderr, proc.stderr
    proc = cli("bundle", "install", str(bundle), "--target", str(tmp_path / "target"))
    assert proc.returncode == 1 and "SHA-256" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "target").exists()


@pytest.mark.parametrize("name,why", [
    ("caches/numba/../../evil", "'..' in path"),
    ("caches/../evil", "'..' in path"),
    ("/tmp/evil", "absolute path"),
    ("evil", "outside caches/"),
])
def test_path_traversal_members(tmp_path, name, why):
    files = dict(GOOD)
    bundle = craft(tmp_path / "b.tar.gz", manifest_for(files),
                   [*_members(files), member(name, b"pwned")])
    _assert_refused(bundle, tmp_path, why)


def test_path_traversal_in_manifest(tmp_path):
    files = {"numba/../../evil": b"pwned"}
    bundle = craft(tmp_path / "b.tar.gz", manifest_for(files),
                   [member("caches/numba/../../evil", b"pwned")])
    _assert_refused(bundle, tmp_path, "unsafe or malformed entry")


@pytest.mark.parametrize("kind,attrs,why", [
    ("symlink", {"type": tarfile.SYMTYPE, "linkname": "/etc/passwd"}, "is a symlink"),
    ("hardlink", {"type": tarfile.LNKTYPE, "linkname": "caches/numba/proj_0123/kern.f-2.py311.nbi"},
     "is a hardlink"),
    ("chardev", {"type": tarfile.CHRTYPE, "devmajor": 1, "devminor": 3}, "is a device file"),
    ("blockdev", {"type": tarfile.BLKTYPE, "devmajor": 8, "devminor": 0}, "is a device file"),
    ("fifo", {"type": tarfile.FIFOTYPE}, "is a FIFO"),
])
def test_links_and_devices(tmp_path, kind, attrs, why):
    files = dict(GOOD)
    bundle = craft(tmp_path / "b.tar.gz", manifest_for(files),
                   [*_members(files), member(f"caches/numba/proj_0123/{kind}", b"", **attrs)])
    _assert_refused(bundle, tmp_path, why)


def test_unlisted_and_missing_files(tmp_path):
    files = dict(GOOD)
    extra = craft(tmp_path / "extra.tar.gz", manifest_for(files),
                  [*_members(files), member("caches/numba/proj_0123/x.nbc", b"unlisted")])
    _assert_refused(extra, tmp_path, "not listed in the manifest")
    missing = craft(tmp_path / "missing.tar.gz", manifest_for(files), _members(files)[:1])
    _assert_refused(missing, tmp_path, "missing from the archive")


def test_manifest_must_come_first(tmp_path):
    files = dict(GOOD)
    bundle = craft(tmp_path / "b.tar.gz", None, _members(files))
    _assert_refused(bundle, tmp_path, "not a jitwarm bundle")


@pytest.mark.parametrize("override,why", [
    ({"machine": {"system": "Linux", "machine": "riscv64", "cpu_model": "x", "cpu_flags": []}},
     "architecture riscv64"),
    ({"machine": {"system": "Darwin", "machine": None, "cpu_model": "x", "cpu_flags": []}},
     "operating system Darwin"),
    ({"python": {"implementation": "CPython", "major_minor": "3.9"}}, "made for CPython 3.9"),
    ({"frameworks": {"numba": "0.0.1"}}, "made with numba 0.0.1"),
    ({"frameworks": {"notaframework": "1.0"}}, "notaframework is not installed"),
])
def test_wrong_platform(tmp_path, override, why):
    files = dict(GOOD)
    m = manifest_for(files)
    if "machine" in override:
        from jitwarm.caches.machine import machine_info

        here = machine_info(with_gpu=False)
        override["machine"] = {**here, **{k: v for k, v in override["machine"].items()
                                          if v is not None and k in ("system", "machine")}}
    m.update(override)
    bundle = craft(tmp_path / "b.tar.gz", m, _members(files))
    v = verify(bundle)
    assert v.integrity_ok  # intact, just made elsewhere
    _assert_refused(bundle, tmp_path, why)
    proc = cli("bundle", "verify", str(bundle))
    assert proc.returncode == 1 and why in proc.stderr.replace("\n", " "), proc.stderr


def test_missing_cpu_features(tmp_path):
    from jitwarm.caches.machine import machine_info

    files = dict(GOOD)
    mach = machine_info(with_gpu=False)
    mach["cpu_flags"] = [*mach["cpu_flags"], "avx512_jitwarm_test"]
    bundle = craft(tmp_path / "b.tar.gz", manifest_for(files, machine=mach), _members(files))
    _assert_refused(bundle, tmp_path, "this CPU lacks features")


def test_gpu_kernels_need_the_same_compute_capability(tmp_path):
    from jitwarm.caches.machine import gpus, machine_info

    files = {"triton/abc/kernel.json": b"{}"}
    mach = machine_info(with_gpu=False)
    mach["gpus"] = [{"name": "Imaginary GPU", "compute_capability": "1.0"}]
    m = manifest_for(files, machine=mach, frameworks={})
    m["env"] = {"TRITON_CACHE_DIR": "triton"}
    bundle = craft(tmp_path / "b.tar.gz", m, _members(files))
    if any(g["compute_capability"] == "1.0" for g in gpus()):  # pragma: no cover
        pytest.skip("this machine has a compute capability 1.0 GPU")
    _assert_refused(bundle, tmp_path, "compute capability 1.0")


def test_file_and_directory_with_one_name(tmp_path):
    files = {"numba/a": b"file", "numba/a/b.nbc": b"nested"}
    bundle = craft(tmp_path / "b.tar.gz", manifest_for(files), _members(files))
    _assert_refused(bundle, tmp_path, "inside the file 'numba/a'")
