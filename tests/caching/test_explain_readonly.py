"""`jitwarm cache explain --cache-dir D` must not change D (issue 12, item 11).

Before the fix the explaining first call ran against D itself, so whatever missed was
compiled and written into the very cache being diagnosed: a second explain, or a bundle
made from D afterwards, saw a different cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from _craft import write
from typer.testing import CliRunner

pytest.importorskip("numba")

from jitwarm.cli.main import app  # noqa: E402

CASE = """
import os

import jitwarm

@jitwarm.case
def poly():
    import numpy as np
    from numba import njit

    @njit(cache=True)
    def compute(x):
        return (x * x + 2 * x + 1).sum()

    return compute, (np.arange(10.0).astype(os.environ.get("DTYPE", "float64")),)
"""


def tree_digest(root: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of the content (``dir`` for folders), mode and mtime."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            kind = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
            out[str(p.relative_to(root))] = f"{kind} {st.st_mode:o} {st.st_mtime_ns}"
    return out


def _explain(target: str, cache: Path, *extra: str):
    return CliRunner().invoke(app, ["cache", "explain", target, "--cache-dir", str(cache),
                                    *extra], prog_name="jitwarm")


@pytest.mark.slow
def test_explain_does_not_write_into_the_cache_it_diagnoses(tmp_path, monkeypatch):
    src = write(tmp_path / "src" / "kern.py", CASE)
    target = f"{src}::poly"
    # an empty cache: the first call misses and compiles
    empty = tmp_path / "empty"
    empty.mkdir()
    res = _explain(target, empty, "--json")
    assert res.exit_code == 0, res.output
    rec = json.loads(res.stdout)
    assert rec["calls"][0]["cache"]["misses"] >= 1
    assert list(empty.iterdir()) == []
    # a cache jitwarm filled, explained for another specialisation (a miss again)
    write(tmp_path / "src" / "warm.toml", '[[case]]\ntarget = "kern.py::poly"\n')
    filled = tmp_path / "filled"
    res = CliRunner().invoke(app, ["prewarm", str(tmp_path / "src" / "warm.toml"),
                                   "--out", str(filled)], prog_name="jitwarm")
    assert res.exit_code == 0, res.output
    before = tree_digest(filled)
    monkeypatch.setenv("DTYPE", "int64")
    res = _explain(target, filled)
    assert res.exit_code == 0, res.output
    assert "no entry for signature" in res.stdout, res.stdout
    assert tree_digest(filled) == before
    # the explanations name the directory given, not the throw-away copy
    assert "jitwarm-explain-" not in res.stdout
