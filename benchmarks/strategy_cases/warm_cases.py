"""Cases measured by benchmarks/strategies.py (one per framework)."""

from __future__ import annotations

import jitwarm


@jitwarm.case
def numba_kernel():
    import numpy as np
    from numba import njit

    @njit(cache=True)
    def kernel(x, y):
        acc = 0.0
        for i in range(x.shape[0]):
            acc += x[i] * y[i] + np.sin(x[i]) * np.cos(y[i])
        return acc

    return kernel, (np.arange(1000.0), np.ones(1000))


@jitwarm.case
def jax_mlp():
    import jax
    import jax.numpy as jnp

    @jax.jit
    def forward(params, x):
        for w, b in params:
            h = x @ w + b
            mu = h.mean(axis=-1, keepdims=True)
            var = ((h - mu) ** 2).mean(axis=-1, keepdims=True)
            x = jax.nn.gelu((h - mu) / jnp.sqrt(var + 1e-5)) + x
        return jax.nn.softmax(x, axis=-1).sum()

    key = jax.random.PRNGKey(0)
    params = [(jax.random.normal(key, (64, 64)) * 0.1, jnp.zeros(64)) for _ in range(12)]
    return forward, (params, jax.random.normal(key, (32, 64)))


def _mlp(torch):
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(64, 128), torch.nn.GELU(), torch.nn.LayerNorm(128),
        torch.nn.Linear(128, 64), torch.nn.ReLU(), torch.nn.Linear(64, 8),
    ).eval()


@jitwarm.case
def torch_mlp():
    """Inference: parameters do not require grad, so AOTAutograd's cache entry is written."""
    import torch

    model = _mlp(torch).requires_grad_(False)
    return torch.compile(model), (torch.randn(32, 64),)


@jitwarm.case
def torch_mlp_grad():
    """The same model with parameters requiring grad (PyTorch's default), called forward only.

    AOTAutograd writes its cache entry only when the backward is compiled, so a
    forward-only process never writes it and every process re-runs AOTAutograd.
    """
    import torch

    return torch.compile(_mlp(torch)), (torch.randn(32, 64),)
