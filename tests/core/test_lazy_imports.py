"""``import jitwarm`` and ``jitwarm.load`` import no adapter module until one is needed;
the public names are the same, resolved on first use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _modules(code: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    env.pop("JITWARM_ADAPTERS", None)
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json\n"
                          "print(json.dumps(sorted(m for m in sys.modules if m.startswith("
                          "('jitwarm', 'importlib.metadata')))))"],
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_jitwarm_imports_no_adapter():
    mods = _modules("import jitwarm")
    assert not [m for m in mods if m.startswith("jitwarm.adapters")], mods
    assert "importlib.metadata" not in mods and "jitwarm.cases.targets" not in mods


def test_jitwarm_load_imports_no_adapter_until_called():
    mods = _modules("import jitwarm\njitwarm.load")
    assert "jitwarm.caches.aot" in mods
    assert [m for m in mods if m.startswith("jitwarm.adapters.")] == ["jitwarm.adapters.base",
                                                                       "jitwarm.adapters.events"]


def test_named_imports_one_adapter_and_the_registry_reuses_it():
    mods = _modules("from jitwarm.adapters import named\nassert named('numba').name == 'numba'")
    assert "jitwarm.adapters.numba" in mods and "jitwarm.adapters.torch" not in mods
    from jitwarm import adapters

    a = adapters.named("numba")
    assert a is adapters.by_name("numba") and a in adapters.ADAPTERS
    assert adapters.named("no such") is None


def test_public_names_resolve_lazily():
    import jitwarm

    for name in jitwarm.__all__:
        assert getattr(jitwarm, name) is not None, name
    assert {"case", "args", "inputs", "load", "profile"} <= set(dir(jitwarm))
    from jitwarm.cases.targets import case

    assert jitwarm.case is case
