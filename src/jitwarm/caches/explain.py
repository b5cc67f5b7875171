"""Why a cached run still compiled, where the framework lets us know.

Runs inside a fresh process (``jitwarm.caches.prewarm_worker``, mode ``explain``) on a built
case, against a cache directory jitwarm created or verified. Each adapter owns its
framework's explanation (:meth:`jitwarm.adapters.base.Adapter.explain_first_call`):

* **Numba** — before calling, compares what this process would look up with the
  ``.nbi`` index on disk: the index's location (Numba keys the sub-directory on the
  source's absolute directory; an index for the same function under another
  sub-directory means the sources moved), the Numba version that wrote it, the source
  stamp, and per entry the signature, the CPU name and features (``magic_tuple``) and
  the bytecode/closure hashes. Index pickles are only loaded from directories jitwarm
  created (``jitwarm prewarm --out``) or installed from a verified bundle.
* **torch Inductor** — Inductor's own reasons: FX-graph cache bypasses
  (``counters["inductor"]["fxgraph_cache_bypass"]`` and the logged reason),
  AOTAutograd cache bypasses, and the hit/miss keys Inductor logged.
* **JAX** — the persistent-cache hits/misses JAX reported with
  ``jax_explain_cache_misses``, the missed keys, and whether the cache holds other
  entries for the same function (then something in the key changed: jaxlib version,
  XLA flags, compile options — e.g. the cache directory's path unless
  ``JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES=none``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jitwarm.adapters import ADAPTERS, by_name
from jitwarm.adapters.base import MARKERS, capture_logs, trusted

if TYPE_CHECKING:
    from jitwarm.cases.targets import Target

__all__ = ["MARKERS", "cache_root_from_env", "capture_logs", "explain_call", "explain_on_copy",
           "trusted"]


def explain_call(framework: str, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                 cache_root: Path | None, call: Any) -> tuple[Any, list[str]]:
    """Run ``call()`` (the first call) with the framework's explanations collected."""
    try:
        adapter = by_name(framework)
    except KeyError:
        return call(), [f"{framework}: no cache-miss explanations available"]
    return adapter.explain_first_call(fn, args, kwargs, cache_root, call)


def cache_root_from_env() -> Path | None:
    """The jitwarm cache directory this process was given (parent of NUMBA_CACHE_DIR etc.).

    Each adapter's ``cache_env`` puts its cache in a named sub-folder of one root; a
    variable pointing at exactly that sub-folder gives the root back.
    """
    for adapter in ADAPTERS:
        for var, sub in adapter.cache_folders().items():
            v = os.environ.get(var)
            if v and Path(v).name == sub:
                return Path(v).parent
    return None


def explain_on_copy(target: Target, cache_dir: Path, *, timeout_s: float) -> dict[str, Any]:
    """``jitwarm cache explain``: run the explaining first call against a throw-away copy of
    ``cache_dir`` and return the worker's record, paths of the copy named as ``cache_dir``.

    The first call compiles what missed and the frameworks write it to the cache they are
    given: explaining must not change the directory it diagnoses (the next explain, or the
    bundle made from it, would see a different cache).
    """
    from jitwarm._errors import UsageError, shown
    from jitwarm.caches.prewarm import run_case_process

    work = Path(tempfile.mkdtemp(prefix="jitwarm-explain-"))
    copy = work / "cache"
    try:
        try:
            shutil.copytree(cache_dir, copy, symlinks=True)
        except (OSError, shutil.Error) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise UsageError(f"cannot copy {shown(cache_dir)} to explain on a copy: "
                             f"{shown(why)}") from None
        rec = run_case_process(target, copy, mode="explain", timeout_s=timeout_s)
        return _renamed(rec, str(copy), str(cache_dir))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _renamed(value: Any, old: str, new: str) -> Any:
    """``value`` with every string's ``old`` path prefix replaced by ``new``."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [_renamed(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _renamed(v, old, new) for k, v in value.items()}
    return value
