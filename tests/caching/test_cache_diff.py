"""`jitwarm cache diff`: bundles record the inputs of each framework's cache keys, and the
diff names the one that changed and what it costs (issue #17, item 3).

Real prewarm + bundle runs under different settings (NUMBA_CPU_NAME=generic or not; JAX
with jax_enable_x64 and XLA_FLAGS or not), identical bundles, a bundle against this
machine, and crafted manifests whose fields are hostile.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from _craft import NUMBA_CASE, craft, manifest_for, member, write

from jitwarm.caches import keys
from jitwarm.caches.bundle import verify

JAX_CASE = """
import jitwarm

@jitwarm.case
def f():
    import jax
    import jax.numpy as jnp

    @jax.jit
    def g(x):
        return jnp.sin(x).sum()

    return g, (jnp.arange(8.0),)
"""

#: settings a test's own environment must not leak into the runs
_CLEAN = ("NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES", "XLA_FLAGS", "JAX_ENABLE_X64")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _CLEAN}
    env.update(extra)
    return env


def _run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "jitwarm", *args], cwd=cwd,
                          env=env or _env(), capture_output=True, text=True, timeout=600)


def _prewarm_bundle(base: Path, name: str, src: Path, plan: str, env: dict[str, str]) -> Path:
    cache = base / f"cache-{name}"
    proc = _run("prewarm", str(src / plan), "--out", str(cache), env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    bundle = base / f"{name}.tar.gz"
    proc = _run("bundle", "create", str(cache), "-o", str(bundle), env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return bundle


def _manifest(bundle: Path) -> dict:
    from jitwarm.caches.bundle import read_manifest_only

    return read_manifest_only(bundle)


def _diff(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    proc = _run("cache", "diff", *args, env=env, cwd=cwd)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.fixture(scope="module")
def numba_bundles(tmp_path_factory):
    pytest.importorskip("numba")
    base = tmp_path_factory.mktemp("numba-diff")
    src = base / "project"
    write(src / "kern.py", NUMBA_CASE)
    write(src / "warm.toml", '[[case]]\ntarget = "kern.py::poly"\n')
    host = _prewarm_bundle(base, "host", src, "warm.toml", _env())
    generic = _prewarm_bundle(base, "generic", src, "warm.toml", _env(NUMBA_CPU_NAME="generic"))
    return {"src": src, "host": host, "generic": generic, "base": base}


@pytest.mark.slow
def test_bundles_record_numba_key_inputs_from_the_prewarm(numba_bundles):
    host = _manifest(numba_bundles["host"])[keys.FIELD]
    generic = _manifest(numba_bundles["generic"])[keys.FIELD]
    assert host["recorded"] == {"numba": "prewarm"} and not host["errors"]
    h, g = host["frameworks"]["numba"], generic["frameworks"]["numba"]
    assert h["cpu_name"] == h["host_cpu_name"] != "generic" and h["cpu_features"]
    assert g["cpu_name"] == "generic" and g["NUMBA_CPU_NAME"] == "generic"
    assert g["host_cpu_name"] == h["host_cpu_name"]
    src = numba_bundles["src"]
    digest = keys._sha256_file(src / "kern.py")
    assert host["sources"] == {"kern.py": digest} == generic["sources"]


WRAPPED_CASE = """
import jitwarm
from numba import njit


@njit(cache=True)
def _inner(x):
    return (x * 2.0).sum()


def plain(x):  # a library's plain function that compiles with Numba inside
    return _inner(x)


@jitwarm.case
def wrapped():
    import numpy as np

    return plain, (np.arange(5.0),)
"""


@pytest.mark.slow
def test_prewarm_records_frameworks_a_plain_function_compiled_with(tmp_path):
    pytest.importorskip("numba")
    from jitwarm.caches.prewarm import run_case_process
    from jitwarm.cases.targets import resolve_target

    write(tmp_path / "lib.py", WRAPPED_CASE)
    rec = run_case_process(resolve_target(f"{tmp_path}/lib.py::wrapped"), tmp_path / "cache",
                           extra_env={"NUMBA_CPU_NAME": "generic"}, timeout_s=300)
    assert rec["status"] == "ok" and rec["framework"] == "python", rec
    assert rec[keys.FIELD]["frameworks"]["numba"]["cpu_name"] == "generic"


@pytest.mark.slow
def test_numba_cpu_name_difference_is_named_with_its_cost(numba_bundles):
    host, generic = numba_bundles["host"], numba_bundles["generic"]
    proc = _diff(str(host), str(generic))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if "CPU name" in ln)
    cpu = _manifest(host)[keys.FIELD]["frameworks"]["numba"]["cpu_name"]
    assert f"A is {cpu}, B generic (NUMBA_CPU_NAME=generic)" in line, line
    assert "every function recompiles" in line and "NUMBA_CPU_NAME=generic" in line
    # one cause, one sentence: the features that went with the name are not a second one
    assert "CPU features" not in proc.stdout
    assert "1 input of the cache keys differs" in proc.stdout
    data = json.loads(_diff(str(host), str(generic), "--json").stdout)
    assert data["same"] is False
    assert [(d["framework"], d["input"]) for d in data["differences"]] == [("numba", "cpu_name")]
    assert data["differences"][0]["a"] == cpu and data["differences"][0]["b"] == "generic"


@pytest.mark.slow
def test_identical_bundles_say_nothing_differs(numba_bundles):
    bundle = numba_bundles["host"]
    proc = _diff(str(bundle), str(bundle))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "nothing differs" in proc.stdout and "- " not in proc.stdout
    data = json.loads(_diff(str(bundle), str(bundle), "--json").stdout)
    assert data["same"] is True and data["differences"] == []


@pytest.mark.slow
def test_a_bundle_against_this_machine(numba_bundles):
    src = numba_bundles["src"]
    # made here with the host's CPU name: nothing differs when run from the sources
    proc = _diff(str(numba_bundles["host"]), cwd=src)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "nothing differs" in proc.stdout
    # made with NUMBA_CPU_NAME=generic, used without it: the fix is named
    proc = _diff(str(numba_bundles["generic"]), "--here", cwd=src)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "the bundle is generic (NUMBA_CPU_NAME=generic), this host" in proc.stdout
    assert "this host does not set it" in proc.stdout
    # ... and with it: the same again
    proc = _diff(str(numba_bundles["generic"]), cwd=src, env=_env(NUMBA_CPU_NAME="generic"))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_a_changed_source_is_named(numba_bundles, tmp_path):
    changed = tmp_path / "checkout"
    write(changed / "kern.py", NUMBA_CASE.replace("+ 1", "+ 3"))
    proc = _diff(str(numba_bundles["host"]), "--sources", str(changed))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if "kern.py" in ln)
    assert "the source kern.py differs" in line and "Numba keys include the source" in line
    # sources that are not there are a note, not a difference
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = _diff(str(numba_bundles["host"]), "--sources", str(empty))
    assert proc.returncode == 0 and "not under" in proc.stdout, proc.stdout


@pytest.mark.slow
def test_jax_flags_and_config_differences(tmp_path_factory):
    pytest.importorskip("jax")
    base = tmp_path_factory.mktemp("jax-diff")
    src = base / "project"
    write(src / "jm.py", JAX_CASE)
    write(src / "warm.toml", '[[case]]\ntarget = "jm.py::f"\n')
    plain = _prewarm_bundle(base, "plain", src, "warm.toml", _env())
    flagged = _prewarm_bundle(base, "flagged", src, "warm.toml", _env(
        JAX_ENABLE_X64="1", XLA_FLAGS="--xla_cpu_enable_fast_math=false"))
    recorded = _manifest(flagged)[keys.FIELD]["frameworks"]["jax"]
    assert recorded["xla_flags"] == ["--xla_cpu_enable_fast_math=false"]
    assert recorded["config"]["jax_enable_x64"] == "True"
    assert recorded["config"]["jax_persistent_cache_enable_xla_caches"] == "'none'"
    assert recorded["backend"] == "cpu" and recorded["devices"]
    proc = _diff(str(plain), str(flagged))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("- ")]
    assert len(lines) == 2, proc.stdout
    flags = next(ln for ln in lines if "XLA flags" in ln)
    assert "only B has --xla_cpu_enable_fast_math=false" in flags
    assert "compiles again" in flags
    x64 = next(ln for ln in lines if "jax_enable_x64" in ln)
    assert "jax_enable_x64 is False in A, True in B" in x64
    assert _diff(str(plain), str(plain)).returncode == 0
    # against this machine (a plain environment): the flagged bundle's settings are missing
    proc = _diff(str(flagged), cwd=src)
    assert proc.returncode == 1 and "only the bundle has --xla_cpu_enable_fast_math" in \
        proc.stdout, proc.stdout
    assert _diff(str(plain), cwd=src).returncode == 0


@pytest.mark.slow
def test_inductor_config_difference_of_caches_not_made_by_prewarm(tmp_path):
    """A cache folder jitwarm did not fill: the inputs are read when the bundle is made (in
    a fresh process with that environment), and the diff names the Inductor setting."""
    pytest.importorskip("torch")
    bundles = {}
    for name, extra in (("plain", {}), ("autotune", {"TORCHINDUCTOR_MAX_AUTOTUNE": "1"})):
        entry = tmp_path / name / "cache" / "torchinductor" / "fxgraph" / "ab" / "fkey"
        entry.mkdir(parents=True)
        (entry / "entry").write_bytes(b"graph")
        bundles[name] = tmp_path / f"{name}.tar.gz"
        proc = _run("bundle", "create", str(tmp_path / name / "cache"), "-o",
                    str(bundles[name]), env=_env(**extra))
        assert proc.returncode == 0, proc.stdout + proc.stderr
    made = _manifest(bundles["autotune"])[keys.FIELD]
    assert made["recorded"] == {"torch": "bundle create"}, made
    torch_in = made["frameworks"]["torch"]
    assert torch_in["inductor_config"]["max_autotune"] == "True" and torch_in["torch_key"]
    proc = _diff(str(bundles["plain"]), str(bundles["autotune"]))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (line,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("- ")]
    assert "Inductor's FX-graph keys include its config" in line
    assert "max_autotune is False in A, True in B" in line
    assert "read when the bundle was made" in proc.stdout
    (d,) = json.loads(_diff(str(bundles["plain"]), str(bundles["autotune"]), "--json").stdout
                      )["differences"]
    assert (d["a"], d["b"]) == ({"max_autotune": "False"}, {"max_autotune": "True"})


@pytest.mark.slow
def test_every_installed_framework_reads_its_declared_inputs():
    """Each adapter's key_inputs, read in a fresh process: only declared fields, values of
    the recorded shapes, nothing that fails."""
    from jitwarm.adapters import ADAPTERS

    names = [a.name for a in ADAPTERS if a.key_input_fields and a.installed()]
    assert names
    got = keys.read_in_worker(names, {})
    assert got["errors"] == {}, got["errors"]
    assert keys.problem(got) is None
    for adapter in ADAPTERS:
        if adapter.name in names:
            assert set(got["frameworks"][adapter.name]) <= set(adapter.key_input_fields)


# -- hostile manifests --------------------------------------------------------------------------

GOOD = {"numba/proj_0123/kern.f-2.py311.nbi": b"index",
        "numba/proj_0123/kern.f-2.py311.1.nbc": b"data"}
ESC = "\x1b[2J\x1b]0;owned\x07"


def _bundle(path: Path, key_inputs, **more) -> Path:
    manifest = manifest_for(GOOD, key_inputs=key_inputs, **more)
    return craft(path, manifest, [member("caches/" + k, v) for k, v in GOOD.items()])


def _numba(**values) -> dict:
    base = {"target_triple": "x86_64-unknown-linux-gnu", "cpu_name": "znver3",
            "cpu_features": "+avx2,+sse4.2", "host_cpu_name": "znver3",
            "NUMBA_CPU_NAME": None, "NUMBA_CPU_FEATURES": None}
    return {"frameworks": {"numba": {**base, **values}}, "recorded": {"numba": "prewarm"},
            "errors": {}, "sources": {}}


def test_hostile_strings_are_escaped_and_cut(tmp_path):
    a = _bundle(tmp_path / "a.tar.gz", _numba())
    evil = _numba(cpu_name=ESC + "x" * 5000, cpu_features="+" + ESC + ",+avx2",
                  triple_extra="\x1b[31m")
    evil["frameworks"]["numba"]["target_triple"] = "t\nforged line"
    evil["sources"] = {"kern.py": "a" * 64}
    b = _bundle(tmp_path / "b.tar.gz", evil)
    proc = _diff(str(a), str(b))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    assert "\\e[2J" in proc.stdout  # shown, escaped
    assert "forged line" in proc.stdout and "\nforged line" not in proc.stdout
    assert max(len(ln) for ln in proc.stdout.splitlines()) < 1200
    assert "triple_extra" in proc.stdout  # an input this jitwarm cannot describe: named
    data = json.loads(_diff(str(a), str(b), "--json").stdout)
    assert all("\x1b" not in d["message"] for d in data["differences"])


@pytest.mark.parametrize("key_inputs,why", [
    ("numba", "not an object"),
    ({"frameworks": ["numba"]}, "frameworks"),
    ({"frameworks": {"../x": {}}}, "names the framework"),
    ({"frameworks": {"numba": {"cpu_name": {"nested": {"deep": 1}}}}}, "numba.cpu_name"),
    ({"frameworks": {"numba": {"cpu_name": "x" * 20000}}}, "longer than"),
    ({"frameworks": {"numba": {"cpu_name": [1, 2]}}}, "numba.cpu_name"),
    ({"frameworks": {"numba": {"bad name!": "x"}}}, "malformed field"),
    ({"frameworks": {"numba": {f"f{i}": 1 for i in range(300)}}}, "at most"),
    ({"sources": {"../../etc/passwd": "a" * 64}}, "source"),
    ({"sources": {"/abs.py": "a" * 64}}, "absolute"),
    ({"sources": {"kern.py": "not-a-digest"}}, "sha256"),
    ({"errors": {"numba": 5}}, "errors"),
    ({"recorded": ["numba"]}, "recorded"),
])
def test_malformed_key_inputs_are_one_line_exit_2(tmp_path, key_inputs, why):
    bundle = _bundle(tmp_path / "b.tar.gz", key_inputs)
    proc = _diff(str(bundle), str(bundle))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert why in proc.stderr and "key_inputs" in proc.stderr, proc.stderr
    # the same manifest is refused by verify (the manifest is checked once, for everyone)
    v = verify(bundle)
    assert not v.integrity_ok and any("key_inputs" in r for r in v.reasons), v.reasons


@pytest.mark.parametrize("content", [b"garbage" * 100, b"\x1f\x8b\x08\x00" + b"\xff" * 300])
def test_corrupt_or_missing_bundles_are_one_line_exit_2(tmp_path, content):
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(content)
    good = _bundle(tmp_path / "good.tar.gz", _numba())
    hostile = _bundle(tmp_path / "hostile.tar.gz", {"frameworks": {"numba": "x"}})
    for args in ((str(bad),), (str(good), str(bad)), (str(tmp_path / "none.tar.gz"),),
                 (str(hostile),),
                 (str(good), str(good), "--here"), (str(good), "--timeout", "0"),
                 (str(good), "--sources", str(tmp_path / "no-such-dir"))):
        proc = _diff(*args)
        assert proc.returncode == 2, (args, proc.stdout + proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_not_a_bundle_manifest_first(tmp_path):
    path = craft(tmp_path / "x.tar.gz", None, [member("caches/numba/a/b.nbi", b"x")])
    proc = _diff(str(path), str(path))
    assert proc.returncode == 2 and "not a jitwarm bundle" in proc.stderr, proc.stderr


# -- compare() on records: what each machine-level difference costs ----------------------------

def _record(**over) -> dict:
    rec = {"python": {"implementation": "CPython", "major_minor": "3.11"},
           "machine": {"system": "Linux", "machine": "x86_64", "cpu_model": "EPYC",
                       "cpu_flags": ["avx2", "sse4_2"],
                       "gpus": [{"name": "H100", "compute_capability": "9.0"}]},
           "frameworks": {"numba": "0.68.1", "llvmlite": "0.50.0"}, "contents": ["numba"],
           keys.FIELD: _numba()}
    rec.update(over)
    return rec


def test_compare_names_python_cpu_flags_gpu_and_versions():
    a = _record()
    b = _record(python={"implementation": "CPython", "major_minor": "3.12"},
                machine={"system": "Linux", "machine": "x86_64", "cpu_model": "Xeon",
                         "cpu_flags": ["sse4_2", "avx512f"],
                         "gpus": [{"name": "A100", "compute_capability": "8.0"}]},
                frameworks={"numba": "0.60.0", "llvmlite": "0.50.0"})
    result = keys.compare(a, b, ("the bundle", "this host"))
    costly = {(d.framework, d.input): d.message for d in result.differences if d.costly}
    assert "nothing hits" in costly[("python", "major_minor")]
    assert "only the bundle's CPU has avx2" in costly[("machine", "cpu_flags")]
    assert "compute capability 9.0, this host compute capability 8.0" in \
        costly[("machine", "compute_capability")]
    assert "numba keeps caches per version" in costly[("versions", "numba")]
    assert ("versions", "llvmlite") not in costly
    notes = [d for d in result.differences if not d.costly]
    assert {d.input for d in notes} == {"cpu_flags", "cpu_model"}  # this host's extra avx512f
    assert not result.same
    same = keys.compare(_record(), _record())
    assert same.same and same.differences == []


def test_compare_numba_features_when_the_names_agree_and_missing_records():
    a = _record()
    b = _record(**{keys.FIELD: _numba(cpu_features="+avx2,-sse4.2")})
    (d,) = keys.compare(a, b).differences
    assert d.input == "cpu_features" and "only A has +sse4.2; only B has -sse4.2" in d.message
    old = _record(**{keys.FIELD: None})
    result = keys.compare(old, a)
    assert result.same and any("records no key inputs for numba" in n for n in result.notes)
    late = _record(**{keys.FIELD: {**_numba(), "recorded": {"numba": "bundle create"}}})
    assert any("read when the bundle was made" in n for n in keys.compare(late, a).notes)


def test_snapshot_is_a_record_compare_takes():
    """The record an artifact made in a worker can carry (e.g. an AOT manifest)."""
    pytest.importorskip("numba")
    rec = keys.snapshot(["numba"])
    assert keys.problem(rec[keys.FIELD]) is None
    assert rec[keys.FIELD]["recorded"] == {"numba": "snapshot"}
    assert set(rec["frameworks"]) == {"numba", "llvmlite"}
    assert keys.compare(rec, json.loads(json.dumps(rec))).same
    other = json.loads(json.dumps(rec))
    other[keys.FIELD]["frameworks"]["numba"]["cpu_name"] = "generic"
    (d,) = keys.compare(rec, other).differences
    assert d.input == "cpu_name" and "every function recompiles" in d.message


def test_cases_that_recorded_different_inputs_are_said():
    """A case that sets a config in its code compiled under another value: the bundle says
    so instead of keeping one value silently."""
    x64 = {"frameworks": {"jax": {"config": {"jax_enable_x64": "True"}}}, "errors": {}}
    plain = {"frameworks": {"jax": {"config": {"jax_enable_x64": "False"}}}, "errors": {}}
    prewarm = {"cases": [{keys.FIELD: plain}, {keys.FIELD: x64}, {keys.FIELD: "hostile"}]}
    rec = keys.from_prewarm(prewarm)
    assert rec["frameworks"]["jax"] == plain["frameworks"]["jax"]
    assert rec["notes"] == [
        "jax: the plan's cases recorded different config (the first case's values are "
        "kept; the cache holds entries compiled under each)"]
    assert keys.problem(rec) is None
    result = keys.compare({keys.FIELD: rec}, {keys.FIELD: keys.from_prewarm(
        {"cases": [{keys.FIELD: plain}]})})
    assert result.same and any(n.startswith("A: jax: the plan's cases") for n in result.notes)
    assert keys.problem({"notes": ["x" * 2000]}) is not None
