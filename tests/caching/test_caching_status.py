"""`jitwarm cache status|clear`: resolution from env vars and defaults, safe clearing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from _craft import cli

from jitwarm.caches.locations import clear, clear_plan, inductor_dir, locations

CLEAN = {k: "" for k in ("NUMBA_CACHE_DIR", "TORCHINDUCTOR_CACHE_DIR", "TRITON_CACHE_DIR",
                         "JAX_COMPILATION_CACHE_DIR", "JITWARM_ORT_CACHE_DIR",
                         "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "NUMBA_DISABLE_JIT",
                         "TORCHINDUCTOR_FX_GRAPH_CACHE", "JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES")}


@pytest.fixture
def env(monkeypatch):
    for k in CLEAN:
        monkeypatch.delenv(k, raising=False)
    return monkeypatch


def _by_name(locs):
    return {loc.name: loc for loc in locs}


def test_env_vars_are_honoured(env, tmp_path):
    (tmp_path / "nb" / "proj_1").mkdir(parents=True)
    (tmp_path / "nb" / "proj_1" / "m.f-1.py311.nbi").write_bytes(b"i")
    (tmp_path / "nb" / "proj_1" / "m.f-1.py311.1.nbc").write_bytes(b"d" * 100)
    (tmp_path / "jx").mkdir()
    for i in range(3):
        (tmp_path / "jx" / f"jit_f-{i}-cache").write_bytes(b"x" * 10)
    env.setenv("NUMBA_CACHE_DIR", str(tmp_path / "nb"))
    env.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "ind"))
    env.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "jx"))
    env.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    locs = _by_name(locations())
    assert locs["numba"].path == tmp_path / "nb" and locs["numba"].entries == 1
    assert locs["numba"].size_bytes == 101 and locs["numba"].source == "NUMBA_CACHE_DIR"
    assert locs["inductor"].path == tmp_path / "ind" and not locs["inductor"].exists
    assert locs["jax"].path == tmp_path / "jx" and locs["jax"].entries == 3
    assert not any("shorter than" in w for w in locs["jax"].warnings)


def test_defaults_and_silent_no_op_settings(env, tmp_path):
    env.setenv("NUMBA_DISABLE_JIT", "1")
    env.setenv("TORCHINDUCTOR_FX_GRAPH_CACHE", "0")
    env.chdir(tmp_path)
    locs = _by_name(locations())
    assert locs["numba"].path is None and "__pycache__" in locs["numba"].source
    assert any("NUMBA_DISABLE_JIT" in w for w in locs["numba"].warnings)
    assert locs["inductor"].path == inductor_dir()[0]
    assert inductor_dir()[0].name.startswith("torchinductor_")
    assert any("FX-graph cache is off" in w for w in locs["inductor"].warnings)
    jax = locs["jax"]
    assert jax.path is None and any("persistent cache is off" in w for w in jax.warnings)
    assert any("shorter than 1 s" in w for w in jax.warnings)
    assert any("absolute path is part of every cache key" in n for n in jax.notes)


def test_numba_in_tree_caches_are_found_and_cleared_alone(env, tmp_path):
    pyc = tmp_path / "pkg" / "__pycache__"
    pyc.mkdir(parents=True)
    (pyc / "mod.f-3.py311.nbi").write_bytes(b"i")
    (pyc / "mod.f-3.py311.1.nbc").write_bytes(b"d")
    (pyc / "mod.cpython-311.pyc").write_bytes(b"bytecode")  # not Numba's: must survive
    (loc,) = locations("numba", sources=tmp_path)
    assert loc.entries == 1 and loc.scanned == [str(pyc)]
    paths = clear_plan(loc)
    assert sorted(p.name for p in paths) == ["mod.f-3.py311.1.nbc", "mod.f-3.py311.nbi"]
    clear(loc, paths)
    assert [p.name for p in pyc.iterdir()] == ["mod.cpython-311.pyc"]


def test_clear_cli_needs_confirmation_and_stays_inside(tmp_path):
    cache = tmp_path / "jx"
    cache.mkdir()
    (cache / "jit_f-1-cache").write_bytes(b"x")
    outside = tmp_path / "keep.txt"
    outside.write_text("keep")
    env = {"JAX_COMPILATION_CACHE_DIR": str(cache)}
    proc = cli("cache", "clear", "jax", env=env)  # stdin is not a terminal: refuses
    assert proc.returncode == 2 and "--yes" in proc.stderr
    assert (cache / "jit_f-1-cache").exists()
    proc = cli("cache", "clear", "jax", "--yes", env=env)
    assert proc.returncode == 0, proc.stderr
    assert list(cache.iterdir()) == [] and cache.is_dir() and outside.read_text() == "keep"


def test_clear_refuses_dangerous_roots(tmp_path):
    proc = cli("cache", "clear", "jax", "--yes", env={"JAX_COMPILATION_CACHE_DIR": "/"})
    assert proc.returncode == 2 and "not a cache directory" in proc.stderr
    proc = cli("cache", "clear", "jax", "--yes",
               env={"JAX_COMPILATION_CACHE_DIR": str(Path.home())})
    assert proc.returncode == 2
    link = tmp_path / "link"
    os.symlink(tmp_path, link)
    proc = cli("cache", "clear", "jax", "--yes",
               env={"JAX_COMPILATION_CACHE_DIR": str(link)}, cwd=tmp_path)
    assert proc.returncode == 2


def test_status_cli_json_and_usage_errors(tmp_path):
    proc = cli("cache", "status", "--json", env={"NUMBA_CACHE_DIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {d["framework"] for d in data} == {"numba", "torch", "jax", "onnxruntime"}
    proc = cli("cache", "status", "tensorflow")
    assert proc.returncode == 2 and "unknown framework" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_status_with_framework_config(env, tmp_path):
    pytest.importorskip("jax")
    env.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path))
    env.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    proc = cli("cache", "status", "jax", "--config", "--json")
    assert proc.returncode == 0, proc.stderr
    (jax,) = json.loads(proc.stdout)
    assert jax["settings"]["min_compile_time_secs"] == 0.0
    assert any("jax was imported" in n for n in jax["notes"])


def test_a_cache_variable_pointing_at_the_root_is_not_walked(env, monkeypatch):
    """TRITON_CACHE_DIR=/ must not make `cache status` walk the whole disk: the folder is
    named unsafe, with nothing counted."""
    import jitwarm.adapters.base as base

    walked = []
    real_walk = os.walk
    monkeypatch.setattr(base.os, "walk", lambda p, *a, **k: walked.append(str(p))
                        or real_walk(p, *a, **k))
    monkeypatch.setenv("TRITON_CACHE_DIR", "/")
    triton = _by_name(locations("torch"))["triton"]
    assert triton.size_bytes == 0 and triton.files == 0
    assert any("filesystem root" in w for w in triton.warnings), triton.warnings
    assert "/" not in walked
