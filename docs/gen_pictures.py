"""Draw the pictures of docs/statistics.md from jitwarm's own analysis of synthetic series.

    python docs/gen_pictures.py [OUT_DIR]      # default: docs/img

Every series is synthetic (seeded, so the pictures are reproducible) and built to show one
behaviour; what the pictures *say* (change points, steady state, classification, warm
median and its interval) is computed by :func:`jitwarm.analysis.analyze`, the code that
classifies real measurements. If the analysis stops classifying a series as its picture's
caption claims, this script fails instead of drawing a misleading picture.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from jitwarm._units import fmt_ns  # noqa: E402
from jitwarm.analysis import analyze, analyze_processes  # noqa: E402

N = 600
COLD = "#2563eb"
STEADY = "#16a34a"
WARN = "#d97706"


def _noise(rng: np.random.Generator, n: int, level: float, sd: float = 0.03) -> np.ndarray:
    return level * np.exp(rng.normal(0.0, sd, n))


def series(kind: str, seed: int = 1) -> np.ndarray:
    """A synthetic per-call series (ns) showing one behaviour."""
    rng = np.random.default_rng(seed)
    if kind == "flat":
        x = _noise(rng, N, 1_000)
    elif kind == "warmup":  # slower calls while caches/tiers warm, then faster and steady
        x = np.concatenate([_noise(rng, 150, 2_400), _noise(rng, 100, 1_500),
                            _noise(rng, N - 250, 1_000)])
    elif kind == "slowdown":  # fast at first, then slower for good (e.g. memory growth)
        x = np.concatenate([_noise(rng, 200, 1_000), _noise(rng, N - 200, 1_400)])
    elif kind == "no-steady-state":  # keeps drifting until the measurement ends
        x = np.concatenate([_noise(rng, 200, 1_000), _noise(rng, 150, 1_300),
                            _noise(rng, 150, 1_000), _noise(rng, 100, 1_600)])
    else:
        raise ValueError(kind)
    if kind != "flat":  # flat: nothing to compile (plain or ahead-of-time code)
        x[0] = 2_000_000  # the first call: compilation makes it ~2000x a warm call
    spikes = rng.choice(np.arange(5, N), size=6, replace=False)
    x[spikes] *= 4  # a few interruptions (outliers)
    return x


def _ns_axis(ax: plt.Axes) -> None:
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt_ns(v)))
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def draw(ax: plt.Axes, x: np.ndarray, res: object, title: str) -> None:
    calls = np.arange(len(x))
    ax.scatter(calls[1:], x[1:], s=4, color="#64748b", label="warm calls", zorder=2)
    ax.scatter([0], [x[0]], s=30, color=COLD, label="first call", zorder=3)
    if res.outliers:
        o = np.array(res.outliers)
        ax.scatter(o, x[o], s=18, facecolors="none", edgecolors=WARN, label="outliers",
                   zorder=3)
    for i, cp in enumerate(res.change_points):
        ax.axvline(cp, color="#94a3b8", ls="--", lw=1, label="change points" if i == 0 else None)
    if res.steady_state_start is not None:
        ax.axvspan(res.steady_state_start, len(x), color=STEADY, alpha=0.08,
                   label="steady state")
        lo, hi = res.steady_ci
        ax.hlines(res.steady_median, res.steady_state_start, len(x), color=STEADY, lw=2,
                  label=f"warm median {fmt_ns(res.steady_median)} "
                        f"(95% CI {fmt_ns(lo)}–{fmt_ns(hi)})")
    ax.set_yscale("log")
    ax.set_xlabel("call number")
    ax.set_ylabel("time per call")
    _ns_axis(ax)
    ax.set_title(title, loc="left", fontsize=11)
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(alpha=0.3, which="major")


#: picture -> (series kind, the classification the page says the analysis gives)
PICTURES = {
    "flat": "flat",
    "warmup": "warmup",
    "slowdown": "slowdown",
    "no-steady-state": "no-steady-state",
}


def consistency_picture(out: Path) -> None:
    """Three processes of one benchmark: the verdict across processes."""
    rng = np.random.default_rng(7)
    procs = []
    for length in (120, 260, 180):  # same code, warm after different numbers of calls
        x = np.concatenate([_noise(rng, length, 2_000), _noise(rng, N - length, 1_000)])
        x[0] = 2_000_000
        procs.append(x)
    res = analyze_processes(procs)
    classes = [p.classification for p in res.processes]
    if res.consistency != "consistent warmup":
        raise SystemExit(f"processes.png: expected 'consistent warmup', the analysis says "
                         f"{res.consistency!r} ({classes})")
    fig, ax = plt.subplots(figsize=(8, 3.6), layout="constrained")
    colours = ["#2563eb", "#db2777", "#0d9488"]
    for i, (x, p) in enumerate(zip(procs, res.processes, strict=True)):
        ax.plot(np.arange(1, len(x)), x[1:], lw=0.8, color=colours[i],
                label=f"process {i + 1}: {p.classification}, steady from call "
                      f"{p.steady_state_start}")
        ax.axvline(p.steady_state_start, color=colours[i], ls="--", lw=1)
    ax.set_yscale("log")
    _ns_axis(ax)
    ax.set_xlabel("call number")
    ax.set_ylabel("time per call")
    ax.set_title(f"three fresh processes → {res.consistency}", loc="left", fontsize=11)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.savefig(out / "processes.png", dpi=100)
    plt.close(fig)


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent / "img"
    out.mkdir(parents=True, exist_ok=True)
    for name, expected in PICTURES.items():
        x = series(name)
        res = analyze(x)
        if res.classification != expected:
            raise SystemExit(f"{name}.png: the analysis classifies the series as "
                             f"{res.classification!r}, not {expected!r}; the page would lie")
        fig, ax = plt.subplots(figsize=(8, 3.4), layout="constrained")
        start = ("" if res.steady_state_start is None
                 else f", steady from call {res.steady_state_start}")
        draw(ax, x, res, f"analysis: {res.classification}{start}")
        fig.savefig(out / f"{name}.png", dpi=100)
        plt.close(fig)
        print(f"{out / (name + '.png')}: {res.classification}{start}")
    consistency_picture(out)
    print(f"{out / 'processes.png'}: consistent warmup")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
