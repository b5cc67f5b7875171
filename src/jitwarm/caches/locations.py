"""Where each framework's compile cache lives right now, what is in it, what turns it off.

``jitwarm cache status`` and ``jitwarm cache clear``. Everything here is read from the
environment variables each framework reads and from its documented defaults, without
importing the framework; ``with_config=True`` additionally imports the framework's
config module (lazily, and says so), which is the only truth for settings made in code
or config files.

Frameworks and what they read:

* **Numba**: ``NUMBA_CACHE_DIR`` (else ``__pycache__`` next to each source file; then
  ``~/.cache/numba``-like user-wide dirs for unwritable source dirs), ``NUMBA_DISABLE_JIT``
  (nothing compiles, nothing is cached), ``.numba_config.yaml`` in the working directory.
* **torch Inductor/Triton**: ``TORCHINDUCTOR_CACHE_DIR`` (else
  ``<tempdir>/torchinductor_<user>``), ``TRITON_CACHE_DIR`` (else
  ``<inductor dir>/triton/<device>`` under Inductor), ``TORCHINDUCTOR_FX_GRAPH_CACHE``,
  ``TORCHINDUCTOR_AUTOGRAD_CACHE``, ``TORCHINDUCTOR_FORCE_DISABLE_CACHES``.
* **JAX**: ``JAX_COMPILATION_CACHE_DIR`` (no default: the persistent cache is off),
  ``JAX_ENABLE_COMPILATION_CACHE``, ``JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS``
  (default 1 s: faster compiles are silently not written, jax#21908),
  ``JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES``, ``JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES``
  (by default the cache directory's absolute path enters every key).
* **ONNX Runtime**: no implicit cache; jitwarm's optimised-model cache
  ``JITWARM_ORT_CACHE_DIR``.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jitwarm._errors import UsageError, shown

FRAMEWORKS = ("numba", "torch", "jax", "onnxruntime")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass
class CacheLocation:
    """One cache directory of one framework, as resolved now."""

    framework: str
    name: str  # "numba", "inductor", "triton", "jax", "onnxruntime"
    path: Path | None  # None: no single directory (Numba in-tree) or the cache is off
    source: str  # how it was resolved ("NUMBA_CACHE_DIR", "default", ...)
    env_var: str | None = None  # the variable that redirects it
    exists: bool = False
    size_bytes: int = 0
    entries: int = 0
    entry_kind: str = "files"
    files: int = 0
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    #: directories holding this cache's files when there is no single directory
    scanned: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["path"] = None if self.path is None else str(self.path)
        return d


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else None


def _flag(name: str) -> bool | None:
    value = _env(name)
    if value is None:
        return None
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    return None


def _scan(path: Path, pattern: str | None = None) -> tuple[int, int, int]:
    """(total bytes, files, entries matching ``pattern``) under ``path``; no symlinks followed."""
    size = files = entries = 0
    if not path.is_dir():
        return 0, 0, 0
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
        for name in filenames:
            p = os.path.join(dirpath, name)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            files += 1
            size += st.st_size
            if pattern is None or re.fullmatch(pattern, name):
                entries += 1
    return size, files, entries


# -- resolvers ---------------------------------------------------------------------------

def inductor_dir() -> tuple[Path, str]:
    """Inductor's cache directory and how it was resolved (as ``cache_dir_utils.cache_dir``)."""
    env = _env("TORCHINDUCTOR_CACHE_DIR")
    if env is not None:
        return Path(os.path.abspath(env)), "TORCHINDUCTOR_CACHE_DIR"
    try:
        user = getpass.getuser()
    except (KeyError, ModuleNotFoundError, OSError):
        user = f"uid_{os.getuid()}" if hasattr(os, "getuid") else "unknown_user"
    user = re.sub(r'[\\/:*?"<>|]', "_", user)
    return Path(tempfile.gettempdir()) / f"torchinductor_{user}", "default (<tempdir>/torchinductor_<user>)"


def triton_dir() -> tuple[Path, str]:
    env = _env("TRITON_CACHE_DIR")
    if env is not None:
        return Path(os.path.abspath(env)), "TRITON_CACHE_DIR"
    return inductor_dir()[0] / "triton", "default under Inductor (<inductor dir>/triton/<device>)"


def numba_locations(sources: Path | None = None) -> CacheLocation:
    """Numba's cache: ``NUMBA_CACHE_DIR`` or ``__pycache__`` dirs under ``sources`` (cwd)."""
    warnings: list[str] = []
    notes: list[str] = []
    settings: dict[str, Any] = {}
    if _flag("NUMBA_DISABLE_JIT"):
        warnings.append("NUMBA_DISABLE_JIT=1: functions run as plain Python, nothing is "
                        "compiled or cached")
        settings["NUMBA_DISABLE_JIT"] = os.environ["NUMBA_DISABLE_JIT"]
    if Path(".numba_config.yaml").exists():
        notes.append(".numba_config.yaml in the working directory may set cache_dir or "
                     "disable_jit (read by Numba when PyYAML is installed)")
    for var in ("NUMBA_CACHE_LOCATOR_CLASSES", "NUMBA_DEBUG_CACHE"):
        if _env(var):
            settings[var] = os.environ[var]
    env = _env("NUMBA_CACHE_DIR")
    notes.append("only functions decorated with cache=True are cached; index keys: "
                 "signature, CPU name and features, source hash (mtime+size in older "
                 "Numba) and the source's absolute directory")
    if env is not None:
        path = Path(os.path.abspath(env))
        size, files, entries = _scan(path, r".*\.nbc")
        return CacheLocation("numba", "numba", path, "NUMBA_CACHE_DIR", "NUMBA_CACHE_DIR",
                             path.is_dir(), size, entries, "compiled specialisations (.nbc)",
                             files, warnings, notes, settings)
    root = (sources or Path.cwd()).resolve()
    size = files = entries = 0
    scanned: list[str] = []
    count = 0
    for dirpath, dirnames, _ in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in
                       ("node_modules", "venv", ".venv")]
        count += 1
        if count > 20000:
            notes.append(f"stopped scanning {root} after 20000 directories")
            break
        if os.path.basename(dirpath) == "__pycache__":
            s, f, e = _scan(Path(dirpath), r".*\.nbc")
            nbi = any(n.endswith(".nbi") for n in os.listdir(dirpath))
            if e or nbi:
                scanned.append(dirpath)
                size += s
                entries += e
                files += sum(1 for n in os.listdir(dirpath) if n.endswith((".nbi", ".nbc")))
    notes.append(f"NUMBA_CACHE_DIR is not set: each source's __pycache__ is used (scanned "
                 f"{root}); unwritable source dirs fall back to a user-wide cache dir")
    return CacheLocation("numba", "numba", None, "__pycache__ next to each source file",
                         "NUMBA_CACHE_DIR", bool(scanned), size, entries,
                         "compiled specialisations (.nbc)", files, warnings, notes, settings,
                         scanned)


def torch_locations(with_config: bool = False) -> list[CacheLocation]:
    path, source = inductor_dir()
    warnings: list[str] = []
    notes: list[str] = []
    settings: dict[str, Any] = {}
    for var in ("TORCHINDUCTOR_FX_GRAPH_CACHE", "TORCHINDUCTOR_AUTOGRAD_CACHE",
                "TORCHINDUCTOR_FORCE_DISABLE_CACHES", "TORCHINDUCTOR_FX_GRAPH_CACHE_DEFAULT",
                "TORCH_COMPILE_DISABLE", "TORCHDYNAMO_DISABLE"):
        if _env(var) is not None:
            settings[var] = os.environ[var]
    if _flag("TORCHINDUCTOR_FX_GRAPH_CACHE") is False:
        warnings.append("TORCHINDUCTOR_FX_GRAPH_CACHE=0: Inductor's FX-graph cache is off")
    if _flag("TORCHINDUCTOR_AUTOGRAD_CACHE") is False:
        warnings.append("TORCHINDUCTOR_AUTOGRAD_CACHE=0: the AOTAutograd cache is off")
    if _flag("TORCHINDUCTOR_FORCE_DISABLE_CACHES"):
        warnings.append("TORCHINDUCTOR_FORCE_DISABLE_CACHES=1: every Inductor cache is off")
    if _flag("TORCH_COMPILE_DISABLE") or _flag("TORCHDYNAMO_DISABLE"):
        warnings.append("torch.compile is disabled by the environment: nothing compiles")
    if with_config:
        try:
            import torch._functorch.config as fconfig  # noqa: I001 - lazy, on request only
            import torch._inductor.config as iconfig

            settings["config.fx_graph_cache"] = bool(iconfig.fx_graph_cache)
            settings["config.force_disable_caches"] = bool(iconfig.force_disable_caches)
            settings["config.enable_autograd_cache"] = bool(fconfig.enable_autograd_cache)
            if not iconfig.fx_graph_cache and not any("FX_GRAPH" in w for w in warnings):
                warnings.append("torch._inductor.config.fx_graph_cache is False")
            if iconfig.force_disable_caches and not any("FORCE" in w for w in warnings):
                warnings.append("torch._inductor.config.force_disable_caches is True")
            notes.append("settings read from torch's config (torch was imported)")
        except ImportError:
            notes.append("torch is not installed: settings from the environment only")
    size, files, _ = _scan(path)
    fx = _scan(path / "fxgraph")[1]
    aot = _scan(path / "aotautograd")[1]
    inductor = CacheLocation(
        "torch", "inductor", path, source, "TORCHINDUCTOR_CACHE_DIR", path.is_dir(), size,
        fx + aot, "FX-graph + AOTAutograd entries", files, warnings,
        notes + [f"fxgraph entries: {fx}, aotautograd entries: {aot}; generated C++/Triton "
                 "sources and their compiled .so files sit beside them — Mega-Cache "
                 "(torch.compiler.save_cache_artifacts) leaves the .so files out, so move the "
                 "whole directory (`jitwarm bundle`); compare both with `jitwarm profile "
                 "--strategies bundle,mega-cache`"], settings)
    tpath, tsource = triton_dir()
    tsize, tfiles, tentries = _scan(tpath, r".*\.json")
    triton = CacheLocation("torch", "triton", tpath, tsource, "TRITON_CACHE_DIR",
                           tpath.is_dir(), tsize, tentries, "kernel metadata (.json)", tfiles,
                           [], ["GPU kernels only (Triton); empty on CPU"])
    return [inductor, triton]


def jax_locations(with_config: bool = False) -> CacheLocation:
    warnings: list[str] = []
    notes: list[str] = []
    settings: dict[str, Any] = {}
    env = _env("JAX_COMPILATION_CACHE_DIR")
    min_time = _env("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS")
    min_size = _env("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES")
    xla_caches = _env("JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES")
    enabled = _flag("JAX_ENABLE_COMPILATION_CACHE")
    source = "JAX_COMPILATION_CACHE_DIR" if env else "not set"
    if with_config:
        try:
            import jax  # lazy, on request only

            cfg = jax.config
            settings["config.jax_compilation_cache_dir"] = cfg.jax_compilation_cache_dir
            env = cfg.jax_compilation_cache_dir or env
            min_time = str(cfg.jax_persistent_cache_min_compile_time_secs)
            min_size = str(cfg.jax_persistent_cache_min_entry_size_bytes)
            xla_caches = getattr(cfg, "jax_persistent_cache_enable_xla_caches", xla_caches)
            enabled = bool(getattr(cfg, "jax_enable_compilation_cache", True))
            source = "jax.config (jax was imported)" if env else "not set"
            notes.append("settings read from jax.config (jax was imported); settings made "
                         "in your program's code are not visible here")
        except ImportError:
            notes.append("jax is not installed: settings from the environment only")
    settings.update({
        "min_compile_time_secs": float(min_time) if min_time else 1.0,
        "min_entry_size_bytes": int(float(min_size)) if min_size else 0,
        "enable_xla_caches": xla_caches if xla_caches is not None
        else "xla_gpu_per_fusion_autotune_cache_dir (default)",
    })
    if enabled is False:
        warnings.append("JAX_ENABLE_COMPILATION_CACHE=0: the persistent cache is off")
    if not env:
        warnings.append("no JAX_COMPILATION_CACHE_DIR: JAX's persistent cache is off "
                        "(set it, or jax.config.update('jax_compilation_cache_dir', ...) "
                        "before the first jit call — set later it stays off, jax#25768)")
    if settings["min_compile_time_secs"] > 0:
        warnings.append(f"compiles shorter than {settings['min_compile_time_secs']:g} s are "
                        "silently not written (JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS; "
                        "jax#21908): set it to 0 to cache everything")
    if settings["min_entry_size_bytes"] == 0:
        notes.append("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES=0 lets JAX apply a "
                     "per-filesystem minimum entry size; -1 caches entries of any size")
    if xla_caches is None or (xla_caches not in ("none", "") and "autotune" in xla_caches):
        notes.append("JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES is not 'none': the cache "
                     "directory's absolute path is part of every cache key, so a copy in "
                     "another directory misses; jitwarm bundles set it to 'none'")
    if not env:
        return CacheLocation("jax", "jax", None, source, "JAX_COMPILATION_CACHE_DIR", False,
                             warnings=warnings, notes=notes, settings=settings)
    path = Path(os.path.abspath(env))
    size, files, entries = _scan(path, r".*-cache")
    return CacheLocation("jax", "jax", path, source, "JAX_COMPILATION_CACHE_DIR",
                         path.is_dir(), size, entries, "XLA executables (*-cache)", files,
                         warnings, notes, settings)


def ort_locations() -> CacheLocation:
    env = _env("JITWARM_ORT_CACHE_DIR")
    notes = ["ONNX Runtime has no implicit compile cache; jitwarm keeps offline-optimised "
             "models (SessionOptions.optimized_model_filepath) in JITWARM_ORT_CACHE_DIR"]
    if not env:
        return CacheLocation("onnxruntime", "onnxruntime", None, "not set",
                             "JITWARM_ORT_CACHE_DIR", False, notes=notes)
    path = Path(os.path.abspath(env))
    size, files, entries = _scan(path, r".*\.(onnx|ort)")
    return CacheLocation("onnxruntime", "onnxruntime", path, "JITWARM_ORT_CACHE_DIR",
                         "JITWARM_ORT_CACHE_DIR", path.is_dir(), size, entries,
                         "optimised models", files, notes=notes)


def check_framework(framework: str | None) -> str | None:
    if framework is None:
        return None
    name = framework.strip().lower()
    aliases = {"inductor": "torch", "torch.compile": "torch", "ort": "onnxruntime",
               "onnx": "onnxruntime", "triton": "torch"}
    name = aliases.get(name, name)
    if name not in FRAMEWORKS:
        raise UsageError(f"unknown framework {framework!r}: choose from {', '.join(FRAMEWORKS)}")
    return name


def locations(framework: str | None = None, *, sources: Path | None = None,
              with_config: bool = False) -> list[CacheLocation]:
    """Every cache location (of one framework, or of all) as resolved right now."""
    fw = check_framework(framework)
    out: list[CacheLocation] = []
    if fw in (None, "numba"):
        out.append(numba_locations(sources))
    if fw in (None, "torch"):
        out.extend(torch_locations(with_config))
    if fw in (None, "jax"):
        out.append(jax_locations(with_config))
    if fw in (None, "onnxruntime"):
        out.append(ort_locations())
    return out


# -- clearing ------------------------------------------------------------------------------
#
# ``cache clear`` deletes cache *entries* only: files whose name and place are what the
# framework writes, never any other file and never the cache folder itself (a folder under
# it is removed only once deleting entries left it empty). A folder that is ``/``, a system
# folder, or an ancestor of (or equal to) the working directory, the home directory or the
# Python installation is refused outright, as is a folder holding files but no entry.

#: folders no cache lives in (or directly is): refused, and so is anything inside the first
#: group (operating-system trees)
_SYSTEM_TREES = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32",
                 "/proc", "/sbin", "/sys", "/usr", "/System", "/Library", "/Applications")
_SYSTEM_DIRS = ("/home", "/Users", "/root", "/opt", "/srv", "/mnt", "/media", "/run",
                "/snap", "/tmp", "/var", "/var/tmp", "/var/cache", "/var/lib", "/private",
                "/private/tmp", "/private/var", "/Volumes")

#: a hash as the frameworks spell file and folder names (base32/hex digests: >= 32
#: letters and digits, at least one digit)
_HASH = re.compile(r"(?=[A-Za-z]*[0-9])[A-Za-z0-9]{32,}")
#: Inductor's own folders in its cache directory (torch/_inductor: codecache.py,
#: cache_dir_utils.py, cpp_builder.py, runtime/, _functorch/_aot_autograd, _dynamo)
_INDUCTOR_DIRS = frozenset({
    "fxgraph", "aotautograd", "triton", "locks", "cache", "dynamo", "gcc",
    "unhashed_kernel_inputs", "precompiled_headers", "aoti_eager", "torch_cutlass",
})
_INDUCTOR_FILES = frozenset({"memoizer_cache.json", "memoizer_cache.lock"})
#: jitwarm's ONNX Runtime cache: ``<model stem>-<24 hex>.onnx`` (adapters/onnxruntime.py)
_ORT_ENTRY = re.compile(r".+-[0-9a-f]{24}\.onnx(\.data)?|ort_profile_\d+_.*\.json")
#: files that are neither entries nor foreign: left in place, not a reason to refuse
_NEUTRAL = frozenset({".lockfile", "jitwarm-prewarm.json", "jitwarm-installed.json"})
_KIND = {"numba": "a Numba cache (no *.nbi / *.nbc files)",
         "inductor": "an Inductor cache (no fxgraph/aotautograd/locks/<hash> entries)",
         "triton": "a Triton cache (no <hash> kernel folders)",
         "jax": "a JAX persistent cache (no *-cache / *-atime files)",
         "onnxruntime": "a jitwarm ONNX Runtime cache (no <model>-<hash>.onnx files)"}


def _hashlike(name: str) -> bool:
    return _HASH.fullmatch(name.split(".", 1)[0]) is not None


def is_entry(kind: str, parts: tuple[str, ...]) -> bool:
    """Whether the file at ``parts`` (its path relative to a ``kind`` cache directory) is
    one the framework writes there. ``kind``: a :class:`CacheLocation` name."""
    if not parts:
        return False
    name = parts[-1]
    if kind == "numba":  # <cache>/<source dir>/<qualname>-<line>.pyXY[.N].nbi|.nbc
        return name.endswith((".nbi", ".nbc"))
    if kind == "jax":  # jax/_src/lru_cache.py: <key>-cache, <key>-atime; XLA's own caches
        if len(parts) == 1:
            return (name.endswith(("-cache", "-atime")) and name[:-6] != ""
                    or name == "xla_gpu_kernel_cache_file")
        return parts[0] == "xla_gpu_per_fusion_autotune_cache_dir"
    if kind == "onnxruntime":
        return len(parts) == 1 and _ORT_ENTRY.fullmatch(name) is not None
    if kind == "triton":  # [<device>/]<hash>/<kernel files>
        return any(_hashlike(p) for p in parts)
    if kind == "inductor":
        if len(parts) == 1:
            return name in _INDUCTOR_FILES or _hashlike(name)
        top = parts[0]
        if top in _INDUCTOR_DIRS:  # fxgraph/<xx>/<key>/<hash>, locks/<hash>.lock, ...
            return any(_hashlike(p) for p in parts[1:])
        # generated code: <xx>/<prefix><hash>.<ext>, xx being the hash's 2nd and 3rd letters
        return (re.fullmatch(r"[a-z0-9]{2}", top) is not None and _hashlike(parts[1])
                and parts[1][1:3] == top)
    return False


def _ancestor_or_equal(a: Path, b: Path) -> bool:
    return a == b or a in b.parents


def _unsafe_root(path: Path) -> str | None:
    """Why ``path`` must not be cleared whatever it holds, or None.

    Refused: a symlink; ``/``; a path with fewer than three parts; an ancestor of (or the
    same folder as) the working directory, ``$HOME`` (and the account's home in the
    password database) or the running Python's prefix; a system folder. Symlinks resolved.
    """
    if path.is_symlink():
        return f"{shown(path)} is a symlink; refusing to clear through it"
    resolved = path.resolve()
    if resolved == Path(resolved.anchor):
        return f"{shown(resolved)} is the filesystem root, not a cache directory"
    guarded: list[tuple[str, Path]] = [("the working directory", Path.cwd())]
    for home in (os.environ.get("HOME"), os.path.expanduser("~")):
        if home:
            guarded.append(("the home directory", Path(home)))
    try:
        import pwd

        guarded.append(("the home directory", Path(pwd.getpwuid(os.getuid()).pw_dir)))
    except (ImportError, KeyError, OSError):
        pass
    guarded += [("the Python installation", Path(sys.prefix)),
                ("the Python installation", Path(sys.base_prefix))]
    for what, other in guarded:
        try:
            other = other.resolve()
        except OSError:
            continue
        if _ancestor_or_equal(resolved, other):
            return (f"{shown(resolved)} is {what} or one of its parents, not a cache "
                    "directory")
    for sysdir in _SYSTEM_DIRS + _SYSTEM_TREES:
        if resolved == Path(sysdir) or (sysdir in _SYSTEM_TREES
                                        and Path(sysdir) in resolved.parents):
            return f"{shown(resolved)} is a system folder, not a cache directory"
    if len(resolved.parts) < 3:
        return f"{shown(resolved)} is too close to the filesystem root to be a cache directory"
    return None


def _walk_files(root: Path) -> list[tuple[Path, tuple[str, ...]]]:
    """Every non-directory under ``root`` with its relative parts; symlinks not followed."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        rel = here.relative_to(root).parts
        links = [d for d in dirnames if (here / d).is_symlink()]
        dirnames[:] = sorted(d for d in dirnames if d not in links)
        for name in sorted(filenames + links):
            out.append((here / name, (*rel, name)))
    return out


def clear_plan(loc: CacheLocation) -> list[Path]:
    """The cache entries ``clear`` would delete for one location: files only, each one the
    framework wrote (:func:`is_entry`), all inside the resolved directory.

    Raises :class:`UsageError` (nothing deleted) for a directory :func:`_unsafe_root`
    refuses, or one holding files none of which is an entry (not this framework's cache).
    """
    if loc.framework == "numba" and loc.path is None:
        paths = []
        for d in loc.scanned:
            for name in sorted(os.listdir(d)):
                p = Path(d) / name
                if name.endswith((".nbi", ".nbc")) and not p.is_dir():
                    paths.append(p)
        return paths
    if loc.path is None or not loc.path.is_dir():
        return []
    reason = _unsafe_root(loc.path)
    if reason:
        raise UsageError(f"not clearing {loc.name}: {reason}; nothing was deleted")
    root = loc.path.resolve()
    files = _walk_files(root)
    entries = [p for p, parts in files if is_entry(loc.name, parts)]
    foreign = [p for p, parts in files if len(parts) > 1 or parts[0] not in _NEUTRAL]
    if foreign and not entries:
        raise UsageError(f"not clearing {loc.name}: {shown(root)} does not look like "
                         f"{_KIND.get(loc.name, 'a cache')}; nothing was deleted")
    return entries


def entries_size(paths: list[Path]) -> int:
    """Bytes of the files in ``paths`` (symlinks not followed)."""
    total = 0
    for p in paths:
        with contextlib.suppress(OSError):
            total += p.lstat().st_size
    return total


def clear(loc: CacheLocation, paths: list[Path]) -> tuple[int, int]:
    """Delete ``paths`` (from :func:`clear_plan`); returns (entries removed, bytes freed).

    Each path is checked again just before it goes: a file (never a folder) inside the
    resolved cache directory that :func:`is_entry` accepts. Folders below the cache
    directory left empty by the deletions are removed; the cache directory itself stays.
    """
    root = None if loc.path is None else loc.path.resolve()
    removed = freed = 0
    emptied: set[Path] = set()
    for p in paths:
        parent = p.parent.resolve()
        if root is not None:
            if not _ancestor_or_equal(root, parent):
                raise UsageError(f"refusing to delete {shown(p)}: outside {shown(root)}")
            parts = (*parent.relative_to(root).parts, p.name)
            ok = is_entry(loc.name, parts)
        else:  # Numba in-tree: only .nbi/.nbc files in __pycache__
            ok = p.name.endswith((".nbi", ".nbc")) and parent.name == "__pycache__"
        if not ok:
            raise UsageError(f"refusing to delete {shown(p)}: not a {loc.name} cache entry")
        try:
            st = p.lstat()
        except FileNotFoundError:
            continue  # already gone (another location's plan held it too)
        except OSError as exc:
            raise UsageError(f"cannot delete {shown(p)}: {exc.strerror or exc}") from None
        if stat.S_ISDIR(st.st_mode):
            raise UsageError(f"refusing to delete {shown(p)}: a folder, not a cache entry")
        try:
            p.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise UsageError(f"cannot delete {shown(p)}: {exc.strerror or exc}") from None
        freed += st.st_size
        removed += 1
        emptied.add(parent)
    stop = root if root is not None else None
    for d in sorted(emptied, key=lambda d: len(d.parts), reverse=True):
        _remove_empty(d, stop)
    return removed, freed


def _remove_empty(d: Path, stop: Path | None) -> None:
    """Remove ``d`` and then its parents while they are empty, never ``stop`` or above it
    (Numba in-tree: only the ``__pycache__`` folder itself)."""
    while (d != stop and (stop is None or stop in d.parents)
           and (stop is not None or d.name == "__pycache__")):
        try:
            d.rmdir()  # fails unless empty
        except OSError:
            return
        if stop is None:
            return
        d = d.parent


def install_destinations() -> dict[str, tuple[Path | None, str]]:
    """Where each cache env var points now (for bundle installs without ``--target``).

    ``{env var: (directory or None for Numba in-tree, how it was resolved)}``. Caches with
    no default location (JAX, ONNX Runtime, TensorRT) get a directory under
    ``~/.cache/jitwarm`` and must be exported.
    """
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "jitwarm"
    out: dict[str, tuple[Path | None, str]] = {}
    numba = _env("NUMBA_CACHE_DIR")
    out["NUMBA_CACHE_DIR"] = ((Path(os.path.abspath(numba)), "NUMBA_CACHE_DIR") if numba
                              else (None, "__pycache__ next to each source"))
    out["TORCHINDUCTOR_CACHE_DIR"] = inductor_dir()
    out["TRITON_CACHE_DIR"] = triton_dir()
    for var, sub in (("JAX_COMPILATION_CACHE_DIR", "jax"), ("JITWARM_ORT_CACHE_DIR", "onnxruntime"),
                     ("JITWARM_TRT_CACHE_DIR", "tensorrt")):
        value = _env(var)
        out[var] = ((Path(os.path.abspath(value)), var) if value
                    else (home / sub, f"~/.cache/jitwarm/{sub} (export {var})"))
    return out
