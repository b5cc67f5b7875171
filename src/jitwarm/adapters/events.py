"""Compile events: the one record every adapter produces, and interval arithmetic on them.

Adapters translate their framework's own instrumentation (Numba's ``numba:compile``
events, torch's compilation metrics, ``jax.monitoring`` ...) into :class:`CompileEvent`;
the measurement core only ever sees these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class CompileEvent:
    """One compilation (or compile phase) reported by a framework's own hooks."""

    start_ns: int  # time.perf_counter_ns() at start (CLOCK_MONOTONIC, comparable across processes)
    end_ns: int
    name: str  # what was compiled (function qualname, graph name, ...)
    kind: str = "compile"  # "compile" or a phase name such as "trace", "lower", "backend"
    signature: str | None = None  # argument types / shapes that triggered it
    cache: str | None = None  # "hit", "miss" or None when the framework does not say
    reason: str | None = None  # why it (re)compiled, when the framework tells
    depth: int = 0  # nesting level: 0 for a top-level compile, >0 for nested ones
    call_index: int | None = None  # index of the call (series element) it happened in
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_ns(self) -> int:
        return max(0, self.end_ns - self.start_ns)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["duration_ns"] = self.duration_ns
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CompileEvent:
        fields = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**fields)


def union_ns(events: Iterable[CompileEvent], lo: int | None = None, hi: int | None = None) -> int:
    """Total time covered by the events' intervals, nested or overlapping ones counted once.

    ``lo``/``hi`` clip the intervals to a window (e.g. the first call).
    """
    spans = []
    for e in events:
        s, t = e.start_ns, e.end_ns
        if lo is not None:
            s = max(s, lo)
        if hi is not None:
            t = min(t, hi)
        if t > s:
            spans.append((s, t))
    spans.sort()
    total = 0
    cur_s = cur_e = None
    for s, t in spans:
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, t
        else:
            cur_e = max(cur_e, t)
    if cur_e is not None:
        total += cur_e - cur_s
    return total


@dataclass
class Notice:
    """A compile starting or ending, as a framework's hook reported it."""

    framework: str  # the adapter's name: "numba", "jax", "torch" ...
    phase: str  # "start" or "end" of a compile; "span" (a finished phase with its own
    #: start and end, e.g. JAX lowering) and "event" (a framework counter, kind = its name)
    function: str  # what is compiled (qualname, jit(name), frame name)
    thread: int  # threading.get_ident() of the compiling thread
    time_ns: int  # time.perf_counter_ns() at the notice
    kind: str = "compile"  # "compile", or JAX's "trace" / "backend"
    signature: str | None = None  # argument types / abstract values, when known
    reason: str | None = None  # why, when the framework tells
    recompile: bool = False  # the function already had compiled code before
    depth: int = 0  # nesting (Numba compiles callees inside a caller's compile)
    duration_ns: int | None = None  # on "end" notices
    extra: dict[str, Any] = field(default_factory=dict)


def clock_offset_ns() -> int:
    """``time.time_ns() - time.perf_counter_ns()`` now, read between two perf_counter
    readings: converts a framework's wall-clock timestamps (JAX spans, Dynamo's metrics)
    to the perf_counter clock every CompileEvent uses."""
    import time

    a = time.perf_counter_ns()
    w = time.time_ns()
    b = time.perf_counter_ns()
    return w - (a + b) // 2
