"""Every registered adapter speaks the whole protocol (ruptures' test_costs.py is the model:
a variant is one module found through the registry, and this file tests each of them).

These checks run without importing any framework: the parent side of an adapter must work
on a machine where its framework is not installed.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jitwarm.adapters import ADAPTERS, FALLBACK, Adapter, by_name
from jitwarm.adapters.base import CacheLocation, Recorder

ALL = [*ADAPTERS, FALLBACK]
IDS = [a.name for a in ALL]
ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")


def _overrides(adapter: Adapter, method: str) -> bool:
    return getattr(type(adapter), method) is not getattr(Adapter, method)


def test_names_are_unique_and_found_by_name():
    assert len(set(IDS)) == len(IDS)
    for adapter in ALL:
        assert by_name(adapter.name) is adapter


@pytest.mark.parametrize("adapter", ALL, ids=IDS)
def test_descriptive_attributes(adapter):
    assert isinstance(adapter.name, str) and adapter.name
    assert adapter.module is None or isinstance(adapter.module, str)
    assert adapter.extra is None or isinstance(adapter.extra, str)
    assert isinstance(adapter.trigger, str) and adapter.trigger
    assert isinstance(adapter.packages, tuple) and all(isinstance(p, str) for p in adapter.packages)
    for hint in (adapter.recompile_hint, adapter.cache_hint, adapter.cache_miss_hint):
        assert hint is None or (isinstance(hint, str) and hint)
    if adapter.module is not None:
        assert adapter.module in adapter.missing_message()


@pytest.mark.parametrize("adapter", ALL, ids=IDS)
def test_cache_env_redirects_into_the_given_directory(adapter, tmp_path):
    env = adapter.cache_env(tmp_path)
    assert isinstance(env, dict) and all(isinstance(v, str) for v in env.values())
    assert all(ENV_NAME.fullmatch(var) for var in env), env
    # folders: one sub-folder each of the given directory (other values are settings)
    folders = {var for var, value in env.items() if value.startswith(str(tmp_path))}
    assert all(Path(env[var]).parent == tmp_path for var in folders), env
    dests = adapter.install_destinations(tmp_path / "home")
    if adapter.owns_cache:
        assert set(dests) == folders
    for _var, (folder, how) in dests.items():
        assert folder is None or isinstance(folder, Path)
        assert isinstance(how, str) and how


@pytest.mark.parametrize("adapter", ALL, ids=IDS)
def test_detection_rejects_foreign_callables(adapter):
    for thing in (len, lambda x: x, object(), "model.onnx"):
        assert adapter.detect(thing) is False or adapter is FALLBACK
    assert adapter.wrap(object(), (), {}) is None


@pytest.mark.parametrize("adapter", ALL, ids=IDS)
def test_cache_locations_and_entries(adapter, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for var, value in adapter.cache_env(tmp_path).items():
        if value.startswith(str(tmp_path)):  # the folders, not the settings
            monkeypatch.setenv(var, str(tmp_path / "c" / var.lower()))
    locs = adapter.cache_locations(tmp_path, False)
    assert isinstance(locs, list)
    for loc in locs:
        assert isinstance(loc, CacheLocation) and loc.framework == adapter.name
        assert loc.name in adapter.cache_entry_kinds, (loc.name, adapter.cache_entry_kinds)
        d = loc.to_dict()
        assert d["path"] is None or isinstance(d["path"], str)
    if locs:  # an adapter that reports caches says what its entries look like
        assert _overrides(adapter, "is_cache_entry")
    for kind in adapter.cache_entry_kinds:
        # a user's file is never an entry: `cache clear` deletes entries only
        for parts in (("notes.txt",), ("main.py",), ("src", "main.py"), ("README.md",)):
            assert not adapter.is_cache_entry(kind, parts), (kind, parts)


@pytest.mark.parametrize("adapter", ALL, ids=IDS)
def test_hooks_recorder_and_explanations(adapter):
    if adapter.hook_module is not None:
        assert _overrides(adapter, "install_hooks")
    rec = adapter.recorder()
    assert hasattr(rec, "start") and hasattr(rec, "stop") and rec.events == []
    assert isinstance(rec, Recorder) or type(rec).__name__ == "HubRecorder"
    if not _overrides(adapter, "explain_first_call"):
        result, notes = adapter.explain_first_call(len, ((),), {}, None, lambda: 42)
        assert result == 42 and notes and adapter.name in notes[0]
    assert isinstance(adapter.key_loggers, tuple)


@pytest.mark.parametrize("adapter", ALL, ids=IDS)
def test_aot_is_declared_with_both_halves(adapter):
    assert _overrides(adapter, "aot_prepare") == adapter.supports_aot
    assert _overrides(adapter, "aot_load") == adapter.supports_aot


def _differing(spec, value):
    """Two values of a key input's kind that differ."""
    if spec.kind == "set":
        return ["x1", "shared"], ["shared", "y2"]
    if spec.kind == "map":
        return {"k": "1", "same": "s"}, {"k": "2", "same": "s"}
    return "left\x1b[31m", "right"


@pytest.mark.parametrize("adapter", ALL, ids=IDS)
def test_key_inputs_are_declared_and_explained(adapter):
    """What an adapter records of its cache keys is declared (``key_input_fields``), read
    by its own ``key_inputs`` and explained, per field, by ``key_differences`` without the
    framework: same values say nothing, a different value says the field's label and cost
    with the value escaped."""
    from jitwarm.adapters.base import KeyDifference, KeyInput

    fields = adapter.key_input_fields
    assert isinstance(fields, dict)
    assert _overrides(adapter, "key_inputs") == bool(fields)
    assert adapter.key_source_effect is None or (
        isinstance(adapter.key_source_effect, str) and adapter.key_source_effect)
    assert adapter.key_sources({}) == {}
    for name, spec in fields.items():
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name), name
        assert isinstance(spec, KeyInput) and spec.label and spec.cost
        assert spec.kind in ("value", "set", "map")
    for name, spec in fields.items():
        a, b = _differing(spec, None)
        same = {name: a}
        assert adapter.key_differences(same, dict(same), ("A", "B")) == []
        diffs = adapter.key_differences({name: a}, {name: b}, ("A", "B"))
        assert all(isinstance(d, KeyDifference) and d.framework == adapter.name
                   for d in diffs)
        if spec.costly:
            (d,) = [d for d in diffs if d.input == name]
            assert "→" in d.message and "\x1b" not in d.message, d.message
        for d in diffs:
            assert "\n" not in d.message


@pytest.mark.parametrize("adapter", ALL, ids=IDS)
def test_array_kind(adapter):
    if adapter.array_kind is None:
        return
    assert _overrides(adapter, "is_array") and _overrides(adapter, "from_numpy")
    assert not adapter.is_array(object()) and not adapter.is_array([1.0, 2.0])


def test_numpy_arrays_belong_to_the_plain_python_adapter():
    np = pytest.importorskip("numpy")
    from jitwarm.adapters import array_adapter, array_kinds

    assert array_adapter(np.zeros(3)) is FALLBACK
    assert "numpy" in array_kinds()
    padded = FALLBACK.pad_array(np.ones((2, 3)), 0, 4, 0.0)
    assert padded.shape == (4, 3) and padded[2:].sum() == 0
    assert FALLBACK.slice_array(padded, 0, 2).shape == (2, 3)


def test_the_parent_side_imports_no_framework():
    """The registry, cache locations and env of every adapter, in a fresh interpreter:
    no framework module gets imported (the parent process stays framework-free)."""
    code = (
        "import sys, pathlib\n"
        "from jitwarm.adapters import ADAPTERS, cache_env\n"
        "from jitwarm.caches.locations import locations, install_destinations\n"
        "cache_env(pathlib.Path('/tmp/x')); locations(); install_destinations()\n"
        "for a in ADAPTERS: a.installed(); a.version(); a.detect(len)\n"
        "mods = {a.module for a in ADAPTERS if a.module} | {'jax', 'torch', 'numba'}\n"
        "print(sorted(m for m in mods if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_registering_an_adapter_puts_it_first_and_replaces_its_namesake():
    from jitwarm.adapters import register

    @dataclasses.dataclass
    class Fake(Adapter):
        name: str = "fake-for-test"

    saved = list(ADAPTERS)
    try:
        first = register(Fake())
        assert ADAPTERS[0] is first and by_name("fake-for-test") is first
        second = register(Fake())
        assert ADAPTERS[0] is second and sum(a.name == "fake-for-test" for a in ADAPTERS) == 1
        with pytest.raises(TypeError):
            register(object())  # type: ignore[arg-type]
    finally:
        ADAPTERS[:] = saved


def test_a_broken_plugin_is_one_line_and_exit_2(tmp_path):
    import os

    env = {**os.environ, "JITWARM_ADAPTERS": "no_such_module_here:Adapter"}
    out = subprocess.run([sys.executable, "-m", "jitwarm", "cache", "status"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "no_such_module_here" in lines[0], out.stderr
    assert "Traceback" not in out.stderr


def test_entry_point_plugins_are_found_and_handed_to_workers(tmp_path):
    """An installed package's ``jitwarm.adapters`` entry point is loaded by the parent and
    named in $JITWARM_ADAPTERS, so worker processes load it by import alone."""
    (tmp_path / "plug_adapter.py").write_text(
        "from jitwarm.adapters.base import Adapter\n"
        "class PlugAdapter(Adapter):\n    name = 'plug'\n", encoding="utf-8")
    dist = tmp_path / "plug_adapter-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: plug-adapter\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[jitwarm.adapters]\nplug = plug_adapter:PlugAdapter\n")
    code = ("import os\nfrom jitwarm.adapters import load_plugins, by_name\n"
            "print(load_plugins(entry_points=True), by_name('plug').name, "
            "os.environ['JITWARM_ADAPTERS'])\n")
    import os

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(tmp_path), os.environ.get("PYTHONPATH")) if p)}
    env.pop("JITWARM_ADAPTERS", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["['plug_adapter:PlugAdapter']", "plug", "plug_adapter:PlugAdapter"]


@pytest.mark.parametrize("adapter", ALL, ids=IDS)
def test_bundle_hooks(adapter, tmp_path):
    """A bundle's framework fields: their defaults pass the adapter's own check, hostile
    values do not, and a file the framework never writes is refused by name."""
    assert adapter.bundle_field_problem(dict(adapter.bundle_field_defaults)) is None
    for key in adapter.bundle_field_defaults:
        assert adapter.bundle_field_problem({key: ["../../etc"]}) is not None, key
    for parts in (("x",), ("a", "b", "c", "d.pyc")):
        problem = adapter.bundle_file_problem(parts)
        assert problem is None or isinstance(problem, str)
    warnings, exports = adapter.bundle_installed(dict(adapter.bundle_field_defaults), {}, {})
    assert warnings == [] and exports == {}
