"""Where each framework's compile cache lives right now, what is in it, what turns it off.

``jitwarm cache status`` and ``jitwarm cache clear``. Each adapter owns its framework's
resolver (:meth:`jitwarm.adapters.base.Adapter.cache_locations`: the variables the
framework reads, its documented defaults, the settings that turn it off), read without
importing the framework unless ``with_config=True``; this module asks the registry and
owns what is common: choosing frameworks, and clearing entries safely.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from pathlib import Path

from jitwarm._errors import UsageError, shown
from jitwarm.adapters import ADAPTERS, Adapter
from jitwarm.adapters.base import CacheLocation
from jitwarm.adapters.remote import RemoteCache
from jitwarm.adapters.torch import inductor_dir, triton_dir

__all__ = ["CacheLocation", "FRAMEWORKS", "check_framework", "clear", "clear_plan",
           "entries_size", "inductor_dir", "install_destinations", "is_entry", "locations",
           "remote_caches", "triton_dir"]


def _with_caches() -> list[Adapter]:
    """The registered adapters that report cache locations (each owns its own)."""
    return [a for a in ADAPTERS if type(a).cache_locations is not Adapter.cache_locations]


#: frameworks ``cache status`` / ``cache clear`` know, from the registry
FRAMEWORKS = tuple(a.name for a in _with_caches())


def check_framework(framework: str | None) -> str | None:
    if framework is None:
        return None
    name = framework.strip().lower()
    for adapter in _with_caches():
        if name == adapter.name or name in adapter.cache_aliases:
            return adapter.name
    raise UsageError(f"unknown framework {shown(framework)!r}: choose from {', '.join(FRAMEWORKS)}")


def locations(framework: str | None = None, *, sources: Path | None = None,
              with_config: bool = False) -> list[CacheLocation]:
    """Every cache location (of one framework, or of all) as resolved right now."""
    fw = check_framework(framework)
    out: list[CacheLocation] = []
    for adapter in _with_caches():
        if fw in (None, adapter.name):
            out.extend(adapter.cache_locations(sources, with_config))
    for loc in out:
        if loc.path is not None and loc.path.is_dir():
            why = _unsafe_root(loc.path)
            if why:
                loc.warnings.append(f"{why}: its size is not counted and `cache clear` "
                                    "refuses it")
    return out


def remote_caches(framework: str | None = None, *, check: bool = True) -> list[RemoteCache]:
    """The remote compile caches the environment turns on (of one framework, or of all),
    each asked whether its server answers (a short ping) when ``check``: the frameworks
    themselves carry on silently without a server that does not."""
    from jitwarm.adapters.remote import check as check_remote

    fw = check_framework(framework)
    out: list[RemoteCache] = []
    for adapter in ADAPTERS:
        if fw in (None, adapter.name):
            out.extend(adapter.remote_caches())
    return [check_remote(r) for r in out] if check else out


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

#: files that are neither entries nor foreign: left in place, not a reason to refuse
_NEUTRAL = frozenset({".lockfile", "jitwarm-prewarm.json", "jitwarm-installed.json"})


def _owner(kind: str) -> Adapter | None:
    """The adapter whose cache a location name (``"inductor"``, ``"numba"`` ...) belongs to."""
    return next((a for a in _with_caches() if kind in a.cache_entry_kinds), None)


def is_entry(kind: str, parts: tuple[str, ...]) -> bool:
    """Whether the file at ``parts`` (its path relative to a ``kind`` cache directory) is
    one the framework writes there (asks the owning adapter). ``kind``: a
    :class:`CacheLocation` name."""
    owner = _owner(kind)
    return bool(parts) and owner is not None and owner.is_cache_entry(kind, parts)


def _kind_text(kind: str) -> str:
    owner = _owner(kind)
    return owner.cache_entry_kinds[kind] if owner is not None else "a cache"


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
    if loc.path is None:  # a cache beside the sources (Numba's __pycache__): scanned folders
        paths = []
        for d in loc.scanned:
            for name in sorted(os.listdir(d)):
                p = Path(d) / name
                if is_entry(loc.name, (name,)) and not p.is_dir():
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
                         f"{_kind_text(loc.name)}; nothing was deleted")
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
        else:  # beside the sources (Numba in-tree): only entries in the scanned folders
            ok = is_entry(loc.name, (p.name,)) and str(parent) in {
                str(Path(d).resolve()) for d in loc.scanned}
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

    ``{env var: (directory or None for a cache kept beside the sources, how it was
    resolved)}``, from each adapter (:meth:`Adapter.install_destinations`). Caches with no
    default location get a directory under ``~/.cache/jitwarm`` and must be exported.
    """
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "jitwarm"
    out: dict[str, tuple[Path | None, str]] = {}
    for adapter in ADAPTERS:
        if adapter.owns_cache:
            for var, dest in adapter.install_destinations(home).items():
                out.setdefault(var, dest)
    return out
