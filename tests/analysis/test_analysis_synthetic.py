"""Recovery of the known class (and warmup end) on the seeded synthetic grid."""

from __future__ import annotations

import pytest

from jitwarm.analysis import analyze
from jitwarm.analysis._generate import KINDS, NOISES, generate, grid


def _hit(g) -> bool:
    a = analyze(g.series)
    if a.classification != g.expected_class:
        return False
    if g.expected_start is None:
        return True
    return abs(a.steady_state_start - g.expected_start) <= max(5, 0.05 * len(g.series))


@pytest.mark.slow
def test_synthetic_grid_recovery(report_figure):
    cases = list(grid(sizes=(100, 300, 1000, 3000, 10_000), seeds=(0, 1)))
    cases += [generate(k, 100_000, noise="ar1", seed=7 + i) for i, k in enumerate(KINDS)]
    misses = [(g.kind, g.noise, len(g.series)) for g in cases if not _hit(g)]
    rate = 1 - len(misses) / len(cases)
    msg = f"synthetic recovery {rate:.1%} of {len(cases)} series; misses: {misses}"
    print(msg)
    report_figure(msg)
    assert rate >= 0.95, msg


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("noise", NOISES)
def test_generator_is_seeded(kind, noise):
    a = generate(kind, 200, noise=noise, seed=3, gc_spikes=True, quantise=True)
    b = generate(kind, 200, noise=noise, seed=3, gc_spikes=True, quantise=True)
    assert (a.series == b.series).all() and a.expected_class == b.expected_class
    assert (a.series > 0).all()
