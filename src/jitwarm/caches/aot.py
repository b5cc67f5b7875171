"""Ahead-of-time compilation, where the framework has it, as a measurable strategy.

:func:`prepare` runs in a fresh process (``jitwarm.caches.prewarm_worker``, mode
``aot-prepare``) on a built case and writes an artifact; :func:`load` runs in the
measured process (inside a generated case, so its cost lands in *setup*, not in the
first call) and returns ``(callable, args[, kwargs])`` that uses the artifact.

* **Numba** — eager compilation: ``njit([signatures], cache=True)`` compiles (or loads
  from the disk cache) at decoration, i.e. at import/setup, with the signatures taken
  from the case's arguments; ``prepare`` fills the cache.
* **torch** — ``torch.export.export`` + AOTInductor
  (``torch._inductor.aoti_compile_and_package`` → a ``.pt2`` package with a compiled
  shared library; ``aoti_load_package`` loads it). No Dynamo, no Inductor at run time.
* **JAX** — ``jax.export``: the traced and lowered StableHLO is serialised;
  ``deserialize`` + ``jax.jit(exported.call).lower(*args).compile()`` in setup skips
  tracing the user's function, the XLA compile is a persistent-cache hit (``prepare``
  fills it), and the first call runs the ``Compiled`` executable directly.
* **ONNX Runtime** — offline optimisation: ``SessionOptions.optimized_model_filepath``
  writes the optimised graph once; the measured session loads it with graph
  optimisation off.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from jitwarm._errors import UsageError
from jitwarm.adapters import ADAPTERS
from jitwarm.adapters.base import Adapter, Built


def _aot_adapters() -> list[Adapter]:
    return [a for a in ADAPTERS if a.supports_aot]


#: frameworks with an ahead-of-time path (each adapter owns its own)
SUPPORTED = tuple(a.name for a in _aot_adapters())


def prepare(framework: str, built: Built, artifact_dir: str) -> dict[str, Any]:
    """Write the AOT artifact of a built case into ``artifact_dir``; returns a description."""
    out = Path(artifact_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter_ns()
    adapter = next((a for a in _aot_adapters() if a.name == framework), None)
    if adapter is None:
        raise UsageError(f"no ahead-of-time compilation for {framework} callables "
                         f"(supported: {', '.join(SUPPORTED)})")
    info = adapter.aot_prepare(built, out)
    info["framework"] = framework
    info["prepare_ns"] = time.perf_counter_ns() - t0
    (out / "aot.json").write_text(json.dumps(info), encoding="utf-8")
    return info


def load(target: dict[str, Any], artifact_dir: str) -> tuple[Any, ...]:
    """In the measured process: build the original case, return its AOT form."""
    from jitwarm.cases.targets import Target, build, load_case

    t = Target(**target)
    built = build(load_case(t), t.name)
    info = json.loads((Path(artifact_dir) / "aot.json").read_text(encoding="utf-8"))
    fw = info["framework"]
    adapter = next((a for a in _aot_adapters() if a.name == fw), None)
    if adapter is None:
        raise UsageError(f"unknown AOT artifact for {fw}")
    return adapter.aot_load(info, built), built.args, built.kwargs


def wrapper_case_source(target: dict[str, Any], artifact_dir: str, *,
                        loader: str = "jitwarm.caches.aot", name: str = "aot") -> str:
    """A case file whose case ``name`` returns ``loader.load(target, artifact_dir)``.

    The original case is built inside it, so loading the artifact counts as setup.
    """
    return (
        "import json\n\n"
        "import jitwarm\n"
        f"from {loader} import load as _load\n\n\n"
        "@jitwarm.case\n"
        f"def {name}():\n"
        f"    return _load(json.loads({json.dumps(target)!r}), {artifact_dir!r})\n"
    )
