"""Why a cached run still compiled, where the framework lets us know.

Runs inside a fresh process (``jitwarm.caches.prewarm_worker``, mode ``explain``) on a built
case, against a cache directory jitwarm created or verified:

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

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jitwarm.cases.targets import Target

#: files whose presence marks a directory as created or verified by jitwarm
MARKERS = ("jitwarm-prewarm.json", "jitwarm-installed.json")


def trusted(cache_root: Path) -> bool:
    """Whether ``cache_root`` was created by ``jitwarm prewarm`` or a verified install."""
    return any((cache_root / m).is_file() for m in MARKERS)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(record.getMessage())
        except Exception:  # pragma: no cover - a bad log call in the framework
            pass


class capture_logs:  # noqa: N801 - used as a context manager
    """Collect the messages of some loggers at DEBUG, without printing them."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.handler = _Capture()
        self.saved: list[tuple[logging.Logger, int, bool]] = []

    def __enter__(self) -> list[str]:
        for n in self.names:
            lg = logging.getLogger(n)
            self.saved.append((lg, lg.level, lg.propagate))
            lg.addHandler(self.handler)
            lg.setLevel(logging.DEBUG)
            lg.propagate = False
        return self.handler.messages

    def __exit__(self, *exc: object) -> None:
        for lg, level, prop in self.saved:
            lg.removeHandler(self.handler)
            lg.setLevel(level)
            lg.propagate = prop


# -- Numba ---------------------------------------------------------------------------------------

def numba_before_call(fn: Any, args: tuple[Any, ...], cache_root: Path | None) -> list[str]:
    """Compare this process's cache lookup for ``fn(*args)`` with the index on disk."""
    import numba

    from jitwarm.adapters.numba_index import read_index

    cache = getattr(fn, "_cache", None)
    if cache is None or type(cache).__name__ == "NullCache":
        return ["numba: the function is not decorated with cache=True: nothing is read "
                "from or written to the disk cache"]
    impl = cache._impl
    index_path = Path(cache._cache_file._index_path)
    out: list[str] = []
    if cache_root is not None and not trusted(cache_root):
        return [f"numba: {cache_root} was not created by jitwarm: its index pickles are not "
                "loaded (run `jitwarm prewarm` or `jitwarm bundle install --target`)"]
    sig = tuple(numba.typeof(a) for a in args)
    codegen = fn.targetctx.codegen()
    magic = codegen.magic_tuple()
    if not index_path.exists():
        out.append(f"numba: no index at {index_path}")
        name = index_path.name
        base = index_path.parent.parent
        others = [p for p in base.glob(f"*/{name}") if p != index_path] if base.is_dir() else []
        if others:
            out.append(f"numba: an index for this function exists in {others[0].parent.name}, "
                       f"not in {index_path.parent.name}: Numba names the directory after the "
                       "source file's absolute directory, so the sources moved since the cache "
                       "was written (install bundles with `--sources DIR` to re-key)")
        return out
    try:
        version, stamp, overloads = read_index(index_path)
    except Exception as exc:
        return [f"numba: the index {index_path.name} is unreadable ({type(exc).__name__}): "
                "Numba ignores it and recompiles"]
    if version != numba.__version__:
        out.append(f"numba: the index was written by Numba {version}, this is "
                   f"{numba.__version__}: Numba ignores indexes of other versions")
        return out
    now = impl.locator.get_source_stamp()
    if stamp != now:
        kind = "content hash" if isinstance(stamp, (bytes, str)) else "(mtime, size)"
        out.append(f"numba: the source stamp ({kind}) differs from the source file now: the "
                   "source changed (or, for an (mtime, size) stamp, was copied with a new "
                   "mtime — numba#10776) since the entry was written")
    keys = list(overloads)
    same_sig = [k for k in keys if k[0] == sig]
    if not same_sig:
        have = ", ".join(str(k[0]) for k in keys) or "none"
        out.append(f"numba: no entry for signature {sig}; the index holds: {have}")
        return out
    for key in same_sig:
        k_magic = key[1]
        if k_magic != magic:
            if k_magic[0] != magic[0]:
                out.append(f"numba: entry compiled for target {k_magic[0]}, this is {magic[0]}")
            if k_magic[1] != magic[1]:
                out.append(f"numba: entry compiled for CPU {k_magic[1]!r}, this CPU is "
                           f"{magic[1]!r} (NUMBA_CPU_NAME=generic makes entries portable)")
            if k_magic[2] != magic[2]:
                a, b = set(k_magic[2].split(",")), set(magic[2].split(","))
                diff = sorted((a - b) | (b - a))[:10]
                out.append(f"numba: entry compiled with other CPU features ({', '.join(diff)})")
        try:
            current = cache._index_key(sig, codegen)
        except Exception:  # pragma: no cover - Numba internals differ
            current = None
        if current is not None and len(key) > 2 and key[2] != current[2]:
            out.append("numba: the function's bytecode or closure variables changed since "
                       "the entry was written")
    if not out:
        out.append("numba: the index has a matching entry (signature, CPU, source): the miss "
                   "comes from elsewhere (e.g. a missing .nbc data file)")
    return out


# -- torch ----------------------------------------------------------------------------------------

TORCH_LOGGERS = ("torch._inductor.codecache", "torch._functorch._aot_autograd.autograd_cache")


def torch_after_call(messages: list[str], cache_root: Path | None) -> list[str]:
    from torch._dynamo.utils import counters

    out: list[str] = []
    ind = counters["inductor"]
    aot = counters["aot_autograd"]
    for msg in messages:
        if msg.startswith(("Bypassing FX Graph Cache", "Bypassing autograd cache")):
            out.append(f"torch: {msg}")
    misses = [m for m in messages if m.startswith("fx graph cache miss")]
    hits = [m for m in messages if m.startswith("fx graph cache hit")]
    out.append(f"torch: FX-graph cache {ind['fxgraph_cache_hit']} hit / "
               f"{ind['fxgraph_cache_miss']} miss / {ind['fxgraph_cache_bypass']} bypass; "
               f"AOTAutograd cache {aot['autograd_cache_hit']} hit / "
               f"{aot['autograd_cache_miss']} miss / {aot['autograd_cache_bypass']} bypass")
    for m in misses[:5]:
        key = m.rsplit(" ", 1)[-1]
        line = f"torch: {m}"
        if cache_root is not None:
            fx = cache_root / "torchinductor" / "fxgraph"
            # the miss has just written its own entry under its key: not an "other" one
            n = sum(1 for p in fx.glob("*/*") if p.name != key) if fx.is_dir() else 0
            line += (f"; the cache holds {n} other FX-graph entr{'y' if n == 1 else 'ies'} — "
                     "something in the key changed (torch version, config, graph, input "
                     "shapes/strides, device)" if n else "; the cache holds no other FX-graph "
                     "entry: this graph was never compiled into this cache")
        out.append(line)
    details = [m for m in messages if m.startswith("FX graph cache hash details")]
    if misses and details:
        body = details[0].splitlines()[1:8]
        out.append("torch: key components of the missed graph: " + "; ".join(s.strip() for s in body))
    if aot["autograd_cache_miss"] and not aot["autograd_cache_hit"] and not misses:
        # every FX graph hit, yet AOTAutograd missed: the forward-only-with-grad case
        out.append("torch: the AOTAutograd cache missed. It writes an entry for a graph whose "
                   "inputs require grad only once the backward is compiled, so forward-only "
                   "(inference) processes never write one and re-run Dynamo's joint-graph "
                   "passes every time: run inference under torch.inference_mode()/no_grad() "
                   "or call model.requires_grad_(False)")
    if hits and not misses:
        out.append("torch: every FX graph hit; what is left is Dynamo tracing, AOTAutograd and "
                   "loading the compiled modules")
    return out


# -- JAX --------------------------------------------------------------------------------------------

JAX_LOGGERS = ("jax._src.compiler", "jax._src.compilation_cache", "jax._src.cache_key")


def jax_key_components(messages: list[str]) -> list[dict[str, str]]:
    """Per compile, ``{component: hash}`` of JAX's persistent-cache key (from its DEBUG log)."""
    keys: list[dict[str, str]] = []
    prefix = "get_cache_key hash of serialized "
    for m in messages:
        if not m.startswith(prefix) or ": " not in m:
            continue
        name, digest = m[len(prefix):].rsplit(": ", 1)
        if name == "computation" or not keys:
            keys.append({})
        keys[-1][name] = digest.strip()
    return keys


def _recorded_jax_keys(cache_root: Path) -> list[dict[str, str]]:
    """Key components recorded when jitwarm filled ``cache_root`` (prewarm/installed JSON)."""
    import json

    found: list[dict[str, str]] = []
    for marker in MARKERS:
        path = cache_root / marker
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        record = data.get("prewarm") if marker == "jitwarm-installed.json" else data
        for case in (record or {}).get("cases") or []:
            for call in case.get("calls") or []:
                found.extend(call.get("jax_key_components") or [])
    return found


def jax_after_call(messages: list[str], cache_root: Path | None) -> list[str]:
    out: list[str] = []
    now = jax_key_components(messages)
    recorded = _recorded_jax_keys(cache_root) if cache_root is not None else []
    for msg in messages:
        if "PERSISTENT COMPILATION CACHE MISS" in msg or "Not writing persistent cache" in msg:
            out.append(f"jax: {msg.splitlines()[0]}")
            if "with key '" in msg and cache_root is not None:
                key = msg.split("with key '", 1)[1].split("'", 1)[0]
                module = key.split("-", 1)[0]
                jdir = cache_root / "jax"
                others = sorted(p.name for p in jdir.glob(f"{module}-*")
                                if not p.name.startswith(key)) if jdir.is_dir() else []
                if others:
                    out.append(f"jax: the cache holds {len(others)} other entr"
                               f"{'y' if len(others) == 1 else 'ies'} for {module}: part of the "
                               "key changed (jaxlib version, XLA flags, compile options — the "
                               "cache directory's path is one unless "
                               "JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES=none)")
    if recorded and any("MISS" in o for o in out):
        for comp in now:
            same = [r for r in recorded if r.get("computation") == comp.get("computation")]
            if not same:
                continue
            diff = sorted(k for k in comp if same[0].get(k) != comp[k])
            if diff:
                hint = (" (the compile options hold the cache directory's path unless "
                        "JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES=none)"
                        if "compile_options" in diff else "")
                out.append("jax: the same program was cached when jitwarm filled this "
                           f"directory, but these key parts differ now: {', '.join(diff)}"
                           + hint)
        if not any("key parts differ" in o for o in out):
            out.append("jax: no entry recorded for this program's computation hash: the "
                       "traced program itself differs (shapes, dtypes, code or static "
                       "arguments)")
    return out


def explain_call(framework: str, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                 cache_root: Path | None, call: Any) -> tuple[Any, list[str]]:
    """Run ``call()`` (the first call) with the framework's explanations collected."""
    notes: list[str] = []
    if framework == "numba":
        notes.extend(numba_before_call(fn, args, cache_root))
        stats = getattr(fn, "stats", None)
        result = call()
        if stats is not None and sum(stats.cache_hits.values()) and not sum(
                stats.cache_misses.values()):
            notes = ["numba: the disk cache hit: nothing was compiled"]
        return result, notes
    if framework == "torch":
        with capture_logs(TORCH_LOGGERS) as msgs:
            result = call()
        return result, torch_after_call(msgs, cache_root)
    if framework == "jax":
        import jax

        prev = jax.config.jax_explain_cache_misses
        jax.config.update("jax_explain_cache_misses", True)
        try:
            with capture_logs(JAX_LOGGERS) as msgs:
                result = call()
        finally:
            jax.config.update("jax_explain_cache_misses", prev)
        return result, jax_after_call(msgs, cache_root)
    return call(), [f"{framework}: no cache-miss explanations available"]


def cache_root_from_env() -> Path | None:
    """The jitwarm cache directory this process was given (parent of NUMBA_CACHE_DIR etc.)."""
    for var, sub in (("NUMBA_CACHE_DIR", "numba"), ("TORCHINDUCTOR_CACHE_DIR", "torchinductor"),
                     ("JAX_COMPILATION_CACHE_DIR", "jax")):
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
