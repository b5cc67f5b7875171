"""Framework adapters behind one protocol (:class:`Adapter`).

``ADAPTERS`` is the registry, most specific first; :func:`adapter_for` picks the adapter
of a callable, falling back to plain Python.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .base import Adapter, Recorder
from .numba import NumbaAdapter
from .python import PythonAdapter

ADAPTERS: list[Adapter] = [NumbaAdapter()]
FALLBACK: Adapter = PythonAdapter()

#: top-level module name -> pip extra, for the one-line "not installed" message
FRAMEWORK_EXTRAS: dict[str, str] = {
    "numba": "numba",
    "llvmlite": "numba",
    "torch": "torch",
    "jax": "jax",
    "jaxlib": "jax",
    "onnxruntime": "onnx",
    "onnx": "onnx",
}


def adapter_for(fn: Callable[..., Any]) -> Adapter:
    """The adapter whose framework ``fn`` belongs to (plain Python when none)."""
    for adapter in ADAPTERS:
        if adapter.detect(fn):
            return adapter
    return FALLBACK


def by_name(name: str) -> Adapter:
    """Look an adapter up by its name (``"numba"``, ``"python"`` ...)."""
    for adapter in [*ADAPTERS, FALLBACK]:
        if adapter.name == name:
            return adapter
    raise KeyError(name)


def cache_env(cache_dir: Path) -> dict[str, str]:
    """Environment redirecting every known framework's disk cache under cache_dir."""
    env: dict[str, str] = {}
    for adapter in ADAPTERS:
        env.update(adapter.cache_env(cache_dir))
    return env


__all__ = [
    "ADAPTERS",
    "FALLBACK",
    "FRAMEWORK_EXTRAS",
    "Adapter",
    "Recorder",
    "adapter_for",
    "by_name",
    "cache_env",
]
