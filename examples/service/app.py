"""Example service: FastAPI + a JAX model that reports ready only once it is warm.

    uvicorn app:app --app-dir examples/service --host 127.0.0.1 --port 8000

- ``GET /ready``: 503 with warmup progress until every bucket of the model is compiled and
  has run ``repeat`` more times, 200 after (a Kubernetes readiness probe, see
  docs/serving.md); 503 with the error when warmup failed.
- ``GET /warmup``: per-item timings and compile counts, plus compile metrics
  (``compiles_after_ready_total`` counts compiles a request paid for).
- ``GET /metrics``: Prometheus text (JSON without prometheus-client).
- ``POST /predict`` ``{"inputs": [[16 floats], ...]}`` (1 to 64 rows): ``{"outputs",
  "compute_ns"}``. Batches are padded to the buckets 1, 2, 4, ..., 64 by
  ``jitwarm.pin_shapes``, so any batch size runs a shape the warmer compiled.
  ``?pin=0`` calls the jitted model unpadded (each new batch size compiles: the spike
  pinning avoids).

Environment: ``JITWARM_EXAMPLE_WARMUP`` = ``on`` (default), ``off`` (no warmup: the first
request of each bucket compiles) or ``fail`` (warmup inputs of the wrong rank: warmup
fails, ``/ready`` stays 503 with the model's own error).
"""

from __future__ import annotations

import os
import time

import jax
import jax.numpy as jnp
import numpy as np
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

import jitwarm
import jitwarm.asgi

FEATURES = 16
HIDDEN = 64
CLASSES = 4
BUCKETS = [1, 2, 4, 8, 16, 32, 64]
MODE = os.environ.get("JITWARM_EXAMPLE_WARMUP", "on")

_rng = np.random.default_rng(0)
PARAMS = [
    (jnp.asarray(_rng.standard_normal((a, b)) / np.sqrt(a), dtype=jnp.float32),
     jnp.zeros((b,), dtype=jnp.float32))
    for a, b in ((FEATURES, HIDDEN), (HIDDEN, HIDDEN), (HIDDEN, CLASSES))
]


@jax.jit
def mlp(params, x):
    for w, b in params[:-1]:
        x = jax.nn.gelu(x @ w + b)
    w, b = params[-1]
    return jax.nn.softmax(x @ w + b, axis=-1)


@jitwarm.pin_shapes(buckets={0: BUCKETS}, args=("x",))
def predict(x):
    return mlp(PARAMS, x).block_until_ready()


def predict_unpinned(x):
    return mlp(PARAMS, x).block_until_ready()


warmer = jitwarm.Warmer(repeat=3, name="mlp")
if MODE != "off":
    for size in BUCKETS:
        shape = (size, FEATURES) if MODE != "fail" else (size,)  # "fail": wrong rank
        warmer.add(predict, jitwarm.spec(shape, "float32", fill="random"),
                   name=f"predict[batch={size}]")
metrics = jitwarm.WarmupMetrics(warmer)

app = FastAPI(title="jitwarm example service")
# after the model's buckets, one request per bucket through the whole stack (routing,
# validation, the worker thread: JAX's fast dispatch path is per thread), as TF Serving's
# warmup requests do; sizes below the bucket, so that padding and slicing run too
WARM_REQUESTS = [jitwarm.asgi.WarmRequest("POST", "/predict",
                                          json={"inputs": [[0.0] * FEATURES] * (size // 2 + 1)})
                 for size in BUCKETS]
jitwarm.asgi.install(app, warmer, metrics=metrics, hold="reject",
                     warm_requests=WARM_REQUESTS if MODE != "off" else ())


class Batch(BaseModel):
    inputs: list[list[float]]


@app.post("/predict")
def predict_endpoint(batch: Batch, pin: int = 1) -> dict:
    x = np.asarray(batch.inputs, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != FEATURES or not 1 <= x.shape[0] <= BUCKETS[-1]:
        raise HTTPException(422, f"inputs must be 1..{BUCKETS[-1]} rows of {FEATURES} floats")
    t0 = time.perf_counter_ns()
    y = predict(x) if pin else predict_unpinned(x)
    compute_ns = time.perf_counter_ns() - t0
    return {"outputs": np.asarray(y).tolist(), "compute_ns": compute_ns}
