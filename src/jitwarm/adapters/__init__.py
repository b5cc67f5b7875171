"""Framework adapters behind one protocol (:class:`Adapter`).

``ADAPTERS`` is the registry, most specific first; :func:`adapter_for` picks the adapter
of a callable, falling back to plain Python.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from jitwarm.adapters.base import Adapter, Recorder
from jitwarm.adapters.jax import JaxAdapter
from jitwarm.adapters.numba import NumbaAdapter
from jitwarm.adapters.numba_cuda import NumbaCudaAdapter
from jitwarm.adapters.onnxruntime import OnnxRuntimeAdapter
from jitwarm.adapters.python import PythonAdapter
from jitwarm.adapters.tensorrt import TensorRTAdapter
from jitwarm.adapters.torch import TorchAdapter

# most specific first: a CUDA dispatcher is also a Numba Dispatcher
ADAPTERS: list[Adapter] = [
    NumbaCudaAdapter(),
    NumbaAdapter(),
    TorchAdapter(),
    JaxAdapter(),
    OnnxRuntimeAdapter(),
    TensorRTAdapter(),
]
FALLBACK: Adapter = PythonAdapter()


def adapter_of_module(top: str) -> Adapter | None:
    """The adapter a top-level module belongs to (``"llvmlite"`` -> Numba's), or None."""
    for adapter in ADAPTERS:
        names = (adapter.module, *adapter.helper_modules,
                 *(p.replace("-", "_") for p in adapter.packages))
        if top in names:
            return adapter
    return None


#: top-level module name -> pip extra, for the one-line "not installed" message
FRAMEWORK_EXTRAS: dict[str, str] = {
    p.replace("-", "_"): a.extra for a in ADAPTERS
    for p in (a.module or "", *a.packages, *a.helper_modules) if p and a.extra and a.owns_cache
}


def adapter_for(fn: Callable[..., Any]) -> Adapter:
    """The adapter whose framework ``fn`` belongs to (plain Python when none)."""
    for adapter in ADAPTERS:
        if adapter.detect(fn):
            return adapter
    return FALLBACK


def array_adapter(x: Any) -> Adapter | None:
    """The adapter whose framework's array ``x`` is (NumPy: the plain-Python one), or None."""
    for adapter in [*ADAPTERS, FALLBACK]:
        if adapter.array_kind is not None and adapter.is_array(x):
            return adapter
    return None


def array_kinds() -> dict[str, Adapter]:
    """``{kind: adapter}`` for every array kind users may name (``"numpy"``, ``"torch"`` ...)."""
    return {a.array_kind: a for a in [FALLBACK, *ADAPTERS] if a.array_kind is not None}


def wrap_target(obj: Any, args: Any, kwargs: Any) -> Any:
    """A ``Built`` for a non-callable case target an adapter knows (ONNX model ...), or None."""
    for adapter in ADAPTERS:
        built = adapter.wrap(obj, args, kwargs)
        if built is not None:
            return built
    return None


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
        for key, value in adapter.cache_env(cache_dir).items():
            if env.get(key, value) != value:
                raise ValueError(f"adapters disagree on {key}")  # pragma: no cover
            env[key] = value
    return env


__all__ = [
    "ADAPTERS",
    "FALLBACK",
    "FRAMEWORK_EXTRAS",
    "adapter_of_module",
    "array_adapter",
    "array_kinds",
    "Adapter",
    "Recorder",
    "adapter_for",
    "by_name",
    "cache_env",
    "wrap_target",
]
