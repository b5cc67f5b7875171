"""jitwarm: measure, explain and eliminate JIT warmup.

The public surface is the table ``_PUBLIC`` below: ``__all__``, the lazy loader and the
type checker's imports all come from it. Imports are lazy so that a worker process pays
almost nothing for ``import jitwarm`` before the call it measures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jitwarm._version import __version__

# public name -> module that defines it (imported on first use)
_PUBLIC: dict[str, str] = {
    "case": "jitwarm.cases.targets",
    "args": "jitwarm.cases.targets",
    "inputs": "jitwarm.cases.targets",
    "profile": "jitwarm._api",
    "profile_target": "jitwarm._api",
    "run_strategies": "jitwarm.caches.strategies",
    "load": "jitwarm.caches.aot",
    "ArtifactRefused": "jitwarm.caches.aot",
    "ProfileResult": "jitwarm.results.profile",
    "JitwarmError": "jitwarm._errors",
    "UsageError": "jitwarm._errors",
    "CaseError": "jitwarm._errors",
    "Warmer": "jitwarm.serve.warmer",
    "spec": "jitwarm.serve.warmer",
    "pin_shapes": "jitwarm.serve.pinning",
    "suggest_buckets": "jitwarm.serve.pinning",
    "ShapePinningError": "jitwarm.serve.pinning",
    "no_recompile": "jitwarm.serve.guard",
    "RecompileError": "jitwarm.serve.guard",
    "RecompileWarning": "jitwarm.serve.guard",
    "WarmupMetrics": "jitwarm.serve.metrics",
}

if TYPE_CHECKING:  # pragma: no cover
    # ``x as x`` marks a re-export; tests/core/test_public_api.py checks this matches _PUBLIC
    from jitwarm._api import profile as profile
    from jitwarm._api import profile_target as profile_target
    from jitwarm._errors import (
        CaseError as CaseError,
    )
    from jitwarm._errors import (
        JitwarmError as JitwarmError,
    )
    from jitwarm._errors import (
        UsageError as UsageError,
    )
    from jitwarm.caches.aot import ArtifactRefused as ArtifactRefused
    from jitwarm.caches.aot import load as load
    from jitwarm.caches.strategies import run_strategies as run_strategies
    from jitwarm.cases.targets import args as args
    from jitwarm.cases.targets import case as case
    from jitwarm.cases.targets import inputs as inputs
    from jitwarm.results.profile import ProfileResult as ProfileResult
    from jitwarm.serve.guard import (
        RecompileError as RecompileError,
    )
    from jitwarm.serve.guard import (
        RecompileWarning as RecompileWarning,
    )
    from jitwarm.serve.guard import (
        no_recompile as no_recompile,
    )
    from jitwarm.serve.metrics import WarmupMetrics as WarmupMetrics
    from jitwarm.serve.pinning import (
        ShapePinningError as ShapePinningError,
    )
    from jitwarm.serve.pinning import (
        pin_shapes as pin_shapes,
    )
    from jitwarm.serve.pinning import (
        suggest_buckets as suggest_buckets,
    )
    from jitwarm.serve.warmer import Warmer as Warmer
    from jitwarm.serve.warmer import spec as spec

__all__ = ["__version__", "load_ipython_extension", *_PUBLIC]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jitwarm``: the ``%jitwarm`` / ``%%jitwarm`` magics."""
    from jitwarm.integrations.ipython import load_ipython_extension as load

    load(ipython)


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'jitwarm' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
