"""Helpers shared by the benchmark scripts: result folder, table printing, JSON output,
and the verdict on the targets a script states (its exit status)."""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

from jitwarm.results.profile import write_atomic

RESULTS = Path(__file__).resolve().parent / "results"


REPO = Path(__file__).resolve().parent.parent


def scrub(value: Any) -> Any:
    """``value`` with this machine's paths taken out of every string: the repository root
    becomes ``<repo>``, the temp folder ``<tmp>``, the interpreter ``python``, the home
    folder ``~`` (results are committed and compared across machines)."""
    import re
    import sys
    import tempfile

    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if not isinstance(value, str):
        return value
    value = value.replace(sys.executable, "python")
    # any checkout of this repository (a worktree too) ends in .../benchmarks/...
    value = re.sub(r"[^\s\"']*/(?=benchmarks/)", "<repo>/", value)
    value = value.replace(str(REPO), "<repo>")
    value = re.sub(re.escape(tempfile.gettempdir()) + r"/[^\s\"']*", "<tmp>", value)
    return value.replace(str(Path.home()), "~")


def write_json(name: str, payload: dict[str, Any]) -> Path:
    """Write a benchmark's figures to benchmarks/results/NAME.json (atomically), with no
    path of this machine in it (:func:`scrub`)."""
    RESULTS.mkdir(exist_ok=True)
    payload = scrub({"python": platform.python_version(), "machine": platform.machine(),
                     **payload})
    return write_atomic(RESULTS / f"{name}.json", json.dumps(payload, indent=1) + "\n")


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    """Print a plain aligned table (benchmarks avoid depending on rich)."""
    cells = [headers] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for j, r in enumerate(cells):
        print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))))
        if j == 0:
            print("  ".join("-" * w for w in widths))


def verdict(script: str, checks: list[tuple[str, bool]]) -> int:
    """Print PASS/MISS per stated target and return the exit status: 1 when any is missed.

    A benchmark that prints MISS and exits 0 guards nothing: ``make bench`` and CI read
    the exit status.
    """
    for what, ok in checks:
        print(f"{'PASS' if ok else 'MISS'}: {what}")
    missed = [what for what, ok in checks if not ok]
    if missed:
        print(f"{script}: {len(missed)} of {len(checks)} target(s) missed")
        return 1
    print(f"{script}: all {len(checks)} target(s) met")
    return 0
