"""What a compiled cache depends on: this machine's platform, CPU, GPU, Python, frameworks.

Used by bundles (recorded when a bundle is made, compared when it is verified) and by
``jitwarm cache status``. Reads ``/proc/cpuinfo`` and, when present, ``nvidia-smi``;
imports no framework.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from typing import Any

from jitwarm.results.environment import cpu_model, versions


def cpu_flags() -> list[str]:
    """The CPU's feature flags (``flags`` on x86, ``Features`` on ARM), sorted."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key = line.split(":", 1)[0].strip()
                if key in ("flags", "Features"):
                    return sorted(set(line.split(":", 1)[1].split()))
    except OSError:
        pass
    return []


def gpus() -> list[dict[str, str]]:
    """NVIDIA GPUs (name, compute capability) from ``nvidia-smi``; empty when there is none."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        out = subprocess.run(
            [exe, "--query-gpu=name,compute_cap", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=15, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    if out.returncode != 0:
        return []
    found = []
    for line in out.stdout.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) >= 2 and parts[0]:
            found.append({"name": parts[0], "compute_capability": parts[1]})
    return found


def python_info() -> dict[str, str]:
    """The interpreter a cache was compiled for (Numba's index names carry ``py3XY``)."""
    return {
        "implementation": platform.python_implementation(),
        "version": platform.python_version(),
        "major_minor": f"{sys.version_info[0]}.{sys.version_info[1]}",
        "cache_tag": str(sys.implementation.cache_tag),
        "abiflags": getattr(sys, "abiflags", ""),
    }


def machine_info(with_gpu: bool = True) -> dict[str, Any]:
    """Platform, CPU model and flags, and (when present) GPUs of this machine."""
    info: dict[str, Any] = {
        "system": platform.system(),
        "machine": platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_flags": cpu_flags(),
    }
    if with_gpu:
        found = gpus()
        if found:
            info["gpus"] = found
    return info


def framework_versions() -> dict[str, str]:
    """Installed versions of the frameworks whose caches jitwarm handles."""
    return versions()
