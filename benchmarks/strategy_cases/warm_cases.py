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


@jitwarm.case
def jax_encoder():
    """A 4-layer transformer encoder (self-attention + GELU MLP), inference."""
    import jax
    import jax.numpy as jnp

    def layer_norm(x, g, b):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / jnp.sqrt(var + 1e-5) * g + b

    @jax.jit
    def encoder(params, x):
        heads = 4
        for p in params:
            b, s, d = x.shape
            h = layer_norm(x, p["g1"], p["b1"])
            q, k, v = jnp.split(h @ p["qkv"], 3, axis=-1)
            q, k, v = (t.reshape(b, s, heads, d // heads).transpose(0, 2, 1, 3)
                       for t in (q, k, v))
            att = jax.nn.softmax(q @ k.transpose(0, 1, 3, 2) / jnp.sqrt(d // heads), axis=-1)
            x = x + (att @ v).transpose(0, 2, 1, 3).reshape(b, s, d) @ p["out"]
            h = layer_norm(x, p["g2"], p["b2"])
            x = x + jax.nn.gelu(h @ p["w1"]) @ p["w2"]
        return x.mean()

    d = 128

    def init(k):
        ks = jax.random.split(k, 4)
        return {"qkv": jax.random.normal(ks[0], (d, 3 * d)) * 0.05,
                "out": jax.random.normal(ks[1], (d, d)) * 0.05,
                "w1": jax.random.normal(ks[2], (d, 4 * d)) * 0.05,
                "w2": jax.random.normal(ks[3], (4 * d, d)) * 0.05,
                "g1": jnp.ones(d), "b1": jnp.zeros(d), "g2": jnp.ones(d), "b2": jnp.zeros(d)}

    key = jax.random.PRNGKey(0)
    params = [init(k) for k in jax.random.split(key, 4)]
    return encoder, (params, jax.random.normal(key, (8, 64, d)))


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
