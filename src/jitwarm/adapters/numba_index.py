"""Numba's on-disk cache layout, and how to move it to another directory or machine.

Numba (``numba/core/caching.py``) stores a ``@njit(cache=True)`` function in::

    <NUMBA_CACHE_DIR>/<parent dir name>_<sha1(absolute source dir)>/<module>.<qualname>-<line>.py3XY.nbi
                                                                    ... .py3XY.<n>.nbc

or, without ``NUMBA_CACHE_DIR``, in ``__pycache__`` next to the source file (same file
names, no hashed sub-directory). The ``.nbi`` index is ``pickle(numba version)`` followed
by ``pickle((source stamp, {(signature, (target triple, CPU name, CPU features), (bytecode
hash, closure hash)): data file name}))``.

Two things tie an entry to one place:

* the hashed sub-directory is the SHA-1 of the source file's *absolute directory*: the
  same source in another directory (another checkout, a container) looks elsewhere;
* the source stamp. older Numba used ``(st_mtime, st_size)`` of the source file,
  so a fresh checkout or ``COPY`` into a container (new mtimes) never hit (numba#10776);
  Numba 0.68 (at least) uses the SHA-256 of the source bytes, which survives a move.

:func:`subdir_for` gives the sub-directory of a source directory; :func:`relocate`
renames a bundle's sub-directories for the directory its sources live in now and, for
an mtime stamp, re-stamps the index after checking the source's content hash (recorded
when the bundle was made) still matches. An installed bundle's index pickles are never
loaded: their stamp is read with :mod:`pickletools` (opcodes only) and an mtime stamp is
rewritten in place (:func:`peek_stamp`), so installing runs none of the bundle's code.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
from pathlib import Path, PurePosixPath
from typing import Any

from jitwarm._errors import shown

#: directories never searched for sources
_SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", "venv",
              ".tox", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
_MAX_DIRS = 20000
#: relocation records a bundle manifest may carry
MAX_RECORDS = 200_000
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _component_problem(name: Any) -> str | None:
    """Why ``name`` is not one plain file or folder name (no separator, no ``.``/``..``)."""
    if not isinstance(name, str) or name in ("", ".", ".."):
        return "not a file name"
    if "/" in name or "\\" in name:
        return "a path, not a name"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return "control character in name"
    if len(name.encode("utf-8", "surrogatepass")) > 255:
        return "name too long"
    return None


def rel_problem(rel: Any) -> str | None:
    """Why a record's ``rel`` (a source folder relative to the sources root) is unsafe:
    it must be a relative POSIX path without ``..``, backslashes or control characters."""
    if not isinstance(rel, str):
        return "not a path"
    if len(rel) > 1024 or any(ord(c) < 0x20 or ord(c) == 0x7F for c in rel):
        return "too long or control characters"
    if rel.startswith(("/", "~")) or "\\" in rel or (len(rel) > 1 and rel[1] == ":"):
        return "absolute path"
    if any(p == ".." for p in PurePosixPath(rel).parts):
        return "'..' in path"
    return None


def record_problem(sub: Any, rec: Any) -> str | None:
    """Why a bundle's relocation record ``sub -> rec`` must be refused, or None.

    ``sub`` is one folder name; ``rec`` is ``{"rel": relative folder or None, "sources":
    {"<module>.py": sha256 or None}}`` (see :func:`describe_cache`). A bundle's manifest
    is hostile: these checks keep :func:`relocate` inside the sources root.
    """
    why = _component_problem(sub)
    if why:
        return f"Numba record {shown(sub)}: {why}"
    if not isinstance(rec, dict):
        return f"Numba record {shown(sub)}: not an object"
    if rec.get("rel") is not None:
        why = rel_problem(rec["rel"])
        if why:
            return f"Numba record {shown(sub)}: unsafe source folder {shown(rec['rel'])}: {why}"
    srcs = rec.get("sources")
    if srcs is None:
        return None
    if not isinstance(srcs, dict):
        return f"Numba record {shown(sub)}: 'sources' is not an object"
    for mod, digest in srcs.items():
        why = _component_problem(mod)
        if why is None and not mod.endswith(".py"):
            why = "not a .py file"
        if why is None and digest is not None and not (
                isinstance(digest, str) and _SHA256.fullmatch(digest)):
            why = "malformed sha256"
        if why:
            return f"Numba record {shown(sub)}: unsafe source {shown(mod)}: {why}"
    return None


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def subdir_for(source_dir: str | Path) -> str:
    """Numba's cache sub-directory name for sources in ``source_dir`` (absolute)."""
    path = os.path.abspath(str(source_dir))
    parent = os.path.split(path)[-1]
    return "_".join([parent, hashlib.sha1(path.encode()).hexdigest()])


def source_module(index_name: str) -> str:
    """The source file's stem from an index name ``<module>.<qualname>-<line>.py3XY.nbi``."""
    return index_name.split(".", 1)[0]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def source_dirs(root: Path) -> dict[str, str]:
    """Map Numba sub-directory name -> directory relative to ``root``, for dirs under it."""
    found: dict[str, str] = {}
    root = root.resolve()
    count = 0
    for dirpath, dirnames, _ in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS and not d.startswith(".")]
        found[subdir_for(dirpath)] = os.path.relpath(dirpath, root)
        count += 1
        if count >= _MAX_DIRS:
            break
    return found


def describe_cache(numba_dir: Path, source_root: Path | None) -> dict[str, Any]:
    """Relocation records for each sub-directory of a ``NUMBA_CACHE_DIR``.

    ``{subdir: {"rel": dir relative to source_root or None, "abs_hash": subdir,
    "sources": {"<module>.py": sha256 or None}}}``. Sub-directories whose sources lie
    outside ``source_root`` keep ``rel = None``: they only hit where the same absolute
    directory exists (e.g. an identical virtual environment path).
    """
    known = source_dirs(source_root) if source_root is not None else {}
    out: dict[str, Any] = {}
    if not numba_dir.is_dir():
        return out
    for sub in sorted(p for p in numba_dir.iterdir() if p.is_dir()):
        rel = known.get(sub.name)
        sources: dict[str, str | None] = {}
        for idx in sorted(sub.glob("*.nbi")):
            mod = source_module(idx.name) + ".py"
            digest = None
            if rel is not None and source_root is not None:
                src = source_root / rel / mod
                if src.is_file():
                    digest = sha256_file(src)
            sources[mod] = digest
        out[sub.name] = {"rel": rel, "sources": sources}
    return out


def read_index(path: Path) -> tuple[str, Any, dict[Any, str]]:
    """``(numba version, source stamp, overloads)`` of an index jitwarm created/verified."""
    with open(path, "rb") as f:
        version = pickle.load(f)
        data = f.read()
    stamp, overloads = pickle.loads(data)
    return str(version), stamp, dict(overloads)


def write_index(path: Path, version: str, stamp: Any, overloads: dict[Any, str]) -> None:
    """Write an index in Numba's format (version pickle, then the (stamp, overloads) pickle)."""
    tmp = path.with_name(path.name + ".jitwarm-tmp")
    with open(tmp, "wb") as f:
        pickle.dump(version, f, protocol=-1)
        f.write(pickle.dumps((stamp, overloads), protocol=-1))
    os.replace(tmp, path)


def stamp_kind(stamp: Any) -> str:
    """``content`` (SHA-256 of the source, recent Numba) or ``mtime`` (older Numba)."""
    if isinstance(stamp, (bytes, str)):
        return "content"
    return "mtime"


def relocate(staged_numba: Path, records: dict[str, Any], sources: Path,
             in_tree: bool) -> tuple[dict[str, Path], list[str]]:
    """Re-key a staged Numba cache for sources that now live under ``sources``.

    Returns ``(subdir -> staged directory to install, and where)`` as a mapping of the
    staged sub-directory to its destination *relative name* and a list of notes. For
    ``in_tree`` installs (no ``NUMBA_CACHE_DIR``) the destination is
    ``<sources>/<rel>/__pycache__``; otherwise ``<NUMBA_CACHE_DIR>/<new subdir>``.
    """
    plan: dict[str, Path] = {}
    notes: list[str] = []
    sources = sources.resolve()
    subs = sorted(p.name for p in staged_numba.iterdir() if p.is_dir()) \
        if staged_numba.is_dir() else []
    for sub in subs:
        rec = records.get(sub) or {"rel": None}
        why = record_problem(sub, rec)
        if why:  # verify refuses these; never act on one
            notes.append(f"numba: {why}; not installed")
            continue
        staged = staged_numba / sub
        rel = rec.get("rel")
        if rel is None:
            if in_tree:
                notes.append(f"numba: {shown(sub)} belongs to sources outside the plan's "
                             "directory; not installed (set NUMBA_CACHE_DIR to install it as is)")
                continue
            plan[sub] = Path(sub)
            notes.append(f"numba: {shown(sub)} belongs to sources outside the plan's directory; "
                         "installed unchanged (hits only where that absolute path exists)")
            continue
        new_dir = (sources / rel).resolve()
        if not _inside(new_dir, sources):  # a symlink in the sources leading out of them
            notes.append(f"numba: {shown(new_dir)} is outside {shown(sources)}; "
                         f"{shown(sub)} not installed")
            continue
        present = []
        for mod, digest in (rec.get("sources") or {}).items():
            src = new_dir / mod
            if not src.is_file() or not _inside(src.resolve(), sources):
                notes.append(f"numba: source {shown(src)} not found: its entries will not hit "
                             "(pass --sources DIR, the directory that holds the plan's files)")
                continue
            present.append(src)
            now = sha256_file(src)
            if digest is not None and now != digest:
                notes.append(f"numba: {shown(src)} changed since the bundle was made: its "
                             "entries will not hit")
                continue
            _restamp(staged, mod, src, notes)
        if in_tree:
            pycache = new_dir / "__pycache__"
            if not present:  # __pycache__ only ever next to a source that is there
                notes.append(f"numba: no source of {shown(sub)} in {shown(new_dir)}; not installed")
                continue
            if pycache.is_symlink() or (pycache.exists() and not pycache.is_dir()):
                notes.append(f"numba: {shown(pycache)} is not a plain folder; {shown(sub)} "
                             "not installed")
                continue
            plan[sub] = pycache
        else:
            plan[sub] = Path(subdir_for(new_dir))
    return plan, notes


_TEXT_OPS = {"BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8", "UNICODE", "BINBYTES",
             "SHORT_BINBYTES", "BINBYTES8", "BINSTRING", "SHORT_BINSTRING", "BYTEARRAY8"}
_INT_OPS = {"BININT", "BININT1", "BININT2", "LONG1", "INT", "LONG"}


def peek_stamp(path: Path) -> tuple[str, int, int | None]:
    """``(kind, offset of the mtime's 8-byte float or -1, recorded size or None)`` of an
    index, read WITHOUT unpickling it (:mod:`pickletools` only decodes opcodes).

    A bundle's index comes from its maker: loading it here would run whatever the pickle
    says at install time. ``kind`` is ``content`` (a SHA-256 stamp: nothing to re-stamp),
    ``mtime`` (``(float mtime, int size)``, older Numba) or ``unknown``.
    """
    import pickletools

    with open(path, "rb") as f:
        for _ in pickletools.genops(f):  # the version pickle, up to its STOP
            pass
        ops = pickletools.genops(f)  # positions are offsets in the file
        first = next((o for o in ops if o[0].name not in ("PROTO", "FRAME")), None)
        if first is None:
            return "unknown", -1, None
        op, _, pos = first
        if op.name in _TEXT_OPS:
            return "content", -1, None
        if op.name != "BINFLOAT":
            return "unknown", -1, None
        nxt = next(ops, None)
        size = nxt[1] if nxt is not None and nxt[0].name in _INT_OPS else None
        return "mtime", (pos or 0) + 1, size if isinstance(size, int) else None


def _restamp(staged: Path, module_file: str, src: Path, notes: list[str]) -> None:
    """Give mtime-stamped indexes of ``module_file`` the stamp of ``src`` as it is now.

    Only the 8 bytes of the recorded mtime are replaced (the source's content, hence its
    size, was checked): the index is never unpickled here."""
    import struct

    stem = Path(module_file).stem
    st = os.stat(src)
    for idx in staged.glob(f"{stem}.*.nbi"):
        if idx.is_symlink() or not idx.is_file():
            continue
        try:
            kind, offset, size = peek_stamp(idx)
        except Exception as exc:  # a corrupt index: Numba would ignore it as well
            notes.append(f"numba: unreadable index {shown(idx.name)}: {type(exc).__name__}")
            continue
        if kind == "unknown":
            notes.append(f"numba: index {shown(idx.name)} has an unknown stamp; left as is")
        elif kind == "mtime":
            if size != st.st_size:
                notes.append(f"numba: {shown(idx.name)}: recorded size {size} is not the size "
                             f"of {shown(src)}; not re-stamped (its entries will not hit)")
                continue
            data = bytearray(idx.read_bytes())
            data[offset:offset + 8] = struct.pack(">d", st.st_mtime)
            tmp = idx.with_name(idx.name + ".jitwarm-tmp")
            tmp.write_bytes(bytes(data))
            os.replace(tmp, idx)
            notes.append(f"numba: {shown(idx.name)}: mtime stamp rewritten for {shown(src)}")
