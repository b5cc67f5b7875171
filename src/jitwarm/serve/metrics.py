"""Serving metrics: compiles, recompiles, compiles after readiness, warmup duration, readiness.

:class:`WarmupMetrics` counts every compile the supported frameworks report through their
own hooks (:mod:`jitwarm.adapters.hub`), in any thread, and reads warmup progress from a
:class:`~jitwarm.Warmer`. ``as_dict()`` always works; with ``prometheus-client`` installed
``registry`` exposes the same figures as Prometheus metrics (own registry by default, so
several instances never clash) and ``render()`` gives the text exposition format.

- ``jitwarm_compiles_total{framework,function}``: every top-level compile (a JAX
  trace → compile chain counts once, at its XLA compile).
- ``jitwarm_recompiles_total{framework,function}``: compiles of a function that had
  compiled before (new types/shapes, torch guard failures).
- ``jitwarm_compiles_after_ready_total{framework,function}``: compiles once the warmer was
  ready — each one a latency spike a request paid for; should stay 0.
- ``jitwarm_warmup_duration_seconds``, ``jitwarm_ready`` (0/1), ``jitwarm_warmup_failed``
  (0/1), ``jitwarm_warmup_calls_done`` / ``_total``.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

from jitwarm.adapters import hub as _hooks


class WarmupMetrics:
    """Compile counters over every hooked framework plus a warmer's readiness."""

    def __init__(self, warmer: Any = None, *, registry: Any = None,
                 prometheus: bool | None = None) -> None:
        self.warmer = warmer
        self._lock = threading.Lock()
        self.compiles: Counter[tuple[str, str]] = Counter()
        self.recompiles: Counter[tuple[str, str]] = Counter()
        self.after_ready: Counter[tuple[str, str]] = Counter()
        self.compile_seconds: Counter[tuple[str, str]] = Counter()
        self._cb = _hooks.subscribe(self._on_notice)
        self.registry = None
        if prometheus is not False:
            try:
                self.registry = self._make_registry(registry)
            except ImportError:
                if prometheus:
                    raise

    def refresh_hooks(self) -> None:
        """Hook frameworks imported after this object was created."""
        _hooks.install()

    def close(self) -> None:
        _hooks.unsubscribe(self._cb)

    def _on_notice(self, n: _hooks.Notice) -> None:
        if n.phase != "end" or n.depth > 0:
            return
        if n.extra.get("continued"):
            return  # a first phase (JAX's trace): counted at the notice that continues it
        if n.extra.get("failed"):
            return
        key = (n.framework, n.function)
        ready = bool(self.warmer is not None and self.warmer.ready)
        with self._lock:
            self.compiles[key] += 1
            self.compile_seconds[key] += (n.duration_ns or 0) / 1e9
            if n.recompile:
                self.recompiles[key] += 1
            if ready:
                self.after_ready[key] += 1

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            d: dict[str, Any] = {
                "compiles_total": sum(self.compiles.values()),
                "recompiles_total": sum(self.recompiles.values()),
                "compiles_after_ready_total": sum(self.after_ready.values()),
                "compile_seconds_total": sum(self.compile_seconds.values()),
                "compiles": [
                    {"framework": f, "function": fn, "count": c,
                     "recompiles": self.recompiles[(f, fn)],
                     "after_ready": self.after_ready[(f, fn)],
                     "seconds": self.compile_seconds[(f, fn)]}
                    for (f, fn), c in sorted(self.compiles.items())
                ],
            }
        if self.warmer is not None:
            p = self.warmer.progress()
            d.update({
                "ready": p["ready"],
                "warmup_failed": p["failed"],
                "warmup_duration_seconds": p["duration_s"],
                "warmup_calls_done": p["calls_done"],
                "warmup_calls_total": p["calls_total"],
            })
        return d

    def render(self) -> tuple[bytes, str]:
        """``(body, content type)``: Prometheus text format, or JSON without prometheus-client."""
        if self.registry is not None:
            from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        return json.dumps(self.as_dict()).encode(), "application/json"

    def _make_registry(self, registry: Any) -> Any:
        from prometheus_client.core import (
            CollectorRegistry,
            CounterMetricFamily,
            GaugeMetricFamily,
        )

        metrics = self

        class _Collector:
            def collect(self) -> Any:
                with metrics._lock:
                    groups = [
                        ("jitwarm_compiles", "Compiles reported by framework hooks",
                         dict(metrics.compiles)),
                        ("jitwarm_recompiles", "Compiles of already-compiled functions",
                         dict(metrics.recompiles)),
                        ("jitwarm_compiles_after_ready", "Compiles after warmup was ready",
                         dict(metrics.after_ready)),
                    ]
                    secs = dict(metrics.compile_seconds)
                for name, doc, values in groups:
                    c = CounterMetricFamily(name, doc, labels=["framework", "function"])
                    for (f, fn), v in sorted(values.items()):
                        c.add_metric([f, fn], v)
                    yield c
                c = CounterMetricFamily("jitwarm_compile_seconds", "Time spent compiling",
                                        labels=["framework", "function"])
                for (f, fn), v in sorted(secs.items()):
                    c.add_metric([f, fn], v)
                yield c
                w = metrics.warmer
                if w is not None:
                    p = w.progress()
                    for name, doc, v in (
                        ("jitwarm_ready", "1 once every warmup item is warm", p["ready"]),
                        ("jitwarm_warmup_failed", "1 if a warmup item failed", p["failed"]),
                        ("jitwarm_warmup_duration_seconds", "Warmup wall time so far",
                         p["duration_s"] or 0.0),
                        ("jitwarm_warmup_calls_done", "Warmup calls made", p["calls_done"]),
                        ("jitwarm_warmup_calls_total", "Warmup calls planned",
                         p["calls_total"]),
                    ):
                        yield GaugeMetricFamily(name, doc, value=float(v))

        reg = registry if registry is not None else CollectorRegistry(auto_describe=True)
        reg.register(_Collector())
        return reg
