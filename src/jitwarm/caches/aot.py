"""Ahead-of-time artifacts: built once, verified, loaded without the JIT (``jitwarm.load``).

:func:`prepare` runs in a fresh process (``jitwarm.caches.prewarm_worker``, mode
``aot-prepare``, or ``jitwarm aot build``) on a built case. The framework's adapter writes
its artifact (:meth:`jitwarm.adapters.base.Adapter.aot_prepare`); the case's arguments are
saved beside it (NumPy ``.npy`` files, loaded with ``allow_pickle=False``, and JSON), and a
manifest ``jitwarm-aot.json`` records the versions, the machine (platform, CPU model and
flags, Python) and the size and SHA-256 of every file.

:func:`load` (``jitwarm.load(DIR)``) is what ships: it checks the manifest (hostile until
checked: every path against an allow-list), the hash of every file and this machine's
compatibility *before* anything in the folder is imported or unpickled, then returns the
callable through the adapter's fastest load path (:meth:`~jitwarm.adapters.base.Adapter.aot_load`):

* **Numba** — a ``numba.pycc`` extension module built from the case's signature, imported
  with NumPy only (Numba is not imported). Where pycc cannot compile the function the
  artifact falls back to Numba's disk cache, which needs the case's own code: the ``aot``
  strategy measures that fallback, ``jitwarm.load`` refuses it with the reason;
* **torch** — ``torch.export`` + AOTInductor (a ``.pt2`` package) loaded through the C++
  package loader ``torch._C._aoti.AOTIModelPackageLoader``: Dynamo and Inductor are not
  imported;
* **JAX** — the compiled XLA executable, serialised (``jax.experimental.serialize_executable``)
  and deserialised through an allow-listed unpickler: no trace, lowering or compile; where
  the backend cannot serialise it (or it cannot be loaded here), ``jax.export`` (serialised
  StableHLO), lowered and compiled in setup;
* **ONNX Runtime** — the model optimised once and saved in ORT format (``.ort``), its
  session created at load with optimisation off.

The ``aot`` strategy's measured case is :func:`case_source`: it calls :func:`load` and
:func:`load_inputs`, so what the strategy measures is exactly what ``jitwarm.load`` does.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import Any

from jitwarm._errors import ArtifactRefused, UsageError, shown
from jitwarm.adapters.base import Adapter, Built

SCHEMA = "jitwarm.aot/1"
MANIFEST = "jitwarm-aot.json"
INPUTS = "inputs"
_MAX_MANIFEST = 4 << 20
_MAX_FILES = 10_000
#: a file the manifest may name: a normalised relative path of plain names (no ``..``)
_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,199}")
_MAX_DEPTH = 8


def _aot_adapters() -> list[Adapter]:
    from jitwarm.adapters import ADAPTERS

    return [a for a in ADAPTERS if a.supports_aot]


def _adapter(framework: str) -> Adapter:
    from jitwarm.adapters import named

    # just this framework's adapter: jitwarm.load does not import the whole registry
    adapter = named(framework) if isinstance(framework, str) else None
    if adapter is None or not adapter.supports_aot:
        supported = ", ".join(a.name for a in _aot_adapters())
        raise UsageError(f"no ahead-of-time compilation for {shown(framework, 40)} callables "
                         f"(supported: {supported})")
    return adapter


def supported() -> tuple[str, ...]:
    """Frameworks with an ahead-of-time path (each adapter owns its own)."""
    return tuple(a.name for a in _aot_adapters())


# -- the case's arguments, saved beside the artifact -------------------------------------
def _save_value(x: Any, out: Path, files: list[str], where: str, depth: int = 0) -> Any:
    """A JSON tree for ``x``; arrays become ``inputs/<n>.npy`` files."""
    import numpy as np

    if depth > _MAX_DEPTH:
        raise UsageError(f"argument {where} is nested too deeply to be saved with the artifact")
    if x is None or isinstance(x, (bool, int, float, str)):
        return {"value": x}
    if isinstance(x, tuple) and hasattr(type(x), "_fields"):
        raise UsageError(f"argument {where} is a {shown(type(x).__name__, 60)} (a named tuple): "
                         "its type cannot be rebuilt without the case's code; pass its fields "
                         "as a plain tuple or dict")
    if isinstance(x, (tuple, list)):
        return {"tuple" if isinstance(x, tuple) else "list":
                [_save_value(v, out, files, f"{where}[{i}]", depth + 1) for i, v in enumerate(x)]}
    if isinstance(x, dict) and all(isinstance(k, str) for k in x):
        return {"dict": {k: _save_value(v, out, files, f"{where}[{k!r}]", depth + 1)
                         for k, v in x.items()}}
    kind = None
    if isinstance(x, (np.ndarray, np.generic)):
        arr = np.asarray(x)
    else:
        from jitwarm.adapters import array_adapter

        adapter = array_adapter(x)
        if adapter is None or adapter.array_kind is None:
            raise UsageError(f"argument {where} ({shown(type(x).__name__, 60)}) cannot be saved "
                             "with the artifact: arrays, numbers, strings, tuples, lists and "
                             "dicts can")
        kind = adapter.array_kind
        arr = np.asarray(adapter.to_numpy(x))
    if arr.dtype.hasobject:
        raise UsageError(f"argument {where} is an object array: it cannot be saved without pickle")
    rel = f"{INPUTS}/{len(files)}.npy"
    (out / INPUTS).mkdir(exist_ok=True)
    np.save(out / rel, arr, allow_pickle=False)
    files.append(rel)
    leaf: dict[str, Any] = {"npy": rel}
    if arr.dtype.type.__module__ == "ml_dtypes":
        if arr.dtype.name not in _ML_DTYPES:
            raise UsageError(f"argument {where} has dtype {shown(arr.dtype.name, 40)}, which "
                             "cannot be saved with the artifact")
        leaf["dtype"] = arr.dtype.name  # .npy keeps only its bytes ('V2' for bfloat16)
    if kind is not None:
        leaf["kind"] = kind
        device = str(getattr(x, "device", "cpu"))
        if kind == "torch" and device != "cpu":
            leaf["device"] = device
    if isinstance(x, np.generic):
        leaf["scalar"] = True
    return leaf


#: the ``ml_dtypes`` types (JAX's bfloat16, float8 ...) an input may have: a ``.npy`` file
#: stores them as raw bytes, so the manifest names the type and the load views it back
_ML_DTYPES = frozenset({"bfloat16", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e4m3b11fnuz",
                        "float8_e5m2", "float8_e5m2fnuz", "float8_e3m4", "float8_e4m3",
                        "float8_e8m0fnu", "float4_e2m1fn", "int2", "int4", "uint2", "uint4"})


def _load_value(node: Any, root: Path, listed: set[str], depth: int = 0) -> Any:
    if depth > _MAX_DEPTH or not isinstance(node, dict) or len(node) not in (1, 2, 3, 4, 5):
        raise ArtifactRefused("the manifest's inputs are malformed")
    if "value" in node:
        v = node["value"]
        if v is not None and not isinstance(v, (bool, int, float, str)):
            raise ArtifactRefused("the manifest's inputs are malformed")
        return v
    if "tuple" in node or "list" in node:
        seq = node.get("tuple", node.get("list"))
        if not isinstance(seq, list):
            raise ArtifactRefused("the manifest's inputs are malformed")
        items = [_load_value(v, root, listed, depth + 1) for v in seq]
        return tuple(items) if "tuple" in node else items
    if "dict" in node:
        if not isinstance(node["dict"], dict):
            raise ArtifactRefused("the manifest's inputs are malformed")
        return {str(k): _load_value(v, root, listed, depth + 1) for k, v in node["dict"].items()}
    rel = node.get("npy")
    if not isinstance(rel, str) or rel not in listed or not rel.startswith(INPUTS + "/"):
        raise ArtifactRefused(f"the manifest's input {shown(rel, 80)} is not a listed file")
    import numpy as np

    arr = np.load(root / rel, allow_pickle=False)
    if "dtype" in node:
        name = node["dtype"]
        if not isinstance(name, str) or name not in _ML_DTYPES:
            raise ArtifactRefused(f"the manifest's input dtype {shown(name, 40)} is unknown")
        import ml_dtypes

        dtype = np.dtype(getattr(ml_dtypes, name))
        if arr.dtype.kind != "V" or arr.dtype.itemsize != dtype.itemsize:
            raise ArtifactRefused(f"the manifest's input {shown(rel, 80)} does not hold {name}")
        arr = arr.view(dtype)
    if node.get("scalar"):
        arr = arr[()]
    kind = node.get("kind")
    if kind is None:
        return arr
    from jitwarm.adapters import array_kinds, named

    adapter = named(kind) if isinstance(kind, str) else None  # an adapter's kind is its name
    if adapter is None or adapter.array_kind != kind:
        adapter = array_kinds().get(kind) if isinstance(kind, str) else None
    if adapter is None:
        raise ArtifactRefused(f"the manifest's input kind {shown(kind, 40)} is unknown")
    device = node.get("device")
    if device is not None and not (isinstance(device, str)
                                   and re.fullmatch(r"[a-z]{2,10}(:[0-9]{1,3})?", device)):
        raise ArtifactRefused(f"the manifest's input device {shown(device, 40)} is malformed")
    return adapter.from_numpy(np.ascontiguousarray(arr), device=device)


# -- writing -------------------------------------------------------------------------------
def _hash_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _machine() -> dict[str, Any]:
    from jitwarm.caches.machine import machine_info, python_info

    return {"machine": machine_info(with_gpu=True), "python": python_info()}


def _versions(packages: list[str]) -> dict[str, str | None]:
    import importlib.metadata

    out: dict[str, str | None] = {}
    for name in packages:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def prepare(framework: str, built: Built, artifact_dir: str | Path,
            target: str | None = None, kind: str = "aot") -> dict[str, Any]:
    """Write the artifact of a built case, its arguments and the manifest into ``artifact_dir``.

    Returns the manifest. The folder must be new or empty (it is the artifact and nothing else).
    """
    from jitwarm._version import __version__
    from jitwarm.results.profile import write_atomic

    out = Path(artifact_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{shown(out)} exists and is not an empty folder")
    out.mkdir(parents=True, exist_ok=True)
    adapter = _adapter(framework)
    if kind != "aot" and kind not in adapter.aot_kinds:
        raise UsageError(f"no {shown(kind, 40)} artifact for {framework} callables")
    t0 = time.perf_counter_ns()
    info = adapter.aot_prepare(built, out, kind=kind) if kind != "aot" else \
        adapter.aot_prepare(built, out)
    prepare_ns = time.perf_counter_ns() - t0
    inputs_files: list[str] = []
    inputs = {"args": _save_value(tuple(built.args), out, inputs_files, "args"),
              "kwargs": _save_value(dict(built.kwargs), out, inputs_files, "kwargs")}
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(out.rglob("*")):
        if path.is_symlink():
            raise UsageError(f"the artifact holds a symlink ({shown(path.name)})")
        if path.is_file():
            rel = path.relative_to(out).as_posix()
            if _path_problem(rel):
                raise UsageError(f"the artifact file {shown(rel)} has an unsafe name: "
                                 f"{_path_problem(rel)}")
            digest, size = _hash_file(path)
            files[rel] = {"sha256": digest, "size": size}
    manifest: dict[str, Any] = {
        "schema": SCHEMA,
        "jitwarm": __version__,
        "framework": framework,
        "kind": kind,
        "target": target,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "loader": info.get("loader", framework),
        "fallback": info.get("fallback"),
        "versions": _versions(list(info.get("needs") or ())),
        **_machine(),
        "info": info,
        "inputs": inputs,
        "prepare_ns": prepare_ns,
        "files": files,
    }
    write_atomic(out / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
    return manifest


def _output_dir(output: str | Path) -> Path:
    """``output`` as a folder ``build`` may create: new (or empty), in an existing folder."""
    out = Path(output)
    if str(output) == "" or "\x00" in str(output):
        raise UsageError("the output folder is empty or holds a NUL character")
    if out.is_symlink():
        raise UsageError(f"{shown(out)} is a symlink: give a new folder")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{shown(out)} exists and is not an empty folder: give a new folder")
    parent = out.absolute().parent
    if not parent.is_dir():
        raise UsageError(f"the folder {shown(parent)} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"the folder {shown(parent)} is not writable")
    return out


def build(target: str, output: str | Path, *, timeout_s: float = 600.0,
          kind: str = "aot") -> dict[str, Any]:
    """``jitwarm aot build``: compile ``target`` ahead of time in a fresh process and write
    the verified artifact folder ``output`` (all or nothing: it appears only when complete).

    Returns the manifest. A case that has no AOT module (a fallback) writes nothing and
    raises :class:`UsageError` with the reason.
    """
    import shutil
    import tempfile

    from jitwarm._errors import CaseError
    from jitwarm.caches.prewarm import run_case_process
    from jitwarm.cases.targets import resolve_target

    kinds = ("aot", *sorted({k for a in _aot_adapters() for k in a.aot_kinds}))
    if kind not in kinds:
        raise UsageError(f"unknown artifact kind {shown(kind, 40)}: choose from {', '.join(kinds)}")
    tgt = resolve_target(target)
    out = _output_dir(output)
    parent = out.absolute().parent
    try:
        staging = Path(tempfile.mkdtemp(prefix=".jitwarm-aot-", dir=parent))
    except OSError as exc:
        raise UsageError(f"cannot create a folder in {shown(parent)}: "
                         f"{exc.strerror or exc}") from None
    try:
        art = staging / "artifact"
        rec = run_case_process(tgt, staging / "cache", mode="aot-prepare", timeout_s=timeout_s,
                               options={"artifact_dir": str(art), "kind": kind})
        if rec.get("status") == "usage_error":
            raise UsageError(str(rec.get("message")))
        if rec.get("status") != "ok":
            raise CaseError(f"building {tgt.describe()} ahead of time failed: "
                            f"{rec.get('message') or rec.get('error')}",
                            str(rec.get("traceback") or ""), str(rec.get("phase") or ""))
        manifest = verify(art)
        if manifest.get("fallback"):
            raise UsageError(f"no AOT artifact written: {manifest['fallback']}; deploy the disk "
                             "cache with `jitwarm prewarm` and `jitwarm bundle create`")
        if out.exists():
            out.rmdir()  # empty, checked above
        os.replace(art, out)
        return manifest
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# -- checking --------------------------------------------------------------------------------
def _path_problem(rel: Any) -> str | None:
    """Why ``rel`` is not a file name an artifact may hold, or None."""
    if not isinstance(rel, str) or not rel:
        return "empty name"
    if len(rel) > 400:
        return "path too long"
    parts = rel.split("/")
    if len(parts) > 4:
        return "nested too deeply"
    for p in parts:
        if p in ("", ".", ".."):
            return "not a normalised relative path"
        if not _PART.fullmatch(p):
            return "a name outside [A-Za-z0-9_.+-] (absolute path, '..', control character)"
    if rel == MANIFEST:
        return "the manifest itself"
    return None


def _structure_problem(m: Any) -> str | None:
    if not isinstance(m, dict):
        return "the manifest is not a JSON object"
    if m.get("schema") != SCHEMA:
        return f"the manifest's schema is {shown(m.get('schema'), 40)}, not {SCHEMA}"
    for key, kind in (("framework", str), ("loader", str), ("info", dict), ("files", dict),
                      ("versions", dict), ("machine", dict), ("python", dict),
                      ("inputs", dict)):
        if not isinstance(m.get(key), kind):
            return f"the manifest's {key!r} is missing or not a {kind.__name__}"
    if len(m["files"]) > _MAX_FILES:
        return f"the manifest lists more than {_MAX_FILES} files"
    for rel, rec in m["files"].items():
        why = _path_problem(rel)
        if why:
            return f"the manifest names an unsafe file {shown(rel, 80)}: {why}"
        if not (isinstance(rec, dict) and isinstance(rec.get("sha256"), str)
                and re.fullmatch(r"[0-9a-f]{64}", rec["sha256"])
                and isinstance(rec.get("size"), int) and rec["size"] >= 0):
            return f"the manifest's record of {shown(rel, 80)} is malformed"
    return None


def read_manifest(artifact_dir: str | Path) -> dict[str, Any]:
    """The artifact's manifest, structurally checked (nothing else is read)."""
    root = Path(artifact_dir)
    path = root / MANIFEST
    if not root.is_dir():
        raise UsageError(f"no such artifact folder: {shown(root)}")
    if not path.is_file() or path.is_symlink():
        raise UsageError(f"{shown(root)} is not a jitwarm AOT artifact (no {MANIFEST}): "
                         "make one with `jitwarm aot build TARGET -o DIR`")
    if path.stat().st_size > _MAX_MANIFEST:
        raise ArtifactRefused(f"refused {shown(root)}: the manifest is larger than "
                              f"{_MAX_MANIFEST >> 20} MiB")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactRefused(f"refused {shown(root)}: the manifest is not readable JSON "
                              f"({type(exc).__name__})") from None
    why = _structure_problem(manifest)
    if why:
        raise ArtifactRefused(f"refused {shown(root)}: {why}")
    return manifest


def _integrity(root: Path, manifest: dict[str, Any]) -> None:
    """Every listed file present, a regular file inside the folder, of the listed size and
    SHA-256."""
    real_root = root.resolve()
    for rel, rec in manifest["files"].items():
        path = root / rel
        if path.is_symlink() or not path.is_file():
            raise ArtifactRefused(f"refused {shown(root)}: {shown(rel, 80)} is missing or not "
                                  "a regular file")
        if not path.resolve().is_relative_to(real_root):
            raise ArtifactRefused(f"refused {shown(root)}: {shown(rel, 80)} lies outside "
                                  "the artifact folder")
        digest, size = _hash_file(path)
        if size != rec["size"] or digest != rec["sha256"]:
            raise ArtifactRefused(f"refused {shown(root)}: {shown(rel, 80)} does not match "
                                  "its SHA-256 in the manifest (corrupted or tampered with)")


def compatibility(manifest: dict[str, Any]) -> list[str]:
    """Why this artifact cannot run here (Python, platform, CPU features, versions)."""
    from jitwarm.caches.machine import machine_info, python_info

    reasons: list[str] = []
    py, here_py = manifest["python"], python_info()
    for key in ("implementation", "major_minor", "abiflags"):
        if py.get(key) != here_py[key]:
            reasons.append(f"built for Python {shown(py.get('implementation'), 20)} "
                           f"{shown(py.get('major_minor'), 20)}{shown(py.get('abiflags'), 8)}, "
                           f"this is {here_py['implementation']} {here_py['major_minor']}"
                           f"{here_py['abiflags']}")
            break
    mach, here = manifest["machine"], machine_info(with_gpu=False)
    for key, label in (("system", "operating system"), ("machine", "architecture")):
        if mach.get(key) != here[key]:
            reasons.append(f"built on {label} {shown(mach.get(key), 40)}, this is {here[key]}")
    flags = mach.get("cpu_flags") or []
    if not isinstance(flags, list):
        reasons.append("the manifest's CPU flags are malformed")
        flags = []
    missing = sorted(set(map(str, flags)) - set(here["cpu_flags"]))
    if missing:
        reasons.append(f"this CPU lacks features of the CPU it was built on "
                       f"({shown(', '.join(missing[:12]), 120)}): its native code may use "
                       "instructions this CPU does not have")
    device = str((manifest.get("info") or {}).get("device") or "cpu")
    if device.startswith("cuda"):
        from jitwarm.caches.machine import gpus

        want = {str(g.get("compute_capability")) for g in mach.get("gpus") or []
                if isinstance(g, dict)}
        have = {g["compute_capability"] for g in gpus()}
        if want and not want & have:
            reasons.append(f"built for GPU compute capability {shown(', '.join(sorted(want)), 40)}"
                           f", this machine has {', '.join(sorted(have)) or 'no NVIDIA GPU'}")
    now = _versions([str(k) for k in manifest["versions"]])
    for name, ver in manifest["versions"].items():
        if now[str(name)] != ver:
            reasons.append(f"built with {shown(name, 40)} {shown(ver, 40)}, this has "
                           f"{now[str(name)] or 'none installed'}")
    return reasons


def verify(artifact_dir: str | Path) -> dict[str, Any]:
    """The manifest of an artifact that may be loaded here; :class:`ArtifactRefused` (one
    line) otherwise. Nothing in the folder is imported or unpickled before this returns."""
    root = Path(artifact_dir)
    manifest = read_manifest(root)
    _integrity(root, manifest)
    reasons = compatibility(manifest)
    if reasons:
        raise ArtifactRefused(f"refused {shown(root)}: {reasons[0]}"
                              + (f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""))
    return manifest


# -- loading -----------------------------------------------------------------------------------
def load_inputs(artifact_dir: str | Path, manifest: dict[str, Any] | None = None
                ) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The case's arguments saved with the artifact: ``(args, kwargs)`` (verified first)."""
    root = Path(artifact_dir)
    manifest = manifest or verify(root)
    listed = set(manifest["files"])
    args = _load_value(manifest["inputs"].get("args"), root, listed)
    kwargs = _load_value(manifest["inputs"].get("kwargs"), root, listed)
    if not isinstance(args, tuple) or not isinstance(kwargs, dict):
        raise ArtifactRefused("the manifest's inputs are malformed")
    return args, kwargs


def load(artifact_dir: str | Path) -> Any:
    """The callable of an AOT artifact (``jitwarm aot build``), through the fastest load path.

    Verifies the manifest, every file's SHA-256 and this machine's compatibility first;
    raises :class:`ArtifactRefused` with one line otherwise, before anything is loaded.
    """
    root = Path(artifact_dir)
    manifest = verify(root)
    return _load_verified(root, manifest)


def _load_verified(root: Path, manifest: dict[str, Any]) -> Any:
    if manifest.get("fallback"):
        raise ArtifactRefused(f"refused {shown(root)}: it holds no AOT module "
                              f"({shown(manifest['fallback'], 300)}); deploy the disk cache "
                              "with `jitwarm prewarm` and `jitwarm bundle create`")
    adapter = _adapter(manifest["framework"])
    for key in ("file", "fallback_file"):  # the loader's file, and its load-time fallback
        file = manifest["info"].get(key)
        if file is not None and file not in manifest["files"]:
            raise ArtifactRefused(f"refused {shown(root)}: the artifact's file "
                                  f"{shown(file, 80)} is not listed (with its hash) in the "
                                  "manifest")
    args, kwargs = (load_inputs(root, manifest) if adapter.aot_needs_inputs else ((), {}))
    try:
        return adapter.aot_load(manifest["info"], root, args, kwargs)
    except ArtifactRefused as exc:  # the adapter's own checks (its allow-list, its backend)
        raise ArtifactRefused(f"refused {shown(root)}: {exc}") from None


def load_case(target: dict[str, Any], artifact_dir: str) -> tuple[Any, ...]:
    """The ``aot`` strategy's measured case: what ``jitwarm.load`` does, plus the saved
    arguments; a fallback artifact (no AOT module) builds the original case instead."""
    root = Path(artifact_dir)
    manifest = verify(root)
    if not manifest.get("fallback"):
        fn = _load_verified(root, manifest)
        args, kwargs = load_inputs(root, manifest)
        if str(manifest["info"].get("device") or "cpu") != "cpu":
            fn = _Synced(fn, _adapter(manifest["framework"]))
        return fn, args, kwargs
    from jitwarm.cases.targets import Target, build
    from jitwarm.cases.targets import load_case as load_user_case

    t = Target(**target)
    built = build(load_user_case(t), t.name)
    adapter = _adapter(manifest["framework"])
    return (adapter.aot_load(manifest["info"], root, built.args, built.kwargs, built=built),
            built.args, built.kwargs)


class _Synced:
    """A loaded artifact on an accelerator, measured: each call waits for its result (the
    artifact's callable is no longer its framework's type, so the measurement cannot)."""

    def __init__(self, fn: Any, adapter: Adapter) -> None:
        self.fn, self.adapter = fn, adapter
        self.__name__ = getattr(fn, "__name__", "artifact")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out = self.fn(*args, **kwargs)
        self.adapter.sync(out)
        return out


def case_source(target: dict[str, Any], artifact_dir: str, *, name: str = "aot") -> str:
    """A case file whose case ``name`` loads the artifact as :func:`load` does (in setup)."""
    return wrapper_case_source(target, artifact_dir, loader="jitwarm.caches.aot",
                               name=name, function="load_case")


def wrapper_case_source(target: dict[str, Any], artifact_dir: str, *,
                        loader: str = "jitwarm.caches.aot", name: str = "aot",
                        function: str = "load") -> str:
    """A case file whose case ``name`` returns ``loader.function(target, artifact_dir)``,
    so loading the artifact counts as setup."""
    return (
        "import json\n\n"
        "import jitwarm\n"
        f"from {loader} import {function} as _load\n\n\n"
        "@jitwarm.case\n"
        f"def {name}():\n"
        f"    return _load(json.loads({json.dumps(target)!r}), {artifact_dir!r})\n"
    )


def describe(manifest: dict[str, Any]) -> dict[str, Any]:
    """What the strategy's JSON shows of an artifact: its loader, fallback and files."""
    return {"framework": manifest.get("framework"), "loader": manifest.get("loader"),
            "fallback": manifest.get("fallback"), "prepare_ns": manifest.get("prepare_ns"),
            "bytes": sum(r["size"] for r in manifest.get("files", {}).values()),
            "files": len(manifest.get("files", {})),
            **{k: v for k, v in (manifest.get("info") or {}).items()
               if k in ("signature", "signatures", "function", "notes", "needs", "imports")}}

