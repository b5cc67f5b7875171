"""ASGI integration: readiness and warmup status endpoints, request gating, lifespan start.

Framework-free (plain ASGI), so it works with Starlette, FastAPI or any ASGI app::

    warmer = jitwarm.Warmer()
    warmer.add(predict, jitwarm.spec((8, 16), "float32", kind="jax"))
    app = FastAPI(lifespan=jitwarm.serve.asgi.lifespan(warmer))
    app.add_middleware(jitwarm.serve.asgi.WarmupGate, warmer=warmer, hold="reject")

or in one call: ``jitwarm.serve.asgi.install(app, warmer)``. Without the middleware, mount
:class:`ReadyEndpoint` / :class:`StatusEndpoint` as routes.

:class:`WarmupGate` answers, before the app sees them:

- ``GET /ready``: ``503`` with the warmer's progress as JSON until every item is warm,
  ``200`` after; stays ``503`` with the error when warmup failed (a Kubernetes readiness
  probe keeps the pod out of the Service);
- ``GET /warmup``: ``200`` with the full status (items, per-item timings and compile
  counts, plus compile metrics when a :class:`~jitwarm.serve.metrics.WarmupMetrics` is given);
- ``GET /metrics`` (when ``metrics_path`` is set): Prometheus text, or JSON without
  ``prometheus-client``.

``warm_requests`` (as TF Serving's SavedModel warmup requests) are replayed in-process
through the whole app — middleware, routing, validation, the handler's worker thread —
after the warmer's own items and before it reports ready: a first real request also pays
for the web stack's first-call costs and for the framework's per-thread set-up, which
warming the model function alone does not cover. They bypass the gate (marked in the ASGI
scope, which a network request cannot set).

Other requests before readiness: ``hold=None`` passes them through (they may pay the
compile), ``"reject"`` answers ``503`` with ``Retry-After``, ``"hold"`` waits up to
``hold_timeout`` seconds for readiness, then rejects.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from jitwarm._errors import UsageError

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _send_json(send: Send, status: int, payload: Any,
                     headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps(payload, default=str).encode()
    await _send_body(send, status, body, b"application/json", headers)


async def _send_body(send: Send, status: int, body: bytes, ctype: bytes,
                     headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"), *headers],
    })
    await send({"type": "http.response.body", "body": body})


_WARMUP_KEY = "jitwarm.warmup"


@dataclass(frozen=True)
class WarmRequest:
    """A request replayed through the app during warmup; it must answer ``expect_status``."""

    method: str
    path: str
    json: Any = None
    body: bytes = b""
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    expect_status: int = 200
    timeout: float = 120.0


async def call_app(app: ASGIApp, req: WarmRequest) -> tuple[int, bytes]:
    """Send one HTTP request to an ASGI app in-process; ``(status, body)``."""
    body = json.dumps(req.json).encode() if req.json is not None else req.body
    headers = [(k.lower().encode(), v.encode()) for k, v in req.headers]
    if req.json is not None:
        headers.append((b"content-type", b"application/json"))
    headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1", "method": req.method.upper(), "scheme": "http",
        "path": req.path, "raw_path": req.path.encode(), "root_path": "",
        "query_string": req.query.encode(), "headers": headers,
        "client": ("127.0.0.1", 0), "server": ("127.0.0.1", 0), _WARMUP_KEY: True,
    }
    sent = False
    done = asyncio.Event()
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    await app(scope, receive, send)
    done.set()
    return status, b"".join(chunks)


class _RequestItem:
    """A warmer item that replays a request in the server's event loop (from another thread)."""

    def __init__(self, app: ASGIApp, req: WarmRequest, loop: asyncio.AbstractEventLoop) -> None:
        self.app, self.req, self.loop = app, req, loop
        self.__qualname__ = self.__name__ = f"{req.method.upper()} {req.path}"

    def __call__(self) -> int:
        fut = asyncio.run_coroutine_threadsafe(call_app(self.app, self.req), self.loop)
        status, body = fut.result(self.req.timeout)
        if status != self.req.expect_status:
            text = body[:500].decode(errors="replace")
            raise RuntimeError(f"warmup request {self.__name__} answered {status} "
                               f"(expected {self.req.expect_status}): {text}")
        return status


class WarmupGate:
    """ASGI middleware serving ``/ready``, ``/warmup`` (and ``/metrics``), gating requests."""

    def __init__(self, app: ASGIApp, warmer: Any, *, ready_path: str = "/ready",
                 status_path: str = "/warmup", metrics_path: str | None = None,
                 metrics: Any = None, hold: str | None = None, hold_timeout: float = 30.0,
                 exempt: Iterable[str] = ()) -> None:
        if hold not in (None, "hold", "reject"):
            raise UsageError(f"hold must be None, 'hold' or 'reject', not {hold!r}")
        self.app = app
        self.warmer = warmer
        self.ready_path = ready_path
        self.status_path = status_path
        self.metrics_path = metrics_path
        self.metrics = metrics
        self.hold = hold
        self.hold_timeout = hold_timeout
        self.exempt = set(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if scope.get(_WARMUP_KEY):
            await self.app(scope, receive, send)
            return
        if path == self.ready_path:
            p = self.warmer.progress()
            await _send_json(send, 200 if p["ready"] else 503, p)
            return
        if path == self.status_path:
            status = self.warmer.status()
            if self.metrics is not None:
                status["metrics"] = self.metrics.as_dict()
            await _send_json(send, 200, status)
            return
        if self.metrics_path is not None and path == self.metrics_path:
            if self.metrics is None:
                await _send_json(send, 404, {"detail": "no metrics configured"})
                return
            body, ctype = self.metrics.render()
            await _send_body(send, 200, body, ctype.encode())
            return
        if self.hold is None or path in self.exempt or self.warmer.ready:
            await self.app(scope, receive, send)
            return
        if self.hold == "hold" and not self.warmer.failed:
            await _wait_ready(self.warmer, self.hold_timeout)
            if self.warmer.ready:
                await self.app(scope, receive, send)
                return
        p = self.warmer.progress()
        detail = "warmup failed" if p["failed"] else "warming up"
        await _send_json(send, 503, {"detail": detail, **p},
                         headers=[(b"retry-after", b"1")])


class ReadyEndpoint:
    """The ``/ready`` answer as a standalone ASGI app, for routers:
    ``Route("/ready", ReadyEndpoint(warmer))`` (Starlette treats it as an ASGI endpoint)."""

    def __init__(self, warmer: Any) -> None:
        self.warmer = warmer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        p = self.warmer.progress()
        await _send_json(send, 200 if p["ready"] else 503, p)


class StatusEndpoint:
    """The ``/warmup`` status (and metrics, when given) as a standalone ASGI app."""

    def __init__(self, warmer: Any, metrics: Any = None) -> None:
        self.warmer = warmer
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        status = self.warmer.status()
        if self.metrics is not None:
            status["metrics"] = self.metrics.as_dict()
        await _send_json(send, 200, status)


async def _wait_ready(warmer: Any, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delay = 0.005
    while not warmer.done and loop.time() < deadline:
        await asyncio.sleep(min(delay, max(0.0, deadline - loop.time())))
        delay = min(delay * 2, 0.1)


def lifespan(warmer: Any, *, mode: str = "thread",
             inner: Callable[[Any], Any] | None = None,
             warm_requests: Sequence[WarmRequest] = ()) -> Callable[[Any], Any]:
    """A Starlette/FastAPI ``lifespan=`` that starts ``warmer`` at startup.

    ``mode``: ``"thread"`` (background thread, the server accepts requests at once),
    ``"async"`` (``run_async`` as a task in the event loop: between warmup calls the loop
    serves requests, but each call blocks it) or ``"blocking"`` (warm before the server
    accepts connections, as Triton does). ``inner``: another lifespan to run inside.
    ``warm_requests``: :class:`WarmRequest` s replayed through the app after the warmer's
    items (``"thread"`` and ``"blocking"`` modes). On shutdown an unfinished warmer is
    stopped.
    """
    if mode not in ("thread", "async", "blocking"):
        raise UsageError(f"lifespan mode must be 'thread', 'async' or 'blocking', not {mode!r}")
    if warm_requests and mode == "async":
        raise UsageError("warm_requests need mode='thread' or 'blocking' (in 'async' mode the "
                         "warmer runs in the event loop the requests need)")

    @contextlib.asynccontextmanager
    async def _lifespan(app: Any) -> AsyncIterator[Any]:
        task = None
        loop = asyncio.get_running_loop()
        for req in warm_requests:
            warmer.add(_RequestItem(app, req, loop), name=f"{req.method.upper()} {req.path}")
        if mode == "thread":
            warmer.start()
        elif mode == "async":
            task = asyncio.get_running_loop().create_task(warmer.run_async())
        else:
            await asyncio.get_running_loop().run_in_executor(None, warmer.run)
        try:
            if inner is not None:
                async with inner(app) as state:
                    yield state
            else:
                yield None
        finally:
            warmer.stop(timeout=0)
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    return _lifespan


def install(app: Any, warmer: Any, *, mode: str = "thread", metrics: Any = None,
            metrics_path: str | None = "/metrics", warm_requests: Sequence[WarmRequest] = (),
            **gate_options: Any) -> Any:
    """Add :class:`WarmupGate` to a Starlette/FastAPI ``app`` and start ``warmer`` with it.

    Wraps the app's existing lifespan (``app.router.lifespan_context``). Returns the app.
    """
    router = getattr(app, "router", None)
    if router is None or not hasattr(router, "lifespan_context"):
        raise UsageError("install() needs a Starlette/FastAPI app; for other ASGI apps use "
                         "WarmupGate and lifespan() directly")
    old = router.lifespan_context
    router.lifespan_context = lifespan(warmer, mode=mode, inner=old,
                                       warm_requests=warm_requests)
    app.add_middleware(WarmupGate, warmer=warmer, metrics=metrics,
                       metrics_path=metrics_path if metrics is not None else None,
                       **gate_options)
    return app
