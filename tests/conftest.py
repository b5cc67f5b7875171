"""Shared test helpers: write case files, run the CLI as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``python -m jitwarm ARGS`` and capture its output."""
    full_env = os.environ.copy()
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "jitwarm", *args],
        cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture(autouse=True, scope="session")
def _private_history(tmp_path_factory):
    """Every `jitwarm profile` stores its run in the history: keep the tests' runs out of the
    user's ~/.local/share/jitwarm (subprocesses inherit the variable)."""
    old = os.environ.get("JITWARM_HOME")
    os.environ["JITWARM_HOME"] = str(tmp_path_factory.mktemp("jitwarm-home"))
    yield
    if old is None:
        os.environ.pop("JITWARM_HOME", None)
    else:
        os.environ["JITWARM_HOME"] = old


@pytest.fixture
def case_file(tmp_path: Path):
    """Write a case file from a source string and return its path."""

    def write(source: str, name: str = "bench_case.py") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        return path

    return write


_FIGURES: list[str] = []


@pytest.fixture
def report_figure():
    """Record a measured figure (accuracy, agreement ...) for the end-of-run summary."""
    return _FIGURES.append


def pytest_terminal_summary(terminalreporter):
    """Print the figures tests measured, so CI logs show them even when tests pass."""
    if _FIGURES:
        terminalreporter.section("jitwarm figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)
