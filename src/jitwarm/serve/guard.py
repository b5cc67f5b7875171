"""Recompile guard: fail (or warn) the moment a framework compiles inside a block.

``with jitwarm.no_recompile(): ...`` or ``@jitwarm.no_recompile()`` — after warmup, a
compile on the serving path is a latency spike; the guard turns it into an error that
names the function and, where the framework tells, why it compiled.

How each framework is watched (its own mechanism, see :mod:`jitwarm.adapters.hub`):

- **Numba**: the ``numba:compile`` start event. Raising inside the listener's ``on_start``
  propagates cleanly out of the call (Numba still sends the end event, the dispatcher keeps
  its earlier signatures and compiles normally later), so the error is raised *before* any
  compile work. Reason: the arguments whose types differ from the closest signature
  compiled before (by parameter name), not every argument's type.
- **JAX**: the ``jax.monitoring`` scalar event JAX records when tracing or XLA compilation
  starts; raising there aborts the trace. Reason: the inputs whose abstract types differ
  from the closest earlier trace seen by jitwarm's hook, else all input types.
  Note that JAX's eager ops (``jnp.ones(n)``, ``x[:n]``) compile too, once per shape.
- **torch.compile**: torch's own stance, ``torch.compiler.set_stance("fail_on_recompile")``;
  its error (with dynamo's guard-failure reasons) is re-raised as :class:`RecompileError`.
  torch's stance is **process-wide**: while a raising guard is active, a compile in any
  thread fails. In ``action="warn"`` torch is watched through dynamo's compile callbacks
  and the stance is left alone.

``scope="thread"`` (default) only watches compiles in the thread that entered the block
(frameworks compile in the calling thread), so a background warmer compiling in another
thread does not trip it; ``scope="process"`` watches every thread. A framework imported
*inside* the block is not watched (hooks are installed on entry).
"""

from __future__ import annotations

import contextlib
import functools
import threading
import warnings
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from jitwarm._errors import JitwarmError
from jitwarm.adapters import ADAPTERS, adapter_named
from jitwarm.adapters import hub as _hooks

F = TypeVar("F", bound=Callable[..., Any])

#: frameworks whose compiles the hub reports (each adapter with a compile hook)
FRAMEWORKS = tuple(a.name for a in ADAPTERS if a.hook_module is not None)


class RecompileError(JitwarmError):
    """A supported framework compiled inside a ``no_recompile`` block."""

    def __init__(self, message: str, *, framework: str | None = None,
                 function: str | None = None, reason: str | None = None,
                 signature: str | None = None) -> None:
        super().__init__(message)
        self.framework = framework
        self.function = function
        self.reason = reason
        self.signature = signature


class RecompileWarning(UserWarning):
    """Issued instead of :class:`RecompileError` with ``action="warn"``."""


def _message(n: _hooks.Notice) -> str:
    what = "recompiled" if n.recompile else "compiled"
    msg = f"{n.framework} {what} {n.function!r} inside a no_recompile block"
    if n.reason:
        msg += f": {n.reason}"
    return msg


class RecompileGuard(contextlib.ContextDecorator):
    """Raise :class:`RecompileError` (or warn) when a framework compiles inside the block.

    ``action``: ``"raise"`` (default) or ``"warn"`` (:class:`RecompileWarning`, once per
    compile). ``frameworks``: the subset to watch (default numba, jax, torch — those that
    are imported). ``scope``: ``"thread"`` or ``"process"``. ``events`` lists the compile
    notices seen (also in warn mode). If a raised error is swallowed inside the block (e.g.
    by a broad ``except``), the block still raises on exit.
    """

    def __init__(self, action: str = "raise", *, frameworks: Iterable[str] | None = None,
                 scope: str = "thread") -> None:
        if action not in ("raise", "warn"):
            raise ValueError(f"action must be 'raise' or 'warn', not {action!r}")
        if scope not in ("thread", "process"):
            raise ValueError(f"scope must be 'thread' or 'process', not {scope!r}")
        fws = tuple(frameworks) if frameworks is not None else FRAMEWORKS
        unknown = [f for f in fws if f not in FRAMEWORKS]
        if unknown:
            raise ValueError(f"unknown framework(s) {unknown}; supported: {FRAMEWORKS}")
        self.action = action
        self.frameworks = fws
        self.scope = scope
        self.events: list[_hooks.Notice] = []
        self._cb: Any = None
        self._thread: int | None = None
        #: frameworks whose own refusal to compile is on in this block (torch's stance)
        self._own: list[str] = []
        self._first_error: RecompileError | None = None
        self._continued: str | None = None

    def _recreate_cm(self) -> RecompileGuard:
        # as a decorator, every call gets fresh state (thread, events)
        return RecompileGuard(self.action, frameworks=self.frameworks, scope=self.scope)

    def __call__(self, func: F) -> F:  # type: ignore[override]
        @functools.wraps(func)
        def inner(*args: Any, **kwargs: Any) -> Any:
            with self._recreate_cm():
                return func(*args, **kwargs)

        return inner  # type: ignore[return-value]

    def _on_notice(self, n: _hooks.Notice) -> None:
        if n.phase != "start" or n.depth > 0 or n.framework not in self.frameworks:
            return
        if self._thread is not None and n.thread != self._thread:
            return
        if n.framework in self._own:
            return  # the framework's own refusal raises; the callback would duplicate it
        # a compile told in two notices (JAX: trace, then backend compile): report it once
        if n.extra.get("continued"):
            self._continued = n.function
        elif self._continued is not None:
            self._continued = None
            self.events.append(n)
            return
        self.events.append(n)
        msg = _message(n)
        if self.action == "warn":
            warnings.warn(msg, RecompileWarning, stacklevel=2)
            return
        err = RecompileError(msg, framework=n.framework, function=n.function,
                             reason=n.reason, signature=n.signature)
        if self._first_error is None:
            self._first_error = err
        if adapter_named(n.framework).hook_can_abort:
            raise err  # propagates out of the framework's call, aborting the compile
        # other frameworks: raised on exit

    def __enter__(self) -> RecompileGuard:
        self._thread = threading.get_ident() if self.scope == "thread" else None
        self.events = []
        self._first_error = None
        self._own = [name for name in self.frameworks if self.action == "raise"
                     and adapter_named(name).guard_acquire()]
        self._cb = _hooks.subscribe(self._on_notice)
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        _hooks.unsubscribe(self._cb)
        self._cb = None
        own, self._own = self._own, []
        for name in own:
            adapter_named(name).guard_release()
        if exc is not None:
            if isinstance(exc, RecompileError):
                return False
            for adapter in ADAPTERS:
                refused = adapter.guard_error(exc)
                if refused is not None:
                    fn, reason = refused
                    raise RecompileError(
                        f"{adapter.name} compiled {fn!r} inside a no_recompile block: {reason}",
                        framework=adapter.name, function=fn, reason=reason) from exc
            return False
        if self._first_error is not None:
            raise self._first_error
        return False


def no_recompile(action: Any = "raise", *, frameworks: Iterable[str] | None = None,
                 scope: str = "thread") -> Any:
    """A :class:`RecompileGuard`: ``with no_recompile(): ...``, ``@no_recompile()`` or
    ``@no_recompile`` (bare decorator)."""
    if callable(action):
        return RecompileGuard()(action)
    return RecompileGuard(action, frameworks=frameworks, scope=scope)
