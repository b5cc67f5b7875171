"""The "Warmup by framework" table computes its figures from the results it is given."""

from __future__ import annotations

from rich.console import Console

from jitwarm.report.framework_table import framework_row, framework_table
from jitwarm.results.profile import ProfileResult


def _proc(first: int, compile_ns: int, warm: int, hits: int = 0) -> dict:
    return {"status": "ok", "first_call_ns": first, "compile_ns": compile_ns,
            "warm_median_ns": warm, "steady_ci_ns": [warm, warm], "classification": "flat",
            "steady_state_start": 1, "cache": {"hits": hits, "misses": 1 - min(hits, 1)},
            "compile_events": [], "recompiles": []}


def _result(fw: str, cold: dict, cached: dict | None, skipped: str | None = None) -> ProfileResult:
    r = ProfileResult(case={"name": f"{fw}_case"}, framework=fw, environment={}, settings={})
    r.add_state("cold", [cold])
    if cached is not None:
        r.add_state("cached", [cached])
    if skipped:
        r.skipped_states["cached"] = skipped
    return r


def test_rows_and_render():
    torch_r = _result("torch", _proc(10_000_000_000, 9_000_000_000, 100_000),
                      _proc(2_000_000_000, 1_500_000_000, 100_000, hits=2))
    cuda_r = _result("numba-cuda", _proc(5_000_000, 0, 1_000_000), None, skipped="no cache")
    row = framework_row(torch_r)
    assert row["cold_over_warm"] == 100_000
    assert row["cache_saved_ns"] == 8_000_000_000 and row["cache_saved_fraction"] == 0.8
    assert row["trigger"].startswith("first call")
    assert framework_row(cuda_r)["cached_first_call_ns"] is None
    con = Console(width=250, record=True)
    con.print(framework_table([torch_r, cuda_r]))
    text = con.export_text()
    assert "Warmup by framework" in text
    assert "10.0 s" in text and "9.00 s (90%)" in text and "2.00 s (2 hits)" in text
    assert "100,000×" in text and "8.00 s (80%)" in text
    assert "skipped" in text and "numba-cuda" in text
