"""Helpers shared by the benchmark scripts: result folder, table printing, JSON output."""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def write_json(name: str, payload: dict[str, Any]) -> Path:
    """Write a benchmark's figures to benchmarks/results/NAME.json."""
    RESULTS.mkdir(exist_ok=True)
    payload = {"python": platform.python_version(), "machine": platform.machine(), **payload}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    return path


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    """Print a plain aligned table (benchmarks avoid depending on rich)."""
    cells = [headers] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for j, r in enumerate(cells):
        print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))))
        if j == 0:
            print("  ".join("-" * w for w in widths))
