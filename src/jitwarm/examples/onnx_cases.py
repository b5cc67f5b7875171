"""ONNX Runtime example cases: a small model built in-process with the ``onnx`` helpers.

The model file is written once per machine into a temporary directory (content-addressed
name), so building it costs nothing after the first time and is never timed.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import jitwarm


def mlp_model(path: Path | None = None, hidden: int = 256) -> Path:
    """Write a 3-layer MLP (64 -> hidden -> hidden -> 10, dynamic batch) as ONNX; return its path."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    dims = [64, hidden, hidden, 10]
    inits, nodes = [], []
    prev = "x"
    for i in range(3):
        w = numpy_helper.from_array(
            (rng.standard_normal((dims[i], dims[i + 1])) / np.sqrt(dims[i])).astype(np.float32),
            f"W{i}")
        b = numpy_helper.from_array(np.zeros(dims[i + 1], np.float32), f"B{i}")
        inits += [w, b]
        nodes.append(helper.make_node("Gemm", [prev, f"W{i}", f"B{i}"], [f"g{i}"]))
        prev = f"g{i}"
        if i < 2:
            nodes.append(helper.make_node("Relu", [prev], [f"r{i}"]))
            prev = f"r{i}"
    nodes.append(helper.make_node("Identity", [prev], ["y"]))
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    data = model.SerializeToString()
    if path is None:
        digest = hashlib.sha256(data).hexdigest()[:16]
        path = Path(tempfile.gettempdir()) / f"jitwarm-mlp-{digest}.onnx"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


@jitwarm.case
def mlp():
    """ONNX Runtime (CPU) running a 3-layer MLP, batch 32: session creation + first run."""
    import numpy as np

    x = np.random.default_rng(1).standard_normal((32, 64)).astype(np.float32)
    return str(mlp_model()), {"x": x}
