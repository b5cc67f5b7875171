"""`jitwarm cache clear` deletes cache entries only, and never a parent of cwd or $HOME
(issue 12, item 4).

Before the fix, ``NUMBA_CACHE_DIR=.. jitwarm cache clear numba --yes`` run from
``proj/sub`` deleted ``proj/main.py`` and the working directory itself, and
``TORCHINDUCTOR_CACHE_DIR=<parent of $HOME>`` deleted the home directory: the old check
only compared the folder with ``/``, ``$HOME`` and cwd, and every item in it was deleted.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _craft import cli
from typer.testing import CliRunner

from jitwarm._errors import UsageError
from jitwarm.caches.locations import _unsafe_root, clear, clear_plan, is_entry, locations
from jitwarm.cli.main import app

CACHE_VARS = ("NUMBA_CACHE_DIR", "TORCHINDUCTOR_CACHE_DIR", "TRITON_CACHE_DIR",
              "JAX_COMPILATION_CACHE_DIR", "JITWARM_ORT_CACHE_DIR")
HASH = "cnfg2z34xy553n3wlzxfodhreinajizap2qkedym7iv2s2ujpm74"  # as Inductor names files
KEY = "jit_f-" + "0123456789abcdef" * 4  # as JAX names entries


@pytest.fixture
def env(monkeypatch):
    for k in CACHE_VARS:
        monkeypatch.delenv(k, raising=False)
    return monkeypatch


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` (relative) -> its bytes (None for a folder)."""
    out: dict[str, bytes | None] = {}
    for p in sorted(root.rglob("*")):
        out[str(p.relative_to(root))] = None if p.is_dir() else p.read_bytes()
    return out


def _write(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


def _one_line_refusal(proc) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def _invoke(*args: str):
    return CliRunner().invoke(app, list(args), prog_name="jitwarm")


def _lines(res) -> list[str]:
    text = res.stderr if hasattr(res, "stderr") else res.output
    return text.strip().splitlines()


# -- the reproductions from the issue ----------------------------------------------------------

def test_numba_cache_dir_parent_of_cwd_is_refused(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    _write(proj, {"main.py": b"print('mine')\n", "sub/notes.txt": b"keep",
                  # a real Numba entry too: the refusal must not hinge on "no entries"
                  "__pycache__/main.f-1.py311.nbi": b"i"})
    before = _tree(proj)
    proc = cli("cache", "clear", "numba", "--yes", cwd=proj / "sub",
               env={"NUMBA_CACHE_DIR": ".."})
    _one_line_refusal(proc)
    assert "working directory" in proc.stderr and "nothing was deleted" in proc.stderr
    assert _tree(proj) == before


def test_inductor_dir_parent_of_home_is_refused(tmp_path: Path,
                                                tmp_path_factory: pytest.TempPathFactory
                                                ) -> None:
    home = tmp_path / "home"
    # the parent of $HOME even holds Inductor's folders: still refused
    _write(tmp_path, {"home/.bashrc": b"export A=1\n", "home/work/thesis.tex": b"\\begin",
                      f"fxgraph/oo/f{HASH}/t{HASH}": b"entry", f"locks/c{HASH}.lock": b""})
    before = _tree(tmp_path)
    elsewhere = tmp_path_factory.mktemp("cwd")
    proc = cli("cache", "clear", "torch", "--yes", cwd=elsewhere,
               env={"HOME": str(home), "TORCHINDUCTOR_CACHE_DIR": str(tmp_path),
                    "TRITON_CACHE_DIR": ""})
    _one_line_refusal(proc)
    assert "home directory" in proc.stderr
    assert _tree(tmp_path) == before


# -- what is refused ---------------------------------------------------------------------------

def test_ancestors_of_cwd_and_home_are_unsafe(env, tmp_path: Path) -> None:
    home = tmp_path / "a" / "home"
    home.mkdir(parents=True)
    work = tmp_path / "w" / "x" / "y"
    work.mkdir(parents=True)
    env.setenv("HOME", str(home))
    env.chdir(work)
    for bad in (home, home.parent, work, work.parent, work.parent.parent, Path("/"),
                Path("/usr"), Path("/usr/lib"), Path("/etc/ssl"), Path("/tmp"), Path("/var")):
        assert _unsafe_root(bad), bad
    link = tmp_path / "to-parent-of-cwd"
    link.symlink_to(work.parent)
    assert "symlink" in (_unsafe_root(link) or "")
    # through a symlinked component: the resolved folder is the parent of cwd
    (tmp_path / "via").symlink_to(work)
    assert _unsafe_root(tmp_path / "via" / "..")
    for ok in (work / "cache", home / ".cache" / "numba", tmp_path / "w" / "other"):
        ok.mkdir(parents=True)
        assert _unsafe_root(ok) is None, ok


def test_folder_that_is_not_the_frameworks_cache_is_refused(env, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    _write(proj, {"main.py": b"x = 1\n", "data/big.bin": b"\0" * 100})
    before = _tree(proj)
    for var, fw in (("NUMBA_CACHE_DIR", "numba"), ("TORCHINDUCTOR_CACHE_DIR", "torch"),
                    ("JAX_COMPILATION_CACHE_DIR", "jax"),
                    ("JITWARM_ORT_CACHE_DIR", "onnxruntime")):
        env.setenv(var, str(proj))
        res = _invoke("cache", "clear", fw, "--yes")
        assert res.exit_code == 2, (fw, res.output)
        assert len(_lines(res)) == 1 and "does not look like" in res.output, res.output
        env.delenv(var)
    assert _tree(proj) == before


def test_nothing_is_deleted_when_any_location_is_refused(env, tmp_path: Path) -> None:
    """torch has two locations (Inductor, Triton): a refused one stops the whole clear."""
    ind = tmp_path / "ind"
    _write(ind, {f"locks/c{HASH}.lock": b""})
    _write(tmp_path / "proj", {"main.py": b"x = 1\n"})
    env.setenv("TORCHINDUCTOR_CACHE_DIR", str(ind))
    env.setenv("TRITON_CACHE_DIR", str(tmp_path / "proj"))  # not a Triton cache
    res = _invoke("cache", "clear", "torch", "--yes")
    assert res.exit_code == 2 and "triton" in res.output, res.output
    assert (ind / "locks" / f"c{HASH}.lock").exists()
    assert (tmp_path / "proj" / "main.py").exists()


# -- only entries go ---------------------------------------------------------------------------

def test_mixed_jax_folder_loses_only_its_entries(env, tmp_path: Path) -> None:
    jx = tmp_path / "jx"
    _write(jx, {f"{KEY}-cache": b"exe", f"{KEY}-atime": b"t", ".lockfile": b"",
                "xla_gpu_per_fusion_autotune_cache_dir/abc.textproto": b"a",
                "notes.txt": b"mine", "model.ckpt": b"w", "sub/jit_g-1-cache": b"deeper"})
    env.setenv("JAX_COMPILATION_CACHE_DIR", str(jx))
    res = _invoke("cache", "clear", "jax", "--yes")
    assert res.exit_code == 0, res.output
    assert "deleted 3 cache entries" in res.output
    assert _tree(jx) == {".lockfile": b"", "model.ckpt": b"w", "notes.txt": b"mine",
                         "sub": None, "sub/jit_g-1-cache": b"deeper"}


def test_mixed_numba_folder_loses_only_its_entries(env, tmp_path: Path) -> None:
    nb = tmp_path / "nb"
    _write(nb, {"src_a/m.f-1.py311.nbi": b"i", "src_a/m.f-1.py311.1.nbc": b"d",
                "src_b/m.g-2.py311.nbi": b"i", "src_b/README": b"mine",
                "top.py311.nbi": b"i", "keep.py": b"code"})
    env.setenv("NUMBA_CACHE_DIR", str(nb))
    (loc,) = locations("numba")
    paths = clear_plan(loc)
    assert sorted(str(p.relative_to(nb)) for p in paths) == [
        "src_a/m.f-1.py311.1.nbc", "src_a/m.f-1.py311.nbi", "src_b/m.g-2.py311.nbi",
        "top.py311.nbi"]
    assert clear(loc, paths)[0] == 4
    # src_a held only entries: gone; src_b keeps the user's file; the folder itself stays
    assert _tree(nb) == {"keep.py": b"code", "src_b": None, "src_b/README": b"mine"}


def test_mixed_inductor_folder_loses_only_its_entries(env, tmp_path: Path) -> None:
    ind = tmp_path / "ind"
    entries = {f"nf/{HASH}.main.so": b"so", f"nf/{HASH}.main.cpp": b"cpp",
               f"fxgraph/oo/f{HASH}/t{HASH}": b"fx", f"aotautograd/a{HASH}/4{HASH}": b"aot",
               f"locks/c{HASH}.lock": b"", f"triton/0/{HASH.upper()}/triton_poi_0.json": b"{}",
               "memoizer_cache.json": b"{}"}
    mine = {"README.md": b"mine", "cache/notes.txt": b"mine too", "nf/user.txt": b"u",
            "ab/not-a-hash.py": b"u", "scripts/run.sh": b"#!/bin/sh"}
    _write(ind, {**entries, **mine})
    env.setenv("TORCHINDUCTOR_CACHE_DIR", str(ind))
    # default Triton dir: <inductor>/triton, inside Inductor's: counted once
    res = _invoke("cache", "clear", "torch", "--yes")
    assert res.exit_code == 0, res.output
    assert f"deleted {len(entries)} cache entries" in res.output, res.output
    after = {k: v for k, v in _tree(ind).items() if v is not None}
    assert after == mine
    assert not (ind / "fxgraph").exists() and not (ind / "triton").exists()


def test_ort_and_numba_in_tree_entries(env, tmp_path: Path) -> None:
    ort = tmp_path / "ort"
    _write(ort, {"mlp-0123456789abcdef01234567.onnx": b"m", "mlp.onnx": b"user model"})
    env.setenv("JITWARM_ORT_CACHE_DIR", str(ort))
    (loc,) = locations("onnxruntime")
    clear(loc, clear_plan(loc))
    assert _tree(ort) == {"mlp.onnx": b"user model"}
    pyc = tmp_path / "pkg" / "__pycache__"
    _write(pyc, {"mod.f-3.py311.nbi": b"i", "mod.f-3.py311.1.nbc": b"d"})
    (loc,) = locations("numba", sources=tmp_path)
    clear(loc, clear_plan(loc))
    assert not pyc.exists() and (tmp_path / "pkg").is_dir()  # held only entries


def test_clear_checks_each_path_again(env, tmp_path: Path) -> None:
    jx = tmp_path / "jx"
    _write(jx, {f"{KEY}-cache": b"x", "notes.txt": b"mine"})
    env.setenv("JAX_COMPILATION_CACHE_DIR", str(jx))
    (loc,) = locations("jax")
    for bad in (jx / "notes.txt", tmp_path / "elsewhere-cache"):
        with pytest.raises(UsageError):
            clear(loc, [bad])
    os.mkdir(jx / "dir-cache")
    with pytest.raises(UsageError, match="folder"):
        clear(loc, [jx / "dir-cache"])
    assert (jx / "notes.txt").exists() and (jx / "dir-cache").is_dir()


def test_entry_rules() -> None:
    assert is_entry("jax", (f"{KEY}-cache",)) and not is_entry("jax", ("-cache",))
    assert not is_entry("jax", ("sub", f"{KEY}-cache"))
    assert is_entry("numba", ("d", "f.py311.nbi")) and not is_entry("numba", ("f.py",))
    assert is_entry("inductor", ("nf", f"{HASH}.so"))
    assert not is_entry("inductor", ("xx", f"{HASH}.so"))  # not its 2nd/3rd letters
    assert not is_entry("inductor", ("cache", "supercalifragilisticexpialidocious.txt"))
    assert is_entry("triton", (HASH.upper(), "k.cubin")) and not is_entry("triton", ("k.cubin",))
