"""jitwarm: measure, explain and eliminate JIT warmup.

The public surface is re-exported here; the modules behind it are private (``_runner``,
``_worker``, ``_measure`` ...). Imports are lazy so that a worker process pays almost
nothing for ``import jitwarm`` before the call it measures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._case import case, inputs

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from ._api import profile, profile_target
    from ._errors import CaseError, JitwarmError, UsageError
    from ._result import ProfileResult

_LAZY = {
    "profile": ("._api", "profile"),
    "profile_target": ("._api", "profile_target"),
    "ProfileResult": ("._result", "ProfileResult"),
    "JitwarmError": ("._errors", "JitwarmError"),
    "UsageError": ("._errors", "UsageError"),
    "CaseError": ("._errors", "CaseError"),
    "Warmer": ("._warmer", "Warmer"),
    "spec": ("._warmer", "spec"),
    "pin_shapes": ("._pinning", "pin_shapes"),
    "suggest_buckets": ("._pinning", "suggest_buckets"),
    "ShapePinningError": ("._pinning", "ShapePinningError"),
    "no_recompile": ("._guard", "no_recompile"),
    "RecompileError": ("._guard", "RecompileError"),
    "RecompileWarning": ("._guard", "RecompileWarning"),
    "WarmupMetrics": ("._metrics", "WarmupMetrics"),
}

__all__ = [
    "__version__",
    "case",
    "inputs",
    "profile",
    "profile_target",
    "ProfileResult",
    "JitwarmError",
    "UsageError",
    "CaseError",
    "Warmer",
    "spec",
    "pin_shapes",
    "suggest_buckets",
    "ShapePinningError",
    "no_recompile",
    "RecompileError",
    "RecompileWarning",
    "WarmupMetrics",
]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jitwarm``: the ``%jitwarm`` / ``%%jitwarm`` magics (see ``jitwarm._magic``)."""
    from ._magic import load_ipython_extension as load

    load(ipython)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        value = getattr(importlib.import_module(mod, __name__), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'jitwarm' has no attribute {name!r}")
