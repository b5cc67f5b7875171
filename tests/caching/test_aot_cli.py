"""``jitwarm aot build`` / ``aot verify`` as a user runs them: artifacts, refusals, one line."""

from __future__ import annotations

import json

import pytest
from _craft import write
from test_aot_pycc import KERNEL, PARALLEL

from conftest import run_cli

pytest.importorskip("numba")


@pytest.mark.slow
def test_build_verify_tamper(tmp_path):
    case = write(tmp_path / "kern.py", KERNEL)
    res = run_cli("aot", "build", f"{case}::poly", "-o", str(tmp_path / "art"))
    assert res.returncode == 0, res.stderr
    assert "numba-pycc" in res.stdout and "jitwarm.load" in res.stdout
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".jitwarm-aot-")]
    res = run_cli("aot", "verify", str(tmp_path / "art"))
    assert res.returncode == 0 and res.stdout.startswith("ok"), res.stderr
    manifest = json.loads((tmp_path / "art" / "jitwarm-aot.json").read_text())
    so = tmp_path / "art" / manifest["info"]["file"]
    so.write_bytes(so.read_bytes() + b"\0")
    res = run_cli("aot", "verify", str(tmp_path / "art"))
    assert res.returncode == 1 and "SHA-256" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr


def test_fallback_writes_nothing(tmp_path):
    case = write(tmp_path / "par.py", PARALLEL)
    res = run_cli("aot", "build", f"{case}::psum", "-o", str(tmp_path / "art"))
    assert res.returncode == 2, res.stdout + res.stderr
    assert "parallel=True" in res.stderr and "jitwarm bundle create" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert not (tmp_path / "art").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".jitwarm-aot-")]


@pytest.mark.parametrize("make", ["file", "full", "noparent"])
def test_bad_output_folders(tmp_path, make):
    case = write(tmp_path / "kern.py", KERNEL)
    out = tmp_path / "out"
    if make == "file":
        out.write_text("x")
    elif make == "full":
        out.mkdir()
        (out / "keep").write_text("x")
    else:
        out = tmp_path / "missing" / "out"
    res = run_cli("aot", "build", f"{case}::poly", "-o", str(out))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_verify_refuses_a_plain_folder(tmp_path):
    res = run_cli("aot", "verify", str(tmp_path))
    assert res.returncode == 2 and "not a jitwarm AOT artifact" in res.stderr
