"""JAX artifacts: the serialised executable loads with no trace, lowering or compile; its
pickle is allow-listed; jax.export is the recorded fallback; optax states round-trip."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest

from jitwarm.caches.aot import MANIFEST, load, load_inputs, prepare
from jitwarm.cases.targets import validate_built

pytest.importorskip("jax")

SRC = Path(__file__).resolve().parents[2] / "src"


class Point(NamedTuple):
    """A NamedTuple of an imported module: its pytree node round-trips by class name."""

    x: Any
    y: Any


@pytest.fixture(scope="module")
def mlp_artifact(tmp_path_factory):
    import jax

    from jitwarm.examples.jax_cases import mlp

    root = tmp_path_factory.mktemp("jaxaot")
    built = validate_built(mlp(), "mlp")
    manifest = prepare("jax", built, root / "art")
    want = np.asarray(jax.block_until_ready(built.fn(*built.args)))
    np.save(root / "want.npy", want)
    return root, manifest


def _copy(src: Path, dest: Path) -> Path:
    import shutil

    shutil.copytree(src, dest)
    return dest


def _rewrite(art: Path, edit) -> None:
    m = json.loads((art / MANIFEST).read_text())
    edit(m)
    (art / MANIFEST).write_text(json.dumps(m))


def _rehash(art: Path, rel: str) -> None:
    data = (art / rel).read_bytes()

    def edit(m):
        m["files"][rel] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}

    _rewrite(art, edit)


def test_manifest_records_executable_and_fallback(mlp_artifact):
    _, manifest = mlp_artifact
    info = manifest["info"]
    assert manifest["loader"] == "jax-executable"
    assert info["file"] == "executable.jaxexe" and info["file"] in manifest["files"]
    assert info["fallback_file"] == "function.jaxexport" in manifest["files"]
    assert info["platform"] == "cpu" and set(manifest["versions"]) == {"jax", "jaxlib"}
    # the pytree structures are JSON, not pickled classes
    assert info["in_tree"] == {"tuple": [{"tuple": ["*", "*", "*"]}, {"dict": []}]}
    assert info["out_tree"] == "*"


@pytest.mark.slow
def test_fresh_process_loads_without_trace_lower_or_compile(mlp_artifact):
    root, _ = mlp_artifact
    art = root / "art"
    code = (
        "import jax.monitoring as mon\n"
        "seen = []\n"
        "mon.register_event_duration_secs_listener(lambda e, d, **kw: seen.append(e))\n"
        "mon.register_event_listener(lambda e, **kw: seen.append(e))\n"
        "import jax, numpy as np, jitwarm\n"
        "from jitwarm.adapters import by_name\n"
        "from jitwarm.caches.aot import load_inputs\n"
        "jax_adapter = by_name('jax')\n"
        "with jax_adapter.recorder() as rec:\n"
        f"    fn = jitwarm.load({str(art)!r})\n"
        f"    args, kwargs = load_inputs({str(art)!r})\n"
        "    out = jax.block_until_ready(fn(*args, **kwargs))\n"
        f"np.testing.assert_allclose(np.asarray(out), np.load({str(root / 'want.npy')!r}),"
        " rtol=1e-5, atol=1e-6)\n"
        "compiles = [e for e in seen if e.startswith(('/jax/core/compile', "
        "'/jax/compilation_cache'))]\n"
        "print(type(fn).__name__, len(rec.events), compiles, "
        "jax_adapter.runtime_info()['aot_loads'])\n")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=300, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    last = res.stdout.splitlines()[-1]
    # no compile unit, no trace/lower/backend-compile event, no persistent-cache lookup
    assert last == ("Compiled 0 [] [{'loader': 'jax-executable', 'reason': None}]"), last


def test_executable_not_loadable_here_falls_back_to_jax_export(mlp_artifact, tmp_path):
    import jax

    from jitwarm.adapters import jax_aot

    art = _copy(mlp_artifact[0] / "art", tmp_path / "art")
    _rewrite(art, lambda m: m["info"].update(platform_version="cpu-from-elsewhere"))
    before = len(jax_aot.AOT_LOADS)
    with pytest.warns(RuntimeWarning, match="loaded jax.export instead of the serialised "
                                            "executable: the executable was compiled for cpu "
                                            "cpu-from-elsewhere"):
        fn = load(art)
    args, kwargs = load_inputs(art)
    got = np.asarray(jax.block_until_ready(fn(*args, **kwargs)))
    np.testing.assert_allclose(got, np.load(mlp_artifact[0] / "want.npy"), rtol=1e-5, atol=1e-6)
    (rec,) = jax_aot.AOT_LOADS[before:]
    assert rec["loader"] == "jax-export" and "cpu-from-elsewhere" in rec["reason"]


def test_backend_refusing_serialisation_ships_jax_export(tmp_path, monkeypatch):
    import jax
    import jax.numpy as jnp
    from jax.experimental import serialize_executable

    from jitwarm.cases.targets import Built

    def refuse(compiled):
        raise ValueError("Compilation does not support serialization")

    monkeypatch.setattr(serialize_executable, "serialize", refuse)
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "cache"))
    f = jax.jit(lambda x: jnp.sin(x) * 2)
    manifest = prepare("jax", Built(fn=f, args=(jnp.arange(4.0),), kwargs={}), tmp_path / "art")
    assert manifest["loader"] == "jax-export" and manifest["info"]["file"] == "function.jaxexport"
    assert "executable.jaxexe" not in manifest["files"]
    (note,) = manifest["info"]["notes"]
    assert note.startswith("no serialised executable (ValueError: Compilation does not "
                           "support serialization): the artifact holds jax.export")
    fn = load(tmp_path / "art")
    np.testing.assert_allclose(np.asarray(fn(jnp.arange(4.0))), np.sin(np.arange(4.0)) * 2,
                               rtol=1e-6)


def test_pickle_outside_the_allow_list_at_build_ships_jax_export(tmp_path, monkeypatch):
    import jax
    import jax.numpy as jnp

    from jitwarm.adapters import jax_aot
    from jitwarm.cases.targets import Built

    monkeypatch.setattr(jax_aot, "_ALLOWED", frozenset())  # as if JAX pickled a new class
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "cache"))
    f = jax.jit(lambda x: x + 1)
    manifest = prepare("jax", Built(fn=f, args=(jnp.ones(2),), kwargs={}), tmp_path / "art")
    assert manifest["loader"] == "jax-export"
    assert "not on jitwarm's allow-list" in manifest["info"]["notes"][0]


def test_bfloat16_executable_round_trips(tmp_path):
    import jax
    import jax.numpy as jnp

    from jitwarm.cases.targets import Built

    x = jnp.arange(6.0).reshape(2, 3)
    f = jax.jit(lambda x: {"y": x.astype(jnp.bfloat16) * 3, "n": None})
    manifest = prepare("jax", Built(fn=f, args=(x,), kwargs={}), tmp_path / "art")
    assert manifest["loader"] == "jax-executable"
    out = load(tmp_path / "art")(x)  # ml_dtypes.bfloat16 is on the allow-list
    assert out["n"] is None and out["y"].dtype == jnp.bfloat16
    np.testing.assert_array_equal(np.asarray(out["y"], np.float32), np.arange(6.0).reshape(2, 3) * 3)


def test_bfloat16_input_is_saved_and_loaded_as_bfloat16(tmp_path):
    """.npy keeps a bfloat16 array as raw bytes ('V2'): the manifest names the type and
    load_inputs views it back, so the saved call is the built one."""
    import jax
    import jax.numpy as jnp

    from jitwarm.cases.targets import Built

    x = (jnp.arange(6.0) / 3).astype(jnp.bfloat16)
    f = jax.jit(lambda x: (x * 2).sum())
    prepare("jax", Built(fn=f, args=(x,), kwargs={}), tmp_path / "art")
    args, _ = load_inputs(tmp_path / "art")
    assert args[0].dtype == jnp.bfloat16
    np.testing.assert_array_equal(np.asarray(args[0], np.float32), np.asarray(x, np.float32))
    assert float(jax.block_until_ready(load(tmp_path / "art")(*args))) == float(f(x))
    _rewrite(tmp_path / "art", lambda m: m["inputs"]["args"]["tuple"][0].update(
        dtype="object"))
    from jitwarm.caches.aot import ArtifactRefused

    with pytest.raises(ArtifactRefused, match="input dtype object is unknown"):
        load_inputs(tmp_path / "art")


def test_crafted_pickle_is_refused_and_nothing_runs(mlp_artifact, tmp_path):
    from jitwarm.caches.aot import ArtifactRefused

    art = _copy(mlp_artifact[0] / "art", tmp_path / "art")
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (art / "executable.jaxexe").write_bytes(pickle.dumps((Evil(), [], True)))
    _rehash(art, "executable.jaxexe")  # the manifest vouches for it: only the allow-list stops it
    with pytest.raises(ArtifactRefused, match=r"names posix\.system, which is not on jitwarm's "
                                              "allow-list"):
        load(art)
    assert not marker.exists()


def test_hash_mismatch_refused_before_unpickling(mlp_artifact, tmp_path, monkeypatch):
    from jitwarm.adapters import jax_aot
    from jitwarm.caches.aot import ArtifactRefused

    art = _copy(mlp_artifact[0] / "art", tmp_path / "art")
    data = bytearray((art / "executable.jaxexe").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (art / "executable.jaxexe").write_bytes(bytes(data))

    def unpickled(*a, **k):
        raise AssertionError("unpickled a file whose hash does not match")

    monkeypatch.setattr(jax_aot, "_unpickle", unpickled)
    with pytest.raises(ArtifactRefused, match="executable.jaxexe.* does not match its SHA-256"):
        load(art)


def test_other_jaxlib_or_backend_refused(mlp_artifact, tmp_path):
    from jitwarm.caches.aot import ArtifactRefused

    art = _copy(mlp_artifact[0] / "art", tmp_path / "a")
    _rewrite(art, lambda m: m["versions"].update(jaxlib="0.4.1"))
    with pytest.raises(ArtifactRefused, match=r"built with jaxlib 0\.4\.1, this has 0\."):
        load(art)
    art = _copy(mlp_artifact[0] / "art", tmp_path / "b")
    _rewrite(art, lambda m: m["info"].update(platform="cuda"))
    with pytest.raises(ArtifactRefused, match="built for the JAX backend cuda, this "
                                              "process's JAX runs on cpu"):
        load(art)


def test_unlisted_fallback_file_refused(mlp_artifact, tmp_path):
    from jitwarm.caches.aot import ArtifactRefused

    art = _copy(mlp_artifact[0] / "art", tmp_path / "art")
    (art / "other.jaxexport").write_bytes(b"x")
    _rewrite(art, lambda m: m["info"].update(fallback_file="other.jaxexport"))
    with pytest.raises(ArtifactRefused, match="other.jaxexport.* is not listed"):
        load(art)


def test_unregistered_custom_node_gives_the_fix(tmp_path):
    import dataclasses

    import jax
    import jax.numpy as jnp

    from jitwarm._errors import UsageError
    from jitwarm.cases.targets import Built

    @jax.tree_util.register_dataclass
    @dataclasses.dataclass
    class Pair:
        a: jax.Array
        b: jax.Array

    f = jax.jit(lambda x: Pair(x, x + 1))
    with pytest.raises(UsageError, match=r"Pair node, which JAX cannot serialise: register it "
                                         r"first with jax\.export\."
                                         "register_pytree_node_serialization"):
        prepare("jax", Built(fn=f, args=(jnp.ones(3),), kwargs={}), tmp_path / "art")


OPTAX_CASE = '''
import jitwarm


@jitwarm.case
def adam_step():
    import jax
    import jax.numpy as jnp
    import optax

    opt = optax.adam(1e-2)

    @jax.jit
    def step(params, grads):
        updates, state = opt.update(grads, opt.init(params), params)
        return optax.apply_updates(params, updates), state

    params = {"w": jnp.ones((4, 3)), "b": jnp.zeros(3)}
    return step, (params, {"w": jnp.full((4, 3), 0.5), "b": jnp.ones(3)})
'''


@pytest.mark.slow
def test_optax_state_round_trips(tmp_path):
    pytest.importorskip("optax")
    (tmp_path / "optax_case.py").write_text(OPTAX_CASE)
    sys.path.insert(0, str(tmp_path))
    try:
        import optax_case
    finally:
        sys.path.remove(str(tmp_path))
    built = validate_built(optax_case.adam_step(), "adam_step")
    manifest = prepare("jax", built, tmp_path / "art")
    # jax.export needs the NamedTuple registered; the executable does not
    assert manifest["loader"] == "jax-executable" and "fallback_file" not in manifest["info"]
    assert any("no jax.export fallback" in n and "register_namedtuple_serialization" in n
               for n in manifest["info"]["notes"])
    art = str(tmp_path / "art")
    code = ("import jax, jitwarm\n"
            "from jitwarm._errors import ArtifactRefused\n"
            "from jitwarm.caches.aot import load_inputs\n"
            "IMPORT\n"
            "try:\n"
            f"    fn = jitwarm.load({art!r})\n"
            "except ArtifactRefused as exc:\n"
            "    print('refused:', exc); raise SystemExit(0)\n"
            f"args, kwargs = load_inputs({art!r})\n"
            "params, state = fn(*args, **kwargs)\n"
            "print(type(state[0]).__module__, type(state[0]).__name__, "
            "float(state[0].count), sorted(params))\n")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    for imp, want in (("import optax", "optax._src.transform ScaleByAdamState 1.0 ['b', 'w']"),
                      ("", "refused: ")):
        res = subprocess.run([sys.executable, "-c", code.replace("IMPORT", imp)],
                             capture_output=True, text=True, env=env, timeout=300, check=False)
        assert res.returncode == 0, res.stderr[-3000:]
        last = res.stdout.splitlines()[-1]
        assert last.startswith(want), last
    assert "import optax before loading" in last
    assert "jax.export.register_namedtuple_serialization(ScaleByAdamState, " in last


@pytest.mark.slow
def test_cli_build_writes_the_executable(tmp_path):
    from conftest import run_cli

    res = run_cli("aot", "build", "jitwarm.examples.jax_cases:mlp", "-o", str(tmp_path / "art"))
    assert res.returncode == 0, res.stderr
    assert "(jax-executable)" in res.stdout and "jitwarm.load" in res.stdout
    assert {"executable.jaxexe", "function.jaxexport"} <= {p.name for p in
                                                          (tmp_path / "art").iterdir()}


def test_strategy_explains_a_load_time_fallback():
    from jitwarm.caches.strategies import load_reasons

    why = "loaded jax.export instead of the serialised executable: the executable was ..."
    records = [{"runtime": {"aot_loads": [{"loader": "jax-export", "reason": why}]}},
               {"runtime": {"aot_loads": [{"loader": "jax-export", "reason": why}]}},
               {"runtime": {"aot_loads": [{"loader": "jax-executable", "reason": None}]}},
               {"status": "case_error"}]
    assert load_reasons(records) == [why]


def test_pytree_json_imports_nothing_it_names():
    from jitwarm.adapters.jax_aot import tree_from_json, tree_to_json
    from jitwarm.caches.aot import ArtifactRefused

    assert "antigravity" not in sys.modules
    with pytest.raises(ArtifactRefused, match="NamedTuple antigravity.Fly, whose module is "
                                              "not imported.*import antigravity before"):
        tree_from_json({"namedtuple": ["antigravity", "Fly"], "fields": [], "c": []})
    assert "antigravity" not in sys.modules
    for bad in ({"tuple": "*"}, {"dict": [[1, "*"]]}, ["*"], {"custom": "nope", "c": []}):
        with pytest.raises(ArtifactRefused):
            tree_from_json(bad)
    import jax

    tree = jax.tree_util.tree_structure({"p": Point(1.0, [2.0, None]), "t": (3.0,)})
    node = tree_to_json(tree)
    assert jax.tree_util.tree_structure(tree_from_json(json.loads(json.dumps(node)))) == tree


def _static_case():
    from functools import partial

    import jax
    import jax.numpy as jnp

    @partial(jax.jit, static_argnums=1, static_argnames=("scale",))
    def f(x, n, scale=1.0):
        for _ in range(n):
            x = jnp.sin(x) + x
        return x.sum() * scale

    return f, (jnp.arange(8.0), 3), {"scale": 2.0}


def test_static_arguments_are_checked_and_left_out(tmp_path):
    """The user calls the loaded function as the jitted one, statics included; JAX's
    compiled executable takes only the dynamic arguments: the statics are checked against
    the values compiled for, then dropped (executable and jax.export fallback alike)."""
    import jax

    from jitwarm.cases.targets import Built

    fn, args, kwargs = _static_case()
    want = float(fn(*args, **kwargs))
    manifest = prepare("jax", Built(fn=fn, args=args, kwargs=kwargs), tmp_path / "art")
    statics = manifest["info"]["statics"]
    assert statics["argnums"] == [1] and statics["argnames"] == ["scale"]
    assert statics["values"] == {"1": 3, "scale": 2.0}
    loaded = load(tmp_path / "art")
    assert float(jax.block_until_ready(loaded(args[0], 3, scale=2.0))) == pytest.approx(want)
    with pytest.raises(ValueError, match="static argument 1 is 4; the artifact was compiled "
                                         "for 3"):
        loaded(args[0], 4, scale=2.0)
    with pytest.raises(TypeError, match="compiled with static argument"):
        loaded(args[0], 3)
    _rewrite(tmp_path / "art", lambda m: m["info"].update(platform_version="elsewhere"))
    with pytest.warns(RuntimeWarning, match="loaded jax.export instead"):
        via_export = load(tmp_path / "art")
    assert float(via_export(args[0], 3, scale=2.0)) == pytest.approx(want)
    _rewrite(tmp_path / "art", lambda m: m["info"].update(statics={"argnums": ["x"]}))
    from jitwarm.caches.aot import ArtifactRefused

    with pytest.raises(ArtifactRefused, match="static arguments are malformed"):
        load(tmp_path / "art")
