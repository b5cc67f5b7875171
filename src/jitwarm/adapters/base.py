"""The adapter protocol: everything the measurement core needs from a framework.

One adapter per framework, one module each. An adapter module must import without its
framework installed: framework imports happen inside methods, which are only called in
the measured (worker) process once a callable of that framework exists.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jitwarm.adapters.events import CompileEvent, Notice


@dataclass(frozen=True)
class Built:
    """What a case built: the callable and the arguments it is called with."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    #: several input sets (``jitwarm.inputs``): ``(label, args)`` each; ``args`` is the first
    inputs: tuple[tuple[str, tuple[Any, ...]], ...] | None = None


class Recorder:
    """Collects compile events while active. Subclasses hook the framework's events."""

    def __init__(self) -> None:
        self.events: list[CompileEvent] = []

    def start(self) -> None:  # pragma: no cover - trivial
        """Begin listening."""

    def stop(self) -> None:  # pragma: no cover - trivial
        """Stop listening; ``events`` stays readable."""

    def __enter__(self) -> Recorder:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Adapter:
    """Base class of framework adapters; the defaults describe a plain Python callable."""

    name: str = "python"
    #: pip extra that installs the framework (``jitwarm[extra]``)
    extra: str | None = None
    #: top-level module of the framework, checked without importing it
    module: str | None = None
    #: whether results must be synchronised before reading the clock
    needs_sync: bool = False
    #: what triggers compilation, for tables ("first call with new types", ...)
    trigger: str = "none (not a JIT)"

    # -- parent side: framework-free ------------------------------------------------
    def cache_env(self, cache_dir: Path) -> dict[str, str]:
        """Environment variables that redirect this framework's disk cache into cache_dir."""
        return {}

    def installed(self) -> bool:
        """Whether the framework can be imported here (without importing it)."""
        return self.module is None or importlib.util.find_spec(self.module) is not None

    def version(self) -> str | None:
        """The framework's installed version, read from package metadata."""
        if self.module is None:
            return None
        try:
            return importlib.metadata.version(self.module)
        except importlib.metadata.PackageNotFoundError:
            return None

    # -- worker side ------------------------------------------------------------------
    def detect(self, fn: Callable[..., Any]) -> bool:
        """Whether ``fn`` belongs to this framework. Never imports the framework."""
        return False

    def _loaded(self) -> bool:
        return self.module is not None and self.module in sys.modules

    def sync(self, result: Any) -> None:
        """Block until the computation that produced ``result`` has finished."""

    def recorder(self) -> Recorder:
        """A recorder of this framework's compile events."""
        return Recorder()

    def cache_stats(self, fn: Callable[..., Any]) -> dict[str, int] | None:
        """Disk-cache hits and misses so far for ``fn`` (``None``: the framework can't say)."""
        return None

    def supports_disk_cache(self, fn: Callable[..., Any]) -> bool:
        """Whether ``fn`` will read/write the framework's on-disk compile cache."""
        return False

    def specializations(self, fn: Callable[..., Any]) -> int | None:
        """How many compiled specialisations ``fn`` holds now."""
        return None

    def function_compile_ns(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> int | None:
        """The function's own compile time in an already-initialised runtime.

        Measured by compiling a fresh, uncached copy of ``fn`` after the measured calls,
        through the framework's compile events. ``None`` when not supported.
        """
        return None

    #: the module whose presence in ``sys.modules`` lets the hub install this framework's
    #: compile hooks (``None``: this framework has no process-wide compile hook)
    hook_module: str | None = None

    def install_hooks(self, emit: Callable[[Notice], None]) -> None:
        """Register this framework's own compile hooks, once per process, reporting to ``emit``.

        Called only by :func:`jitwarm.adapters.hub.install` when ``hook_module`` is imported;
        every other part of jitwarm subscribes to the hub instead of hooking the framework.
        Example: Numba's adapter registers a ``numba.core.event`` listener on
        ``"numba:compile"`` that emits a start and an end :class:`Notice` per compile.
        """

    def wrap(self, obj: Any, args: Any, kwargs: Any) -> Any:
        """Turn a non-callable case target of this framework into a ``Built``, or ``None``.

        Consulted by :func:`jitwarm.cases.targets.validate_built` before it rejects a case whose
        first item is not callable (e.g. an ONNX model path and its input feed).
        """
        return None

    def set_threads(self, n: int) -> None:
        """Apply a thread count inside the worker (after the case is built)."""

    def runtime_info(self) -> dict[str, Any]:
        """Framework settings worth recording (thread counts, backends ...)."""
        return {}

    def cache_notes(self) -> list[str]:
        """Caveats about this framework's cache behaviour, shown in reports."""
        return []
