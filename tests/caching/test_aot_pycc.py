"""Numba AOT through numba.pycc: the module runs without Numba; fallbacks and refusals.

One pycc module is built per test module (a C compile: seconds); each test works on a copy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _craft import write

from jitwarm.caches.aot import MANIFEST, ArtifactRefused, load, load_case, load_inputs, prepare
from jitwarm.cases.targets import build, resolve_target
from jitwarm.cases.targets import load_case as load_user_case

pytest.importorskip("numba")

SRC = Path(__file__).resolve().parents[2] / "src"

KERNEL = """
import jitwarm

@jitwarm.case
def poly():
    import numpy as np
    from numba import njit

    @njit(cache=True)
    def compute(x, k):
        return (x * x + k * x + 1).sum()

    return compute, (np.arange(10.0), 2.5)
"""

PARALLEL = """
import jitwarm

@jitwarm.case
def psum():
    import numpy as np
    from numba import njit, prange

    @njit(parallel=True, cache=True)
    def total(x):
        s = 0.0
        for i in prange(x.shape[0]):
            s += x[i]
        return s

    return total, (np.arange(100.0),)
"""


def _built(path: Path, name: str):
    target = resolve_target(f"{path}::{name}")
    return target, build(load_user_case(target), target.name)


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    base = tmp_path_factory.mktemp("pycc")
    case = write(base / "kern.py", KERNEL)
    target, built = _built(case, "poly")
    manifest = prepare("numba", built, base / "art", target=target.spec)
    return base / "art", manifest, float(built.fn(*built.args))


@pytest.fixture
def art(artifact, tmp_path):
    copy = tmp_path / "art"
    shutil.copytree(artifact[0], copy)
    return copy


def test_pycc_module_runs_without_numba(artifact):
    path, manifest, want = artifact
    assert manifest["loader"] == "numba-pycc" and manifest["fallback"] is None
    assert manifest["versions"] == {"numpy": manifest["versions"]["numpy"]}  # numba not needed
    code = (
        "import sys, time, jitwarm\n"
        "from jitwarm.caches.aot import load_inputs\n"
        f"fn = jitwarm.load({str(path)!r})\n"
        f"args, kwargs = load_inputs({str(path)!r})\n"
        "t0 = time.perf_counter_ns(); out = fn(*args); t1 = time.perf_counter_ns()\n"
        "print(repr(out), t1 - t0, 'numba' in sys.modules, 'llvmlite' in sys.modules,\n"
        "      type(fn).__name__)\n")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    out, first_ns, numba_loaded, llvm_loaded, kind = res.stdout.split()
    assert float(out) == want
    assert numba_loaded == "False" and llvm_loaded == "False"
    assert kind == "builtin_function_or_method"  # a compiled function, nothing to compile
    assert int(first_ns) < 50_000_000  # a JIT compile of this kernel takes hundreds of ms


def test_strategy_case_is_what_load_does(artifact):
    path, _, want = artifact
    fn, args, kwargs = load_case({"spec": "unused", "name": "unused", "file": None,
                                  "module": None}, str(path))
    assert type(fn).__name__ == "builtin_function_or_method" and kwargs == {}
    assert fn(*args) == want


def test_parallel_falls_back_to_the_disk_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    case = write(tmp_path / "par.py", PARALLEL)
    target, built = _built(case, "psum")
    manifest = prepare("numba", built, tmp_path / "art", target=target.spec)
    assert manifest["loader"] == "numba-disk-cache"
    assert "parallel=True" in manifest["fallback"] and "total" in manifest["fallback"]
    assert "\n" not in manifest["fallback"]
    assert not list((tmp_path / "art").glob("*.so"))
    with pytest.raises(ArtifactRefused, match="parallel=True"):
        load(tmp_path / "art")
    spec = {"spec": target.spec, "name": target.name, "file": target.file,
            "module": target.module}
    fn, args, _ = load_case(spec, str(tmp_path / "art"))
    assert len(fn.signatures) == 1  # eager: loaded from the disk cache at setup
    assert fn(*args) == built.fn(*built.args)


def _edit(path: Path, change) -> None:
    m = json.loads((path / MANIFEST).read_text())
    change(m)
    (path / MANIFEST).write_text(json.dumps(m))


def _so(path: Path) -> Path:
    return next(path.glob("jitwarm_aot_*.so"))


def test_tampered_module_is_refused_before_import(art):
    so = _so(art)
    data = bytearray(so.read_bytes())
    data[len(data) // 2] ^= 0xFF
    so.write_bytes(bytes(data))
    with pytest.raises(ArtifactRefused, match="SHA-256") as exc:
        load(art)
    assert "\n" not in str(exc.value)
    # in a fresh process: refused, and the module was never imported
    code = ("import sys, jitwarm\n"
            f"try:\n    jitwarm.load({str(art)!r})\n"
            "except jitwarm.ArtifactRefused as exc:\n    print('refused', exc)\n"
            "print(sorted(m for m in sys.modules if m.startswith('jitwarm_aot_')))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("refused") and res.stdout.splitlines()[-1] == "[]"


def test_other_version_is_refused(art):
    _edit(art, lambda m: m["versions"].update(numpy="1.0.0"))
    with pytest.raises(ArtifactRefused, match="built with numpy 1.0.0"):
        load(art)


def test_other_cpu_is_refused(art):
    _edit(art, lambda m: m["machine"]["cpu_flags"].append("avx9000"))
    with pytest.raises(ArtifactRefused, match="lacks features.*avx9000"):
        load(art)


def test_other_python_is_refused(art):
    _edit(art, lambda m: m["python"].update(major_minor="2.7"))
    with pytest.raises(ArtifactRefused, match="built for Python"):
        load(art)


@pytest.mark.parametrize("name", ["../evil.so", "/etc/passwd", "a/../../b", "x\x1b[2J.so",
                                  "inputs//0.npy", ""])
def test_hostile_file_names_are_refused(art, name):
    def change(m):
        m["files"][name] = {"sha256": "0" * 64, "size": 1}

    _edit(art, change)
    with pytest.raises(ArtifactRefused, match="unsafe file") as exc:
        load(art)
    assert "\x1b" not in str(exc.value)


def test_module_outside_the_hashed_files_is_refused(art):
    so = _so(art)
    other = art / ("jitwarm_aot_other" + so.name[so.name.index("."):])
    shutil.copy(so, other)

    def change(m):
        m["info"]["file"] = other.name
        m["info"]["module"] = "jitwarm_aot_other"

    _edit(art, change)
    with pytest.raises(ArtifactRefused, match="not listed"):
        load(art)


def test_input_outside_the_hashed_files_is_refused(art):
    shutil.copy(art / "inputs" / "0.npy", art / "inputs" / "9.npy")
    _edit(art, lambda m: m["inputs"]["args"]["tuple"][0].update(npy="inputs/9.npy"))
    with pytest.raises(ArtifactRefused, match="not a listed file"):
        load_inputs(art)


def test_missing_and_malformed_manifests(tmp_path, art):
    from jitwarm._errors import UsageError

    with pytest.raises(UsageError, match="no such artifact folder"):
        load(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="not a jitwarm AOT artifact"):
        load(tmp_path / "empty")
    (art / MANIFEST).write_text("{not json")
    with pytest.raises(ArtifactRefused, match="not readable JSON"):
        load(art)
    (art / MANIFEST).write_text(json.dumps({"schema": "jitwarm.aot/1", "files": []}))
    with pytest.raises(ArtifactRefused, match="missing or not"):
        load(art)


def test_prepare_refuses_a_used_folder(tmp_path):
    from jitwarm._errors import UsageError
    from jitwarm.cases.targets import Built

    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "keep.txt").write_text("x")
    with pytest.raises(UsageError, match="not an empty folder"):
        prepare("numba", Built(fn=len, args=(), kwargs={}), tmp_path / "used")


def test_other_gpu_is_refused(art):
    def change(m):
        m["info"]["device"] = "cuda"
        m["machine"]["gpus"] = [{"name": "old", "compute_capability": "1.0"}]

    _edit(art, change)
    with pytest.raises(ArtifactRefused, match="compute capability 1.0"):
        load(art)


def test_named_tuple_arguments_are_explained(tmp_path):
    from collections import namedtuple

    from jitwarm._errors import UsageError
    from jitwarm.caches.aot import _save_value

    state = namedtuple("ScaleByAdamState", "count mu")(1, 2)
    with pytest.raises(UsageError, match="ScaleByAdamState.*named tuple.*plain tuple"):
        _save_value((1.0, state), tmp_path, [], "args")


STUMPY = """
import jitwarm

@jitwarm.case
def sdp():
    import numpy as np
    from stumpy import core

    rng = np.random.default_rng(0)
    return core._sliding_dot_product, (rng.random(50), rng.random(500))
"""

RANDOM = """
import jitwarm

@jitwarm.case
def noise():
    import numpy as np
    from numba import njit

    @njit
    def draw(n):
        return np.random.random(n).sum()

    return draw, (8,)
"""


@pytest.mark.slow
def test_third_party_fastmath_kernel_with_blas(tmp_path):
    """STUMPY's kernels use fastmath and np.dot: the options are carried into pycc, the
    result checked against the JIT's, and SciPy's BLAS imported by the loader, not the call."""
    pytest.importorskip("stumpy")
    case = write(tmp_path / "st.py", STUMPY)
    target, built = _built(case, "sdp")
    assert built.fn.targetoptions.get("fastmath")
    manifest = prepare("numba", built, tmp_path / "art", target=target.spec)
    assert manifest["loader"] == "numba-pycc", manifest["fallback"]
    assert manifest["info"]["imports"] == ["numpy", "scipy.linalg.cython_blas"]
    assert set(manifest["versions"]) == {"numpy", "scipy"}
    code = ("import sys, jitwarm\n"
            "from jitwarm.caches.aot import load_inputs\n"
            f"fn = jitwarm.load({str(tmp_path / 'art')!r})\n"
            f"args, _ = load_inputs({str(tmp_path / 'art')!r})\n"
            "before = set(sys.modules)\n"
            "out = fn(*args)\n"
            "print(sorted(set(sys.modules) - before), 'numba' in sys.modules, out.sum())\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    new, numba_loaded, total = res.stdout.rsplit(" ", 2)
    assert new == "[]" and numba_loaded == "False"  # the first call imported nothing
    assert float(total) == pytest.approx(float(built.fn(*built.args).sum()))


@pytest.mark.slow
def test_result_unlike_the_jits_falls_back(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    case = write(tmp_path / "rnd.py", RANDOM)
    target, built = _built(case, "noise")
    manifest = prepare("numba", built, tmp_path / "art", target=target.spec)
    assert manifest["loader"] == "numba-disk-cache"
    assert "result differs from the JIT's" in manifest["fallback"]
    assert not list((tmp_path / "art").glob("jitwarm_aot_*"))


def test_public_name():
    import jitwarm
    import jitwarm.caches.aot as aot

    assert jitwarm.load is aot.load and jitwarm.ArtifactRefused is aot.ArtifactRefused
    assert "load" in jitwarm.__all__


def test_accelerator_artifacts_are_synchronised_when_measured(art, monkeypatch):
    from jitwarm.adapters import by_name

    synced = []
    monkeypatch.setattr(type(by_name("numba")), "sync", lambda self, out: synced.append(out),
                        raising=False)
    _edit(art, lambda m: m["info"].update(device="cuda"))
    monkeypatch.setattr("jitwarm.caches.aot.compatibility", lambda m: [])  # no GPU here
    fn, args, _ = load_case({"spec": "x", "name": "x", "file": None, "module": None}, str(art))
    out = fn(*args)
    assert synced == [out]
