"""Compile units from hub notices, hooks on late imports, hook failures, sync by result."""

from __future__ import annotations

import sys
import threading

import pytest

from jitwarm.adapters import ADAPTERS, FALLBACK, hub, register, result_syncs
from jitwarm.adapters.base import Adapter
from jitwarm.adapters.events import Notice
from jitwarm.adapters.units import UnitRecorder
from jitwarm.results.compiled import by_framework, rank_units, uncached

T = threading.get_ident()


def _n(fw: str, phase: str, name: str, t: int, kind: str = "compile", **kw) -> Notice:
    return Notice(fw, phase, name, T, t, kind=kind, **kw)


def test_nested_compiles_are_children_and_jax_phases_one_unit():
    rec = UnitRecorder()
    rec.start()
    try:
        for n in [
            _n("numba", "start", "outer", 100, extra={"module": "m", "cache": "miss"}),
            _n("numba", "start", "callee", 110, depth=1),
            _n("numba", "end", "callee", 150, depth=1),
            _n("numba", "end", "outer", 200),
            _n("jax", "start", "f", 300, kind="trace", extra={"continued": True}),
            _n("jax", "end", "f", 340, kind="trace"),
            _n("jax", "span", "f", 360, kind="lower", duration_ns=15, extra={"event": "x"}),
            _n("jax", "start", "f", 370, kind="backend"),
            _n("jax", "event", "", 380, kind="/jax/compilation_cache/cache_misses"),
            _n("jax", "end", "f", 500, kind="backend"),
            _n("numba", "span", "cached_fn", 700, kind="load", duration_ns=50,
               extra={"module": "m", "cache": "hit"}),
        ]:
            hub.emit(n)
    finally:
        rec.stop()
    units = rec.finished()
    assert [(u.framework, u.name, u.kind) for u in units] == [
        ("numba", "outer", "compile"), ("jax", "f", "compile"), ("numba", "cached_fn", "load")]
    outer, jax_unit, load = units
    assert outer.duration_ns == 100 and outer.cache == "miss" and outer.module == "m"
    assert [c.name for c in outer.children] == ["callee"]
    assert jax_unit.start_ns == 300 and jax_unit.end_ns == 500 and jax_unit.cache == "miss"
    assert [c.kind for c in jax_unit.children] == ["trace", "lower", "backend"]
    assert load.cache == "hit" and not load.compiles and outer.compiles
    d = outer.to_dict(t0=50, call=0)
    assert d["start_ns"] == 50 and d["call"] == 0 and d["children"][0]["name"] == "callee"


def test_ranking_totals_and_uncached_across_processes():
    def unit(name, ns, cache="none", module="lib.core"):
        return {"framework": "numba", "name": name, "module": module, "signature": "(f8,)",
                "kind": "compile", "duration_ns": ns, "cache": cache, "call": 0,
                "location": "x.py:1 (f)"}

    recs = [{"compiled": [unit("a", 10), unit("b", 30)], "compile_ns_by_framework": {"numba": 40}},
            {"compiled": [unit("a", 20), unit("b", 50)],
             "compile_ns_by_framework": {"numba": 70, "jax": 5}}]
    ranked = rank_units(recs)
    assert [(u["name"], u["duration_ns"], u["per_process"]) for u in ranked] == [
        ("b", 40, 1.0), ("a", 15, 1.0)]
    assert by_framework(recs) == {"jax": 2, "numba": 55}
    assert uncached(ranked) == {("numba", "lib.core"): 2}
    assert rank_units(recs, call=None) == []


class _Broken(Adapter):
    name = "broken-hooks"
    hook_module = "json"  # imported: the hub tries to install

    def install_hooks(self, emit):
        raise RuntimeError("this version has no hook")


def test_a_hook_that_fails_to_install_is_reported_once_and_others_go_on():
    import json  # noqa: F401

    register(_Broken())
    try:
        installed = hub.install()
        hub.install()
        assert "broken-hooks" not in installed
        assert hub.hook_failures()["broken-hooks"].startswith("RuntimeError: this version")
        from jitwarm.measure.worker import observed_frameworks

        notes = observed_frameworks("numba", {"notes": []})["notes"]
        assert sum("broken-hooks" in n for n in notes) == 1
    finally:
        ADAPTERS[:] = [a for a in ADAPTERS if a.name != "broken-hooks"]
        hub._failed.pop("broken-hooks", None)


def test_framework_is_the_one_that_compiled_most_for_a_plain_callable():
    from jitwarm.measure.worker import observed_frameworks

    rec = {"compiled": [{"framework": "jax"}, {"framework": "numba"}],
           "compile_ns_by_framework": {"jax": 5, "numba": 9}}
    out = observed_frameworks(FALLBACK.name, rec)
    assert out["framework"] == "numba" and out["frameworks"] == ["jax", "numba"]
    assert out["callable_framework"] == FALLBACK.name
    assert "framework" not in observed_frameworks("jax", rec)  # the callable's own stays


def test_hooks_install_when_a_framework_is_imported_later(tmp_path):
    """The watcher installs a framework's hooks the moment its hook module is imported."""
    import subprocess

    code = (
        "import sys\n"
        "from jitwarm.adapters import hub\n"
        "hub.watch_imports()\n"
        "assert 'numba' not in sys.modules\n"
        "import numba\n"
        "print(sorted(hub._installed))\n"
        "print(type(numba.__loader__).__name__, type(numba.__spec__.loader).__name__)\n"
    )
    pytest.importorskip("numba")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "numba" in lines[0]
    assert lines[1] == "SourceFileLoader SourceFileLoader"  # the real loader is put back


def test_sync_by_result_finds_arrays_in_pytrees():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    adapter = next(a for a in ADAPTERS if a.name == "jax")
    syncs = result_syncs({"out": [1, (jnp.ones(3),)], "n": 3}, FALLBACK)
    assert [s.__self__ for s in syncs] == [adapter]
    assert result_syncs({"n": 3, "s": "x"}, FALLBACK) == []
    assert result_syncs(None, FALLBACK) == []


def test_tensorrt_engine_builds_anywhere_are_units(tmp_path):
    """TensorRT has no compile callback: the hub wraps Builder.build_serialized_network
    (a compile unit) and Runtime.deserialize_cuda_engine (a load). No GPU here: a stand-in
    ``tensorrt`` module with those two methods, in a fresh interpreter."""
    import subprocess

    code = (
        "import sys, time, types\n"
        "trt = types.ModuleType('tensorrt')\n"
        "class Builder:\n"
        "    def build_serialized_network(self, network, config):\n"
        "        time.sleep(0.05); return b'engine'\n"
        "class Runtime:\n"
        "    def deserialize_cuda_engine(self, blob):\n"
        "        time.sleep(0.01); return object()\n"
        "trt.Builder, trt.Runtime = Builder, Runtime\n"
        "sys.modules['tensorrt'] = trt\n"
        "from jitwarm.adapters import hub\n"
        "from jitwarm.adapters.units import UnitRecorder\n"
        "rec = UnitRecorder(); rec.start()\n"
        "assert 'tensorrt' in hub.install(), hub.hook_failures()\n"
        "def plain():\n"
        "    net = types.SimpleNamespace(name='resnet')\n"
        "    Runtime().deserialize_cuda_engine(Builder().build_serialized_network(net, None))\n"
        "plain()\n"
        "units = rec.finished()\n"
        "print([(u.framework, u.name, u.kind, u.cache, u.duration_ns > 4e7 if u.kind == "
        "'compile' else u.duration_ns > 5e6, 'plain' in (u.location or '')) for u in units])\n"
    )
    script = tmp_path / "builds_engine.py"  # a file: the unit's location is in it
    script.write_text(code)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ("[('tensorrt', 'resnet', 'compile', None, True, True), "
                                  "('tensorrt', 'engine', 'load', 'hit', True, True)]")


def test_a_case_files_internal_module_name_is_shown_as_the_file():
    from jitwarm.results.compiled import shown_module

    recs = [{"compiled": [{"framework": "numba", "name": "kernel", "kind": "compile",
                           "module": "_jitwarm_case_my_cases", "duration_ns": 5}]}]
    assert rank_units(recs)[0]["module"] == "my_cases.py"
    assert shown_module("_jitwarm_case_") == "_jitwarm_case_"  # nothing after the prefix
    assert shown_module("stumpy.core") == "stumpy.core" and shown_module(None) is None


def test_cache_saves_sentence_fits_its_sign():
    from jitwarm.results.findings import cache_saves_sentence

    assert cache_saves_sentence(2_000_000_000).startswith("a warm cache saves 2")
    neg = cache_saves_sentence(-1_040_000_000)
    assert "saved nothing" in neg and "-" not in neg.split("longer")[0]


def test_jitwarm_run_names_another_program_as_such():
    from jitwarm._errors import UsageError
    from jitwarm.measure.program import parse_argv

    with pytest.raises(UsageError, match="measures Python programs: sh is another program"):
        parse_argv(["sh", "x.sh"])
    with pytest.raises(UsageError, match="no such script: missing.py"):
        parse_argv(["python", "missing.py"])


def test_a_librarys_cache_environment_variable_is_found_in_its_source(tmp_path, monkeypatch):
    """numbagg turns Numba's disk cache on only when ``NUMBAGG_CACHE`` is set: the switch
    is read from the library's own source, and not offered once it is set."""
    from jitwarm.adapters.units import library_cache_switches

    pkg = tmp_path / "fakebagg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from fakebagg import deco\n")
    (pkg / "deco.py").write_text(
        "import os\nCACHE = os.getenv('FAKEBAGG_CACHE', 'False').lower() in ('1', 'true')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("FAKEBAGG_CACHE", raising=False)
    import fakebagg  # noqa: F401

    try:
        units = [{"framework": "numba", "name": "k", "module": "fakebagg.funcs",
                  "cache": "none", "kind": "compile"}]
        assert library_cache_switches(units) == {
            "fakebagg": "the environment variable FAKEBAGG_CACHE=1"}
        monkeypatch.setenv("FAKEBAGG_CACHE", "1")
        assert library_cache_switches(units) == {}
        assert library_cache_switches([{**units[0], "cache": "miss"}]) == {}
    finally:
        for name in [n for n in sys.modules if n.split(".")[0] == "fakebagg"]:
            del sys.modules[name]
