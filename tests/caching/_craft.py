"""Helpers for the caching tests: write case files, craft (malicious) bundles."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

NUMBA_CASE = """
import jitwarm

@jitwarm.case
def poly():
    import numpy as np
    from numba import njit

    @njit(cache=True)
    def compute(x):
        return (x * x + 2 * x + 1).sum()

    return compute, (np.arange(10.0),)
"""

NUMBA_PLAN = """
[[case]]
target = "kern.py::poly"
inputs = [{dtype = "float32"}, {shape = [3, 4]}]
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
        timeout: float = 600) -> subprocess.CompletedProcess[str]:
    full = os.environ.copy()
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "jitwarm", *args], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=timeout)


def member(name: str, data: bytes = b"", **attrs: Any) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for k, v in attrs.items():
        setattr(info, k, v)
    if info.type != tarfile.REGTYPE:
        info.size = 0
    return info, data


def manifest_for(files: dict[str, bytes], **overrides: Any) -> dict[str, Any]:
    """A manifest valid for this machine, listing ``files`` (paths under caches/)."""
    from jitwarm._bundle import SCHEMA, cache_settings
    from jitwarm._machine import framework_versions, machine_info, python_info

    contents = sorted({k.split("/", 1)[0] for k in files})
    versions = framework_versions()
    fws = {"numba": ("numba", "llvmlite")}
    m: dict[str, Any] = {
        "schema": SCHEMA, "jitwarm_version": "0.1.0", "created": "2026-01-01T00:00:00+00:00",
        "python": python_info(), "machine": machine_info(with_gpu=False),
        "frameworks": {fw: versions.get(fw) for c in contents for fw in fws.get(c, ())},
        "contents": contents, "env": {"NUMBA_CACHE_DIR": "numba"} if "numba" in contents else {},
        "settings": cache_settings(), "source_root": None, "numba": {}, "plan": None,
        "prewarm": None, "skipped": [],
        "files": {k: {"sha256": hashlib.sha256(v).hexdigest(), "size": len(v)}
                  for k, v in files.items()},
    }
    m.update(overrides)
    return m


def craft(path: Path, manifest: dict[str, Any] | None,
          members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    """Write a .tar.gz with the manifest first (when given), then ``members`` as they are."""
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tf:
        if manifest is not None:
            data = json.dumps(manifest).encode()
            info = tarfile.TarInfo("jitwarm-bundle.json")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for info, data in members:
            tf.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path
