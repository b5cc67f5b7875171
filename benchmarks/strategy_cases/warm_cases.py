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


#: the ONNX encoder's shape: (layers, width, heads, sequence, batch)
_ENCODER = (12, 128, 4, 64, 1)
#: bumped whenever _encoder_onnx builds a different graph (the file name holds it)
_ENCODER_VERSION = 1


def _encoder_onnx(layers: int, d: int, heads: int, seq: int) -> bytes:
    """A transformer encoder as an exporter writes it: LayerNorm and GELU decomposed into
    primitive ops (ReduceMean/Sub/Pow/Sqrt/Div, Erf/Mul/Add), attention as MatMul, Reshape,
    Transpose, Softmax; ONNX Runtime's default graph optimisation fuses them at session
    creation, which is what an optimised or ORT-format artifact saves."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits, nodes = [], []

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def node(op, ins, **attrs):
        out = f"t{len(nodes)}"
        nodes.append(helper.make_node(op, ins, [out], **attrs))
        return out

    def dense(x, name, din, dout):
        w = const(f"{name}_w", (rng.standard_normal((din, dout)) / np.sqrt(din)).astype(np.float32))
        return node("Add", [node("MatMul", [x, w]), const(f"{name}_b", np.zeros(dout, np.float32))])

    def layer_norm(x, name):
        mu = node("ReduceMean", [x], axes=[-1])
        c = node("Sub", [x, mu])
        var = node("ReduceMean", [node("Pow", [c, "two"])], axes=[-1])
        y = node("Div", [c, node("Sqrt", [node("Add", [var, "eps"])])])
        return node("Add", [node("Mul", [y, const(f"{name}_g", np.ones(d, np.float32))]),
                            const(f"{name}_b", np.zeros(d, np.float32))])

    def gelu(x):
        erf = node("Erf", [node("Mul", [x, "rsqrt2"])])
        return node("Mul", [node("Mul", [x, node("Add", [erf, "one"])]), "half"])

    def heads_of(x):
        return node("Transpose", [node("Reshape", [x, "split_heads"])], perm=[0, 2, 1, 3])

    for name, value in (("two", 2.0), ("eps", 1e-5), ("half", 0.5), ("one", 1.0),
                        ("rsqrt2", 1 / np.sqrt(2)), ("scale", 1 / np.sqrt(d // heads))):
        const(name, np.array(value, np.float32))
    const("split_heads", np.array([0, 0, heads, d // heads], np.int64))
    const("merge_heads", np.array([0, 0, d], np.int64))
    x = "x"
    for i in range(layers):
        h = layer_norm(x, f"l{i}_ln1")
        q, k, v = (heads_of(dense(h, f"l{i}_{n}", d, d)) for n in "qkv")
        scores = node("Mul", [node("MatMul", [q, node("Transpose", [k], perm=[0, 1, 3, 2])]),
                              "scale"])
        att = node("MatMul", [node("Softmax", [scores], axis=-1), v])
        merged = node("Reshape", [node("Transpose", [att], perm=[0, 2, 1, 3]), "merge_heads"])
        x = node("Add", [x, dense(merged, f"l{i}_out", d, d)])
        h = gelu(dense(layer_norm(x, f"l{i}_ln2"), f"l{i}_ff1", d, 4 * d))
        x = node("Add", [x, dense(h, f"l{i}_ff2", 4 * d, d)])
    nodes.append(helper.make_node("ReduceMean", [x], ["y"], axes=[-1]))
    graph = helper.make_graph(
        nodes, "encoder", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", seq, d])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["B", seq, 1])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def _encoder_path() -> str:
    """The encoder's model file, written once into a folder only this user can write (so a
    measured process reads it without importing ``onnx``, which costs ~1 s)."""
    import os
    import tempfile
    from pathlib import Path

    layers, d, heads, seq, _ = _ENCODER
    folder = Path(tempfile.gettempdir()) / f"jitwarm-bench-models-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    st = folder.lstat()
    if folder.is_symlink() or st.st_uid != os.getuid() or st.st_mode & 0o022:
        raise RuntimeError(f"{folder} is not a folder only this user can write")
    path = folder / f"encoder-v{_ENCODER_VERSION}-l{layers}-d{d}-h{heads}-s{seq}.onnx"
    if not path.is_file():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(_encoder_onnx(layers, d, heads, seq))
        tmp.replace(path)
    return str(path)


@jitwarm.case
def onnx_encoder():
    """ONNX Runtime (CPU): a 12-layer transformer encoder (width 128, 4 heads, ~9 MB of
    weights, 601 nodes that ORT's default optimisation fuses to 373), one request of 64
    tokens: session creation (graph optimisation) + first run."""
    import numpy as np

    *_, seq, batch = _ENCODER
    x = np.random.default_rng(1).standard_normal((batch, seq, _ENCODER[1])).astype(np.float32)
    return _encoder_path(), {"x": x}
