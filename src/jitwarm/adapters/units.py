"""Compile units: every compile of every hooked framework in the process, as records.

A :class:`UnitRecorder` subscribes to the hub (:mod:`jitwarm.adapters.hub`) and turns its
start/end notices into :class:`Unit` records — what compiled (name, module), the framework,
its signature, when and for how long, the cache state the framework reported, and the
user-code location that triggered it (the first frame outside the frameworks and
jitwarm). A compile that starts while another is open in the same thread (Numba compiling a
callee, a JAX trace inside a transform) is a child of it, never a second top-level unit;
JAX's trace and backend compile of one function become one unit with both as children,
and JAX's phase spans (lowering) and cache counters attach to the unit they fall in.

The measured process starts one before the case is imported (``measure.worker``), so the
callable's type does not matter: a plain function calling kernels in a library is seen.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from jitwarm.adapters import hub
from jitwarm.adapters.events import CompileEvent, Notice, union_ns

__all__ = ["Unit", "UnitRecorder", "compile_ns_by_framework", "library_cache_switches",
           "user_location"]


@dataclass
class Unit:
    """One compile (or a nested phase of one) as a framework's hooks reported it."""

    framework: str
    name: str
    kind: str
    start_ns: int
    end_ns: int = 0
    module: str | None = None
    signature: str | None = None
    cache: str | None = None  # "hit" / "miss" / "none" (no cache in use) / None (unknown)
    reason: str | None = None
    recompile: bool = False
    location: str | None = None
    thread: int = 0
    children: list[Unit] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_ns(self) -> int:
        return max(0, self.end_ns - self.start_ns)

    @property
    def compiles(self) -> bool:
        """Whether this unit compiled (a ``load`` from a disk cache did not)."""
        return self.kind != "load"

    def to_dict(self, t0: int = 0, call: int | None = None) -> dict[str, Any]:
        """The JSON record (``compiled`` in a process record); times relative to ``t0``."""
        out: dict[str, Any] = {
            "framework": self.framework, "name": self.name, "module": self.module,
            "kind": self.kind, "signature": self.signature, "start_ns": self.start_ns - t0,
            "duration_ns": self.duration_ns, "cache": self.cache, "call": call,
            "location": self.location, "recompile": self.recompile, "reason": self.reason,
        }
        if self.children:
            out["children"] = [c.to_dict(t0, call) for c in self.children]
        return out

    def event(self) -> CompileEvent:
        return CompileEvent(start_ns=self.start_ns, end_ns=self.end_ns, name=self.name,
                            kind="compile", signature=self.signature, cache=self.cache,
                            reason=self.reason,
                            extra={"framework": self.framework, "recompile": self.recompile})


def _skipped_dirs() -> tuple[str, ...]:
    """Folders whose frames are not "user code": jitwarm, the frameworks, the stdlib's
    import and function machinery."""
    from jitwarm.adapters import ADAPTERS

    tops = {"jitwarm", "importlib", "runpy", "functools", "contextlib", "llvmlite", "jaxlib",
            "triton", "functorch"}
    for a in ADAPTERS:
        tops.update(m.split(".")[0] for m in (a.module, a.hook_module, *a.packages) if m)
    dirs = []
    for top in tops:
        mod = sys.modules.get(top)
        path = getattr(mod, "__file__", None)
        if path:
            d = os.path.dirname(path)
            dirs.append(d + os.sep if os.path.basename(path) == "__init__.py" else path)
    return tuple(dirs)


def user_location(skip: tuple[str, ...], depth: int = 2) -> str | None:
    """``file:line (function)`` of the first frame outside ``skip`` folders."""
    try:
        f: Any = sys._getframe(depth)
    except ValueError:
        return None
    while f is not None:
        path = f.f_code.co_filename
        if not path.startswith("<") and not path.startswith(skip):
            return f"{path}:{f.f_lineno} ({f.f_code.co_name})"
        f = f.f_back
    return None


class UnitRecorder:
    """Collects every compile unit of every hooked framework, in every thread."""

    def __init__(self) -> None:
        self.units: list[Unit] = []  # top-level units, in the order they ended
        self._open: dict[int, list[Unit]] = {}
        self._spans: list[Unit] = []
        self._lock = threading.Lock()
        self._cb: Any = None

    def start(self) -> None:
        self._cb = hub.subscribe(self._on)

    def stop(self) -> None:
        if self._cb is not None:
            hub.unsubscribe(self._cb)
            self._cb = None

    def __enter__(self) -> UnitRecorder:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _on(self, n: Notice) -> None:
        with self._lock:
            if n.phase == "start":
                self._started(n)
            elif n.phase == "end":
                self._ended(n)
            elif n.phase == "span" and n.kind in ("load", "compile") and not self._open.get(
                    n.thread):
                # told after the fact (Numba: a function loaded from its disk cache, or a
                # ufunc build that announces no compile): its own unit, the top-level units
                # inside it become its children
                u = Unit(n.framework, n.function, n.kind, n.time_ns - (n.duration_ns or 0),
                         n.time_ns, module=n.extra.get("module"), cache=n.extra.get("cache"),
                         location=user_location(_skipped_dirs(), depth=4), thread=n.thread)
                inner = [c for c in self.units if c.thread == u.thread
                         and u.start_ns <= c.start_ns and c.end_ns <= u.end_ns]
                if inner:
                    self.units = [c for c in self.units if not any(c is i for i in inner)]
                    u.children.extend(inner)
                self._top(u)
            elif n.phase == "span":
                self._spans.append(Unit(n.framework, n.function or n.kind, n.kind,
                                        n.time_ns - (n.duration_ns or 0), n.time_ns,
                                        thread=n.thread))
            elif n.phase == "event":
                self._counted(n)

    def _started(self, n: Notice) -> None:
        stack = self._open.setdefault(n.thread, [])
        u = Unit(n.framework, n.function, n.kind, n.time_ns, module=n.extra.get("module"),
                 signature=n.signature, cache=n.extra.get("cache"), reason=n.reason,
                 recompile=n.recompile, thread=n.thread)
        if not stack:  # a top-level compile: where in the user's code it was triggered
            u.location = user_location(_skipped_dirs(), depth=4)
        stack.append(u)

    def _ended(self, n: Notice) -> None:
        stack = self._open.get(n.thread) or []
        for i in range(len(stack) - 1, -1, -1):
            u = stack[i]
            if u.framework == n.framework and u.name == n.function and u.kind == n.kind:
                del stack[i]
                break
        else:  # an end without its start (hooks installed mid-compile)
            dur = n.duration_ns or 0
            u = Unit(n.framework, n.function, n.kind, n.time_ns - dur, thread=n.thread,
                     signature=n.signature, reason=n.reason, recompile=n.recompile)
        u.end_ns = n.time_ns
        if n.extra.get("cache") is not None:
            u.cache = n.extra["cache"]
        if n.extra.get("failed"):
            u.extra["failed"] = True
        if stack:
            stack[-1].children.append(u)
        else:
            self._top(u)

    def _top(self, u: Unit) -> None:
        last = self.units[-1] if self.units else None
        if (u.framework == "jax" and u.kind == "backend" and last is not None
                and last.framework == "jax" and last.kind == "trace"
                and last.thread == u.thread and not last.extra.get("merged")):
            # one JAX compile: the trace, then (lowering and) the backend compile
            merged = Unit("jax", last.name, "compile", last.start_ns, u.end_ns,
                          signature=last.signature, cache=u.cache or last.cache,
                          reason=last.reason, recompile=last.recompile,
                          location=last.location, thread=u.thread,
                          children=[last, u], extra={"merged": True})
            self.units[-1] = merged
            return
        self.units.append(u)

    def _counted(self, n: Notice) -> None:
        """JAX's persistent-cache counters: the compile they happen in hit or missed."""
        state = ("hit" if n.kind.endswith("cache_hits") else
                 "miss" if n.kind.endswith("cache_misses") else None)
        if state is None:
            return
        stack = self._open.get(n.thread) or []
        target = next((u for u in reversed(stack) if u.framework == n.framework), None)
        if target is None:
            target = next((u for u in reversed(self.units) if u.framework == n.framework), None)
        if target is not None:
            target.cache = state

    def finished(self) -> list[Unit]:
        """The top-level units so far, each span placed inside the unit it falls in."""
        with self._lock:
            units = list(self.units)
            spans, self._spans = self._spans, []
        for s in spans:
            home = next((u for u in units if u.framework == s.framework and u.thread == s.thread
                         and u.start_ns <= s.start_ns and s.end_ns <= u.end_ns), None)
            if home is not None:
                home.children.append(s)
                home.children.sort(key=lambda c: c.start_ns)
        return units


def library_cache_switches(units: list[dict[str, Any]]) -> dict[str, str]:
    """``{package: call}`` for libraries whose kernels compiled with no disk cache but which
    offer a switch of their own (a ``<package>.cache`` module with ``enable()`` or
    ``save()``, as STUMPY's ``stumpy.cache.save()``), read from modules already imported."""
    out: dict[str, str] = {}
    for u in units:
        module = u.get("module") or ""
        if u.get("cache") != "none" or not module:
            continue
        top = module.split(".")[0]
        if top in out:
            continue
        mod = sys.modules.get(f"{top}.cache")
        for attr in ("enable", "save"):
            if callable(getattr(mod, attr, None)):
                out[top] = f"{top}.cache.{attr}()"
                break
        else:
            var = _cache_env_switch(top)
            if var:
                out[top] = f"the environment variable {var}=1"
    return out


#: ``os.getenv("X_CACHE"...)`` / ``os.environ.get(...)`` / ``os.environ[...]`` in a source
_ENV_CACHE = re.compile(r"""(?:getenv|environ\.get|environ\[)\(?\s*"""
                        r"""["']([A-Z][A-Z0-9_]*CACHE[A-Z0-9_]*)["']""")


def _cache_env_switch(top: str, max_modules: int = 64, max_bytes: int = 1 << 20) -> str | None:
    """An environment variable that the package's own imported modules read to turn its
    caching on (numbagg reads ``NUMBAGG_CACHE``), found in their source; None when none,
    or when it is already set."""
    prefix = top.upper() + "_"
    mods = [m for name, m in list(sys.modules.items())
            if name == top or name.startswith(top + ".")][:max_modules]
    for m in mods:
        path = getattr(m, "__file__", None)
        if not path or not str(path).endswith(".py"):
            continue
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read(max_bytes)
        except OSError:
            continue
        for var in _ENV_CACHE.findall(text):
            if var.startswith(prefix) and var not in os.environ:
                return var
    return None


def compile_ns_by_framework(units: list[Unit], events: list[CompileEvent], lo: int,
                            hi: int) -> dict[str, int]:
    """``{framework: ns}`` for every framework among ``units``: the union of its compile
    events (made by :meth:`Unit.event`) within ``[lo, hi]`` (0 where it compiled nothing
    there, e.g. only loads, or only during setup)."""
    return {fw: union_ns([e for e in events if e.extra["framework"] == fw], lo, hi)
            for fw in sorted({u.framework for u in units})}
