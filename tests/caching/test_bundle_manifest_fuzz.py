"""Property test: a REAL bundle (a Numba prewarm) whose manifest is mutated at random
(hostile paths, names, settings, relocation records; hashes recomputed, so only the
manifest's intent is hostile) is either refused by both `verify` and `install` or
accepted by both, and `install` never writes, moves or deletes anything outside the
target (plus, for an in-tree Numba install, `__pycache__` folders inside the sources).

`hypothesis` is not a dependency: a seeded random loop (the seed is in each failure).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import random
import tarfile
from pathlib import Path
from typing import Any

import pytest
from _craft import NUMBA_CASE, NUMBA_PLAN, cli, craft, member, write

pytest.importorskip("numba")

from jitwarm.caches.bundle import (  # noqa: E402
    MANIFEST,
    PREFIX,
    BundleRefused,
    cache_subdirs,
    export_lines,
    install,
    verify,
)

CASES = 150
SEED = 20260112
SUBDIRS = cache_subdirs()  # {var: sub}


@pytest.fixture(scope="module")
def real(tmp_path_factory) -> dict[str, Any]:
    """One real prewarm of a small Numba plan, bundled; its manifest and members."""
    base = tmp_path_factory.mktemp("fuzz-origin")
    src = base / "project"
    write(src / "kern.py", NUMBA_CASE)
    write(src / "warm.toml", NUMBA_PLAN)
    cache = base / "cache"
    proc = cli("prewarm", str(src / "warm.toml"), "--out", str(cache))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    bundle = base / "warm.tar.gz"
    proc = cli("bundle", "create", str(cache), "-o", str(bundle), "--sources", str(src))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    members: dict[str, bytes] = {}
    manifest: dict[str, Any] = {}
    with tarfile.open(bundle) as tf:
        for m in tf:
            data = tf.extractfile(m).read() if m.isreg() else b""  # type: ignore[union-attr]
            if m.name == MANIFEST:
                manifest = json.loads(data)
            elif m.isreg():
                members[m.name[len(PREFIX):]] = data
    assert manifest["numba"] and all(r["rel"] == "." for r in manifest["numba"].values())
    return {"manifest": manifest, "members": members, "kern": (src / "kern.py").read_text()}


# -- hostile values ------------------------------------------------------------------------------

def _hostile_paths(victim: Path) -> list[Any]:
    return ["../victim", "../../victim", str(victim), str(victim / "deep"), "a/../../victim",
            "numba/../..", "~", "~/x", "C:/x", "a\\..\\..\\victim", "", ".", "..", "./numba",
            "numba/", "numba//x", "link", "link/deep", "pkg", "pkg/../..", "x" * 5000,
            "ü/ñ/🙂", "a\nb", "a\x1b[31mb", "$(touch pwned)", "`touch pwned`", "; touch pwned",
            "'", '"', "a b", "/", "/tmp", "numba", "jax", "onnxruntime", "torchinductor",
            None, 1, ["numba"], {"a": 1}, True]


SHELLY = ["JAX_X=1; touch pwned; export JAX_Y", "JAX_$(touch pwned)", "JAX_`id`", "JAX X",
          "1JAX", "", "LD_PRELOAD", "PATH", "JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES",
          "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "NUMBA_CACHE_DIR", "JAX_ü",
          "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"]
VALUES = ["none", "0", "-1", "all", "$(touch pwned)", "a'b", "a\nexport PATH=/tmp", "x" * 500,
          "", "🙂", 1, None, ["x"]]


def _mutate(rng: random.Random, manifest: dict[str, Any], members: dict[str, bytes],
            victim: Path) -> list[str]:
    """Apply 1-3 random mutations in place; returns what was done (for the failure)."""
    paths = _hostile_paths(victim)
    done: list[str] = []
    for _ in range(rng.randint(1, 3)):
        what = rng.choice(["contents", "env", "settings", "rel", "source", "record_key",
                           "record", "file", "benign", "benign"])
        if what == "contents":
            c = list(manifest.get("contents") or [])
            op = rng.choice(["add", "replace", "dup", "shuffle", "type"])
            if op == "add":
                c.append(rng.choice(paths))
            elif op == "replace" and c:
                c[rng.randrange(len(c))] = rng.choice(paths)
            elif op == "dup" and c:
                c.append(c[0])
            elif op == "type":
                c = rng.choice(["numba", None, {"numba": 1}, 3])  # type: ignore[assignment]
            else:
                rng.shuffle(c)
            manifest["contents"] = c
        elif what == "env":
            var = rng.choice([*SUBDIRS, "PATH", "LD_PRELOAD", *SHELLY[:3]])
            manifest.setdefault("env", {})[var] = rng.choice([*paths, *SUBDIRS.values()])
        elif what == "settings":
            manifest.setdefault("settings", {})[rng.choice(SHELLY)] = rng.choice(VALUES)
        elif what in ("rel", "source", "record"):
            sub = rng.choice(sorted(manifest["numba"]))
            rec = manifest["numba"][sub]
            if not isinstance(rec, dict):
                manifest["numba"][sub] = rec = {"rel": ".", "sources": {}}
            if what == "rel":
                rec["rel"] = rng.choice(paths)
            elif what == "source" and isinstance(rec.get("sources"), dict):
                name = rng.choice(["../kern.py", "/etc/kern.py", "kern.txt", "k\x00.py",
                                   "kern.py", "pkg/kern.py", "ü.py", ".py", "..py", "x" * 300])
                rec["sources"] = {name: rng.choice([None, "0" * 64, "zz", 5])}
            else:
                manifest["numba"][sub] = rng.choice([None, [], "x", {"rel": None}, {}])
        elif what == "record_key":
            sub = rng.choice(sorted(manifest["numba"]))
            manifest["numba"][rng.choice(["..", "a/b", "/abs", "x" * 300, "", "ok_1"])] = \
                manifest["numba"].pop(sub)
        elif what == "file":
            old = rng.choice(sorted(members))
            parts = old.split("/")
            new = rng.choice([
                "numba/../../victim/pwned.nbc", str(victim / "pwned"), "numba/x.nbc",
                f"numba/{parts[1]}/kern.cpython-311.pyc", f"numba/{parts[1]}/./{parts[2]}",
                f"numba//{parts[1]}/{parts[2]}", f"jax/{parts[2]}", f"elsewhere/{parts[2]}",
                f"numba/{parts[1]}/sub/{parts[2]}", f"numba/{parts[1]}/{'k' * 300}.nbc",
                f"numba/{parts[1]}/ü🙂.nbc", f"numba/{parts[1]}/$(touch pwned).nbc",
                f"numba/{'x' * 300}/{parts[2]}", f"numba/{parts[1]}/a\nb.nbc"])
            members[new] = members.pop(old)
            what += f" {old!r}->{new!r}"
        else:  # mutations a real bundle may well have: must still be accepted
            op = rng.choice(["created", "plan", "skipped", "shuffle"])
            if op == "shuffle":
                manifest["contents"] = list(reversed(manifest.get("contents") or []))
            else:
                manifest[op] = rng.choice(["ü🙂", {"deep": [1, 2, {"x": None}]}, "x" * 2000])
        done.append(what)
    # only the intent is hostile: the hashes are right for whatever is in the archive
    manifest["files"] = {k: {"sha256": hashlib.sha256(v).hexdigest(), "size": len(v)}
                         for k, v in members.items()}
    return done


# -- the sandbox: what may change and what may not ------------------------------------------------

def _sandbox(base: Path, kern: str) -> dict[str, Path]:
    victim = base / "victim"
    (victim / "deep").mkdir(parents=True)
    (victim / "precious.txt").write_text("keep")
    (victim / "deep" / "more.txt").write_text("keep too")
    (victim / "kern.py").write_text(kern)  # a source: an escaping in-tree install would write here
    (victim / "deep" / "kern.py").write_text(kern)
    sources = base / "sources"
    (sources / "pkg").mkdir(parents=True)
    (sources / "kern.py").write_text(kern)
    (sources / "pkg" / "kern.py").write_text(kern)
    (sources / "link").symlink_to(victim, target_is_directory=True)
    (base / "beside").mkdir()
    (base / "beside" / "sentinel").write_text("here")
    return {"victim": victim, "sources": sources, "target": base / "target"}


def _snapshot(root: Path) -> dict[str, str]:
    """Every path under ``root`` (symlinks not followed) -> its kind and content hash."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _allowed(rel: str, in_tree: bool) -> bool:
    """May ``install`` have created or changed this path (relative to the sandbox)?"""
    if rel == "target" or rel.startswith("target/"):
        return True
    parts = rel.split("/")
    return in_tree and parts[0] == "sources" and "__pycache__" in parts and parts[1] != "link"


@pytest.mark.slow
def test_mutated_manifests_verify_and_install_agree_and_stay_inside(real, tmp_path,
                                                                    monkeypatch):
    rng = random.Random(SEED)
    monkeypatch.chdir(tmp_path)
    accepted = refused = 0
    for case in range(CASES):
        base = tmp_path / f"case{case}"
        box = _sandbox(base, real["kern"])
        manifest = copy.deepcopy(real["manifest"])
        members = dict(real["members"])
        done = _mutate(rng, manifest, members, box["victim"])
        where = f"case {case} (seed {SEED}): {done}"
        try:
            bundle = craft(base / "b.tar.gz", manifest,
                           [member(PREFIX + k, v) for k, v in members.items()])
        except (ValueError, UnicodeError, TypeError):  # tarfile cannot even write it
            continue
        in_tree = rng.random() < 0.5
        if in_tree:  # Numba beside the sources; the other caches inside the target
            monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
            for var, sub in SUBDIRS.items():
                if var != "NUMBA_CACHE_DIR":
                    monkeypatch.setenv(var, str(box["target"] / sub))
        before = _snapshot(base)
        v = verify(bundle)
        try:
            res = install(bundle, target=None if in_tree else box["target"],
                          sources=box["sources"])
        except BundleRefused:
            res = None
        assert v.ok == (res is not None), f"{where}: verify {v.ok} {v.reasons}, install {res}"
        after = _snapshot(base)
        changed = sorted(k for k in before.keys() | after.keys()
                         if before.get(k) != after.get(k) and k != "b.tar.gz")
        outside = [k for k in changed if not _allowed(k, in_tree)]
        assert not outside, f"{where}: changed outside the target: {outside[:5]}"
        assert not (tmp_path / "pwned").exists() and not (base / "pwned").exists(), where
        if res is None:
            refused += 1
            assert not changed, f"{where}: refused, yet changed {changed[:5]}"
            assert all(len(r) < 1200 for r in v.reasons), where
        else:
            accepted += 1
            for line in export_lines(res.exports):
                assert line.startswith("export ") and "\n" not in line, where
        monkeypatch.undo()
        monkeypatch.chdir(tmp_path)
    # the loop exercised both outcomes
    assert accepted >= 10 and refused >= 50, (accepted, refused)


@pytest.mark.slow
def test_the_unmutated_real_bundle_is_accepted(real, tmp_path):
    """The control for the property test: the real manifest, re-packed, installs."""
    box = _sandbox(tmp_path, real["kern"])
    bundle = craft(tmp_path / "b.tar.gz", real["manifest"],
                   [member(PREFIX + k, v) for k, v in real["members"].items()])
    assert verify(bundle).ok
    res = install(bundle, target=box["target"], sources=box["sources"])
    assert res.files == len(real["members"])
