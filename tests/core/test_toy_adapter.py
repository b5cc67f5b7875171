"""Adding a framework is one adapter module plus one registry line.

A toy JIT framework (``toyjit``: compiles on the first call per argument types, reports
compiles through its own listener API, caches compiled entries in ``TOYJIT_CACHE_DIR``)
and its adapter live in a temporary folder, outside the package; the adapter is registered
through ``$JITWARM_ADAPTERS`` only. It then gets profiled (cold and cached states),
its cache shown by ``cache status``, explained by ``cache explain``, prewarmed and bundled
— without a line of jitwarm changed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

TOYJIT = '''
"""A toy JIT: "compiles" (sleeps) on the first call per argument types, caches on disk."""
import os
import time

_listeners = []


def on_compile(callback):
    _listeners.append(callback)


class ToyJit:
    def __init__(self, fn):
        self.fn = fn
        self.compiled = {}
        self.hits = 0
        self.misses = 0

    def entry(self, key):
        return f"{self.fn.__qualname__}-{'-'.join(key)}.toy"

    def __call__(self, *args):
        key = tuple(type(a).__name__ for a in args)
        if key not in self.compiled:
            root = os.environ.get("TOYJIT_CACHE_DIR")
            path = os.path.join(root, self.entry(key)) if root else None
            if path and os.path.exists(path):
                self.hits += 1
            else:
                self.misses += 1
                for cb in _listeners:
                    cb("start", self.fn.__qualname__, key)
                time.sleep(0.2)
                for cb in _listeners:
                    cb("end", self.fn.__qualname__, key)
                if path:
                    os.makedirs(root, exist_ok=True)
                    with open(path + ".tmp", "w") as f:
                        f.write("compiled")
                    os.replace(path + ".tmp", path)
            self.compiled[key] = self.fn
        return self.compiled[key](*args)


def jit(fn):
    return ToyJit(fn)
'''

ADAPTER = '''
"""jitwarm's adapter for toyjit: everything jitwarm knows about toyjit is here."""
import os
import threading
import time
from pathlib import Path

from jitwarm.adapters.base import Adapter, CacheLocation, scan_dir
from jitwarm.adapters.events import Notice


class ToyAdapter(Adapter):
    name = "toy"
    module = "toyjit"
    hook_module = "toyjit"
    trigger = "first call with new argument types"

    def cache_env(self, cache_dir):
        return {"TOYJIT_CACHE_DIR": str(cache_dir / "toyjit")}

    def detect(self, fn):
        return self._loaded() and type(fn).__name__ == "ToyJit"

    def install_hooks(self, emit):
        import toyjit

        opened = {}

        def on_compile(phase, name, key):
            now = time.perf_counter_ns()
            if phase == "start":
                opened[name] = now
                emit(Notice("toy", "start", name, threading.get_ident(), now,
                            signature=str(key), reason=f"new argument types {key}"))
            else:
                emit(Notice("toy", "end", name, threading.get_ident(), now,
                            signature=str(key), duration_ns=now - opened.pop(name, now)))

        toyjit.on_compile(on_compile)

    def cache_stats(self, fn):
        return {"hits": fn.hits, "misses": fn.misses}

    def supports_disk_cache(self, fn):
        return bool(os.environ.get("TOYJIT_CACHE_DIR"))

    def specializations(self, fn):
        return len(fn.compiled)

    def cache_locations(self, sources=None, with_config=False):
        env = os.environ.get("TOYJIT_CACHE_DIR")
        if not env:
            return [CacheLocation("toy", "toyjit", None, "not set", "TOYJIT_CACHE_DIR")]
        path = Path(env)
        size, files, entries = scan_dir(path, r".*\\.toy")
        return [CacheLocation("toy", "toyjit", path, "TOYJIT_CACHE_DIR", "TOYJIT_CACHE_DIR",
                              path.is_dir(), size, entries, "toy entries (.toy)", files)]

    def explain_first_call(self, fn, args, kwargs, cache_root, call):
        key = tuple(type(a).__name__ for a in args)
        want = fn.entry(key)
        have = sorted(p.name for p in (cache_root / "toyjit").glob("*.toy")) if cache_root else []
        result = call()
        if want in have:
            return result, ["toy: the disk cache hit"]
        return result, [f"toy: no entry {want}; the cache holds {', '.join(have) or 'nothing'}"]
'''

CASE = '''
import jitwarm


@jitwarm.case
def square():
    import toyjit

    @toyjit.jit
    def sq(x):
        return x * x

    return sq, (3,)
'''

PLAN = '''
[[case]]
target = "case.py::square"
'''


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy")
    for name, text in (("toyjit.py", TOYJIT), ("jitwarm_toy.py", ADAPTER), ("case.py", CASE),
                       ("plan.toml", PLAN)):
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    env = os.environ.copy()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH")) if p)
    env["JITWARM_ADAPTERS"] = "jitwarm_toy:ToyAdapter"
    return root, env


def _cli(toy, *args: str) -> subprocess.CompletedProcess[str]:
    root, env = toy
    return subprocess.run([sys.executable, "-m", "jitwarm", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600)


def test_toy_adapter_is_registered_and_speaks_the_protocol(toy):
    root, env = toy
    code = ("from jitwarm.adapters import ADAPTERS, by_name; a = by_name('toy');"
            "print(ADAPTERS[0].name, a.owns_cache, sorted(a.cache_env(__import__('pathlib').Path('/c'))))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["toy", "True", "['TOYJIT_CACHE_DIR']"]


@pytest.mark.slow
def test_toy_framework_profiled_cached_explained_and_bundled(toy, tmp_path):
    root, env = toy
    # profiled: compile events from the toy's own hooks, a cached state that hits
    res = tmp_path / "r.json"
    proc = _cli(toy, "profile", "case.py::square", "--processes", "1", "--calls", "50",
                "--max-time", "1", "--cache", "cold,cached", "--json", str(res))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(res.read_text())
    assert data["framework"] == "toy"
    cold = data["states"]["cold"]["processes"][0]
    cached = data["states"]["cached"]["processes"][0]
    assert cold["compile_ns"] >= 150_000_000, cold  # the toy's 0.2 s "compile"
    assert [e["name"] for e in cold["compile_events"] if e["depth"] == 0] == ["square.<locals>.sq"]
    assert cached["compile_ns"] == 0 and not cached["compile_events"], cached
    assert cached.get("cache_hits") == 1 or (cached.get("cache") or {}).get("hits") == 1, cached

    # cached: the prewarm fills the toy's cache; `cache status` shows it
    cache = tmp_path / "cache"
    proc = _cli(toy, "prewarm", "plan.toml", "--out", str(cache))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [p.name for p in (cache / "toyjit").iterdir()] == ["square.<locals>.sq-int.toy"]
    status = subprocess.run([sys.executable, "-m", "jitwarm", "cache", "status", "toy", "--json"],
                            cwd=root, env={**env, "TOYJIT_CACHE_DIR": str(cache / "toyjit")},
                            capture_output=True, text=True, timeout=300)
    assert status.returncode == 0, status.stderr
    (loc,) = json.loads(status.stdout)["locations"] if isinstance(
        json.loads(status.stdout), dict) else json.loads(status.stdout)
    assert loc["framework"] == "toy" and loc["entries"] == 1

    # explained: the adapter's own explanation, hit and miss
    proc = _cli(toy, "cache", "explain", "case.py::square", "--cache-dir", str(cache), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["explanations"] == ["toy: the disk cache hit"]
    empty = tmp_path / "empty"
    (empty / "toyjit").mkdir(parents=True)
    (empty / "jitwarm-prewarm.json").write_text((cache / "jitwarm-prewarm.json").read_text())
    proc = _cli(toy, "cache", "explain", "case.py::square", "--cache-dir", str(empty), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["explanations"] == [
        "toy: no entry square.<locals>.sq-int.toy; the cache holds nothing"]

    # bundled: create, verify, install elsewhere; the installed cache hits
    bundle = tmp_path / "toy.tar.gz"
    for args in (("bundle", "create", str(cache), "-o", str(bundle)),
                 ("bundle", "verify", str(bundle))):
        proc = _cli(toy, *args)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    target = tmp_path / "installed"
    proc = _cli(toy, "bundle", "install", str(bundle), "--target", str(target))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"export TOYJIT_CACHE_DIR={target / 'toyjit'}" in proc.stdout
    assert (target / "toyjit" / "square.<locals>.sq-int.toy").is_file()
    proc = _cli(toy, "cache", "explain", "case.py::square", "--cache-dir", str(target), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["explanations"] == ["toy: the disk cache hit"]
