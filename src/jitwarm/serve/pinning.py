"""Shape pinning: pad array arguments up to a few bucket sizes so a JIT compiles once per bucket.

A function compiled per input shape (Numba per ndim/dtype only; ``torch.compile`` with
static shapes, ``jax.jit``: per exact shape) recompiles for every new batch size. With
``@jitwarm.pin_shapes(buckets={0: [1, 8, 32, 128]})`` every call sees one of four sizes:

- **Which arguments**: ``buckets={dim: sizes}`` applies to dimension ``dim`` of *every*
  array argument (NumPy ``ndarray``, ``torch.Tensor``, ``jax.Array``; positional or
  keyword). ``args=(0, "mask")`` restricts it to those arguments (positions or parameter
  names); a selected argument that is not an array is an error. Non-array arguments that
  are not selected pass through untouched. Negative dims count from the end.
- **Padding**: each pinned array is padded on that dim up to the smallest bucket ≥ its
  size, with ``pad_value``. NumPy and torch pad with their own ops (torch with
  ``torch.cat``, autograd-safe). JAX arrays are padded and sliced *on the host* (NumPy)
  and put back on their device, because JAX's own pad/slice ops compile once per shape —
  which is what pinning is meant to avoid.
- **Outputs**: the *reference size* of a dim is the original size of the first pinned
  array. Every array in the output (nested tuples/lists/dicts included) whose size on that
  dim equals the padded size is sliced back to the reference size; others are returned as
  they are (``slice_outputs=False`` disables slicing). Reductions over the padded dim see
  the padding: choose ``pad_value`` accordingly (0 for sums, -inf for max ...).
- **Too large**: an input above the largest bucket raises :class:`ShapePinningError`
  (``oversize="error"``, default) or is passed through unpadded (``oversize="passthrough"``,
  which compiles for that shape).

``wrapper.pinning`` counts calls, distinct original and padded shapes (``report()``:
``compiles_avoided`` = distinct original signatures − distinct padded ones, i.e. the
compiles a per-shape JIT would have done without pinning) and ``suggest()`` proposes
buckets from the sizes it has seen (:func:`suggest_buckets`).
"""

from __future__ import annotations

import bisect
import functools
import inspect
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from jitwarm._errors import UsageError
from jitwarm.adapters import Adapter, array_adapter


class ShapePinningError(UsageError, ValueError):
    """Bad pinning configuration, a non-array pinned argument, or an input too large."""


def _kind(x: Any) -> Adapter | None:
    """The adapter owning array ``x`` (NumPy, torch, JAX ...) — without importing a framework."""
    return array_adapter(x)


class PinningStats:
    """What a pinned function has seen (thread-safe)."""

    def __init__(self, dims: Sequence[int]) -> None:
        self._lock = threading.Lock()
        self.calls = 0
        self.padded_calls = 0
        self.passthrough_calls = 0
        self.shapes: Counter[tuple[Any, ...]] = Counter()  # original pinned-arg signatures
        self.padded_shapes: Counter[tuple[Any, ...]] = Counter()
        self.sizes: dict[int, Counter[int]] = {d: Counter() for d in dims}

    def _record(self, orig: tuple[Any, ...], padded: tuple[Any, ...],
                sizes: Mapping[int, int], passthrough: bool) -> None:
        with self._lock:
            self.calls += 1
            self.shapes[orig] += 1
            self.padded_shapes[padded] += 1
            if passthrough:
                self.passthrough_calls += 1
            elif orig != padded:
                self.padded_calls += 1
            for d, s in sizes.items():
                self.sizes[d][s] += 1

    def report(self) -> dict[str, Any]:
        with self._lock:
            return {
                "calls": self.calls,
                "padded_calls": self.padded_calls,
                "passthrough_calls": self.passthrough_calls,
                "distinct_shapes": len(self.shapes),
                "distinct_padded_shapes": len(self.padded_shapes),
                "compiles_avoided": len(self.shapes) - len(self.padded_shapes),
                "sizes_seen": {d: sorted(c) for d, c in self.sizes.items()},
            }

    def suggest(self, dim: int | None = None, n_buckets: int = 4) -> list[int]:
        """Buckets for ``dim`` (default: the only/first pinned dim) from the sizes seen."""
        with self._lock:
            d = next(iter(self.sizes)) if dim is None else dim
            counts = dict(self.sizes[d])
        return suggest_buckets(counts, n_buckets=n_buckets)


def suggest_buckets(sizes: Iterable[int] | Mapping[int, int], n_buckets: int = 4) -> list[int]:
    """At most ``n_buckets`` bucket sizes minimising the total padding over ``sizes``.

    ``sizes``: observed sizes (repeats weigh more) or a ``{size: count}`` mapping, e.g. from
    a shape sweep or ``wrapper.pinning.sizes``. Exact dynamic programme over the distinct
    sizes: each bucket is the largest size of a contiguous group; cost = Σ count·(bucket −
    size). The largest size is always a bucket.
    """
    counts: Counter[int] = Counter()
    if isinstance(sizes, Mapping):
        for s, c in sizes.items():
            counts[int(s)] += int(c)
    else:
        for s in sizes:
            counts[int(s)] += 1
    if not counts:
        raise ValueError("suggest_buckets: no sizes given")
    if n_buckets < 1:
        raise ValueError("n_buckets must be >= 1")
    vals = sorted(counts)
    m = len(vals)
    k = min(n_buckets, m)

    def cost(i: int, j: int) -> int:  # group vals[i..j] padded to vals[j]
        return sum(counts[vals[t]] * (vals[j] - vals[t]) for t in range(i, j + 1))

    inf = float("inf")
    # best[b][j]: min cost covering vals[0..j] with b buckets, the last one at vals[j]
    best = [[inf] * m for _ in range(k + 1)]
    prev = [[-1] * m for _ in range(k + 1)]
    for j in range(m):
        best[1][j] = cost(0, j)
    for b in range(2, k + 1):
        for j in range(m):
            for i in range(j):
                c = best[b - 1][i] + cost(i + 1, j)
                if c < best[b][j]:
                    best[b][j], prev[b][j] = c, i
    b = min(range(1, k + 1), key=lambda bb: (best[bb][m - 1], bb))
    out, j = [], m - 1
    while j >= 0 and b >= 1:
        out.append(vals[j])
        j, b = prev[b][j], b - 1
    return sorted(out)


class _Pinned:
    def __init__(self, fn: Callable[..., Any], buckets: Mapping[int, Sequence[int]],
                 args: Sequence[int | str] | None, pad_value: Any, oversize: str,
                 slice_outputs: bool) -> None:
        if not callable(fn):
            raise ShapePinningError(f"pin_shapes: {fn!r} is not callable")
        if not isinstance(buckets, Mapping) or not buckets:
            raise ShapePinningError(
                "pin_shapes: buckets must be a non-empty {dim: [sizes]} mapping, "
                "e.g. buckets={0: [1, 8, 32]}")
        self.buckets: dict[int, list[int]] = {}
        for d, sizes in buckets.items():
            if isinstance(d, bool) or not isinstance(d, int):
                raise ShapePinningError(f"pin_shapes: bucket key {d!r} is not a dimension (int)")
            vals = list(sizes) if isinstance(sizes, Iterable) else []
            if not vals or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0
                                   for v in vals):
                raise ShapePinningError(
                    f"pin_shapes: buckets for dim {d} must be positive ints, got {sizes!r}")
            self.buckets[d] = sorted(set(vals))
        if oversize not in ("error", "passthrough"):
            raise ShapePinningError(
                f"pin_shapes: oversize must be 'error' or 'passthrough', not {oversize!r}")
        self.fn = fn
        self.pad_value = pad_value
        self.oversize = oversize
        self.slice_outputs = slice_outputs
        self.stats = PinningStats(list(self.buckets))
        self._positions: set[int] | None = None
        self._names: set[str] = set()
        if args is not None:
            self._positions, self._names = self._resolve_selectors(fn, args)

    @staticmethod
    def _resolve_selectors(fn: Callable[..., Any],
                           args: Sequence[int | str]) -> tuple[set[int], set[str]]:
        if isinstance(args, (int, str)):
            args = (args,)
        try:
            sig = inspect.signature(getattr(fn, "py_func", fn))
            params = list(sig.parameters.values())
        except (TypeError, ValueError):
            params = None
        positions: set[int] = set()
        names: set[str] = set()
        for a in args:
            if isinstance(a, bool) or not isinstance(a, (int, str)):
                raise ShapePinningError(f"pin_shapes: args selector {a!r} is not a position or name")
            if params is None:
                (positions if isinstance(a, int) else names).add(a)  # type: ignore[arg-type]
                continue
            varargs = any(p.kind is p.VAR_POSITIONAL for p in params)
            positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY,
                                                            p.POSITIONAL_OR_KEYWORD)]
            if isinstance(a, int):
                if a < 0 or (a >= len(positional) and not varargs):
                    raise ShapePinningError(
                        f"pin_shapes: args selector {a} is out of range: "
                        f"{getattr(fn, '__name__', fn)} takes {len(positional)} positional "
                        "argument(s)")
                positions.add(a)
                if a < len(positional):
                    names.add(positional[a].name)
            else:
                match = [p for p in params if p.name == a]
                if not match and not any(p.kind is p.VAR_KEYWORD for p in params):
                    raise ShapePinningError(
                        f"pin_shapes: {getattr(fn, '__name__', fn)} has no parameter {a!r}")
                names.add(a)
                if match and match[0] in positional:
                    positions.add(positional.index(match[0]))
        return positions, names

    def _selected(self, where: int | str) -> bool:
        if self._positions is None:
            return True
        return where in (self._positions if isinstance(where, int) else self._names)

    def _bucket(self, d: int, size: int) -> int | None:
        b = self.buckets[d]
        i = bisect.bisect_left(b, size)
        return b[i] if i < len(b) else None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        new_args = list(args)
        refs: dict[int, tuple[int, int]] = {}  # normalised dim -> (orig, padded) of 1st array
        orig_sig: list[Any] = []
        padded_sig: list[Any] = []
        passthrough = False
        items: list[tuple[int | str, Any]] = [*enumerate(args), *kwargs.items()]
        plan: list[tuple[int | str, Any, Adapter, dict[int, int]]] = []
        for where, value in items:
            kind = _kind(value)
            if kind is None:
                if self._positions is not None and self._selected(where):
                    raise ShapePinningError(
                        f"pin_shapes: argument {where!r} of {self._name()} is "
                        f"{type(value).__name__}, not an array (NumPy, torch or JAX)")
                continue
            if not self._selected(where):
                continue
            shape = tuple(value.shape)
            targets: dict[int, int] = {}
            for d in self.buckets:
                nd = d + len(shape) if d < 0 else d
                if not 0 <= nd < len(shape):
                    raise ShapePinningError(
                        f"pin_shapes: argument {where!r} of {self._name()} has shape {shape}: "
                        f"no dimension {d} to pin")
                b = self._bucket(d, shape[nd])
                if b is None:
                    if self.oversize == "error":
                        raise ShapePinningError(
                            f"pin_shapes: argument {where!r} of {self._name()} has size "
                            f"{shape[nd]} on dim {d}, above the largest bucket "
                            f"{self.buckets[d][-1]}; add a bucket or use "
                            "oversize='passthrough'")
                    passthrough = True
                    b = shape[nd]
                targets[nd] = b
                refs.setdefault(d, (shape[nd], b))
            plan.append((where, value, kind, targets))
            orig_sig.append((where, shape, str(value.dtype)))
            padded = list(shape)
            for nd, b in targets.items():
                padded[nd] = b
            padded_sig.append((where, tuple(padded), str(value.dtype)))
        if not passthrough:
            for where, value, kind, targets in plan:
                for nd, b in targets.items():
                    value = kind.pad_array(value, nd, b, self.pad_value)
                if isinstance(where, int):
                    new_args[where] = value
                else:
                    kwargs[where] = value
        sizes = {d: r[0] for d, r in refs.items()}
        self.stats._record(tuple(orig_sig), tuple(orig_sig) if passthrough else tuple(padded_sig),
                           sizes, passthrough)
        out = self.fn(*new_args, **kwargs)
        if passthrough or not self.slice_outputs:
            return out
        cuts = {d: r for d, r in refs.items() if r[0] != r[1]}
        if not cuts:
            return out
        return self._cut(out, cuts)

    def _cut(self, out: Any, cuts: dict[int, tuple[int, int]]) -> Any:
        kind = _kind(out)
        if kind is not None:
            for d, (n, b) in cuts.items():
                nd = d + len(out.shape) if d < 0 else d
                if 0 <= nd < len(out.shape) and out.shape[nd] == b:
                    out = kind.slice_array(out, nd, n)
            return out
        if isinstance(out, tuple):
            vals = [self._cut(v, cuts) for v in out]
            return type(out)(*vals) if hasattr(out, "_fields") else tuple(vals)
        if isinstance(out, list):
            return [self._cut(v, cuts) for v in out]
        if isinstance(out, dict):
            return {k: self._cut(v, cuts) for k, v in out.items()}
        return out

    def _name(self) -> str:
        return getattr(self.fn, "__name__", None) or repr(self.fn)


def pin_shapes(fn: Callable[..., Any] | None = None, *,
               buckets: Mapping[int, Sequence[int]],
               args: Sequence[int | str] | None = None, pad_value: Any = 0,
               oversize: str = "error", slice_outputs: bool = True) -> Any:
    """Decorator: pad array arguments' ``buckets`` dims up to the next bucket size.

    ``@pin_shapes(buckets={0: [1, 8, 32, 128]})`` or ``pin_shapes(fn, buckets=...)``. See the
    module documentation for how buckets map to arguments and how outputs are sliced. The
    wrapper has ``.pinning`` (:class:`PinningStats`), ``.buckets`` and ``.__wrapped__``.
    """

    def wrap(f: Callable[..., Any]) -> Callable[..., Any]:
        pinned = _Pinned(f, buckets, args, pad_value, oversize, slice_outputs)

        @functools.wraps(f, updated=())  # not __dict__: a dispatcher's state stays its own
        def wrapper(*a: Any, **kw: Any) -> Any:
            return pinned(*a, **kw)

        wrapper.pinning = pinned.stats  # type: ignore[attr-defined]
        wrapper.buckets = pinned.buckets  # type: ignore[attr-defined]
        wrapper.bucket_sizes = lambda dim=None: pinned.buckets[  # type: ignore[attr-defined]
            next(iter(pinned.buckets)) if dim is None else dim]
        return wrapper

    if fn is None:
        return wrap
    return wrap(fn)
