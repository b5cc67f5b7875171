"""The example service over real HTTP: uvicorn on 127.0.0.1, an ephemeral port, a subprocess.

/ready is 503 while the JAX model warms and 200 after; requests after readiness trigger no
compile (counted by the service from JAX's own monitoring events) and are as fast as warm
ones; a warmup that fails keeps /ready at 503 with the model's own error.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")
pytest.importorskip("fastapi")
pytest.importorskip("jax")

REPO = Path(__file__).resolve().parents[2]
SERVICE = REPO / "examples" / "service"
FEATURES = 16
pytestmark = pytest.mark.slow


class Server:
    """``uvicorn app:app --port 0`` in its own session; the port is read from its log."""

    def __init__(self, mode: str) -> None:
        env = os.environ.copy()
        env["JITWARM_EXAMPLE_WARMUP"] = mode
        env.setdefault("JAX_PLATFORMS", "cpu")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app:app", "--app-dir", str(SERVICE),
             "--host", "127.0.0.1", "--port", "0", "--log-level", "info"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
            start_new_session=True,
        )
        self.log: list[str] = []
        self.port: int | None = None
        self._found = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)
            m = re.search(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                self._found.set()
        self._found.set()  # process ended

    def url(self, timeout: float = 90) -> str:
        self._found.wait(timeout)
        if self.port is None:
            raise AssertionError("server did not start:\n" + "".join(self.log))
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def server():
    started: list[Server] = []

    def start(mode: str) -> Server:
        s = Server(mode)
        started.append(s)
        return s

    yield start
    for s in started:
        s.kill()


def _rows(n: int, seed: int) -> list[list[float]]:
    return np.random.default_rng(seed).standard_normal((n, FEATURES)).round(4).tolist()


def _predict(client, n: int, seed: int, pin: int = 1) -> tuple[float, dict]:
    t0 = time.perf_counter()
    r = client.post("/predict", params={"pin": pin}, json={"inputs": _rows(n, seed)})
    dt = time.perf_counter() - t0
    assert r.status_code == 200, r.text
    body = r.json()
    out = np.asarray(body["outputs"])
    assert out.shape == (n, 4)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-4)  # softmax rows
    return dt, body


def test_ready_after_warmup_and_requests_do_not_compile(server):
    srv = server("on")
    with httpx.Client(base_url=srv.url(), timeout=30) as client:
        first = client.get("/ready")
        assert first.status_code == 503, first.text
        assert first.json()["ready"] is False and first.json()["items_total"] == 14
        early = client.post("/predict", json={"inputs": _rows(2, 0)})
        assert early.status_code == 503 and early.json()["detail"] == "warming up"
        assert early.headers["retry-after"] == "1"
        statuses, fractions = [], []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            r = client.get("/ready")
            statuses.append(r.status_code)
            fractions.append(r.json()["fraction"])
            if r.status_code == 200:
                break
            assert r.json()["failed"] is False, r.text
            time.sleep(0.05)
        assert statuses[-1] == 200, f"not ready in time: {statuses[-5:]}"
        assert fractions == sorted(fractions) and fractions[-1] == 1.0

        status = client.get("/warmup").json()
        m0 = status["metrics"]
        assert status["ready"] and all(i["state"] == "warm" for i in status["items"])
        models = [i for i in status["items"] if i["name"].startswith("predict[")]
        assert len(models) == 7 and all(i["compiles"] == 1 for i in models)  # one per bucket
        assert status["items"][-1]["name"] == "POST /predict"  # replayed through the app
        assert m0["compiles_total"] >= 7 and m0["compiles_after_ready_total"] == 0

        # first requests after ready: sizes never seen (padded to warmed buckets), each
        # followed by warm requests of the same size, its reference under the same load
        sizes = [3, 5, 7, 12, 20, 33, 50, 64]
        first, warm = [], []
        for n in sizes:
            first.append(_predict(client, n, seed=n))
            warm.append([_predict(client, n, seed=100 * n + i) for i in range(9)])
        m1 = client.get("/warmup").json()["metrics"]
        assert m1["compiles_after_ready_total"] == 0, m1
        assert m1["compiles_total"] == m0["compiles_total"]
        # end-to-end latency: the first requests' median within 2x the warm median — or, as
        # this shared 2-core machine is sometimes loaded, within the warm requests' own 95th
        # percentile. (No compile after ready is the counters' check above; one first request
        # at 4x the warm median was seen from scheduler noise alone, so single requests are
        # not held to it. A compile costs ~100x the median here: the cold check below.)
        pooled = sorted(r[0] for ws in warm for r in ws)
        p95 = pooled[int(0.95 * len(pooled))]
        firsts = [f[0] for f in first]
        assert statistics.median(firsts) <= max(2 * statistics.median(pooled), p95), (
            f"first requests slower than warm: {[round(t * 1e3, 2) for t in firsts]} ms vs "
            f"warm median {statistics.median(pooled) * 1e3:.2f} ms")
        # the model call alone (compute_ns, measured in the server, free of HTTP noise)
        f_cmp = [f[1]["compute_ns"] for f in first]
        w_cmp = [r[1]["compute_ns"] for ws in warm for r in ws]
        assert statistics.median(f_cmp) <= 2 * statistics.median(w_cmp)
        limit = max(2 * statistics.median(pooled), p95)

        # the check can fail: unpinned calls with a new batch size compile on the request
        t_cold, _ = _predict(client, 13, seed=1, pin=0)
        m2 = client.get("/warmup").json()["metrics"]
        assert m2["compiles_after_ready_total"] >= 1
        assert t_cold > limit
        prom = client.get("/metrics")
        assert prom.status_code == 200
        assert "jitwarm_ready 1.0" in prom.text
        assert 'jitwarm_compiles_after_ready_total{framework="jax",function="jit(mlp)"}' in prom.text


def test_failed_warmup_keeps_ready_503_with_the_error(server):
    srv = server("fail")
    with httpx.Client(base_url=srv.url(), timeout=30) as client:
        deadline = time.monotonic() + 120
        body = None
        while time.monotonic() < deadline:
            r = client.get("/ready")
            assert r.status_code == 503, r.text
            body = r.json()
            if body["failed"]:
                break
            time.sleep(0.05)
        assert body is not None and body["failed"] and not body["ready"]
        # the model's own error (JAX: a rank-1 input cannot be matmul'ed with (16, 64))
        assert "predict[batch=1]" in body["error"] and "TypeError" in body["error"]
        for _ in range(10):  # and it stays that way
            assert client.get("/ready").status_code == 503
            time.sleep(0.02)
        r = client.post("/predict", json={"inputs": _rows(2, 0)})
        assert r.status_code == 503 and r.json()["detail"] == "warmup failed"
        items = client.get("/warmup").json()["items"]
        assert items[0]["state"] == "failed" and items[0]["error_type"] == "TypeError"
        assert all(i["state"] == "cancelled" for i in items[1:])
