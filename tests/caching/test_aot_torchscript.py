"""The ``torchscript`` strategy and artifact: traced, saved, loaded; its re-optimising calls."""

from __future__ import annotations

import pytest

from jitwarm.caches.aot import load, load_inputs, prepare
from jitwarm.cases.targets import validate_built


@pytest.mark.slow
def test_torchscript_artifact_matches_eager(tmp_path):
    torch = pytest.importorskip("torch")
    from jitwarm.examples.torch_cases import mlp

    built = validate_built(mlp(), "mlp")
    manifest = prepare("torch", built, tmp_path / "art", kind="torchscript")
    assert manifest["loader"] == "torch-torchscript" and manifest["kind"] == "torchscript"
    fn = load(tmp_path / "art")
    assert isinstance(fn, torch.jit.ScriptModule)
    args, kwargs = load_inputs(tmp_path / "art")
    want = built.fn._orig_mod(*built.args)
    torch.testing.assert_close(fn(*args, **kwargs), want, rtol=1e-4, atol=1e-5)


def test_a_compiled_function_closing_over_a_model_traces(tmp_path):
    """A handler function around a model (``torch.compile(fwd)``, weights requiring grad)
    is traced with the model's weights as parameters, not refused as constants."""
    torch = pytest.importorskip("torch")
    from jitwarm.cases.targets import Built

    model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.GELU(), torch.nn.Linear(8, 2))

    def fwd(x):
        return model(x).softmax(-1)

    x = torch.randn(3, 8)
    built = Built(fn=torch.compile(fwd), args=(x,), kwargs={})
    prepare("torch", built, tmp_path / "art", kind="torchscript")
    fn = load(tmp_path / "art")
    assert len(list(fn.parameters())) == 4
    torch.testing.assert_close(fn(x), fwd(x))


def test_torchscript_is_torch_only(tmp_path):
    pytest.importorskip("numba")
    from jitwarm._errors import UsageError
    from jitwarm.cases.targets import Built

    with pytest.raises(UsageError, match="no torchscript artifact for numba"):
        prepare("numba", Built(fn=len, args=(), kwargs={}), tmp_path / "art", kind="torchscript")


@pytest.mark.slow
def test_torchscript_strategy_reports_its_warmup():
    pytest.importorskip("torch")
    from jitwarm.caches.strategies import run_strategies
    from jitwarm.measure.process import Settings

    res = run_strategies("jitwarm.examples.torch_cases:mlp", ["torchscript"], processes=1,
                         settings=Settings(max_calls=60, max_time_s=0.5, min_calls=20),
                         timeout_s=300)
    ts = res.get("torchscript")
    assert ts is not None and ts.status == "ok", ts and ts.reason
    assert ts.details["artifact"]["loader"] == "torch-torchscript"
    assert ts.summary["compile_ns"] == 0  # no torch.compile event: Dynamo is not involved
    early = ts.processes[0]["early_calls_ns"]
    assert len(early) >= 2 and early[0] == ts.processes[0]["first_call_ns"]
    assert any(line.startswith(f"calls 1–{len(early)}: ") and "profiling executor" in line
               for line in ts.explanation)
