"""JAX example cases (jax is imported inside the case functions)."""

from __future__ import annotations

import jitwarm


def _predict(jnp):
    def predict(w1, w2, x):
        h = jnp.tanh(x @ w1)
        return jnp.tanh(h @ w2).sum(axis=-1)

    return predict


@jitwarm.case
def mlp():
    """A small jitted two-layer network, batch 32."""
    import jax
    import jax.numpy as jnp

    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(0), 3)
    w1 = jax.random.normal(k1, (64, 128))
    w2 = jax.random.normal(k2, (128, 10))
    x = jax.random.normal(k3, (32, 64))
    f = jax.jit(_predict(jnp))
    jax.block_until_ready((w1, w2, x))
    return f, (w1, w2, x)


@jitwarm.case
def mlp_batches(shapes=((32, 64), (64, 64), (96, 64))):
    """The jitted network with several batch sizes: JAX recompiles for every new shape."""
    import jax
    import jax.numpy as jnp

    k1, k2 = jax.random.split(jax.random.PRNGKey(0), 2)
    w1 = jax.random.normal(k1, (64, 128))
    w2 = jax.random.normal(k2, (128, 10))
    f = jax.jit(_predict(jnp))
    sets = [(w1, w2, jnp.ones(s, jnp.float32)) for s in shapes]
    jax.block_until_ready(sets)
    return f, jitwarm.inputs(*sets)
