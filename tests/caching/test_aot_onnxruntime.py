"""ONNX Runtime AOT with real onnxruntime: the ORT-format artifact, its session options, its
refusals (before any session is created), and the strategies' "import + one session" floor.

One artifact is built per test module (the example MLP: ~1 s, most of it importing onnx);
each test works on a copy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from jitwarm.caches.aot import MANIFEST, ArtifactRefused, load, load_case, load_inputs, prepare
from jitwarm.cases.targets import validate_built

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    from jitwarm.examples.onnx_cases import mlp

    built = validate_built(mlp(), "mlp")
    out = tmp_path_factory.mktemp("ort") / "art"
    manifest = prepare("onnxruntime", built, out, target="jitwarm.examples.onnx_cases:mlp")
    (want,) = built.fn(*built.args)
    return out, manifest, want


@pytest.fixture
def art(artifact, tmp_path):
    copy = tmp_path / "art"
    shutil.copytree(artifact[0], copy)
    return copy


@pytest.fixture
def sessions(monkeypatch):
    """Every InferenceSession created from now on, by its model."""
    made: list[str] = []
    real = ort.InferenceSession

    class Counted(real):
        def __init__(self, path_or_bytes, *args, **kwargs):
            made.append(str(path_or_bytes))
            super().__init__(path_or_bytes, *args, **kwargs)

    monkeypatch.setattr(ort, "InferenceSession", Counted)
    return made


def _config(so, key: str) -> str | None:
    """A session config entry, None when unset (ORT raises for a key never set)."""
    try:
        return so.get_session_config_entry(key)
    except RuntimeError:
        return None


def _edit(path: Path, change) -> None:
    m = json.loads((path / MANIFEST).read_text())
    change(m)
    (path / MANIFEST).write_text(json.dumps(m))


def test_ort_format_artifact_loads_without_reoptimising(artifact, sessions):
    root, manifest, want = artifact
    info = manifest["info"]
    assert manifest["loader"] == info["loader"] == "onnxruntime-ort"
    assert info["file"].endswith(".ort") and info["file"] in manifest["files"]
    assert set(manifest["versions"]) == {"onnxruntime"}
    assert manifest["versions"]["onnxruntime"] == ort.__version__
    # an ORT-format model: a flatbuffer with ORT's file identifier, not an ONNX protobuf
    assert (root / info["file"]).read_bytes()[4:8] == b"ORTM"
    fn = load(root)
    assert sessions == [str(root / info["file"])]  # one session, of the .ort file
    opts = fn.session.get_session_options()
    assert opts.graph_optimization_level == ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    assert opts.get_session_config_entry("session.load_model_format") == "ORT"
    args, kwargs = load_inputs(root)
    (got,) = fn(*args, **kwargs)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    from jitwarm.adapters import adapter_for

    assert adapter_for(fn).name == "onnxruntime"  # the aot strategy's records say so


def test_strategy_case_is_what_load_does(artifact, sessions):
    root, manifest, want = artifact
    target = {"spec": "jitwarm.examples.onnx_cases:mlp", "name": "mlp", "file": None,
              "module": "jitwarm.examples.onnx_cases"}
    fn, args, kwargs = load_case(target, str(root))
    assert type(fn).__name__ == "_OrtOptimised" and sessions == [
        str(root / manifest["info"]["file"])]
    np.testing.assert_allclose(fn(*args, **kwargs)[0], want, rtol=1e-5, atol=1e-6)


def test_corrupted_model_is_refused_before_any_session(art, sessions):
    model = art / json.loads((art / MANIFEST).read_text())["info"]["file"]
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(ArtifactRefused, match="does not match its SHA-256") as exc:
        load(art)
    assert "\n" not in str(exc.value) and sessions == []
    # in a fresh process: refused, and onnxruntime was never even imported
    code = ("import sys, jitwarm\n"
            f"try:\n    jitwarm.load({str(art)!r})\n"
            "except jitwarm.ArtifactRefused as exc:\n    print('refused', exc)\n"
            "print('onnxruntime' in sys.modules)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("refused") and res.stdout.splitlines()[-1] == "False"


def test_other_onnxruntime_version_is_refused(art, sessions):
    _edit(art, lambda m: m["versions"].update(onnxruntime="1.0.0"))
    with pytest.raises(ArtifactRefused,
                       match=f"built with onnxruntime 1.0.0, this has {ort.__version__}"):
        load(art)
    assert sessions == []


def test_other_machine_is_refused(art, sessions):
    # ORT_ENABLE_ALL lays out kernels for this CPU (NCHWc): another CPU must not load it
    _edit(art, lambda m: m["machine"]["cpu_flags"].append("avx9000"))
    with pytest.raises(ArtifactRefused, match="lacks features.*avx9000"):
        load(art)
    assert sessions == []


def test_hostile_providers_are_refused(art):
    _edit(art, lambda m: m["info"].update(providers=["os.system('x')"]))
    from jitwarm._errors import UsageError

    with pytest.raises(UsageError, match="providers are malformed"):
        load(art)


def test_floor_is_import_plus_one_default_session():
    from jitwarm.adapters import by_name
    from jitwarm.cases.targets import Built
    from jitwarm.examples.onnx_cases import mlp_model

    adapter = by_name("onnxruntime")
    path = str(mlp_model().resolve())
    built = adapter.wrap(path, {"x": np.zeros((1, 64), np.float32)}, {})
    spec = adapter.floor_spec(built)
    assert spec == {"model": path, "providers": ["CPUExecutionProvider"]}
    assert adapter.floor_spec(Built(fn=len, args=(), kwargs={})) is None
    name, code = adapter.floor_code(spec)
    assert name == "onnxruntime + one session"
    # the statements create one session of the original model, default options
    made = []

    def counted(*args, **kwargs):
        made.append((args, kwargs))
        return ort.InferenceSession(*args, **kwargs)

    exec(code, {"onnxruntime": type("M", (), {"InferenceSession": staticmethod(counted)})})
    assert made == [((path,), {"providers": ["CPUExecutionProvider"]})]


@pytest.mark.parametrize("spec", [
    None, [], {"model": "rel.onnx", "providers": ["CPUExecutionProvider"]},
    {"model": "/m.onnx", "providers": []}, {"model": 3, "providers": ["CPUExecutionProvider"]},
    {"model": "/m.pkl", "providers": ["CPUExecutionProvider"]},
    {"model": "/m.onnx", "providers": ["x')\nimport os#ExecutionProvider"]}])
def test_malformed_floor_specs_give_no_floor(spec):
    from jitwarm.adapters import by_name

    assert by_name("onnxruntime").floor_code(spec) is None


def test_floor_code_quotes_the_model_path():
    from jitwarm.adapters import by_name

    _, code = by_name("onnxruntime").floor_code(
        {"model": "/x.onnx'); import os; ('\n.onnx", "providers": ["CPUExecutionProvider"]})
    assert set(compile(code, "floor", "exec").co_names) == {"onnxruntime", "InferenceSession"}


@pytest.mark.slow
def test_strategies_onnxruntime_floor_is_import_plus_session(tmp_path):
    """A real A/B: every ORT strategy is over "import onnxruntime + one session", measured
    in the same run; the aot strategy loads the ORT-format artifact."""
    from jitwarm.caches.strategies import run_strategies, strategies_table
    from jitwarm.measure.process import Settings

    res = run_strategies("jitwarm.examples.onnx_cases:mlp", ["none", "aot"], processes=1,
                         settings=Settings(max_calls=30, max_time_s=0.3, min_calls=10),
                         timeout_s=300)
    assert res.ok and res.framework == "onnxruntime"
    by = {s.strategy: s for s in res.strategies}
    assert by["aot"].details["artifact"]["loader"] == "onnxruntime-ort"
    key = "onnxruntime + one session"
    # one floor process, and its imports alone from the same process
    assert set(res.floors) == {key, "onnxruntime"} and len(res.floors[key]) == 1
    assert res.floors[key][0] > res.floors["onnxruntime"][0] > 0
    for s in by.values():
        assert s.floor_name == key and s.floor_imports == ["onnxruntime"]
        assert s.floor_ns == res.floors[key][0] and s.ttfr_over_floor > 0
    d = json.loads(json.dumps(res.to_dict()))
    assert d["strategies"]["aot"]["floor_name"] == key
    assert key in str(strategies_table(res).caption)


def test_model_ort_format_cannot_hold_ships_the_optimised_onnx(tmp_path, monkeypatch):
    """Where saving in ORT format fails, the artifact is the offline-optimised ``.onnx``,
    loaded with optimisation off (and not as ORT format), the reason in its notes."""
    from jitwarm.examples.onnx_cases import mlp

    built = validate_built(mlp(), "mlp")
    real = ort.InferenceSession

    def refusing(path, so=None, *args, **kwargs):
        if so is not None and _config(so, "session.save_model_format") == "ORT":
            raise RuntimeError("cannot save this operator in ORT format\nsecond line")
        return real(path, so, *args, **kwargs)

    monkeypatch.setattr(ort, "InferenceSession", refusing)
    manifest = prepare("onnxruntime", built, tmp_path / "art")
    monkeypatch.setattr(ort, "InferenceSession", real)
    info = manifest["info"]
    assert manifest["loader"] == "onnxruntime-optimized"
    assert info["file"].endswith(".optimized.onnx") and info["file"] in manifest["files"]
    assert not list((tmp_path / "art").glob("*.ort"))
    assert "cannot save this operator in ORT format" in info["notes"][0]
    assert "second line" not in info["notes"][0]
    fn = load(tmp_path / "art")
    opts = fn.session.get_session_options()
    assert opts.graph_optimization_level == ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    assert _config(opts, "session.load_model_format") is None
    (want,) = built.fn(*built.args)
    np.testing.assert_allclose(fn(*built.args)[0], want, rtol=1e-5, atol=1e-6)
