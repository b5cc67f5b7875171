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
import os
import time
from pathlib import Path
from typing import Any

from jitwarm._errors import UsageError
from jitwarm.cases.targets import Built

SUPPORTED = ("numba", "torch", "jax", "onnxruntime")


def prepare(framework: str, built: Built, artifact_dir: str) -> dict[str, Any]:
    """Write the AOT artifact of a built case into ``artifact_dir``; returns a description."""
    out = Path(artifact_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter_ns()
    if framework == "numba":
        info = _numba_prepare(built)
    elif framework == "torch":
        info = _torch_prepare(built, out)
    elif framework == "jax":
        info = _jax_prepare(built, out)
    elif framework == "onnxruntime":
        info = _ort_prepare(built, out)
    else:
        raise UsageError(f"no ahead-of-time compilation for {framework} callables "
                         f"(supported: {', '.join(SUPPORTED)})")
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
    if fw == "numba":
        return _numba_load(built, info), built.args, built.kwargs
    if fw == "torch":
        return _torch_load(info), built.args, built.kwargs
    if fw == "jax":
        return _jax_load(info, built), built.args, built.kwargs
    if fw == "onnxruntime":
        return _OrtOptimised(info), built.args, built.kwargs
    raise UsageError(f"unknown AOT artifact for {fw}")


# -- Numba -------------------------------------------------------------------------------------

def _numba_sigs(built: Built) -> list[Any]:
    import numba

    if built.kwargs:
        raise UsageError("Numba eager compilation needs positional arguments only")
    return [tuple(numba.typeof(a) for a in built.args)]


def _numba_prepare(built: Built) -> dict[str, Any]:
    import numba

    fn = built.fn
    py = getattr(fn, "py_func", None)
    if py is None:
        raise UsageError("not a Numba dispatcher")
    opts = dict(fn.targetoptions)
    opts["cache"] = True
    sigs = _numba_sigs(built)
    eager = numba.jit(sigs, **opts)(py)  # compiles now, writes the disk cache
    return {"signatures": [str(s) for s in sigs], "cache": eager._cache.cache_path}


def _numba_load(built: Built, info: dict[str, Any]) -> Any:
    import numba

    fn = built.fn
    opts = dict(fn.targetoptions)
    opts["cache"] = True
    return numba.jit(_numba_sigs(built), **opts)(fn.py_func)  # eager: load (or compile) now


# -- torch -------------------------------------------------------------------------------------

def _torch_prepare(built: Built, out: Path) -> dict[str, Any]:
    import torch

    fn = built.fn
    orig = getattr(fn, "_orig_mod", None) or getattr(fn, "_torchdynamo_orig_callable", None) or fn
    if not isinstance(orig, torch.nn.Module):
        func = orig

        class _Wrap(torch.nn.Module):
            def forward(self, *a: Any, **k: Any) -> Any:
                return func(*a, **k)

        orig = _Wrap()
    ep = torch.export.export(orig, tuple(built.args), dict(built.kwargs))
    path = torch._inductor.aoti_compile_and_package(ep, package_path=str(out / "model.pt2"))
    return {"package": str(path)}


def _torch_load(info: dict[str, Any]) -> Any:
    import torch

    return torch._inductor.aoti_load_package(info["package"])


# -- JAX ---------------------------------------------------------------------------------------

def _jax_prepare(built: Built, out: Path) -> dict[str, Any]:
    import jax
    from jax import export

    fn = built.fn
    exp = export.export(fn)(*built.args, **built.kwargs)
    path = out / "function.jaxexport"
    path.write_bytes(bytes(exp.serialize()))
    # fill the persistent cache with the executable the measured process will ask for
    jax.block_until_ready(jax.jit(exp.call)(*built.args, **built.kwargs))
    return {"exported": str(path), "platforms": list(exp.platforms)}


def _jax_load(info: dict[str, Any], built: Built) -> Any:
    """The exported function, lowered and compiled for the case's arguments right here.

    ``jit(...).lower(*args).compile()`` runs in setup (a persistent-cache hit, since
    ``prepare`` filled it), so the first call executes a ready ``Compiled`` executable:
    no trace, no lowering, no compile, no cache lookup.
    """
    import jax
    from jax import export

    exp = export.deserialize(bytearray(Path(info["exported"]).read_bytes()))
    return jax.jit(exp.call).lower(*built.args, **built.kwargs).compile()


# -- ONNX Runtime ------------------------------------------------------------------------------

def _ort_prepare(built: Built, out: Path) -> dict[str, Any]:
    import onnxruntime as ort

    model = built.fn
    path = getattr(model, "path", None)
    if path is None:
        raise UsageError("not an ONNX Runtime model case")
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    dest = out / f"{Path(path).stem}.optimized.onnx"
    so.optimized_model_filepath = str(dest)
    ort.InferenceSession(str(path), so, providers=list(model.providers))
    return {"model": str(dest), "providers": list(model.providers)}


class _OrtOptimised:
    """An offline-optimised model: the first call creates the session (optimisation off)."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.path = info["model"]
        self.providers = info["providers"]
        self.session: Any = None
        self.__name__ = Path(self.path).stem

    def __call__(self, feed: dict[str, Any]) -> Any:
        if self.session is None:
            import onnxruntime as ort

            so = ort.SessionOptions()
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            threads = os.environ.get("JITWARM_THREADS")
            if threads:
                so.intra_op_num_threads = int(threads)
            self.session = ort.InferenceSession(self.path, so, providers=self.providers)
        return self.session.run(None, feed)


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
