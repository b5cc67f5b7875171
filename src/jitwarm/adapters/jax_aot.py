"""JAX ahead-of-time artifacts: the compiled XLA executable, serialised; ``jax.export`` as
the fallback.

At build time the case is compiled for its saved arguments and the executable serialised
with ``jax.experimental.serialize_executable`` (``executable.jaxexe``); the portable
``jax.export`` artifact (``function.jaxexport``, StableHLO) is written beside it. Loading
deserialises the executable: no tracing, lowering or compile in the serving process. Where
the backend refuses to serialise the executable, the artifact holds ``jax.export`` only
(loaded with ``jit(exported.call).lower(*args).compile()``, a persistent-cache hit); where
the executable cannot be loaded here, ``jax.export`` is loaded instead, and the reason is
recorded (:data:`AOT_LOADS`, the adapter's ``runtime_info``) and warned.

The executable's payload is a pickle. The artifact's manifest hashes are checked before
anything is read (``jitwarm.caches.aot``); on top, it is unpickled by a subclass of JAX's
own unpickler whose ``find_class`` accepts only the JAX/jaxlib/NumPy names an executable
holds, and refuses anything else with one line before it is called. The input and output
pytree structures are not pickled: they are JSON (leaf, None, tuple, list, dict with string
keys; custom nodes registered with ``jax.export.register_pytree_node_serialization`` /
``register_namedtuple_serialization``, by their registered name; other NamedTuples, such as
optax's optimiser states, by class name, found at load among the modules already imported
— nothing is imported because an artifact names it).
"""

from __future__ import annotations

import base64
import io
import re
import sys
import warnings
from pathlib import Path
from typing import Any

from jitwarm._errors import ArtifactRefused, UsageError, shown
from jitwarm.adapters.base import Built

EXECUTABLE = "jax-executable"
EXPORT = "jax-export"
EXECUTABLE_FILE = "executable.jaxexe"
EXPORT_FILE = "function.jaxexport"

#: what the artifacts loaded in this process were loaded with (``{"loader", "reason"}``):
#: the reason says why an executable was not used
AOT_LOADS: list[dict[str, Any]] = []

#: every (module, name) a JAX executable's pickle was seen to name (jax 0.10: single-device
#: and named shardings, layouts, avals, argument infos, new-style PRNG key types)
_ALLOWED = frozenset({
    ("jax", "P"),
    ("jax._src.core", "ManualAxisType"),
    ("jax._src.core", "MemorySpace"),
    ("jax._src.core", "ShapedArray"),
    ("jax._src.interpreters.pxla", "AllArgsInfo"),
    ("jax._src.interpreters.pxla", "UnloadedMeshExecutable"),
    ("jax._src.layout", "Layout"),
    ("jax._src.linear_util", "DebugInfo"),
    ("jax._src.mesh", "AbstractMesh"),
    ("jax._src.named_sharding", "_unpickle_named_sharding"),
    ("jax._src.sharding_impls", "_unpickle_single_device_sharding"),
    ("jax._src.stages", "ArgInfo"),
    ("jaxlib._jax", "DeviceList"),
    ("numpy", "dtype"),
    ("jax._src.random.prng", "KeyTy"),
    ("jax._src.random.prng", "PRNGImpl"),
    ("jax._src.random.threefry2x32", "threefry_fold_in"),
    ("jax._src.random.threefry2x32", "threefry_random_bits"),
    ("jax._src.random.threefry2x32", "threefry_seed"),
    ("jax._src.random.threefry2x32", "threefry_split"),
})
#: ml_dtypes' scalar types (bfloat16, float8_*, int4, ...): checked to be NumPy scalar types
_ML_DTYPE = re.compile(r"(bfloat16|float[0-9]{1,2}_e[0-9]m[0-9][a-z]{0,6}|u?int[124])")


class _NotHere(Exception):
    """The executable cannot be loaded in this process (``jax.export`` can be instead)."""


def _refused_name(module: str, name: str) -> str:
    return (f"the executable's pickle names {shown(f'{module}.{name}', 120)}, which is not "
            "on jitwarm's allow-list of what a JAX executable holds: refused before it "
            "was called")


def _allowed(module: str, name: str) -> bool:
    if (module, name) in _ALLOWED:
        return True
    if module == "ml_dtypes" and _ML_DTYPE.fullmatch(name):
        import numpy as np

        mod = sys.modules.get("ml_dtypes")
        obj = vars(mod).get(name) if mod is not None else None
        return isinstance(obj, type) and issubclass(obj, np.generic)
    return False


_UNPICKLER: Any = None


def _unpickler() -> Any:
    """JAX's executable unpickler, restricted to :data:`_ALLOWED` (made once, lazily: JAX
    is imported by the loading process only)."""
    global _UNPICKLER
    if _UNPICKLER is not None:
        return _UNPICKLER
    from jax.experimental import serialize_executable as se

    class RestrictedUnpickler(se._JaxPjrtUnpickler):  # type: ignore[misc,name-defined]
        def find_class(self, module: str, name: str) -> Any:
            if not _allowed(module, name):
                raise ArtifactRefused(_refused_name(module, name))
            return super().find_class(module, name)

        def persistent_load(self, pid: Any) -> Any:
            ok = isinstance(pid, tuple) and (
                (len(pid) == 2 and pid[0] == "exec" and isinstance(pid[1], (bytes, bytearray)))
                or (len(pid) == 2 and pid[0] == "device" and type(pid[1]) is int)
                or pid == ("client",))
            if not ok:
                raise ArtifactRefused("the executable's pickle holds a reference that is not "
                                      "an executable, a device or the client: refused")
            if pid[0] == "device" and pid[1] not in self.devices_by_id:
                raise _NotHere(f"the executable was compiled for device {pid[1]}, which "
                               "this process does not have")
            return super().persistent_load(pid)

    _UNPICKLER = RestrictedUnpickler
    return _UNPICKLER


# -- pytree structures as JSON ---------------------------------------------------------------
_MAX_TREE_DEPTH = 64


def _fix_line(qualname: str) -> str:
    short = qualname.rsplit(".", 1)[-1]
    return (f"jax.export.register_namedtuple_serialization({short}, "
            f"serialized_name={qualname!r}) in both the building and the serving process")


def tree_to_json(tree: Any, where: str = "output", depth: int = 0) -> Any:
    """A JSON form of a ``PyTreeDef``; :class:`UsageError` for a node it cannot name."""
    import types

    from jax._src.export import _export

    if depth > _MAX_TREE_DEPTH:
        raise UsageError(f"the {where} pytree is nested more than {_MAX_TREE_DEPTH} deep")
    data = tree.node_data()
    kids = [tree_to_json(c, where, depth + 1) for c in tree.children()]
    if data is None:
        return "*"
    kind, aux = data
    if kind is types.NoneType:
        return None
    if kind is tuple or kind is list:
        return {kind.__name__: kids}
    if kind is dict:
        if not all(isinstance(k, str) for k in aux):
            raise UsageError(f"the {where} pytree has a dict with keys that are not strings")
        return {"dict": [[k, c] for k, c in zip(aux, kids, strict=True)]}
    if kind in _export.serialization_registry:
        name, serialize_aux = _export.serialization_registry[kind]
        return {"custom": name, "aux": base64.b64encode(bytes(serialize_aux(aux))).decode(),
                "c": kids}
    qual = f"{kind.__module__}.{kind.__qualname__}"
    if _export._is_namedtuple(kind) and "<" not in kind.__qualname__:
        return {"namedtuple": [kind.__module__, kind.__qualname__],
                "fields": list(kind._fields), "c": kids}
    raise UsageError(f"the {where} pytree holds a {shown(qual, 120)} node, which JAX cannot "
                     f"serialise: register it first with jax.export."
                     "register_pytree_node_serialization(...) (a NamedTuple: "
                     f"{_fix_line(qual)})")


def _named_class(module: Any, qualname: Any, fields: Any) -> Any:
    """The NamedTuple class ``module.qualname`` if its module is already imported (nothing
    is imported here) and its fields are ``fields``; else None."""
    if not (isinstance(module, str) and isinstance(qualname, str)):
        return None
    import types

    obj: Any = sys.modules.get(module)
    for part in qualname.split("."):  # through modules and classes only: no attribute hooks
        obj = vars(obj).get(part) if isinstance(obj, (types.ModuleType, type)) else None
    if not (isinstance(obj, type) and issubclass(obj, tuple)):
        return None
    return obj if list(getattr(obj, "_fields", ())) == fields else None


def tree_from_json(node: Any, where: str = "output", depth: int = 0) -> Any:
    """A pytree with placeholder leaves whose structure :func:`tree_to_json` wrote."""
    from jax._src.export import _export

    if depth > _MAX_TREE_DEPTH:
        raise ArtifactRefused(f"the artifact's {where} pytree is nested too deeply")
    if node == "*":
        return 0.0
    if node is None:
        return None
    if not isinstance(node, dict) or len(node) not in (1, 2, 3):
        raise ArtifactRefused(f"the artifact's {where} pytree is malformed")

    def kids(key: str) -> list[Any]:
        seq = node.get(key)
        if not isinstance(seq, list):
            raise ArtifactRefused(f"the artifact's {where} pytree is malformed")
        return [tree_from_json(c, where, depth + 1) for c in seq]

    if "tuple" in node:
        return tuple(kids("tuple"))
    if "list" in node:
        return kids("list")
    if "dict" in node:
        pairs = node["dict"]
        if not (isinstance(pairs, list) and all(isinstance(p, list) and len(p) == 2
                                                and isinstance(p[0], str) for p in pairs)):
            raise ArtifactRefused(f"the artifact's {where} pytree is malformed")
        return {k: tree_from_json(c, where, depth + 1) for k, c in pairs}
    if "custom" in node:
        name = node["custom"]
        entry = _export.deserialization_registry.get(name) if isinstance(name, str) else None
        if entry is None:
            raise ArtifactRefused(f"the {where} pytree holds the custom node "
                                  f"{shown(name, 120)}, not registered in this process: "
                                  "register it (jax.export.register_pytree_node_serialization "
                                  "or register_namedtuple_serialization) before loading")
        nodetype, deserialize_aux, from_children = entry
        try:
            aux = deserialize_aux(base64.b64decode(str(node.get("aux", "")), validate=True))
        except Exception as exc:
            raise ArtifactRefused(f"the {where} pytree's node {shown(name, 120)} does not "
                                  f"deserialise ({type(exc).__name__})") from None
        return from_children(aux, kids("c"))
    if "namedtuple" in node:
        spec, fields = node["namedtuple"], node.get("fields")
        if not (isinstance(spec, list) and len(spec) == 2 and isinstance(fields, list)):
            raise ArtifactRefused(f"the artifact's {where} pytree is malformed")
        cls = _named_class(spec[0], spec[1], fields)
        if cls is None:
            qual = f"{shown(spec[0], 80)}.{shown(spec[1], 80)}"
            top = shown(str(spec[0]).split(".")[0], 40)
            raise ArtifactRefused(
                f"the {where} pytree holds the NamedTuple {qual}, whose module is not imported "
                f"in this process (or whose fields differ): import {top} before loading "
                f"(jitwarm imports nothing an artifact names), or {_fix_line(qual)}")
        children = kids("c")
        if len(children) != len(fields):
            raise ArtifactRefused(f"the artifact's {where} pytree is malformed")
        return cls(*children)
    raise ArtifactRefused(f"the artifact's {where} pytree is malformed")


# -- building ---------------------------------------------------------------------------------
def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return shown(f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": "), 300)


def _platform() -> tuple[str, str, int]:
    import jax

    client = jax.devices()[0].client
    return str(client.platform), str(client.platform_version), len(jax.devices())


def prepare(built: Built, out: Path) -> dict[str, Any]:
    """Write the executable (and the ``jax.export`` fallback) of a built case into ``out``;
    the description ``aot_load`` gets back."""
    import jax
    from jax import export

    fn, args, kwargs = built.fn, built.args, built.kwargs
    platform, version, ndev = _platform()
    info: dict[str, Any] = {"needs": ["jax", "jaxlib"], "platform": platform,
                            "platform_version": version, "devices": ndev, "notes": []}
    statics = _statics(fn, args, kwargs)
    if statics:
        info["statics"] = statics
    if platform == "cuda":
        info["device"] = "cuda"  # the manifest's compatibility check compares GPUs
    exported: Any = None
    export_problem = ""
    try:
        exp = export.export(fn)(*args, **kwargs)
        (out / EXPORT_FILE).write_bytes(bytes(exp.serialize()))
        exported = exp
        info["platforms"] = list(exp.platforms)
    except Exception as exc:
        export_problem = _one_line(exc)
    try:
        compiled = (fn if isinstance(fn, jax.stages.Compiled)
                    else fn.lower(*args, **kwargs).compile())
        trees, payload = _serialise(compiled)
        _check_loads(payload, trees)  # what the serving side will do, allow-list included
    except UsageError:
        raise
    except Exception as exc:
        exe_problem = _one_line(exc)
        if exported is None:
            raise UsageError(f"JAX could neither serialise the compiled executable "
                             f"({exe_problem}) nor export the function ({export_problem})"
                             ) from None
        info["notes"].append(f"no serialised executable ({exe_problem}): the artifact holds "
                             "jax.export, compiled at load (a persistent-cache hit)")
        # fill the persistent cache with the executable the measured process will ask for
        dyn_args, dyn_kwargs = (StaticsDropped.dynamic(statics, args, kwargs) if statics
                                else (args, kwargs))
        jax.block_until_ready(jax.jit(exported.call)(*dyn_args, **dyn_kwargs))
        return {**info, "loader": EXPORT, "file": EXPORT_FILE}
    (out / EXECUTABLE_FILE).write_bytes(payload)
    info.update(trees)
    if exported is None:
        named = sorted(_namedtuples(trees["in_tree"]) | _namedtuples(trees["out_tree"]))
        if named:  # what jax.export needs, exactly
            export_problem = "it needs " + "; ".join(_fix_line(q).split(" in both")[0]
                                                     for q in named[:3])
        info["notes"].append(f"no jax.export fallback ({export_problem}): the executable "
                             f"loads only where jax, jaxlib and the {platform} backend match")
    return {**info, "loader": EXECUTABLE, "file": EXECUTABLE_FILE,
            **({"fallback_file": EXPORT_FILE} if exported is not None else {})}


def _namedtuples(node: Any) -> set[str]:
    """The ``module.qualname`` of every NamedTuple node :func:`tree_to_json` wrote."""
    if not isinstance(node, dict):
        return set()
    out = {".".join(node["namedtuple"])} if "namedtuple" in node else set()
    for key in ("tuple", "list", "c"):
        for child in node.get(key) or []:
            out |= _namedtuples(child)
    for pair in node.get("dict") or []:
        out |= _namedtuples(pair[1])
    return out


def _serialise(compiled: Any) -> tuple[dict[str, Any], bytes]:
    from jax.experimental import serialize_executable as se

    payload, in_tree, out_tree = se.serialize(compiled)
    trees = {"in_tree": tree_to_json(in_tree, "input"), "out_tree": tree_to_json(out_tree)}
    return trees, bytes(payload)


def _check_loads(payload: bytes, trees: dict[str, Any]) -> None:
    _unpickle(payload)
    tree_from_json(trees["in_tree"], "input")
    try:
        tree_from_json(trees["out_tree"])
    except ArtifactRefused as exc:
        raise UsageError(str(exc)) from None


# -- loading ----------------------------------------------------------------------------------
def _unpickle(payload: bytes) -> tuple[Any, list[Any], bool]:
    """``(unloaded executable, flat argument infos, no_kwargs)``, through the restricted
    unpickler, each checked to be what JAX's own loader expects."""
    import jax
    from jax._src import stages
    from jax._src.interpreters import pxla

    client = jax.devices()[0].client
    try:
        obj = _unpickler()(io.BytesIO(payload), client).load()
    except (ArtifactRefused, _NotHere):
        raise
    except Exception as exc:
        raise _NotHere(f"the executable does not deserialise here ({_one_line(exc)})") from None
    if not (isinstance(obj, tuple) and len(obj) == 3
            and isinstance(obj[0], pxla.UnloadedMeshExecutable)
            and isinstance(obj[1], list) and all(isinstance(a, stages.ArgInfo) for a in obj[1])
            and isinstance(obj[2], bool)):
        raise ArtifactRefused("the executable's pickle is not a JAX executable")
    return obj


def _load_executable(info: dict[str, Any], root: Path) -> Any:
    import jax
    from jax.tree_util import tree_structure

    platform, version, _ = _platform()
    if info.get("platform_version") != version:
        raise _NotHere(f"the executable was compiled for {shown(info.get('platform'), 20)} "
                       f"{shown(info.get('platform_version'), 60)}, this is {platform} "
                       f"{version}")
    in_tree = tree_structure(tree_from_json(info.get("in_tree"), "input"))
    out_tree = tree_structure(tree_from_json(info.get("out_tree")))
    unloaded, args_flat, no_kwargs = _unpickle((root / str(info["file"])).read_bytes())
    if in_tree.num_leaves != len(args_flat):
        raise ArtifactRefused("the artifact's input pytree does not match its executable")
    try:
        loaded = unloaded.load()
    except Exception as exc:
        raise _NotHere(f"the executable does not load here ({_one_line(exc)})") from None
    return jax.stages.Compiled(loaded, [], in_tree.unflatten(args_flat), out_tree,
                               no_kwargs=no_kwargs)


def _load_export(file: Path, args: tuple[Any, ...], kwargs: dict[str, Any],
                 statics: dict[str, Any] | None = None) -> Any:
    import jax
    from jax import export

    exp = export.deserialize(bytearray(file.read_bytes()))
    if statics:  # the export holds them baked in: lower for the dynamic arguments only
        args, kwargs = StaticsDropped.dynamic(statics, args, kwargs)
    return jax.jit(exp.call).lower(*args, **kwargs).compile()


#: the static argument values a manifest records and checks: JSON scalars and tuples of them
_STATIC_TYPES = (bool, int, float, str, type(None))


def _static_json(value: Any, depth: int = 0) -> Any:
    """A static argument as JSON (``["tuple", ...]`` for a tuple), or ``_UNRECORDED``."""
    if isinstance(value, _STATIC_TYPES):
        return value
    if isinstance(value, tuple) and depth < 4 and len(value) <= 64:
        items = [_static_json(v, depth + 1) for v in value]
        if all(i is not _UNRECORDED for i in items):
            return ["tuple", *items]
    return _UNRECORDED


_UNRECORDED = object()


def _statics(fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """The static arguments of a ``jax.jit`` function's call (positions, names, values):
    JAX's compiled executable takes only the dynamic ones, while the user calls the
    function with all of them, so the loaded callable drops them — after checking they
    are the values it was compiled for."""
    info = getattr(fn, "_jit_info", None)  # PjitInfo: private, absent on other callables
    nums = tuple(getattr(info, "static_argnums", ()) or ())
    names = tuple(getattr(info, "static_argnames", ()) or ())
    pos = sorted({n % len(args) for n in nums if isinstance(n, int) and -len(args) <= n
                  < len(args)}) if args else []
    kw = sorted(k for k in kwargs if k in names)
    if not pos and not kw:
        return None
    values = {**{str(i): _static_json(args[i]) for i in pos},
              **{k: _static_json(kwargs[k]) for k in kw}}
    return {"argnums": pos, "argnames": kw,
            "values": {k: v for k, v in values.items() if v is not _UNRECORDED},
            "unrecorded": sorted(k for k, v in values.items() if v is _UNRECORDED)}


class StaticsDropped:
    """A compiled JAX executable called as the original function: with its static
    arguments, which must be the values it was compiled for, and are then left out."""

    def __init__(self, compiled: Any, statics: dict[str, Any]) -> None:
        self.compiled = compiled
        self.statics = statics
        self.__name__ = getattr(compiled, "__name__", "compiled")

    @staticmethod
    def dynamic(statics: dict[str, Any], args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        pos = set(statics.get("argnums") or [])
        names = set(statics.get("argnames") or [])
        values = statics.get("values") or {}
        for key, value in [*((str(i), args[i]) for i in sorted(pos) if i < len(args)),
                           *((k, kwargs[k]) for k in sorted(names) if k in kwargs)]:
            if key in values and _static_json(value) != values[key]:
                shown_key = f"argument {key}" if key.isdigit() else f"argument {key!r}"
                raise ValueError(
                    f"static {shown_key} is {shown(repr(value), 60)}; the artifact was "
                    f"compiled for {shown(repr(values[key]), 60)} (static arguments are "
                    "baked into the executable: build one artifact per value)")
        missing = [k for k in (*(str(i) for i in pos), *names)
                   if (k.isdigit() and int(k) >= len(args)) or (not k.isdigit()
                                                                 and k not in kwargs)]
        if missing:
            raise TypeError(f"the artifact was compiled with static argument(s) "
                            f"{', '.join(missing)}: pass them as when it was built")
        return (tuple(a for i, a in enumerate(args) if i not in pos),
                {k: v for k, v in kwargs.items() if k not in names})

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        args, kwargs = self.dynamic(self.statics, args, kwargs)
        return self.compiled(*args, **kwargs)


def load(info: dict[str, Any], root: Path, args: tuple[Any, ...],
         kwargs: dict[str, Any]) -> Any:
    """The artifact's ``jax.stages.Compiled``: the deserialised executable (no trace, no
    lowering, no compile), or ``jax.export`` lowered and compiled here for ``args``."""
    platform, _, _ = _platform()
    # (an artifact written before the executable was serialised names no platform: its
    # jax.export checks the platform itself)
    built_on = info.get("platform", platform if info.get("loader") == EXPORT else None)
    if built_on != platform:
        raise ArtifactRefused(f"built for the JAX backend {shown(built_on, 20)}, this process's "
                              f"JAX runs on {platform}")
    statics = _checked_statics(info.get("statics"))
    fn = _load_either(info, root, args, kwargs, statics)
    return StaticsDropped(fn, statics) if statics else fn


def _checked_statics(statics: Any) -> dict[str, Any] | None:
    """A manifest's ``statics`` (hostile until checked)."""
    if statics is None:
        return None
    if (not isinstance(statics, dict)
            or not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < 256
                       for i in statics.get("argnums") or [])
            or not all(isinstance(k, str) and k.isidentifier()
                       for k in statics.get("argnames") or [])
            or not isinstance(statics.get("values") or {}, dict)):
        raise ArtifactRefused("the manifest's static arguments are malformed")
    return statics


def _load_either(info: dict[str, Any], root: Path, args: tuple[Any, ...],
                 kwargs: dict[str, Any], statics: dict[str, Any] | None) -> Any:
    loader = info.get("loader")
    if loader == EXPORT:
        AOT_LOADS.append({"loader": EXPORT, "reason": None})
        return _load_export(root / str(info["file"]), args, kwargs, statics)
    if loader != EXECUTABLE:
        raise ArtifactRefused(f"unknown JAX loader {shown(loader, 40)}")
    try:
        fn = _load_executable(info, root)
    except _NotHere as exc:
        fallback = info.get("fallback_file")
        if not fallback:
            raise ArtifactRefused(f"{exc} and the artifact has no jax.export fallback") from None
        reason = f"loaded jax.export instead of the serialised executable: {exc}"
        AOT_LOADS.append({"loader": EXPORT, "reason": reason})
        warnings.warn(f"jitwarm: {reason}", RuntimeWarning, stacklevel=4)
        return _load_export(root / str(fallback), args, kwargs, statics)
    AOT_LOADS.append({"loader": EXECUTABLE, "reason": None})
    return fn
