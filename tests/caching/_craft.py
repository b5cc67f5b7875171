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
    from jitwarm.caches.bundle import SCHEMA, cache_settings
    from jitwarm.caches.machine import framework_versions, machine_info, python_info

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


def ext_header(kind: bytes, size: int) -> bytes:
    """A 512-byte tar header of type ``kind`` (b"L" GNU long name, b"x" PAX) claiming
    ``size`` bytes of data."""
    info = tarfile.TarInfo("././@LongLink")
    info.type = kind
    info.size = size
    return info.tobuf(format=tarfile.GNU_FORMAT)


def gzip_bomb(path: Path, head: bytes, fill: bytes, count: int, tail: bytes = b"") -> Path:
    """A gzip file of ``head + fill * count + tail`` written without ever holding (or even
    compressing) more than one ``fill``: each block ends with a full flush, so its
    compressed bytes are the same every time and are repeated as they are. A 1 MiB fill
    repeated 1200 times (1.2 GB) makes a file of about 1.2 MB in well under a second."""
    import struct
    import zlib

    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = comp.compress(head) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(fill) + comp.flush(zlib.Z_FULL_FLUSH)
    last = comp.compress(tail) + comp.flush()
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(fill, crc)
    crc = zlib.crc32(tail, crc)
    size = (len(head) + len(fill) * count + len(tail)) & 0xFFFFFFFF
    with open(path, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")
        f.write(first)
        for _ in range(count):
            f.write(block)
        f.write(last)
        f.write(struct.pack("<II", crc & 0xFFFFFFFF, size))
    return path


def run_measured(*args: str, limit_kb: int = 2_000_000,
                 timeout: float = 120) -> tuple[subprocess.CompletedProcess[str], int, float]:
    """Run ``jitwarm ARGS`` under ``ulimit -v limit_kb``: ``(process, peak RSS in KiB,
    wall seconds)``. The peak is the child's own ``VmHWM``, printed at its exit."""
    import time

    # the peak is VmHWM, this process image's own high-water mark: ru_maxrss survives
    # fork and exec, so it would report a large parent's (the test session's) size
    code = ("import runpy, sys\n"
            f"sys.argv = ['jitwarm', *{list(args)!r}]\n"
            "def _hwm():\n"
            "    for line in open('/proc/self/status'):\n"
            "        if line.startswith('VmHWM:'):\n"
            "            return int(line.split()[1])\n"
            "    return -1\n"
            "try:\n"
            "    runpy.run_module('jitwarm', run_name='__main__')\n"
            "finally:\n"
            "    sys.stderr.write('\\nMAXRSS %d\\n' % _hwm())\n")
    start = time.monotonic()
    proc = subprocess.run(["bash", "-c", f'ulimit -v {limit_kb}; exec "$0" -c "$1"',
                           sys.executable, code], capture_output=True, text=True,
                          timeout=timeout)
    wall = time.monotonic() - start
    rss = [int(line.split()[1]) for line in proc.stderr.splitlines()
           if line.startswith("MAXRSS ")]
    return proc, (rss[-1] if rss else -1), wall


#: case-file source: whether this process descends from ``pid`` (a node's raylet), i.e.
#: runs on that node of a two-node cluster on this machine
UNDER_NODE = '''def _under(pid):
    # whether this process descends from ``pid`` (a node's raylet)
    here = os.getpid()
    while here > 1:
        if here == pid:
            return True
        with open("/proc/%d/stat" % here) as f:
            here = int(f.read().rsplit(")", 1)[1].split()[1])
    return False
'''


def two_node_cluster() -> Any:
    """A two-node Ray cluster on this machine (head and worker node, one CPU each; a CLI's
    driver attaches to the head), as ``(cluster, worker node)``; a generator for a
    module-scoped fixture. Its processes inherit this environment (PYTHONPATH included),
    so they import the jitwarm under test."""
    import pytest

    pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    c = Cluster(initialize_head=True, connect=False,
                head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        worker = c.add_node(num_cpus=1)
        c.wait_for_nodes()
        yield c, worker
    finally:
        c.shutdown()

