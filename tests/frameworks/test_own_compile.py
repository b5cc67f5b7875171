"""The function's own compile leaves the user's process as it found it (issue #14).

``function_compile_ns`` points JAX's persistent cache and Inductor's cache directory at
empty scratch folders for its fresh copies; these tests run it in a fresh interpreter, the
way a user's program would (``jitwarm.profile`` measures in-process), and check that the
user's cache settings, cache contents and compile callbacks are back afterwards and that
the user's caches still serve the next compile.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

JAX_SCRIPT = """
import json, os, sys
import jax, jax.numpy as jnp
from jitwarm.adapters import adapter_for

user = sys.argv[1] or None
if user:
    jax.config.update("jax_compilation_cache_dir", user)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)

def f(x):
    return jnp.tanh(x @ x.T).sum(axis=-1)

g, x = jax.jit(f), jnp.ones((128, 128))
ad = adapter_for(g)
s0 = ad.cache_stats(g)
jax.block_until_ready(g(x))
s1 = ad.cache_stats(g)
listing = sorted(os.listdir(user)) if user else []
own = ad.function_compile_ns(g, (x,), {})
out = {"first_hits": s1["hits"] - s0["hits"], "own": own, "check": ad.function_compile_check,
       "dir_after": jax.config.jax_compilation_cache_dir,
       "listing_unchanged": (sorted(os.listdir(user)) if user else []) == listing,
       "runtime": ad.runtime_info().get("function_compile_check")}
def k(x):
    return jnp.sin(x).sum()
s2 = ad.cache_stats(g)
jax.block_until_ready(jax.jit(k)(x))  # a new compile goes through the user's cache again
s3 = ad.cache_stats(g)
out["next_requests"] = s3["requests"] - s2["requests"]
jax.block_until_ready(g(x))
out["specializations"] = g._cache_size()
print(json.dumps(out))
"""

TORCH_SCRIPT = """
import json, os
import torch
from jitwarm.adapters import adapter_for, hub
from torch._dynamo.utils import counters

def f(x):
    return torch.relu(x @ x.T).sum(dim=-1)

fn, x = torch.compile(f), torch.randn(32, 32)
expected = fn(x)
hub.install()  # Dynamo is imported now: the hub registers its compile callbacks
from torch._dynamo.callback import callback_handler
seen = []
mine = lambda args: seen.append(1)
callback_handler.register_start_callback(mine)
starts = list(callback_handler.start_callbacks)
user_dir = os.environ["TORCHINDUCTOR_CACHE_DIR"]
ad = adapter_for(fn)
own = ad.function_compile_ns(fn, (x,), {})
out = {"own": own, "check": ad.function_compile_check,
       "env_after": os.environ.get("TORCHINDUCTOR_CACHE_DIR"), "user_dir": user_dir,
       "callbacks_kept": list(callback_handler.start_callbacks) == starts,
       "mine_called": len(seen)}
hits = counters["inductor"]["fxgraph_cache_hit"]
out["same_result"] = bool(torch.allclose(fn(x), expected))
out["next_call_fxgraph_hits"] = counters["inductor"]["fxgraph_cache_hit"] - hits
print(json.dumps(out))
"""


def _run(script: str, tmp: Path, *argv: str, env: dict[str, str] | None = None
         ) -> dict[str, Any]:
    full = {**os.environ, "TMPDIR": str(tmp), **(env or {})}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(script), *argv], env=full,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _no_scratch_left(tmp: Path) -> None:
    left = [p.name for p in tmp.iterdir() if p.name.startswith(("jitwarm-jax-own-", "tmp"))]
    assert left == [], left


def test_jax_copies_compile_and_the_users_cache_is_restored(tmp_path):
    pytest.importorskip("jax")
    user = tmp_path / "jax-cache"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    cold = _run(JAX_SCRIPT, scratch, str(user))
    cached = _run(JAX_SCRIPT, scratch, str(user))
    assert cold["first_hits"] == 0 and cached["first_hits"] == 1
    for r in (cold, cached):
        check = r["check"]
        assert check["verified"] and check["cache_hits"] == 0, check
        assert check["cache_misses"] == check["backend_compiles"] == 3, check
        assert r["runtime"] == check and r["own"] > 0
        assert r["dir_after"] == str(user)  # the user's setting is back
        assert r["listing_unchanged"]  # the copies wrote nothing into the user's cache
        assert r["next_requests"] == 1  # and it serves the next compile again
        assert r["specializations"] == 1  # the user's callable did not recompile
    # the copies compile as long in the cached process as in the cold one
    assert 0.5 <= cached["own"] / cold["own"] <= 2.0, (cached["own"], cold["own"])
    _no_scratch_left(scratch)


def test_jax_without_a_persistent_cache(tmp_path):
    pytest.importorskip("jax")
    r = _run(JAX_SCRIPT, tmp_path, "")
    check = r["check"]
    # JAX still counts a lookup per compile (in no directory): all of them missed
    assert check["verified"] and check["cache_hits"] == 0, check
    assert check["backend_compiles"] == 3 and "persistent cache is off" in check["how"]
    assert r["dir_after"] is None and r["specializations"] == 1


def test_torch_copies_compile_and_the_process_is_restored(tmp_path):
    pytest.importorskip("torch")
    user = tmp_path / "inductor"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    r = _run(TORCH_SCRIPT, scratch, env={"TORCHINDUCTOR_CACHE_DIR": str(user)})
    check = r["check"]
    assert check["verified"] and check["cache_hits"] == 0, check
    assert check["fxgraph_misses"] == check["copies"] and check["kernels_built"] >= 1, check
    assert r["own"] > 0
    assert r["env_after"] == r["user_dir"] == str(user)
    assert r["callbacks_kept"] and r["mine_called"] == check["copies"]
    assert r["same_result"]
    # Dynamo was reset after the copies: the user's callable recompiles from the user's
    # own (restored) cache, which the first call filled
    assert r["next_call_fxgraph_hits"] == 1
    _no_scratch_left(scratch)
