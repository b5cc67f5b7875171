"""WarmupGate, lifespan and metrics in-process (Starlette's TestClient runs the lifespan)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import jitwarm
import jitwarm.asgi
from jitwarm import Warmer, WarmupMetrics

starlette = pytest.importorskip("starlette")
pytest.importorskip("httpx")
from starlette.applications import Starlette  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402


def _app(warmer: Warmer, **gate) -> Starlette:
    async def hello(request):
        return JSONResponse({"hello": "world"})

    app = Starlette(routes=[Route("/hello", hello), Route("/healthz", hello)])
    jitwarm.asgi.install(app, warmer, **gate)
    return app


def _blocked_warmer() -> tuple[Warmer, threading.Event]:
    gate = threading.Event()
    w = Warmer(repeat=0)
    w.add(lambda: gate.wait(20), name="blocked")
    return w, gate


def test_ready_503_until_warm_then_200_and_reject_mode():
    w, gate = _blocked_warmer()
    with TestClient(_app(w, hold="reject", exempt=["/healthz"])) as client:
        r = client.get("/ready")
        assert r.status_code == 503 and r.json()["current"] == "blocked"
        r = client.get("/hello")
        assert r.status_code == 503 and r.json()["detail"] == "warming up"
        assert client.get("/healthz").status_code == 200  # exempt
        gate.set()
        assert w.wait(20)
        assert client.get("/ready").status_code == 200
        assert client.get("/hello").json() == {"hello": "world"}
        st = client.get("/warmup").json()
        assert st["items"][0]["state"] == "warm" and st["ready"]


def test_hold_mode_waits_for_readiness_and_pass_mode_does_not():
    w, gate = _blocked_warmer()
    with TestClient(_app(w, hold="hold", hold_timeout=20)) as client:
        threading.Timer(0.3, gate.set).start()
        r = client.get("/hello")  # held until the warmer is ready
        assert r.status_code == 200 and w.ready
    w2, gate2 = _blocked_warmer()
    with TestClient(_app(w2, hold="hold", hold_timeout=0.2)) as client:
        r = client.get("/hello")
        assert r.status_code == 503  # waited 0.2 s, still warming
        gate2.set()
    w3, gate3 = _blocked_warmer()
    with TestClient(_app(w3)) as client:  # hold=None: requests pass, /ready still gates
        assert client.get("/hello").status_code == 200
        assert client.get("/ready").status_code == 503
        gate3.set()


def test_failed_warmup_is_reported_on_ready_and_requests():
    def bad(x):
        raise ValueError(f"expected rank 2, got rank {x.ndim}")

    w = Warmer()
    w.add(bad, jitwarm.spec((4,)))
    with TestClient(_app(w, hold="hold")) as client:
        assert not w.wait(20)
        r = client.get("/ready")
        assert r.status_code == 503 and r.json()["failed"]
        assert "ValueError: expected rank 2, got rank 1" in r.json()["error"]
        r = client.get("/hello")  # hold mode does not wait on a failed warmer
        assert r.status_code == 503 and r.json()["detail"] == "warmup failed"


def test_warm_requests_replay_through_the_app_and_bad_status_fails():
    seen = []

    async def predict(request):
        body = await request.json()
        seen.append(body)
        if body.get("bad"):
            return JSONResponse({"error": "nope"}, status_code=400)
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/predict", predict, methods=["POST"])])
    w = Warmer(repeat=1)
    reqs = [jitwarm.asgi.WarmRequest("POST", "/predict", json={"n": 1})]
    jitwarm.asgi.install(app, w, hold="reject", warm_requests=reqs)
    with TestClient(app) as client:
        assert w.wait(20)
        assert seen == [{"n": 1}, {"n": 1}]  # first call + 1 repeat, before ready
        assert client.get("/ready").status_code == 200
    app2 = Starlette(routes=[Route("/predict", predict, methods=["POST"])])
    w2 = Warmer()
    jitwarm.asgi.install(app2, w2, warm_requests=[
        jitwarm.asgi.WarmRequest("POST", "/predict", json={"bad": True})])
    with TestClient(app2) as client:
        assert not w2.wait(20)
        assert "answered 400 (expected 200)" in client.get("/ready").json()["error"]


def test_options_are_checked():
    w = Warmer()
    with pytest.raises(jitwarm.UsageError):
        jitwarm.asgi.WarmupGate(lambda *a: None, w, hold="sometimes")
    with pytest.raises(jitwarm.UsageError):
        jitwarm.asgi.lifespan(w, mode="later")
    with pytest.raises(jitwarm.UsageError):
        jitwarm.asgi.lifespan(w, mode="async",
                              warm_requests=[jitwarm.asgi.WarmRequest("GET", "/")])
    with pytest.raises(jitwarm.UsageError):
        jitwarm.asgi.install(object(), w)


def test_metrics_count_compiles_recompiles_and_after_ready_as_dict_and_prometheus():
    numba = pytest.importorskip("numba")

    @numba.njit
    def sq(x):
        return x * x

    w = Warmer(repeat=1)
    w.add(sq, 3.0)
    m = WarmupMetrics(w)
    plain = WarmupMetrics(w, prometheus=False)
    try:
        assert w.run()
        d = m.as_dict()
        assert d["compiles_total"] == 1 and d["compiles_after_ready_total"] == 0
        assert d["ready"] is True and d["warmup_calls_done"] == 2
        assert d["warmup_duration_seconds"] > 0
        sq(np.ones(2))  # a new type after ready: a recompile a request paid for
        d = m.as_dict()
        assert d["compiles_total"] == 2 and d["recompiles_total"] == 1
        assert d["compiles_after_ready_total"] == 1
        assert d["compiles"][0]["function"].endswith("sq")
        body, ctype = m.render()
        text = body.decode()
        assert ctype.startswith("text/plain")
        assert "jitwarm_ready 1.0" in text and "jitwarm_compiles_after_ready_total{" in text
        body, ctype = plain.render()
        assert ctype == "application/json" and b'"compiles_after_ready_total": 1' in body
    finally:
        m.close()
        plain.close()


def test_standalone_endpoints_as_routes():
    w, gate = _blocked_warmer()
    app = Starlette(routes=[Route("/healthy/ready", jitwarm.asgi.ReadyEndpoint(w)),
                            Route("/healthy/status", jitwarm.asgi.StatusEndpoint(w))],
                    lifespan=jitwarm.asgi.lifespan(w))
    with TestClient(app) as client:
        assert client.get("/healthy/ready").status_code == 503
        gate.set()
        assert w.wait(20)
        assert client.get("/healthy/ready").status_code == 200
        assert client.get("/healthy/status").json()["items"][0]["state"] == "warm"
