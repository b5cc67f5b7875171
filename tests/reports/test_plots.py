"""Plots: files by extension, batched calls at their call numbers, markers where they belong."""

from __future__ import annotations

from pathlib import Path

import pytest
from _reports_synth import BATCH, EXACT, result
from matplotlib.figure import Figure

from jitwarm._errors import UsageError
from jitwarm.report import plots
from jitwarm.results.profile import ProfileResult


def test_call_numbers_place_batches() -> None:
    assert plots.call_numbers([[0, 1], [3, 10]], 6) == [1, 2, 3, 4, 14, 24]
    assert plots.call_numbers(None, 3) == [1, 2, 3]
    assert plots.call_numbers([[0, 1]], 4) == [1, 2, 3, 4]


@pytest.mark.parametrize("ext,magic", [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_save_by_extension(tmp_path: Path, ext: str, magic: bytes) -> None:
    r = ProfileResult.from_dict(result(processes=2))
    path = plots.save_plot(r, tmp_path / f"out{ext}")
    assert path.read_bytes()[:5].startswith(magic)
    if ext == ".svg":
        assert "<svg" in path.read_text()


def test_bad_extension_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"\.png or \.svg"):
        plots.save_plot(ProfileResult.from_dict(result(processes=1)), tmp_path / "x.pdf")


def test_process_panel_markers() -> None:
    data = result(processes=1, recompile_at=(150, 160), states=("cold",))
    p = data["states"]["cold"]["processes"][0]
    fig = Figure()
    ax = fig.add_subplot()
    plots.draw_process(ax, p)
    x = plots.call_numbers(p["batch_sizes"], len(p["timings_ns"]))
    assert x[EXACT + 1] == EXACT + 1 + BATCH  # batched elements land at their call numbers
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    # the series itself, at call numbers
    line = ax.get_lines()[0]
    assert list(line.get_xdata()) == x
    offsets = {tuple(map(float, o)) for c in ax.collections for o in c.get_offsets()}
    # recompile markers at the calls where they happened
    for i in (150, 160):
        assert (float(x[i]), float(p["timings_ns"][i])) in offsets
    # outliers marked
    for i in p["outliers"]:
        assert (float(x[i]), float(p["timings_ns"][i])) in offsets
    # first call annotated with its compile part
    texts = [t.get_text() for t in ax.texts]
    assert any("first call" in t and "compile 100 ms" in t for t in texts), texts
    # steady run shaded from its first call to the end
    (span,) = ax.patches
    assert span.get_x() == pytest.approx(x[p["steady_state_start"]])
    assert span.get_x() + span.get_width() == pytest.approx(x[-1])


def test_result_figure_has_every_panel() -> None:
    r = ProfileResult.from_dict(result(processes=3))
    fig = plots.result_figure(r)
    axes = [ax for sf in fig.subfigs for ax in sf.axes]
    # breakdown (2) + overlay (one per state) + timelines (3 processes x 2 states)
    assert len(axes) == 2 + 2 + 6
    overlay = fig.subfigs[1].axes[0]
    assert len(overlay.get_lines()) >= 3  # one line per process (plus steady markers)
    labels = [t.get_text() for t in overlay.get_legend().get_texts()]
    assert labels[0].startswith("process 1: warmup")


def test_failed_processes_and_empty_results_still_plot(tmp_path: Path) -> None:
    data = result(processes=2)
    for st in data["states"].values():
        for p in st["processes"]:
            p["status"] = "crashed"
    path = plots.save_plot(ProfileResult.from_dict(data), tmp_path / "empty.png")
    assert path.stat().st_size > 1000


def test_decimate_keeps_spikes_and_ends() -> None:
    n = 100_000
    x = list(range(1, n + 1))
    y = [100.0] * n
    y[0], y[54_321], y[-1] = 1e9, 5e5, 90.0
    xs, ys = plots.decimate(x, y, max_points=3000)
    assert len(xs) <= 3001 and xs == sorted(xs)
    assert (xs[0], ys[0]) == (1, 1e9) and (xs[-1], ys[-1]) == (n, 90.0)
    assert (54_322, 5e5) in set(zip(xs, ys, strict=True))
    short = plots.decimate([1, 2, 3], [3.0, 2.0, 1.0])
    assert short == ([1, 2, 3], [3.0, 2.0, 1.0])


def test_long_series_plot_stays_small(tmp_path: Path) -> None:
    data = result(processes=1, states=("cold",))
    p = data["states"]["cold"]["processes"][0]
    p["timings_ns"] = p["timings_ns"] + [200 + (i % 7) for i in range(60_000)]
    path = plots.save_plot(ProfileResult.from_dict(data), tmp_path / "long.svg")
    assert path.stat().st_size < 3_000_000
