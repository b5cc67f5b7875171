"""``history export``: pyperf files that pyperf itself reads, and the per-call CSV."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pyperf
import pytest
from _reports_synth import BATCH, EXACT, cli, result

from conftest import run_cli
from jitwarm.store.history import History, export_csv, export_pyperf


def _pyperf(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pyperf", *args], capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "h.db"
    with History(path) as h:
        h.add(result("poly", processes=3, seed=1, warm_ns=200))
        h.add(result("poly", processes=3, seed=2, warm_ns=300))
    return path


def test_pyperf_round_trip(tmp_path: Path, db: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for run_id, dest in (("1", a), ("2", b)):
        proc = run_cli("history", "export", run_id, "--format", "pyperf", "-o", str(dest),
                       "--db", str(db))
        assert proc.returncode == 0, proc.stderr
    stats = _pyperf("stats", str(a))
    assert stats.returncode == 0, stats.stderr
    assert "poly/cold" in stats.stdout and "poly/cached" in stats.stdout
    assert "Number of run with values: 3" in stats.stdout
    cmp = _pyperf("compare_to", str(a), str(b))
    assert cmp.returncode == 0, cmp.stderr
    assert "slower" in cmp.stdout  # 200 ns → 300 ns is found by pyperf too

    # the values are the steady part of each process's series, in seconds
    with History(db) as h:
        data = h.get(1).data
    suite = pyperf.BenchmarkSuite.load(str(a))
    bench = suite.get_benchmark("poly/cold")
    runs = bench.get_runs()
    assert len(runs) == 3
    p0 = data["states"]["cold"]["processes"][0]
    start = p0["steady_state_start"]
    assert list(runs[0].values) == pytest.approx([v / 1e9 for v in p0["timings_ns"][start:]])
    assert len(runs[0].warmups) == start - 1  # the pre-steady part minus the first call
    assert bench.get_unit() == "second"


def test_pyperf_export_skips_non_positive_values(tmp_path: Path) -> None:
    data = result(processes=2)
    p = data["states"]["cold"]["processes"][0]
    p["timings_ns"][p["steady_state_start"] + 1] = 0
    notes = export_pyperf(data, tmp_path / "x.json")
    assert any("value(s) ≤ 0 ns" in n for n in notes)
    assert _pyperf("stats", str(tmp_path / "x.json")).returncode == 0


def test_csv_per_call_series(tmp_path: Path, db: Path) -> None:
    with History(db) as h:
        data = h.get(1).data
    buf = io.StringIO()
    n = export_csv(data, buf)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert n == len(rows) == sum(len(p["timings_ns"]) for st in data["states"].values()
                                 for p in st["processes"])
    assert list(rows[0]) == ["state", "process", "index", "calls", "ns"]
    first = rows[0]
    assert (first["state"], first["process"], first["index"], first["calls"]) == (
        "cold", "0", "0", "1")
    assert int(first["ns"]) == data["states"]["cold"]["processes"][0]["first_call_ns"]
    batched = [r for r in rows if r["state"] == "cold" and r["process"] == "0"]
    assert {r["calls"] for r in batched[:EXACT]} == {"1"}
    assert {r["calls"] for r in batched[EXACT:]} == {str(BATCH)}
    out = cli("history", "export", "1", "--format", "csv", "--db", str(db))
    assert out.returncode == 0 and out.stdout == buf.getvalue()


def test_json_export_and_bad_format(tmp_path: Path, db: Path) -> None:
    proc = cli("history", "export", "latest", "--db", str(db))
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["case"]["name"] == "poly"
    bad = cli("history", "export", "1", "--format", "xml", "--db", str(db))
    assert bad.returncode == 2 and "--format" in bad.stderr
    missing = cli("history", "export", "9", "--db", str(db))
    assert missing.returncode == 2 and "no run 9" in missing.stderr
    need_o = cli("history", "export", "1", "--format", "pyperf", "--db", str(db))
    assert need_o.returncode == 2 and "-o FILE" in need_o.stderr
