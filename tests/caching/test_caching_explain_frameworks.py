"""Miss explanations for Inductor and JAX, from real caches jitwarm filled.

Each test prewarms a cache in a fresh process, then runs ``explain`` in another fresh
process where one thing the user commonly changes (the input's batch size) differs, and
checks that the framework's own reason reaches the notes; the unchanged run must say
the cache hit.
"""

from __future__ import annotations

import pytest
from _craft import cli, write

from jitwarm.caches.prewarm import run_case_process
from jitwarm.cases.targets import resolve_target

# the batch size comes from the environment, so a second process can change the shape
TORCH_CASE = """
import os

import jitwarm

@jitwarm.case
def mlp():
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    model.requires_grad_(os.environ.get("GRAD") == "1")
    return torch.compile(model), (torch.randn(int(os.environ.get("BATCH", "8")), 16),)
"""

JAX_CASE = """
import os

import jitwarm

@jitwarm.case
def mlp():
    import jax
    import jax.numpy as jnp

    @jax.jit
    def predict(w, x):
        return jnp.tanh(x @ w).sum(axis=-1)

    k = jax.random.PRNGKey(0)
    batch = int(os.environ.get("BATCH", "8"))
    return predict, (jax.random.normal(k, (16, 4)), jax.random.normal(k, (batch, 16)))
"""


def _prewarmed(tmp, case: str, **env: str):
    write(tmp / "src" / "model.py", case)
    write(tmp / "src" / "warm.toml", '[[case]]\ntarget = "model.py::mlp"\n')
    proc = cli("prewarm", str(tmp / "src" / "warm.toml"), "--out", str(tmp / "cache"), env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return resolve_target(f"{tmp}/src/model.py::mlp"), tmp / "cache"


def _explain(target, cache, **env: str) -> tuple[dict, list[str]]:
    rec = run_case_process(target, cache, mode="explain", timeout_s=600, extra_env=env)
    assert rec["status"] == "ok", rec
    return rec["calls"][0], rec["explanations"]


@pytest.mark.slow
def test_inductor_miss_is_explained(tmp_path):
    pytest.importorskip("torch")
    target, cache = _prewarmed(tmp_path, TORCH_CASE)

    call, notes = _explain(target, cache)
    assert any("FX-graph cache 1 hit / 0 miss" in n for n in notes), notes
    assert any("every FX graph hit" in n for n in notes), notes
    assert call["cache"]["fxgraph_misses"] == 0, call

    call, notes = _explain(target, cache, BATCH="24")
    assert call["cache"]["fxgraph_misses"] >= 1, call
    assert any("/ 1 miss" in n for n in notes), notes
    # Inductor's own miss line with its key, and what the cache holds instead
    miss = [n for n in notes if n.startswith("torch: fx graph cache miss")]
    assert miss and "1 other FX-graph entry" in miss[0], notes
    assert not any("every FX graph hit" in n for n in notes), notes


@pytest.mark.slow
def test_inductor_forward_only_with_grad_is_explained(tmp_path):
    """Parameters requiring grad, forward only: FX graphs hit, AOTAutograd never does."""
    pytest.importorskip("torch")
    target, cache = _prewarmed(tmp_path, TORCH_CASE, GRAD="1")
    call, notes = _explain(target, cache, GRAD="1")
    assert call["cache"]["fxgraph_misses"] == 0 and call["cache"]["aot_autograd_hits"] == 0, call
    assert any("AOTAutograd cache missed" in n and "requires_grad_(False)" in n
               for n in notes), notes


@pytest.mark.slow
def test_jax_miss_is_explained(tmp_path):
    pytest.importorskip("jax")
    target, cache = _prewarmed(tmp_path, JAX_CASE)

    call, notes = _explain(target, cache)
    assert call["cache"]["hits"] >= 1 and call["cache"]["misses"] == 0, call
    assert not any("MISS" in n for n in notes), notes

    # this time through the command line, as a user would ask
    proc = cli("cache", "explain", target.spec, "--cache-dir", str(cache), env={"BATCH": "24"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 miss" in proc.stdout.splitlines()[0], proc.stdout
    notes = [ln.strip()[2:] for ln in proc.stdout.splitlines() if ln.strip().startswith("- ")]
    assert any("PERSISTENT COMPILATION CACHE MISS" in n and "jit_predict" in n
               for n in notes), notes
    # another entry for jit_predict is there, and the program itself (shape) differs
    assert any("other entr" in n and "jit_predict" in n for n in notes), notes
    assert any("traced program itself differs" in n for n in notes), notes
