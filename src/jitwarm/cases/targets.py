"""Cases: how a user tells jitwarm what to measure, and how targets are resolved.

A case is a zero-argument function decorated with :func:`case` that builds the callable
under test and returns ``(callable, args)`` or ``(callable, args, kwargs)``. Building
happens inside the measured process, so framework imports inside the case count as setup.

Targets are ``path/to/file.py``, ``file.py::name`` or ``package.module:name``. The parent
process resolves them *statically* (by reading the source with :mod:`ast`) so it never
imports user code or a framework; the worker imports for real.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jitwarm._errors import UsageError, shown
from jitwarm.adapters.base import Built  # noqa: F401  (re-exported)

_CASE_ATTR = "__jitwarm_case__"
#: the module name a case file is imported under (not its stem: ``numpy.py`` must not shadow)
CASE_MODULE_PREFIX = "_jitwarm_case_"


def case(fn: Callable[[], Any] | None = None, *, name: str | None = None) -> Any:
    """Mark a zero-argument function as a jitwarm case.

    Use as ``@jitwarm.case`` or ``@jitwarm.case(name="other")``. The function must return
    ``(callable, args)`` or ``(callable, args, kwargs)``.
    """

    def mark(f: Callable[[], Any]) -> Callable[[], Any]:
        setattr(f, _CASE_ATTR, name or f.__name__)
        return f

    if fn is None:
        return mark
    return mark(fn)


@dataclass(frozen=True)
class Target:
    """A resolved case: where its module lives and which case to build."""

    spec: str  # what the user typed
    name: str  # case name
    file: str | None  # absolute path of the module file, when known
    module: str | None  # importable module name, for package.module:name targets

    def describe(self) -> str:
        return f"{self.file or self.module}::{self.name}"


class Args:
    """One argument set with keyword arguments, for :func:`inputs`: ``jitwarm.args(x,
    scale=2)`` is the call ``fn(x, scale=2)``. (A plain tuple in ``inputs`` is positional
    arguments only: ``(x, {"scale": 2})`` passes the dict as a second argument.)"""

    __slots__ = ("args", "kwargs")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args: tuple[Any, ...] = args
        self.kwargs: dict[str, Any] = kwargs

    def __repr__(self) -> str:
        return f"jitwarm.args{describe_call(self.args, self.kwargs)}"


def args(*args: Any, **kwargs: Any) -> Args:
    """One input set with keyword arguments: ``jitwarm.inputs(jitwarm.args(x32, scale=2),
    jitwarm.args(x64, scale=3))``. Its keywords are added to (and override) the case's own
    ``kwargs`` for that set."""
    return Args(*args, **kwargs)


class Inputs:
    """Several argument sets for one callable, returned by a case in place of ``args``.

    ``jitwarm sweep`` measures the compile cost of each new set (shape, dtype ...) in one
    process; ``jitwarm profile`` measures the first set. Each set is a tuple of positional
    arguments (a non-tuple is one argument), or :func:`args` for a set with keyword
    arguments; ``labels`` name the sets in reports (default: a one-line summary of each).
    """

    def __init__(self, *sets: Any, labels: list[str] | tuple[str, ...] | None = None) -> None:
        if not sets:
            raise UsageError("jitwarm.inputs() needs at least one argument set")
        calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        for s in sets:
            if isinstance(s, Args):
                calls.append((s.args, dict(s.kwargs)))
            else:
                calls.append((s if isinstance(s, tuple) else (s,), {}))
        #: ``(args, kwargs)`` of each set
        self.calls = tuple(calls)
        #: the positional arguments of each set
        self.sets = tuple(a for a, _ in calls)
        if labels is not None and len(labels) != len(self.sets):
            raise UsageError(
                f"jitwarm.inputs: {len(labels)} labels for {len(self.sets)} argument sets"
            )
        if labels is not None:  # the user's words, but one short line each in reports
            self.labels = tuple(shown(lab, LABEL_CHARS) for lab in labels)
        else:
            self.labels = tuple(describe_call(a, kw) for a, kw in self.calls)


def inputs(*sets: Any, labels: list[str] | tuple[str, ...] | None = None) -> Inputs:
    """Several argument sets for a case: ``return fn, jitwarm.inputs((x32,), (x64,))``;
    a set with keyword arguments is ``jitwarm.args(x, scale=2)``."""
    return Inputs(*sets, labels=labels)


#: longest label of an input set (reports print one per row)
LABEL_CHARS = 72


def describe_call(args: tuple[Any, ...], kwargs: dict[str, Any] | None = None) -> str:
    """:func:`describe_args` of a call with keyword arguments: ``(f32[3], scale=2)``."""
    parts = [_describe(a) for a in args]
    parts += [f"{shown(k, 20)}={_describe(v)}" for k, v in (kwargs or {}).items()]
    return shown("(" + ", ".join(parts) + ")", LABEL_CHARS)


def describe_args(args: tuple[Any, ...]) -> str:
    """A short one-line description of arguments, for labels: shapes and dtypes of arrays,
    short values as written, a summary of nested containers (a model's parameter tree is
    ``dict(6× float32, 1.2M values)``: 6 arrays, not its every leaf), types otherwise; at most
    :data:`LABEL_CHARS` characters."""
    return describe_call(args)


def _array_text(a: Any) -> str | None:
    shape = getattr(a, "shape", None)
    dtype = getattr(a, "dtype", None)
    if shape is None or dtype is None:
        return None
    try:
        dims = list(shape)
    except TypeError:
        return None
    return f"{shown(str(dtype).replace('torch.', ''), 20)}{dims}"


def _is_container(a: Any) -> bool:
    return isinstance(a, (Mapping, list, tuple))


def _describe(a: Any) -> str:
    """One argument: an array, a short scalar, a small flat container spelled out, a
    bigger or nested one summarised, else its type's name."""
    text = _array_text(a)
    if text is not None:
        return text
    if isinstance(a, (bool, int, float)) or (isinstance(a, str) and len(a) <= 20):
        r = repr(a)
        if len(r) <= 20:
            return shown(r, 20)
    if _is_container(a):
        items = list(a.values()) if isinstance(a, Mapping) else list(a)
        if len(items) <= 4 and not any(_is_container(v) for v in items):
            if isinstance(a, Mapping):
                inner = ", ".join(f"{shown(k, 20)}: {_describe(v)}" for k, v in a.items())
                return "{" + inner + "}"
            inner = ", ".join(_describe(v) for v in items)
            return f"[{inner}]" if isinstance(a, list) else f"({inner})"
        return _summary(a)
    return shown(type(a).__name__, 30)


def _summary(tree: Any) -> str:
    """``dict(12× float32, 1.3M values)``: the leaves (12 arrays) of a nested container."""
    arrays = others = values = 0
    dtypes: list[str] = []
    stack, seen = [tree], 0
    while stack and seen < 100_000:  # a hostile or cyclic tree stops here
        node = stack.pop()
        seen += 1
        if _array_text(node) is not None:
            arrays += 1
            dtype = str(node.dtype).replace("torch.", "")
            if dtype not in dtypes:
                dtypes.append(dtype)
            try:
                n = 1
                for d in node.shape:
                    n *= int(d)
                values += n
            except (TypeError, ValueError):
                pass
        elif isinstance(node, Mapping):
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
        else:
            others += 1
    parts = []
    if arrays:
        kinds = "/".join(shown(d, 12) for d in dtypes[:3]) + ("/…" if len(dtypes) > 3 else "")
        parts.append(f"{arrays}× {kinds}")
        parts.append(f"{_count(values)} values")
    if others:
        parts.append(f"{others} other{'s' if others != 1 else ''}")
    if stack:
        parts.append("…")
    return f"{shown(type(tree).__name__, 20)}({', '.join(parts) or 'empty'})"


def _count(n: int) -> str:
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return str(n)


def _decorator_is_case(dec: ast.expr) -> tuple[bool, str | None]:
    """Whether a decorator node is ``case``/``jitwarm.case`` (optionally called)."""
    node = dec.func if isinstance(dec, ast.Call) else dec
    ident = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
    if ident != "case":
        return False, None
    alias = None
    if isinstance(dec, ast.Call):
        for kw in dec.keywords:
            if kw.arg == "name" and isinstance(kw.value, ast.Constant):
                alias = str(kw.value.value)
    return True, alias


def discover_cases(path: Path) -> list[str]:
    """Case names defined in a source file, in source order, without importing it."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        raise UsageError(f"{path}: cannot parse: {exc.msg} (line {exc.lineno})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from None
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for dec in node.decorator_list:
                ok, alias = _decorator_is_case(dec)
                if ok:
                    names.append(alias or node.name)
                    break
    return names


def resolve_target(spec: str) -> Target:
    """Resolve a user's target string into a :class:`Target`, or raise UsageError."""
    if not spec or not spec.strip():
        raise UsageError("empty target: give FILE.py, FILE.py::CASE or package.module:CASE")
    spec = spec.strip()
    name: str | None = None
    if "::" in spec:
        path_part, name = spec.split("::", 1)
        return _file_target(spec, Path(path_part), name)
    if spec.endswith(".py") or "/" in spec or Path(spec).exists():
        return _file_target(spec, Path(spec), None)
    module, _, name = spec.partition(":")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` would: modules in the cwd resolve
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError) as exc:
        raise UsageError(f"cannot find module {module!r}: {exc}") from None
    if found is None:
        raise UsageError(
            f"target not found: {spec!r} is neither a file nor an importable module"
        )
    origin = found.origin if found.origin and found.origin.endswith(".py") else None
    if origin is not None:
        return _pick(spec, Path(origin), name or None, module=module)
    if not name:
        raise UsageError(f"{spec}: name the case as {module}:CASE")
    return Target(spec=spec, name=name, file=None, module=module)


def _file_target(spec: str, path: Path, name: str | None) -> Target:
    if not path.exists():
        raise UsageError(f"target file not found: {path}")
    if not path.is_file():
        raise UsageError(f"target is not a file: {path}")
    return _pick(spec, path, name or None, module=None)


def _pick(spec: str, path: Path, name: str | None, module: str | None) -> Target:
    names = discover_cases(path)
    where = module or str(path)
    if not names:
        raise UsageError(
            f"no case found in {where}: decorate a function with @jitwarm.case"
        )
    if name is None:
        if len(names) > 1:
            raise UsageError(
                f"{where} defines several cases ({', '.join(names)}): "
                f"pick one as {spec}::{names[0]}"
            )
        name = names[0]
    elif name not in names:
        raise UsageError(
            f"unknown case {name!r} in {where}; cases defined: {', '.join(names)}"
        )
    return Target(spec=spec, name=name, file=str(path.resolve()), module=module)


def load_case(target: Target) -> Callable[[], Any]:
    """Import the target's module (in the worker) and return the case function."""
    if target.module is not None:
        mod = importlib.import_module(target.module)
    else:
        assert target.file is not None
        path = Path(target.file)
        mod_name = CASE_MODULE_PREFIX + path.stem
        spec = importlib.util.spec_from_file_location(mod_name, path)
        if spec is None or spec.loader is None:
            raise UsageError(f"cannot import {path}")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = mod
        # let the case file import siblings, as `python file.py` would
        sys.path.insert(0, str(path.parent))
        spec.loader.exec_module(mod)
    for value in vars(mod).values():
        if callable(value) and getattr(value, _CASE_ATTR, None) == target.name:
            return value
    raise UsageError(f"unknown case {target.name!r} in {target.describe()}")


def build(case_fn: Callable[[], Any], name: str) -> Built:
    """Call a case function and validate what it returned."""
    out = case_fn()
    return validate_built(out, name)


def validate_built(out: Any, name: str) -> Built:
    """Check a case's return value has the ``(callable, args[, kwargs])`` shape."""
    expected = "expected (callable, args) or (callable, args, kwargs)"
    if not isinstance(out, tuple) or len(out) not in (2, 3):
        raise UsageError(f"case {name!r} returned {type(out).__name__}: {expected}")
    fn, args = out[0], out[1]
    kwargs = out[2] if len(out) == 3 else {}
    if not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
        raise UsageError(f"case {name!r}: kwargs must be a dict of str keys; {expected}")
    sets = None
    if isinstance(args, Args):
        args = Inputs(args)
    if isinstance(args, Inputs):
        # each set's keywords are added to (and override) the case's own kwargs
        sets = tuple((lab, a, {**kwargs, **kw})
                     for lab, (a, kw) in zip(args.labels, args.calls, strict=True))
        args, kwargs = sets[0][1], sets[0][2]
    if not callable(fn):
        from jitwarm.adapters import wrap_target

        wrapped = wrap_target(fn, args, kwargs)
        if wrapped is not None:
            if sets is not None:
                if any(kw != kwargs for _, _, kw in sets):
                    raise UsageError(f"case {name!r}: jitwarm.args(...) keywords are for "
                                     f"callables; a {type(fn).__name__} target takes its "
                                     "inputs positionally")
                return Built(wrapped.fn, wrapped.args, wrapped.kwargs,
                             tuple((lab, wrapped.fn.prepare_args(a), wrapped.kwargs)
                                   for lab, a, _ in sets))
            return wrapped
    if not callable(fn):
        raise UsageError(f"case {name!r}: first item is {type(fn).__name__}, not callable; {expected}")
    if isinstance(args, list):
        args = tuple(args)
    if not isinstance(args, tuple):
        raise UsageError(
            f"case {name!r}: args must be a tuple, got {type(args).__name__}; {expected}"
        )
    return Built(fn=fn, args=args, kwargs=dict(kwargs), inputs=sets)
