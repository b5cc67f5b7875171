"""Portable, verified bundles of prewarmed compile caches (``jitwarm bundle ...``).

A bundle is a tar archive (``.tar.zst`` or ``.tar.gz``) holding::

    jitwarm-bundle.json      the manifest (always the first member)
    caches/<subdir>/...      a cache directory laid out as ``adapters.cache_env(DIR)``
                             (numba/, torchinductor/, triton/, jax/, onnxruntime/ ...)

The manifest records the jitwarm, Python and framework versions, the platform, the CPU
model and flags, GPUs (when ``nvidia-smi`` is present), the warmup plan, Numba relocation
records, the inputs of each framework's cache keys (``key_inputs``, see
:mod:`jitwarm.caches.keys`: what ``jitwarm cache diff`` compares), and the size and SHA-256
of every file.

Cache entries hold pickles and native code, so :func:`verify` checks everything before a
single byte is written: every member must be a regular file (or directory) under
``caches/`` with a safe relative name (no absolute paths, no ``..``, no symlinks,
hardlinks or device files), listed in the manifest with the same size and SHA-256, and
the manifest must match this machine (platform, Python, framework versions, CPU flags,
GPU compute capability for GPU kernels). :func:`install` verifies, extracts into a
temporary directory on the destination's filesystem while hashing again, re-keys what
is tied to a path (Numba, see :mod:`jitwarm.adapters.numba_index`), and only then moves the
files into place.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
import re
import shlex
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from jitwarm._errors import JitwarmError, UsageError, shown
from jitwarm._version import __version__
from jitwarm.caches import keys
from jitwarm.caches.machine import framework_versions, machine_info, python_info

SCHEMA = "jitwarm.bundle/1"
MANIFEST = "jitwarm-bundle.json"
PREFIX = "caches/"
PREWARM_MANIFEST = "jitwarm-prewarm.json"
INSTALLED_MARKER = "jitwarm-installed.json"
_MAX_MANIFEST = 16 << 20
#: the most members (files and directories) a bundle may hold
_MAX_MEMBERS = 200_000
#: the most bytes a bundle's files may hold in all, uncompressed (the manifest's sizes)
_MAX_TOTAL_BYTES = 256 << 30
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_GZIP_MAGIC = b"\x1f\x8b"


def _subdir_packages() -> dict[str, tuple[str, ...]]:
    """Cache sub-directory -> the distributions whose versions its entries depend on.

    From the registry: each adapter's ``cache_env`` names its sub-directories of a cache
    root, its ``packages`` the versions that matter.
    """
    return {sub: adapter.packages for sub, adapter in _owners().items() if adapter.packages}


#: an environment variable name that is safe to print after ``export``
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: a setting's value as a bundle may carry it (numbers, words: what ``cache_settings`` makes)
_SETTING_VALUE = re.compile(r"[A-Za-z0-9_.,:+-]{0,64}")


class BundleRefused(JitwarmError):
    """A bundle that must not be installed here (exit code 1), with the reason."""

    exit_code = 1


def cache_subdirs() -> dict[str, str]:
    """``{env var: sub-directory}`` of a jitwarm cache directory (``adapters.cache_env``)."""
    from jitwarm.adapters import ADAPTERS

    return {var: sub for adapter in ADAPTERS for var, sub in adapter.cache_folders().items()}


def _owners() -> dict[str, Any]:
    """``{cache sub-directory: the adapter that owns it}`` (``adapters.cache_env``)."""
    from jitwarm.adapters import ADAPTERS

    out: dict[str, Any] = {}
    for adapter in ADAPTERS:
        if adapter.owns_cache:
            for sub in adapter.cache_folders().values():
                out.setdefault(sub, adapter)
    return out


def _field_adapters() -> list[Any]:
    """Adapters that add their own fields to a bundle manifest, once each."""
    seen: list[Any] = []
    for adapter in _owners().values():
        if adapter.bundle_field_defaults and adapter not in seen:
            seen.append(adapter)
    return seen


def cache_settings() -> dict[str, str]:
    """The settings a bundle's caches must be used with: the non-directory values of
    ``adapters.cache_env`` (e.g. JAX's ``JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES=none``)."""
    from jitwarm.adapters import cache_env

    base = Path("/__jitwarm_base__")
    out = {k: v for k, v in cache_env(base).items() if not v.startswith(str(base))}
    return out


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- archive I/O -----------------------------------------------------------------------------

def _kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".tar.zst", ".tzst", ".tar.zstd")):
        return "zst"
    if name.endswith((".tar.gz", ".tgz")):
        return "gz"
    if name.endswith(".tar"):
        return "tar"
    raise UsageError(f"{path}: a bundle is .tar.zst, .tar.gz or .tar")


def _zstd() -> Any:
    try:
        import zstandard
    except ImportError:
        raise UsageError(".tar.zst bundles need the zstandard package "
                         "(pip install zstandard), or use .tar.gz") from None
    return zstandard


def _q(s: object) -> str:
    """A user-controlled string quoted for a message (escaped, at most 200 characters)."""
    return f"'{shown(s)}'"


#: the largest tar extension header (GNU long name/link, PAX) and the longest run of them
#: before a member: real bundles need a few hundred bytes; tarfile reads each whole
_MAX_EXT_HEADER = 64 << 10
_MAX_EXT_CHAIN = 4
_LONG_TYPES = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK)


class _GuardedTarInfo(tarfile.TarInfo):
    """A :class:`tarfile.TarInfo` that refuses, from the 512-byte header alone, what would
    make :mod:`tarfile` read an unbounded amount into memory: GNU long-name/link and PAX
    headers larger than :data:`_MAX_EXT_HEADER` (tarfile reads the whole header data in one
    ``read``), long chains of them (recursion), global PAX headers, and sparse files (their
    maps are read into lists whose length the archive chooses)."""

    def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:  # type: ignore[override]
        if self.type in (tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE):
            raise BundleRefused("refused: the archive has a global PAX header (jitwarm "
                                "bundles have none)")
        if self.type == tarfile.GNUTYPE_SPARSE:
            raise BundleRefused(f"refused: {_q(self.name)} is a sparse file")
        if self.type in _LONG_TYPES or self.type == tarfile.XHDTYPE:
            if self.size > _MAX_EXT_HEADER:
                raise BundleRefused(f"refused: a tar extension header of {self.size} bytes "
                                    f"(at most {_MAX_EXT_HEADER}): not a jitwarm bundle")
            chain = getattr(tarfile_, "_jitwarm_chain", 0) + 1
            if chain > _MAX_EXT_CHAIN:
                raise BundleRefused(f"refused: more than {_MAX_EXT_CHAIN} tar extension "
                                    "headers in a row: not a jitwarm bundle")
            tarfile_._jitwarm_chain = chain  # type: ignore[attr-defined]
        else:
            tarfile_._jitwarm_chain = 0  # type: ignore[attr-defined]
        return super()._proc_member(tarfile_)  # type: ignore[misc]

    def _sparse(self, *_: Any) -> None:
        raise BundleRefused(f"refused: {_q(self.name)} is a sparse file")

    _proc_gnusparse_00 = _proc_gnusparse_01 = _proc_gnusparse_10 = _sparse


class _Checked:
    """A decompressing reader whose errors (corrupt or truncated data) become
    :class:`tarfile.ReadError`, so that they are told apart from errors of the caller."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw

    def read(self, n: int = -1) -> bytes:
        try:
            return self._raw.read(n)
        except Exception as exc:  # zlib.error, gzip.BadGzipFile, EOFError, ZstdError ...
            raise tarfile.ReadError(f"corrupt compressed data ({type(exc).__name__}: "
                                    f"{shown(exc, 120)})") from None


@contextmanager
def _open_read(path: Path) -> Iterator[tarfile.TarFile]:
    """A streaming tar reader guarded against header bombs (:class:`_GuardedTarInfo`); the
    compression is detected from the file's first bytes. A corrupt or truncated file is a
    :class:`UsageError` (exit 2)."""
    import gzip

    try:
        f = open(path, "rb")
    except OSError as exc:
        raise UsageError(f"cannot read {shown(path)}: {exc.strerror or exc}") from None
    with f:
        magic = f.read(4)
        f.seek(0)
        raw: Any = f
        try:
            if magic.startswith(_ZSTD_MAGIC):
                raw = _zstd().ZstdDecompressor().stream_reader(f, closefd=False)
            elif magic.startswith(_GZIP_MAGIC):
                raw = gzip.GzipFile(fileobj=f, mode="rb")
            with tarfile.open(fileobj=_Checked(raw), mode="r|",  # type: ignore[call-overload]
                              tarinfo=_GuardedTarInfo) as tf:
                yield tf
        except (tarfile.TarError, EOFError, ValueError, OverflowError, RecursionError) as exc:
            raise UsageError(f"{shown(path)}: not a readable bundle archive: "
                             f"{shown(exc, 160)}") from None
        finally:
            if raw is not f:
                raw.close()


def _write_bundle(path: Path, fill: Any) -> None:
    """Write a bundle through the atomic writer: ``fill(tarfile)`` adds the members; the
    file appears whole or not at all (never a partial archive under the final name)."""
    from jitwarm.results.profile import write_atomic

    kind = _kind(path)

    def emit(f: Any) -> None:
        if kind == "zst":
            cctx = _zstd().ZstdCompressor(level=10, threads=-1)
            with cctx.stream_writer(f, closefd=False) as w, tarfile.open(
                    fileobj=w, mode="w|", format=tarfile.PAX_FORMAT) as tf:
                fill(tf)
        else:
            mode = "w|gz" if kind == "gz" else "w|"
            with tarfile.open(fileobj=f, mode=mode, format=tarfile.PAX_FORMAT) as tf:
                fill(tf)

    try:
        write_atomic(path, emit)
    except OSError as exc:
        raise UsageError(f"cannot write {shown(path)}: {exc.strerror or exc}") from None


def _add_bytes(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = int(_dt.datetime.now().timestamp())
    tf.addfile(info, io.BytesIO(data))


# -- create ------------------------------------------------------------------------------------

def _cache_files(root: Path) -> tuple[list[tuple[str, Path]], list[str]]:
    """Regular files under the cache subdirs of ``root``; symlinks etc. are left out."""
    files: list[tuple[str, Path]] = []
    skipped: list[str] = []
    subdirs = sorted(set(cache_subdirs().values()))
    for sub in subdirs:
        base = root / sub
        if not base.is_dir() or base.is_symlink():
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            keep = []
            for d in dirnames:
                full = Path(dirpath) / d
                if full.is_symlink():
                    skipped.append(f"{full.relative_to(root)} (symlink)")
                elif d != "locks":  # Inductor's lock files are per-process state
                    keep.append(d)
            dirnames[:] = keep
            for name in sorted(filenames):
                full = Path(dirpath) / name
                rel = full.relative_to(root).as_posix()
                if full.is_symlink() or not full.is_file():
                    skipped.append(f"{rel} (not a regular file)")
                elif name.endswith((".lock", ".tmp")) or ".tmp." in name:
                    continue
                elif _path_problem(rel, set(subdirs)):  # what verify would refuse
                    skipped.append(f"{rel} ({_path_problem(rel, set(subdirs))})")
                else:
                    files.append((rel, full))
    return files, skipped


def _hash_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _read_prewarm(root: Path) -> dict[str, Any] | None:
    path = root / PREWARM_MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def create(cache_dir: str | Path, out: str | Path, *, sources: str | Path | None = None
           ) -> dict[str, Any]:
    """Pack a cache directory (laid out as ``adapters.cache_env(DIR)``) into a bundle.

    ``sources`` is the directory holding the source files the caches were compiled from
    (default: the plan's directory recorded by ``jitwarm prewarm``, else the working
    directory); it is used to make Numba's entries relocatable. Returns the manifest.
    """
    from jitwarm.results.profile import check_output_path

    root = Path(cache_dir)
    dest = Path(out)
    _kind(dest)
    check_output_path(dest, "-o")
    if not root.is_dir():
        raise UsageError(f"cache directory not found: {root}")
    files, skipped = _cache_files(root)
    if not files:
        raise UsageError(f"{root} holds no cache files (expected sub-directories "
                         f"{', '.join(sorted(set(cache_subdirs().values())))}; "
                         "run `jitwarm prewarm PLAN --out DIR` first)")
    prewarm = _read_prewarm(root)
    if sources is not None:
        source_root: Path | None = Path(sources).resolve()
    elif prewarm and prewarm.get("source_root"):
        source_root = Path(prewarm["source_root"])
    else:
        source_root = Path.cwd().resolve()
    if source_root is not None and not source_root.is_dir():
        source_root = None
    entries: dict[str, dict[str, Any]] = {}
    for rel, full in files:
        digest, size = _hash_file(full)
        entries[rel] = {"sha256": digest, "size": size}
    present = sorted({rel.split("/", 1)[0] for rel in entries})
    versions = framework_versions()
    needed = sorted({fw for sub in present for fw in _subdir_packages().get(sub, ())})
    # each framework's own fields (Numba: re-keying records; JAX: a path its keys hold)
    fields: dict[str, Any] = {}
    owners = _owners()
    for adapter in _field_adapters():
        fields.update(adapter.bundle_field_defaults)
    for sub in present:
        if sub in owners:
            fields.update(owners[sub].bundle_fields(root / sub, source_root, prewarm))
    # what each framework's cache keys were made of (jitwarm cache diff)
    present_owners = list({id(owners[s]): owners[s] for s in present if s in owners}.values())
    key_inputs = keys.bundle_record(prewarm, present_owners, fields, source_root,
                                    cache_settings())
    manifest: dict[str, Any] = {
        "schema": SCHEMA,
        "jitwarm_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "python": python_info(),
        "machine": machine_info(),
        "frameworks": {fw: versions.get(fw) for fw in needed},
        "contents": present,
        "env": {var: sub for var, sub in cache_subdirs().items() if sub in present},
        "settings": cache_settings(),
        "source_root": None if source_root is None else str(source_root),
        **fields,
        keys.FIELD: key_inputs,
        "plan": (prewarm or {}).get("plan"),
        "prewarm": keys.without_key_inputs(prewarm),  # they are in key_inputs, once
        "skipped": skipped,
        "files": entries,
    }
    data = json.dumps(manifest, indent=1, sort_keys=True).encode()

    def fill(tf: tarfile.TarFile) -> None:
        _add_bytes(tf, MANIFEST, data)
        for rel, full in files:
            info = tarfile.TarInfo(PREFIX + rel)
            info.size = entries[rel]["size"]
            info.mode = 0o644
            info.mtime = int(full.stat().st_mtime)
            with open(full, "rb") as f:
                tf.addfile(info, f)

    _write_bundle(dest, fill)
    return manifest


# -- verify ------------------------------------------------------------------------------------

@dataclass
class Verification:
    """The outcome of :func:`verify`: integrity first, then compatibility with this machine."""

    path: str
    ok: bool = False
    integrity_ok: bool = False
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "ok": self.ok, "integrity_ok": self.integrity_ok,
                "reasons": self.reasons, "warnings": self.warnings}


def safe_name(name: str) -> str | None:
    """Why an archive member name is unsafe, or None for a safe relative name."""
    if not name or "\x00" in name:
        return "empty name"
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if "\\" in name:
        return "backslash in path"
    parts = PurePosixPath(name).parts
    if any(p == ".." for p in parts):
        return "'..' in path"
    if name != MANIFEST and not name.startswith(PREFIX):
        return f"outside {PREFIX}"
    return None


def _member_problem(m: tarfile.TarInfo) -> str | None:
    if m.issym():
        return f"{_q(m.name)} is a symlink (to {_q(m.linkname)})"
    if m.islnk():
        return f"{_q(m.name)} is a hardlink (to {_q(m.linkname)})"
    if m.ischr() or m.isblk():
        return f"{_q(m.name)} is a device file"
    if m.isfifo():
        return f"{_q(m.name)} is a FIFO"
    if not (m.isreg() or m.isdir()):
        return f"{_q(m.name)} is not a regular file"
    why = safe_name(m.name.rstrip("/") if m.isdir() else m.name)
    if why:
        return f"unsafe path {_q(m.name)}: {why}"
    return None


def _read_member(tf: tarfile.TarFile, m: tarfile.TarInfo, limit: int) -> Iterator[bytes]:
    f = tf.extractfile(m)
    if f is None:
        return
    read = 0
    while True:
        chunk = f.read(1 << 20)
        if not chunk:
            return
        read += len(chunk)
        if read > limit:
            raise BundleRefused(f"{_q(m.name)} is larger than the manifest says")
        yield chunk


#: the longest member path and path component a bundle may hold (bytes of UTF-8)
_MAX_PATH = 1024
_MAX_COMPONENT = 255


def _path_problem(rel: str, subdirs: set[str]) -> str | None:
    """Why ``rel`` (a file path under ``caches/``) is outside the allow-list, or None.

    Allowed: a normalised relative POSIX path (no ``.``/``..``/empty parts, no
    backslash, no control character), at most :data:`_MAX_PATH` bytes with parts of at
    most :data:`_MAX_COMPONENT`, whose first part is a known cache sub-directory and whose
    rest its adapter accepts (Numba: exactly ``numba/<sub-directory>/<name>.nbi|.nbc``).
    """
    if not isinstance(rel, str) or not rel:
        return "empty name"
    if safe_name(PREFIX + rel):
        return safe_name(PREFIX + rel)
    if len(rel.encode("utf-8", "surrogatepass")) > _MAX_PATH:
        return "path too long"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in rel):
        return "control character in path"
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return "not a normalised path"
    if any(len(p.encode("utf-8", "surrogatepass")) > _MAX_COMPONENT for p in parts):
        return "path component too long"
    if parts[0] not in subdirs:
        return f"not under a known cache sub-directory ({', '.join(sorted(subdirs))})"
    if len(parts) < 2:
        return "a cache sub-directory itself"
    owner = _owners().get(parts[0])
    return owner.bundle_file_problem(tuple(parts[1:])) if owner is not None else None


def _str_or_none(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _structure_problem(manifest: dict[str, Any]) -> str | None:
    """The fields :func:`compatibility` and :func:`install` read must have their types."""
    for key in ("python", "machine", "frameworks", "env", "settings"):
        if key in manifest and manifest[key] is not None and not isinstance(manifest[key], dict):
            return f"the manifest's {key!r} is not an object"
    py = manifest.get("python") or {}
    if not all(_str_or_none(py.get(k)) for k in ("implementation", "major_minor")):
        return "the manifest's 'python' has malformed fields"
    mach = manifest.get("machine") or {}
    if not all(_str_or_none(mach.get(k)) for k in ("system", "machine", "cpu_model")):
        return "the manifest's 'machine' has malformed fields"
    flags = mach.get("cpu_flags")
    if flags is not None and (not isinstance(flags, list)
                              or not all(isinstance(f, str) for f in flags)):
        return "the manifest's 'machine' has malformed cpu_flags"
    gpus = mach.get("gpus")
    if gpus is not None and (not isinstance(gpus, list) or not all(
            isinstance(g, dict) and _str_or_none(g.get("compute_capability")) for g in gpus)):
        return "the manifest's 'machine' has malformed gpus"
    fws = manifest.get("frameworks") or {}
    if not all(isinstance(k, str) and _str_or_none(v) for k, v in fws.items()):
        return "the manifest's 'frameworks' has malformed entries"
    for adapter in _field_adapters():  # each framework's own fields
        problem = adapter.bundle_field_problem(manifest)
        if problem:
            return problem
    return keys.problem(manifest.get(keys.FIELD))


def check_manifest(manifest: Any) -> str | None:
    """Why a bundle's manifest must be refused, or None: the one validation that both
    :func:`verify` and :func:`install` apply before anything is written.

    The manifest is treated as hostile (a valid hash proves integrity, not intent): every
    path, name and setting in it must be within an allow-list: ``files`` are normalised
    paths under a known cache sub-directory (:func:`_path_problem`); ``contents`` are known
    sub-directory names; ``env`` maps known variables to their own sub-directory only.
    """
    if not isinstance(manifest, dict):
        return "the manifest is not a JSON object"
    if manifest.get("schema") != SCHEMA:
        return (f"unknown bundle schema {shown(manifest.get('schema'))} "
                f"(this jitwarm reads {SCHEMA})")
    files = manifest.get("files")
    if not isinstance(files, dict):
        return "the manifest lists no files"
    if len(files) > _MAX_MEMBERS:
        return f"the manifest lists more than {_MAX_MEMBERS} files"
    total = sum(i["size"] for i in files.values() if isinstance(i, dict)
                and isinstance(i.get("size"), int) and not isinstance(i.get("size"), bool))
    if total > _MAX_TOTAL_BYTES:
        return (f"the manifest's files hold {total} bytes in all, more than a bundle may "
                f"({_MAX_TOTAL_BYTES})")
    problem = _structure_problem(manifest)
    if problem:
        return problem
    known = cache_subdirs()
    subdirs = set(known.values())
    contents = manifest.get("contents")
    if contents is None:
        contents = []
    if not isinstance(contents, list) or not all(isinstance(c, str) for c in contents):
        return "the manifest's 'contents' is not a list of names"
    if len(set(contents)) != len(contents):
        return "the manifest's 'contents' lists a sub-directory twice"
    for sub in contents:
        if sub not in subdirs:
            return (f"the manifest's 'contents' names {shown(sub)}, not a cache "
                    f"sub-directory ({', '.join(sorted(subdirs))})")
    for var, sub in (manifest.get("env") or {}).items():
        if var not in known or sub != known[var]:
            return (f"the manifest's 'env' sets {shown(var)}={shown(sub)}; only "
                    f"{', '.join(f'{k}={v}' for k, v in sorted(known.items()))} are allowed")
    for rel, info in files.items():
        if safe_name(PREFIX + rel) or not isinstance(info, dict) \
                or not isinstance(info.get("sha256"), str) or not isinstance(info.get("size"), int) \
                or isinstance(info.get("size"), bool) or info["size"] < 0:
            return (f"the manifest lists an unsafe or malformed entry {shown(rel)}: "
                    f"{safe_name(PREFIX + rel) or 'malformed size or sha256'}")
    allowed = cache_settings()
    for name, value in (manifest.get("settings") or {}).items():
        if not _ENV_NAME.fullmatch(name) or name not in allowed:
            return (f"the manifest's 'settings' names {shown(name)}; only "
                    f"{', '.join(sorted(allowed))} are allowed")
        if not isinstance(value, str) or not _SETTING_VALUE.fullmatch(value):
            return f"the manifest's setting {name} has the malformed value {shown(value)}"
    names = set(files)
    for rel in files:  # a file may not also be a directory of another entry
        parts = rel.split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]) in names:
                return (f"the manifest lists '{shown(rel)}' inside the file "
                        f"'{shown('/'.join(parts[:i]))}'")
    for rel in files:
        why = _path_problem(rel, subdirs)
        if why is None and rel.split("/", 1)[0] not in contents:
            why = "its sub-directory is not in the manifest's 'contents'"
        if why:
            return f"the manifest lists an unsafe or malformed entry {shown(rel)}: {why}"
    return None


def _integrity(path: Path, v: Verification) -> None:
    """Stream the archive once: member types and names, sizes and SHA-256 against the manifest.

    Every refusal ends up in ``v.reasons``; a corrupt file raises :class:`UsageError`."""
    try:
        _integrity_stream(path, v)
    except BundleRefused as exc:
        v.reasons.append(str(exc))


def _integrity_stream(path: Path, v: Verification) -> None:
    seen: set[str] = set()
    count = 0
    with _open_read(path) as tf:
        first = True
        for m in tf:
            count += 1
            if count > _MAX_MEMBERS + 1:
                v.reasons.append(f"refused: more than {_MAX_MEMBERS} members")
                return
            if first:
                first = False
                if m.name != MANIFEST or not m.isreg():
                    v.reasons.append(f"the first member is {_q(m.name)}, not {MANIFEST}: "
                                     "not a jitwarm bundle")
                    return
                if m.size > _MAX_MANIFEST:
                    v.reasons.append(f"the manifest is implausibly large ({m.size} bytes, at "
                                     f"most {_MAX_MANIFEST})")
                    return
                raw = b"".join(_read_member(tf, m, _MAX_MANIFEST))
                try:
                    manifest = json.loads(raw)
                except (ValueError, RecursionError) as exc:  # also bad UTF-8, deep nesting
                    why = "nested too deeply" if isinstance(exc, RecursionError) else shown(exc)
                    v.reasons.append(f"the manifest is not valid JSON: {why}")
                    return
                problem = check_manifest(manifest)
                if problem:
                    v.reasons.append(problem)
                    return
                v.manifest = manifest
                continue
            assert v.manifest is not None
            problem = _member_problem(m)
            if problem:
                v.reasons.append(f"refused: {problem}")
                return
            if m.isdir():
                continue
            rel = m.name[len(PREFIX):]
            info = v.manifest["files"].get(rel)
            if info is None:
                v.reasons.append(f"refused: {_q(m.name)} is not listed in the manifest")
                return
            if rel in seen:
                v.reasons.append(f"refused: {_q(m.name)} appears twice")
                return
            seen.add(rel)
            if m.size != info["size"]:
                v.reasons.append(f"refused: {_q(m.name)} has {m.size} bytes, the manifest says "
                                 f"{info['size']}")
                return
            h = hashlib.sha256()
            for chunk in _read_member(tf, m, info["size"]):
                h.update(chunk)
            if h.hexdigest() != info["sha256"]:
                v.reasons.append(f"refused: {_q(m.name)}: SHA-256 does not match the manifest "
                                 "(the bundle was modified after it was made)")
                return
        if first:
            v.reasons.append("empty archive: not a jitwarm bundle")
            return
    assert v.manifest is not None
    missing = sorted(set(v.manifest["files"]) - seen)
    if missing:
        v.reasons.append(f"refused: {len(missing)} file(s) in the manifest are missing from "
                         f"the archive (first: {_q(missing[0])})")
        return
    v.integrity_ok = True


def compatibility(manifest: dict[str, Any]) -> tuple[list[str], list[str]]:
    """``(reasons it cannot be used here, warnings)`` for a bundle's manifest."""
    reasons: list[str] = []
    warnings: list[str] = []
    here_py = python_info()
    py = manifest.get("python") or {}
    if (py.get("implementation"), py.get("major_minor")) != (
            here_py["implementation"], here_py["major_minor"]):
        reasons.append(f"made for {py.get('implementation')} {py.get('major_minor')}, this is "
                       f"{here_py['implementation']} {here_py['major_minor']}")
    mach = manifest.get("machine") or {}
    here = machine_info(with_gpu=False)
    for key, label in (("system", "operating system"), ("machine", "architecture")):
        if mach.get(key) != here[key]:
            reasons.append(f"made on {label} {mach.get(key)}, this is {here[key]}")
    flags = set(mach.get("cpu_flags") or [])
    missing = sorted(flags - set(here["cpu_flags"]))
    if missing:
        reasons.append(f"this CPU lacks features the bundle's CPU had ({', '.join(missing[:12])}"
                       f"{' ...' if len(missing) > 12 else ''}): its native code could use "
                       "instructions this CPU does not have")
    elif mach.get("cpu_model") != here["cpu_model"]:
        warnings.append(f"made on {mach.get('cpu_model')}, this is {here['cpu_model']}: "
                        "CPU features are compatible, but caches keyed by CPU name (Numba, "
                        "Inductor's ISA) may miss (`jitwarm cache diff BUNDLE` says which)")
    versions = framework_versions()
    for fw, ver in (manifest.get("frameworks") or {}).items():
        now = versions.get(fw)
        if now is None:
            reasons.append(f"the bundle holds {fw} caches but {fw} is not installed here")
        elif ver != now:
            reasons.append(f"made with {fw} {ver}, {fw} {now} is installed here: {fw} "
                           "ignores caches of another version")
    contents = manifest.get("contents") or []
    if "triton" in contents and any(
            p.startswith("triton/") for p in (manifest.get("files") or {})):
        from jitwarm.caches.machine import gpus

        want = {g.get("compute_capability") for g in mach.get("gpus") or []}
        have = {g["compute_capability"] for g in gpus()}
        if want and not (want & have):
            reasons.append(f"the bundle's GPU kernels are for compute capability "
                           f"{', '.join(sorted(str(w) for w in want))}; this machine has "
                           f"{', '.join(sorted(have)) or 'no NVIDIA GPU'}")
    return reasons, warnings


def verify(path: str | Path) -> Verification:
    """Integrity (member types, names, sizes, SHA-256) and compatibility with this machine."""
    p = Path(path)
    v = Verification(path=str(p))
    if not p.is_file():
        raise UsageError(f"bundle not found: {p}")
    _integrity(p, v)
    if not v.integrity_ok or v.manifest is None:
        return v
    reasons, warnings = compatibility(v.manifest)
    v.reasons.extend(reasons)
    v.warnings.extend(warnings)
    v.ok = not v.reasons
    return v


# -- install -----------------------------------------------------------------------------------

@dataclass
class Installed:
    """What :func:`install` did."""

    files: int = 0
    replaced: int = 0
    unchanged: int = 0
    destinations: dict[str, str] = field(default_factory=dict)
    exports: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _extract(path: Path, manifest: dict[str, Any], staging: Path) -> None:
    """Second pass: write verified regular files into ``staging``, hashing them again."""
    files = manifest["files"]
    with _open_read(path) as tf:
        for count, m in enumerate(tf):
            if count > _MAX_MEMBERS:
                raise BundleRefused(f"the archive changed while installing: more than "
                                    f"{_MAX_MEMBERS} members")
            if m.name == MANIFEST or m.isdir():
                continue
            problem = _member_problem(m)
            rel = m.name[len(PREFIX):]
            if problem or rel not in files:
                raise BundleRefused(f"the archive changed while installing: {problem or _q(rel)}")
            dest = staging / rel
            if staging.resolve() not in dest.resolve().parents:
                raise BundleRefused(f"unsafe path {_q(m.name)}")
            dest.parent.mkdir(parents=True, exist_ok=True)
            h = hashlib.sha256()
            with open(dest, "xb") as out:
                for chunk in _read_member(tf, m, files[rel]["size"]):
                    h.update(chunk)
                    out.write(chunk)
            if h.hexdigest() != files[rel]["sha256"]:
                raise BundleRefused(f"{_q(m.name)} changed while installing (SHA-256 mismatch)")


def _place(src_dir: Path, dest_dir: Path, result: Installed) -> None:
    """Move every file of ``src_dir`` into ``dest_dir`` (same relative paths)."""
    try:
        _place_files(src_dir, dest_dir, result)
    except OSError as exc:
        raise UsageError(f"cannot install into {dest_dir}: {exc.strerror or exc} "
                         f"({result.files} file(s) were installed before this)") from None


def _place_files(src_dir: Path, dest_dir: Path, result: Installed) -> None:
    for dirpath, _, filenames in os.walk(src_dir):
        for name in filenames:
            src = Path(dirpath) / name
            dest = dest_dir / src.relative_to(src_dir)
            if dest.is_symlink():
                raise BundleRefused(f"refusing to write through the symlink {dest}")
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.exists():
                if _hash_file(dest) == _hash_file(src):
                    result.unchanged += 1
                    continue
                result.replaced += 1
            shutil.move(str(src), str(dest))
            result.files += 1


def _existing_dir(value: Any) -> Path | None:
    """``value`` (from a manifest: hostile) as an existing absolute directory, else None."""
    if not isinstance(value, str) or not value.startswith("/") or len(value) > 4096 \
            or "\0" in value:
        return None
    try:
        return Path(value) if Path(value).is_dir() else None
    except (OSError, ValueError):
        return None


def install(path: str | Path, *, target: str | Path | None = None,
            sources: str | Path | None = None) -> Installed:
    """Verify, then install a bundle into ``target`` (or the current cache locations).

    ``sources``: the directory that now holds the plan's source files (default: the
    working directory); Numba's entries are re-keyed for it. Raises :class:`BundleRefused`
    (nothing written) when the bundle fails verification.
    """
    from jitwarm.caches.locations import install_destinations
    from jitwarm.results.profile import write_atomic

    p = Path(path)
    v = verify(p)
    if not v.ok or v.manifest is None:
        raise BundleRefused("; ".join(v.reasons) or "verification failed")
    manifest = v.manifest
    result = Installed(warnings=list(v.warnings))
    if sources is not None:
        src_root = Path(sources).resolve()
    else:
        # into a --target (nothing is written beside sources), the sources are by default
        # where the bundle was made when that folder exists here: a bundle installed on the
        # machine that made it then keeps hitting wherever the install is run from; else the
        # working directory (an in-tree install always uses the working directory)
        made = _existing_dir(manifest.get("source_root"))
        if target is not None and made is not None:
            src_root = made.resolve()
            result.notes.append(f"sources: {shown(src_root)}, where the bundle was made "
                                "(--sources to re-key for another checkout)")
        else:
            src_root = Path.cwd().resolve()
    if target is not None:
        tgt = Path(target).resolve()
        if tgt.exists() and not tgt.is_dir():
            raise UsageError(f"--target {tgt} exists and is not a directory")
        dests: dict[str, tuple[Path | None, str]] = {
            var: (tgt / sub, "--target") for var, sub in cache_subdirs().items()}
        stage_parent = tgt.parent if not tgt.exists() else tgt
    else:
        tgt = None
        dests = install_destinations()
        stage_parent = None
    # where each sub-directory goes comes from this jitwarm, never from the manifest (whose
    # 'contents' and 'env' were checked against the same table by check_manifest)
    sub_to_var = {sub: var for var, sub in cache_subdirs().items()}
    owners = _owners()
    stage_parent = stage_parent if stage_parent is not None and stage_parent.is_dir() else None
    need = sum(int(i["size"]) for i in manifest["files"].values())
    free = shutil.disk_usage(stage_parent or tempfile.gettempdir()).free
    if need > free:  # refused before a byte is written: a full disk halfway helps nobody
        raise BundleRefused(f"cannot install {shown(str(p))}: its files need {need} bytes, "
                            f"the disk has {free} free")
    staging = Path(tempfile.mkdtemp(prefix=".jitwarm-install-", dir=stage_parent))
    try:
        try:
            _extract(p, manifest, staging)
        except OSError as exc:
            raise BundleRefused(f"cannot extract {p}: {exc.strerror or exc}") from None
        for sub in manifest.get("contents") or []:
            var = sub_to_var.get(sub)
            if var is None or var not in dests:
                result.warnings.append(f"{sub}: no known cache location on this jitwarm; skipped")
                continue
            dest, how = dests[var]
            staged = staging / sub
            owner = owners.get(sub)
            placed = owner.bundle_place(staged, manifest, src_root, dest) if owner else None
            if placed is not None:  # the framework says where each entry goes (Numba)
                plan, notes = placed
                result.notes.extend(notes)
                for name, where in plan.items():
                    final = where if where.is_absolute() else (dest or tgt or Path()) / where
                    _place(staged / name, final, result)
                    result.destinations[f"{sub}/{name}"] = str(final)
                if dest is not None:
                    result.exports[var] = str(dest)
                continue
            assert dest is not None
            _place(staged, dest, result)
            result.destinations[sub] = str(dest)
            if tgt is not None or not os.environ.get(var) or "export" in how:
                result.exports[var] = str(dest)
        allowed = cache_settings()  # the manifest's settings were checked against it
        settings = {k: v for k, v in (manifest.get("settings") or {}).items() if k in allowed}
        for sub in manifest.get("contents") or []:
            if sub in owners:
                warnings, exports = owners[sub].bundle_installed(
                    manifest, result.destinations, settings)
                result.warnings.extend(warnings)
                result.exports.update(exports)
        if tgt is not None:  # marks the directory as installed from a verified bundle
            tgt.mkdir(parents=True, exist_ok=True)
            _write_marker(tgt, write_atomic, json.dumps(
                {"bundle": str(p.resolve()), "created": manifest.get("created"),
                 "installed": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                 "sources": str(src_root), "prewarm": manifest.get("prewarm")}, indent=1))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return result


def _write_marker(tgt: Path, write_atomic: Any, text: str) -> None:
    try:
        write_atomic(tgt / INSTALLED_MARKER, text)
    except OSError as exc:
        raise UsageError(f"cannot write {shown(tgt / INSTALLED_MARKER)}: "
                         f"{exc.strerror or exc}") from None


def export_lines(exports: dict[str, str]) -> list[str]:
    """``export NAME=value`` lines that are safe to ``eval`` in a POSIX shell: every name is
    an identifier (``[A-Za-z_][A-Za-z0-9_]*``) from the known cache variables and settings,
    every value is quoted with :func:`shlex.quote`. Raises :class:`BundleRefused` otherwise."""
    known = set(cache_subdirs()) | set(cache_settings())
    lines = []
    for name, value in exports.items():
        if not _ENV_NAME.fullmatch(name) or name not in known or not isinstance(value, str):
            raise BundleRefused(f"refusing to print the setting {shown(name)}: not a known "
                                "variable name")
        lines.append(f"export {name}={shlex.quote(value)}")
    return lines


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of a bundle, after a full integrity check (compatibility not checked)."""
    v = Verification(path=str(path))
    _integrity(Path(path), v)
    if not v.integrity_ok or v.manifest is None:
        raise BundleRefused("; ".join(v.reasons))
    return v.manifest



def read_manifest_only(path: str | Path) -> dict[str, Any]:
    """A bundle's manifest, checked (:func:`check_manifest`) without reading its files: for
    commands that only read the manifest (``jitwarm cache diff``). A missing, corrupt or
    refused bundle is a :class:`UsageError` (exit 2) with one line."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"bundle not found: {shown(p)}")
    manifest: Any = None
    try:
        with _open_read(p) as tf:
            m = next(iter(tf), None)
            if m is None or m.name != MANIFEST or not m.isreg():
                raise UsageError(f"{shown(p)}: not a jitwarm bundle (its first member is not "
                                 f"{MANIFEST})")
            if m.size > _MAX_MANIFEST:
                raise UsageError(f"{shown(p)}: the manifest is implausibly large ({m.size} "
                                 f"bytes, at most {_MAX_MANIFEST})")
            raw = b"".join(_read_member(tf, m, _MAX_MANIFEST))
    except BundleRefused as exc:
        raise UsageError(f"{shown(p)}: {exc}") from None
    try:
        manifest = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else shown(exc)
        raise UsageError(f"{shown(p)}: the manifest is not valid JSON: {why}") from None
    problem = check_manifest(manifest)
    if problem:
        raise UsageError(f"{shown(p)}: {problem}")
    return manifest
