"""Helpers for the framework end-to-end tests: run the real CLI, read its JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

BLOCK = """
import sys
BLOCKED = {blocked!r}
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Block())
"""

SMALL = ["--processes", "1", "--calls", "100", "--max-time", "2"]


def cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
        timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``python -m jitwarm ARGS`` as a user runs it."""
    full = os.environ.copy()
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "jitwarm", *args], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=timeout)


def profile_json(target: str, out: Path, *extra: str, env: dict[str, str] | None = None
                 ) -> dict[str, Any]:
    """Profile ``target`` with small settings through the CLI; return the result JSON."""
    proc = cli("profile", target, *SMALL, *extra, "--quiet", "--json", str(out), env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(out.read_text())


def blocker(tmp: Path, *modules: str) -> dict[str, str]:
    """Env whose sitecustomize makes ``modules`` unimportable (a missing framework)."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "sitecustomize.py").write_text(BLOCK.format(blocked=set(modules)))
    return {"PYTHONPATH": str(tmp)}


def write_case(path: Path, source: str) -> Path:
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def proc0(result: dict[str, Any], state: str) -> dict[str, Any]:
    p = result["states"][state]["processes"][0]
    assert p["status"] == "ok", p
    return p


def one_line_error(proc: subprocess.CompletedProcess[str], text: str) -> None:
    """Exit 2, the message in stderr, no traceback."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert text in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
