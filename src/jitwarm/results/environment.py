"""The environment a result was measured in: Python, platform, CPU, frameworks, threads."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from typing import Any


def _distributions() -> tuple[str, ...]:
    """Distributions whose versions matter to warmup figures: ours, NumPy, every adapter's."""
    from jitwarm.adapters import ADAPTERS

    out = ["jitwarm", "numpy"]
    for adapter in ADAPTERS:
        out.extend(p for p in adapter.packages if p not in out)
    return tuple(out)


_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "XLA_FLAGS",
    "OPENBLAS_CORETYPE",
)


def cpu_model() -> str:
    """The CPU's marketing name (``/proc/cpuinfo`` on Linux, else ``platform``)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith(("model name", "Model", "Hardware")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions() -> dict[str, str]:
    """Installed versions of the distributions that shape the measurement."""
    out = {}
    for dist in _distributions():
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def environment() -> dict[str, Any]:
    """A JSON-ready description of this machine and interpreter."""
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        affinity = os.cpu_count()
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": affinity,
        "versions": versions(),
        "threads": {k: os.environ[k] for k in _THREAD_VARS if k in os.environ},
    }
