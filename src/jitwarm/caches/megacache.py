"""torch.compile's Mega-Cache (``torch.compiler.save/load_cache_artifacts``) as a strategy.

Mega-Cache is what PyTorch offers for moving compile results between machines: one
blob with the FX-graph, AOTAutograd (and, on GPU, autotuning) cache entries of what a
process compiled. :func:`prepare` runs in a fresh process (``jitwarm.caches.prewarm_worker``,
mode ``mega-prepare``) with an empty cache directory, makes the first call and saves
the blob; :func:`load` runs in each measured process, inside a generated case, so the
hot load counts as setup, into a fresh, empty cache directory.

What it leaves out is what the A/B shows: on CPU the entries reference C++ kernels
(and Inductor's vector-ISA probe) by source hash, but the compiled ``.so`` files are not
in the blob, so every process builds them again with the C++ compiler.
:func:`native_builds` counts them in a measured process's cache directory.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from jitwarm._errors import UsageError
from jitwarm.cases.targets import Built

BLOB = "megacache.bin"
INFO = "megacache.json"


def prepare(framework: str, built: Built, artifact_dir: str) -> dict[str, Any]:
    """First call in this (fresh) process, then save the Mega-Cache blob."""
    if framework != "torch":
        raise UsageError(f"Mega-Cache is torch.compile's; this case is a {framework} callable")
    import torch

    out = Path(artifact_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter_ns()
    built.fn(*built.args, **built.kwargs)
    t1 = time.perf_counter_ns()
    saved = torch.compiler.save_cache_artifacts()
    if saved is None or not saved[0]:
        raise UsageError("torch.compiler.save_cache_artifacts() recorded nothing: the first "
                         "call compiled nothing cacheable (a graph break to eager only?)")
    blob, cache_info = saved
    (out / BLOB).write_bytes(blob)
    artifacts = {k: len(v) for k, v in getattr(cache_info, "artifacts", {}).items()}
    info = {"bytes": len(blob), "artifacts": artifacts, "first_call_ns": t1 - t0,
            "save_ns": time.perf_counter_ns() - t1}
    (out / INFO).write_text(json.dumps(info), encoding="utf-8")
    return info


def load(target: dict[str, Any], artifact_dir: str) -> tuple[Any, ...]:
    """In the measured process: build the case, hot-load the blob, return the case."""
    import torch

    from jitwarm.cases.targets import Target, build, load_case

    t = Target(**target)
    built = build(load_case(t), t.name)
    torch.compiler.load_cache_artifacts((Path(artifact_dir) / BLOB).read_bytes())
    return built.fn, built.args, built.kwargs


def native_builds(cache_dir: Path) -> int:
    """Shared libraries Inductor compiled into ``cache_dir`` (kernels and ISA probes)."""
    root = cache_dir / "torchinductor"
    return sum(1 for _ in root.rglob("*.so")) if root.is_dir() else 0
