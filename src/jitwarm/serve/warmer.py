"""Background warmup with readiness, after Triton's ``model_warmup`` and TF Serving's warmup requests.

Register functions with warmup inputs — explicit arguments, :func:`spec` placeholders
(zeros / random / a ``.npy`` file, built as NumPy and converted to torch or JAX on request)
or a TOML plan of cases — then warm them:

- ``warmer.start()``: in a background thread (frameworks compile mostly outside the GIL);
- ``await warmer.run_async()``: in the event loop, one call at a time, yielding between
  calls — for code that holds the GIL, so the loop still answers ``/ready`` in between;
- ``for step in warmer.steps(): ...``: the same sequence, driven by the caller;
- ``warmer.run()``: blocking.

Each item is called once (the first, compiling call) and then ``repeat`` more times
(autotuning, CUDA-graph capture and lazy initialisation happen after the first call);
it is *warm* when all of them returned. The warmer is ``ready`` only when every item is
warm; one failing item makes it ``failed`` (with the item's own error) and never ready.
Compile events of each item come from the framework adapter's recorder
(``adapter_for(fn).recorder()``), or — for a callable no adapter recognises, such as a
Python function calling a jitted model — from every framework's hooks, restricted to the
warming thread (:class:`jitwarm.adapters.hub.HubRecorder`).

Warming concurrently with real requests is safe as far as the frameworks are: Numba,
JAX and torch serialise their own compiles; the warmer holds no lock while calling.
"""

from __future__ import annotations

import asyncio
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jitwarm._errors import UsageError
from jitwarm.adapters.events import CompileEvent


def _kinds() -> dict[str, Any]:
    from jitwarm.adapters import array_kinds

    return array_kinds()


_FILLS = ("zeros", "ones", "random", "file")


@dataclass(frozen=True)
class Spec:
    """A warmup input built when the item warms: NumPy array, converted to ``kind``."""

    shape: tuple[int, ...]
    dtype: str = "float32"
    fill: str = "zeros"  # zeros | ones | random | file
    kind: str = "numpy"  # numpy | torch | jax
    file: str | None = None  # .npy path for fill="file"
    seed: int = 0
    device: str | None = None  # torch device ("cuda:0") or JAX platform ("cpu", "gpu")

    def build(self) -> Any:
        import numpy as np

        if self.fill == "file":
            assert self.file is not None
            arr = np.load(self.file, allow_pickle=False)
            if self.shape and tuple(arr.shape) != tuple(self.shape):
                raise ValueError(f"{self.file}: shape {arr.shape}, spec says {self.shape}")
            if self.dtype and str(arr.dtype) != np.dtype(self.dtype).name:
                arr = arr.astype(self.dtype)
        elif self.fill == "random":
            rng = np.random.default_rng(self.seed)
            dt = np.dtype(self.dtype)
            if dt.kind == "f" or dt.kind == "c":
                arr = rng.standard_normal(self.shape).astype(dt)
            elif dt.kind in "iu":
                arr = rng.integers(0, 10, size=self.shape).astype(dt)
            elif dt.kind == "b":
                arr = rng.integers(0, 2, size=self.shape).astype(bool)
            else:
                raise ValueError(f"fill='random' does not support dtype {dt}")
        else:
            maker = np.zeros if self.fill == "zeros" else np.ones
            arr = maker(self.shape, dtype=self.dtype)
        if self.kind == "numpy":
            return arr
        return _kinds()[self.kind].from_numpy(arr, self.device)


def spec(shape: Sequence[int] | int, dtype: str = "float32", *, fill: str = "zeros",
         kind: str = "numpy", file: str | Path | None = None, seed: int = 0,
         device: str | None = None) -> Spec:
    """A warmup input: ``spec((8, 16), "float32", fill="random", kind="torch")``.

    ``fill``: ``"zeros"``, ``"ones"``, ``"random"`` (seeded) or ``"file"`` (``file=`` a
    ``.npy``; ``shape=()`` accepts the file's shape, another shape must match it; its
    values are cast to ``dtype``). ``kind``: ``"numpy"``, ``"torch"``,
    ``"jax"``. Checked here; built (and its framework imported) when the item warms.
    """
    import numpy as np

    shp = (shape,) if isinstance(shape, int) else tuple(shape)
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shp):
        raise UsageError(f"spec: shape must be non-negative ints, got {shape!r}")
    if file is not None and fill == "zeros":
        fill = "file"
    if fill not in _FILLS:
        raise UsageError(f"spec: fill must be one of {_FILLS}, not {fill!r}")
    if fill == "file" and file is None:
        raise UsageError("spec: fill='file' needs file='path.npy'")
    if kind not in _kinds():
        raise UsageError(f"spec: kind must be one of {tuple(_kinds())}, not {kind!r}")
    try:
        np.dtype(dtype)
    except TypeError:
        raise UsageError(f"spec: unknown dtype {dtype!r}") from None
    return Spec(shp, str(dtype), fill, kind, str(file) if file is not None else None, seed,
                device)


def _materialise(value: Any) -> Any:
    if isinstance(value, Spec):
        return value.build()
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_materialise(v) for v in value)
    if isinstance(value, list):
        return [_materialise(v) for v in value]
    if isinstance(value, dict):
        return {k: _materialise(v) for k, v in value.items()}
    return value


@dataclass
class WarmItem:
    """One function and its warmup inputs, and what warming it did."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    repeat: int
    name: str
    state: str = "pending"  # pending | running | warm | failed | cancelled
    calls_done: int = 0
    first_call_ns: int | None = None
    repeat_ns: list[int] = field(default_factory=list)
    started_ns: int | None = None
    finished_ns: int | None = None
    events: list[CompileEvent] = field(default_factory=list)
    event_source: str | None = None
    error: str | None = None
    error_type: str | None = None
    traceback: str | None = None

    @property
    def compiles(self) -> int:
        return sum(1 for e in self.events if not e.depth and e.kind in ("compile", "backend"))

    @property
    def warm_median_ns(self) -> int | None:
        if not self.repeat_ns:
            return None
        s = sorted(self.repeat_ns)
        return s[len(s) // 2]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "calls_done": self.calls_done,
            "calls_total": 1 + self.repeat,
            "first_call_ns": self.first_call_ns,
            "repeat_ns": list(self.repeat_ns),
            "warm_median_ns": self.warm_median_ns,
            "duration_ns": (self.finished_ns - self.started_ns
                            if self.started_ns is not None and self.finished_ns is not None
                            else None),
            "compiles": self.compiles,
            "compile_ns": sum(e.duration_ns for e in self.events
                              if not e.depth and e.kind in ("compile", "backend")),
            "event_source": self.event_source,
            "events": [{"name": e.name, "kind": e.kind, "signature": e.signature,
                        "reason": e.reason, "duration_ns": e.duration_ns}
                       for e in self.events if not e.depth],
            "error": self.error,
            "error_type": self.error_type,
        }


@dataclass
class Step:
    """One call made by the warmer (yielded by :meth:`Warmer.steps`)."""

    item: WarmItem
    call: int  # 0 is the first (compiling) call
    elapsed_ns: int
    ok: bool


class Warmer:
    """Warm registered functions; ``ready`` once every one is warm. Thread-safe."""

    def __init__(self, *, repeat: int = 3, name: str = "warmer") -> None:
        if repeat < 0:
            raise UsageError("repeat must be >= 0")
        self.repeat = repeat
        self.name = name
        self.items: list[WarmItem] = []
        self._lock = threading.RLock()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = False
        self._stop = False
        self._t0: int | None = None
        self._t1: int | None = None
        self._error: BaseException | None = None
        self._failed_item: WarmItem | None = None
        self._listeners: list[Callable[[Warmer], None]] = []

    # -- registration ------------------------------------------------------------------
    def add(self, fn: Callable[..., Any], *args: Any, repeat: int | None = None,
            name: str | None = None, **kwargs: Any) -> WarmItem:
        """Warm ``fn(*args, **kwargs)``; arguments may be :func:`spec` placeholders."""
        if not callable(fn):
            raise UsageError(f"warmer.add: {fn!r} is not callable")
        rep = self.repeat if repeat is None else repeat
        if rep < 0:
            raise UsageError("repeat must be >= 0")
        label = name or getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) \
            or type(fn).__name__
        item = WarmItem(fn, tuple(args), dict(kwargs), rep, str(label))
        with self._lock:
            if self._started:
                raise UsageError("warmer.add: add items before starting the warmer")
            self.items.append(item)
        return item

    def add_plan(self, path: str | Path) -> list[WarmItem]:
        """Add the cases of a TOML warmup plan (the format ``jitwarm prewarm`` reads).

        ``[[case]]`` tables with ``target = "file.py::name"`` (relative to the plan's
        folder); each case is built now and returns ``(fn, args[, kwargs])``. Optional keys:
        ``name``, ``repeat`` and ``inputs`` (further inputs to warm, e.g. ``{batch = 32}``
        or ``{shape = [8, 16], dtype = "float32"}``; see :mod:`jitwarm.caches.prewarm`): each input
        is one more item, named ``name`` + the input.
        """
        import tomllib

        from jitwarm.caches.prewarm import load_plan
        from jitwarm.caches.prewarm_worker import apply_input
        from jitwarm.cases.targets import build, load_case

        plan = load_plan(path)
        raw = tomllib.loads(plan.text).get("case", [])
        added = []
        for entry, pc in zip(raw, plan.cases, strict=True):
            repeat = entry.get("repeat")
            if repeat is not None and (isinstance(repeat, bool) or not isinstance(repeat, int)):
                raise UsageError(f"{plan.path}: [[case]] {pc.raw_target}: repeat must be an int")
            built = build(load_case(pc.target), pc.target.name)
            name = pc.name or pc.target.name
            added.append(self.add(built.fn, *built.args, repeat=repeat, name=name,
                                  **built.kwargs))
            for inp in pc.inputs:
                args, label = apply_input(built.args, inp)
                added.append(self.add(built.fn, *args, repeat=repeat, name=f"{name} {label}",
                                      **built.kwargs))
        return added

    # -- state -------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        with self._lock:
            return (self._done.is_set() and self._error is None and not self._stop
                    and all(i.state == "warm" for i in self.items))

    @property
    def failed(self) -> bool:
        with self._lock:
            return self._error is not None

    @property
    def error(self) -> BaseException | None:
        return self._error

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def duration_ns(self) -> int | None:
        if self._t0 is None:
            return None
        end = self._t1 if self._t1 is not None else time.perf_counter_ns()
        return end - self._t0

    def wait(self, timeout: float | None = None) -> bool:
        """Block until warmup ends (or ``timeout`` s); whether the warmer is ready."""
        self._done.wait(timeout)
        return self.ready

    def on_change(self, callback: Callable[[Warmer], None]) -> None:
        """Call ``callback(warmer)`` after every warmup call and at the end (any thread)."""
        self._listeners.append(callback)

    def progress(self) -> dict[str, Any]:
        with self._lock:
            total = sum(1 + i.repeat for i in self.items)
            done = sum(i.calls_done for i in self.items)
            failed = self._failed_item
            return {
                "ready": self.ready,
                "failed": self._error is not None,
                "done": self._done.is_set(),
                "started": self._started,
                "items_total": len(self.items),
                "items_warm": sum(1 for i in self.items if i.state == "warm"),
                "calls_total": total,
                "calls_done": done,
                "fraction": (done / total) if total else (1.0 if self._done.is_set() else 0.0),
                "duration_s": (self.duration_ns / 1e9) if self.duration_ns is not None else None,
                "current": next((i.name for i in self.items if i.state == "running"), None),
                "error": (f"{failed.name}: {failed.error_type}: {failed.error}"
                          if failed is not None else
                          (repr(self._error) if self._error is not None else None)),
            }

    def status(self) -> dict[str, Any]:
        """Progress plus every item's timings and compile counts (JSON-ready)."""
        out = self.progress()
        with self._lock:
            out["items"] = [i.to_dict() for i in self.items]
        out["compiles"] = sum(i["compiles"] for i in out["items"])
        return out

    # -- running ---------------------------------------------------------------------
    def _begin(self) -> None:
        with self._lock:
            if self._started:
                raise UsageError("this warmer has already been started")
            self._started = True
            self._t0 = time.perf_counter_ns()
        from jitwarm.adapters import hub as _hooks

        _hooks.install()  # frameworks imported since the hub last looked

    def _finish(self) -> None:
        with self._lock:
            self._t1 = time.perf_counter_ns()
            for i in self.items:
                if i.state in ("pending", "running"):
                    i.state = "cancelled"
        self._done.set()
        self._notify()

    def _notify(self) -> None:
        for cb in list(self._listeners):
            try:
                cb(self)
            except Exception:  # a listener must not break warmup
                pass

    def _recorder(self, item: WarmItem) -> Any:
        from jitwarm import adapters
        from jitwarm.adapters.hub import HubRecorder

        adapter = adapters.adapter_for(item.fn)
        if adapter is not adapters.FALLBACK:
            item.event_source = adapter.name
            return adapter.recorder()
        item.event_source = "hooks"
        return HubRecorder(thread=threading.get_ident())

    def _sync(self, item: WarmItem, result: Any) -> None:
        from jitwarm import adapters

        adapter = adapters.adapter_for(item.fn)
        if adapter.needs_sync:
            adapter.sync(result)
        # a plain wrapper returning framework arrays: wait for them too
        block = getattr(result, "block_until_ready", None)
        if callable(block):
            block()

    def _item_steps(self, item: WarmItem) -> Iterator[Step]:
        with self._lock:
            item.state = "running"
            item.started_ns = time.perf_counter_ns()
        rec = None
        try:
            args = _materialise(item.args)
            kwargs = _materialise(item.kwargs)
            rec = self._recorder(item)
            rec.start()
            for call in range(1 + item.repeat):
                if self._stop:
                    return
                t0 = time.perf_counter_ns()
                result = item.fn(*args, **kwargs)
                self._sync(item, result)
                dt = time.perf_counter_ns() - t0
                with self._lock:
                    if call == 0:
                        item.first_call_ns = dt
                    else:
                        item.repeat_ns.append(dt)
                    item.calls_done += 1
                    item.events = list(rec.events)
                self._notify()
                yield Step(item, call, dt, True)
            with self._lock:
                item.state = "warm"
        except Exception as exc:
            with self._lock:
                item.state = "failed"
                item.error = str(exc) or type(exc).__name__
                item.error_type = type(exc).__name__
                item.traceback = traceback.format_exc()
                if self._error is None:
                    self._error = exc
                    self._failed_item = item
            self._notify()
            yield Step(item, item.calls_done, 0, False)
        finally:
            if rec is not None:
                rec.stop()
                with self._lock:
                    item.events = list(rec.events)
            item.finished_ns = time.perf_counter_ns()

    def steps(self) -> Iterator[Step]:
        """Warm in the caller's thread, one call per step; stops at the first failure."""
        self._begin()
        try:
            for item in self.items:
                for step in self._item_steps(item):
                    yield step
                    if not step.ok:
                        return
                if self._stop:
                    return
        finally:
            self._finish()

    def run(self) -> bool:
        """Warm everything in this thread; whether the warmer is ready."""
        for _ in self.steps():
            pass
        return self.ready

    async def run_async(self) -> bool:
        """Warm in the running event loop, yielding to it between calls."""
        for _ in self.steps():
            await asyncio.sleep(0)
        return self.ready

    def start(self) -> Warmer:
        """Warm in a background (daemon) thread; returns at once."""
        with self._lock:
            if self._thread is not None or self._started:
                raise UsageError("this warmer has already been started")
            self._thread = threading.Thread(target=self.run, name=f"jitwarm-{self.name}",
                                            daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Ask warmup to stop after the current call (then it never becomes ready).

        No effect on a warmer that has already finished."""
        with self._lock:
            if not self._done.is_set():
                self._stop = True
        if self._thread is not None:
            self._thread.join(timeout)

    def __repr__(self) -> str:
        p = self.progress()
        state = "ready" if p["ready"] else "failed" if p["failed"] else "warming"
        return (f"<Warmer {self.name!r} {state}: {p['items_warm']}/{p['items_total']} items, "
                f"{p['calls_done']}/{p['calls_total']} calls>")
