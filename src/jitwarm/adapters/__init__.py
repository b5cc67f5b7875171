"""Framework adapters behind one protocol (:class:`Adapter`).

``ADAPTERS`` is the registry, most specific first; :func:`adapter_for` picks the adapter
of a callable, falling back to plain Python. Everything jitwarm knows about a framework
lives in its adapter; the rest of the package asks this registry, never a framework name.

A new framework is one module with an :class:`Adapter` subclass plus one registry line:
here for the built-in ones; for others, :func:`register` in-process, an entry point in the
``jitwarm.adapters`` group of an installed package, or ``JITWARM_ADAPTERS=module:Class``
(comma-separated) in the environment — the form worker processes inherit.

The registry is built on first use (``ADAPTERS``, ``FALLBACK`` and ``FRAMEWORK_EXTRAS`` are
module attributes made then, as are the environment's plugins): importing this package, or
:mod:`jitwarm.adapters.base` through it, imports no adapter module, so ``import jitwarm`` and
``jitwarm.load`` stay cheap; :func:`named` imports just one adapter.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jitwarm.adapters.base import Adapter, Recorder

#: the built-in adapters, most specific first (a CUDA dispatcher is also a Numba
#: Dispatcher): name -> (module, class)
_BUILTIN: dict[str, tuple[str, str]] = {
    "numba-cuda": ("jitwarm.adapters.numba_cuda", "NumbaCudaAdapter"),
    "numba": ("jitwarm.adapters.numba", "NumbaAdapter"),
    "torch": ("jitwarm.adapters.torch", "TorchAdapter"),
    "jax": ("jitwarm.adapters.jax", "JaxAdapter"),
    "onnxruntime": ("jitwarm.adapters.onnxruntime", "OnnxRuntimeAdapter"),
    "tensorrt": ("jitwarm.adapters.tensorrt", "TensorRTAdapter"),
}
_FALLBACK = ("jitwarm.adapters.python", "PythonAdapter")
_instances: dict[tuple[str, str], Adapter] = {}  # one instance per built-in class
_registry: list[Adapter] | None = None

if TYPE_CHECKING:  # pragma: no cover
    ADAPTERS: list[Adapter]
    FALLBACK: Adapter
    FRAMEWORK_EXTRAS: dict[str, str]


def _instance(where: tuple[str, str]) -> Adapter:
    if where not in _instances:
        module, cls = where
        _instances[where] = getattr(importlib.import_module(module), cls)()
    return _instances[where]


def _adapters() -> list[Adapter]:
    """The registry (``ADAPTERS``), built on first use with the environment's plugins."""
    global _registry
    if _registry is None:
        _registry = [_instance(w) for w in _BUILTIN.values()]
        globals()["ADAPTERS"] = _registry
        globals()["FALLBACK"] = _fallback()
        try:  # adapters named in the environment (a worker inherits its parent's)
            load_plugins()
        except ValueError:  # not fatal here: the CLI and the spawner load again and report it
            pass
    return _registry


def _fallback() -> Adapter:
    return _instance(_FALLBACK)


def named(name: str) -> Adapter | None:
    """The adapter called ``name`` (None if none), importing only its module while the
    registry is not built and no plugin adapter (``$JITWARM_ADAPTERS``) could replace it."""
    where = _BUILTIN.get(name) or (_FALLBACK if name == "python" else None)
    if _registry is None and where is not None and not os.environ.get(PLUGINS_ENV, "").strip():
        return _instance(where)
    try:
        return by_name(name)
    except KeyError:
        return None


def __getattr__(name: str) -> Any:
    if name == "ADAPTERS":
        return _adapters()
    if name == "FALLBACK":
        _adapters()
        return globals()["FALLBACK"]
    if name == "FRAMEWORK_EXTRAS":
        extras = _extras()
        globals()["FRAMEWORK_EXTRAS"] = extras
        return extras
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def adapter_of_module(top: str) -> Adapter | None:
    """The adapter a top-level module belongs to (``"llvmlite"`` -> Numba's), or None."""
    for adapter in _adapters():
        names = (adapter.module, *adapter.helper_modules,
                 *(p.replace("-", "_") for p in adapter.packages))
        if top in names:
            return adapter
    return None


def _extras() -> dict[str, str]:
    """``FRAMEWORK_EXTRAS``: top-level module name -> pip extra, for the one-line "not
    installed" message."""
    return {p.replace("-", "_"): a.extra for a in _adapters()
            for p in (a.module or "", *a.packages, *a.helper_modules)
            if p and a.extra and a.owns_cache}


#: environment variable naming plugin adapters (``module:Class``, comma-separated)
PLUGINS_ENV = "JITWARM_ADAPTERS"
_plugin_specs: list[str] = []
_entry_point_specs: list[str] | None = None  # scanned once per process


def register(adapter: Adapter) -> Adapter:
    """Put ``adapter`` first in the registry (replacing one of the same name); returns it."""
    if not isinstance(adapter, Adapter):
        raise TypeError(f"not an Adapter: {type(adapter).__name__}")
    reg = _adapters()
    reg[:] = [a for a in reg if a.name != adapter.name]
    reg.insert(0, adapter)
    return adapter


def _load_spec(spec: str) -> Adapter:
    module, _, attr = spec.strip().partition(":")
    if not module or not attr or not all(p.isidentifier() for p in (*module.split("."), attr)):
        raise ValueError(f"{spec!r} is not module:Class")
    obj = getattr(importlib.import_module(module), attr)
    return obj() if isinstance(obj, type) else obj


def load_plugins(*, entry_points: bool = False) -> list[str]:
    """Register plugin adapters: those in ``$JITWARM_ADAPTERS`` and, with ``entry_points``,
    those installed under the ``jitwarm.adapters`` entry-point group.

    Entry points are scanned only on request (the parent process: scanning package metadata
    costs tens of milliseconds); what they name is added to ``$JITWARM_ADAPTERS`` so worker
    processes load the same adapters by import alone. Returns the specs loaded; raises
    ``ValueError`` naming the first that cannot be loaded.
    """
    global _entry_point_specs

    specs = [x for x in os.environ.get(PLUGINS_ENV, "").split(",") if x.strip()]
    if entry_points:
        if _entry_point_specs is None:  # every spawn asks: read package metadata once
            import importlib.metadata

            _entry_point_specs = [ep.value for ep in
                                  importlib.metadata.entry_points(group="jitwarm.adapters")]
        specs.extend(v for v in _entry_point_specs if v not in specs)
        if specs:
            os.environ[PLUGINS_ENV] = ",".join(specs)
    loaded = []
    for spec in specs:
        if spec in _plugin_specs:
            continue
        try:
            register(_load_spec(spec))
        except Exception as exc:
            raise ValueError(f"adapter plugin {spec[:200]!r} cannot be loaded: "
                             f"{type(exc).__name__}: {str(exc)[:200]}") from None
        _plugin_specs.append(spec)
        loaded.append(spec)
    return loaded


def adapter_for(fn: Callable[..., Any]) -> Adapter:
    """The adapter whose framework ``fn`` belongs to (plain Python when none)."""
    for adapter in _adapters():
        if adapter.detect(fn):
            return adapter
    return _fallback()


def array_adapter(x: Any) -> Adapter | None:
    """The adapter whose framework's array ``x`` is (NumPy: the plain-Python one), or None."""
    for adapter in [*_adapters(), _fallback()]:
        if adapter.array_kind is not None and adapter.is_array(x):
            return adapter
    return None


def _leaves(x: Any, out: list[Any], depth: int = 0, limit: int = 10_000) -> None:
    if len(out) >= limit or depth > 12:
        return
    if isinstance(x, (str, bytes, int, float, bool, type(None))):
        return
    if isinstance(x, dict):
        for v in x.values():
            _leaves(v, out, depth + 1, limit)
    elif isinstance(x, (list, tuple)):
        for v in x:
            _leaves(v, out, depth + 1, limit)
    elif hasattr(x, "__dataclass_fields__") and not hasattr(x, "shape"):
        for name in x.__dataclass_fields__:
            _leaves(getattr(x, name, None), out, depth + 1, limit)
    else:
        out.append(x)


def result_syncs(result: Any, adapter: Adapter) -> list[Callable[[Any], None]]:
    """The synchronisations a call's result needs before the clock is read: the callable's
    framework's, plus that of every framework whose arrays the result holds (tensors, JAX
    arrays, or pytrees of them returned by a plain Python wrapper)."""
    need = [adapter] if adapter.needs_sync else []
    if result is not None:
        leaves: list[Any] = []
        _leaves(result, leaves)
        one_per_type = list({type(x): x for x in leaves}.values())
        for a in _adapters():
            if (a not in need and a.array_kind is not None and a._loaded() and a.needs_sync
                    and any(a.is_array(x) for x in one_per_type)):
                need.append(a)
    return [a.sync for a in need]


def array_kinds() -> dict[str, Adapter]:
    """``{kind: adapter}`` for every array kind users may name (``"numpy"``, ``"torch"`` ...)."""
    return {a.array_kind: a for a in [_fallback(), *_adapters()] if a.array_kind is not None}


def wrap_target(obj: Any, args: Any, kwargs: Any) -> Any:
    """A ``Built`` for a non-callable case target an adapter knows (ONNX model ...), or None."""
    for adapter in _adapters():
        built = adapter.wrap(obj, args, kwargs)
        if built is not None:
            return built
    return None


def by_name(name: str) -> Adapter:
    """Look an adapter up by its name (``"numba"``, ``"python"`` ...)."""
    for adapter in [*_adapters(), _fallback()]:
        if adapter.name == name:
            return adapter
    raise KeyError(name)


def adapter_named(name: str | None) -> Adapter:
    """The adapter called ``name``; the plain-Python one for an unknown name or None."""
    try:
        return by_name(str(name))
    except KeyError:
        return _fallback()


def cache_env(cache_dir: Path) -> dict[str, str]:
    """Environment redirecting every known framework's disk cache under cache_dir."""
    env: dict[str, str] = {}
    for adapter in _adapters():
        for key, value in adapter.cache_env(cache_dir).items():
            if env.get(key, value) != value:
                raise ValueError(f"adapters disagree on {key}")  # pragma: no cover
            env[key] = value
    return env


def remote_cache_env(url: str | None) -> dict[str, str]:
    """Environment pointing every known framework's remote compile caches at the server
    ``url`` (checked by :func:`jitwarm.adapters.remote.check_url`), or, with ``None``,
    turning them all off."""
    env: dict[str, str] = {}
    for adapter in _adapters():
        env.update(adapter.remote_cache_env(url))
    return env


__all__ = [
    "ADAPTERS",
    "PLUGINS_ENV",
    "load_plugins",
    "register",
    "FALLBACK",
    "FRAMEWORK_EXTRAS",
    "adapter_named",
    "adapter_of_module",
    "array_adapter",
    "array_kinds",
    "Adapter",
    "Recorder",
    "adapter_for",
    "by_name",
    "named",
    "cache_env",
    "remote_cache_env",
    "wrap_target",
]

