"""Seeded synthetic timing series with known classes, for tests and benchmarks.

Shapes (``KINDS``) and their known class / steady-state start:

* ``flat``: constant mean → ``flat``, start 0.
* ``spike_flat``: compile spike at call 0 (1,000-50,000× the rest), then flat → ``warmup``,
  start 1 (the detector may report 2: min segment 2).
* ``step_warmup``: one or two downward steps (first level 1.3-3× steady) ending at 5-50% of n,
  often with a compile spike at call 0 → ``warmup``, start = last step.
* ``exp_warmup``: ``1 + A·exp(-i/τ)``, A in [0.5, 3], τ in 2-8% of n → ``warmup``; the known
  start is where the excess ``A·exp(-i/τ)`` falls to ``tolerance`` (5%) of the steady level.
* ``late_slowdown``: upward step (1.2-2×) at 35-65% of n → ``slowdown``, start = step.
* ``last_quarter_change``: step up or down (1.25-2×) at 80-95% of n → ``no-steady-state``.
* ``drift``: linear drift of 40-80% over the series (10-20% within the last quarter, well
  over the 5% tolerance) → ``no-steady-state``.
* ``cycles``: sinusoid of amplitude 0.5-2% (inside the 5% tolerance) around a flat mean,
  period 5-20% of n → ``flat``.

Noise (``NOISES``): Gaussian, lognormal, AR(1) with φ in [-0.9, 0.6] (marginal sd kept at
``sigma``); optional GC spikes (0.5% of calls, 2-10×, after the outlier filter's first window) and timer quantisation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from jitwarm.analysis._outliers import window_size

KINDS = (
    "flat",
    "spike_flat",
    "step_warmup",
    "exp_warmup",
    "late_slowdown",
    "last_quarter_change",
    "drift",
    "cycles",
)
NOISES = ("gaussian", "lognormal", "ar1")


@dataclass
class Synthetic:
    series: np.ndarray
    kind: str
    noise: str
    expected_class: str
    expected_start: int | None
    params: dict


def _noise(rng, n, kind, sigma, phi):
    if kind == "gaussian":
        return rng.normal(0.0, sigma, n)
    if kind == "lognormal":
        e = rng.lognormal(0.0, sigma, n)
        return e / math.exp(sigma * sigma / 2.0) - 1.0
    if kind == "ar1":
        innov = rng.normal(0.0, sigma * math.sqrt(1.0 - phi * phi), n)
        out = np.empty(n)
        prev = rng.normal(0.0, sigma)
        for i in range(n):  # noqa: B007 - explicit recurrence, n <= 1e6
            prev = phi * prev + innov[i]
            out[i] = prev
        return out
    raise ValueError(f"unknown noise {kind!r}")


def generate(
    kind: str,
    n: int,
    *,
    noise: str = "gaussian",
    seed: int = 0,
    sigma: float | None = None,
    phi: float | None = None,
    gc_spikes: bool = False,
    quantise: bool = False,
    base: float = 10_000.0,
    tolerance: float = 0.05,
) -> Synthetic:
    """One synthetic series of per-call durations (≈ ``base`` units at steady state)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    rng = np.random.default_rng(seed)
    sigma = float(rng.uniform(0.005, 0.03)) if sigma is None else sigma
    if noise == "ar1" and phi is None:
        phi = float(rng.uniform(-0.9, 0.6))
    phi = 0.0 if phi is None else phi
    i = np.arange(n, dtype=np.float64)
    level = np.ones(n)
    cls, start = "flat", 0
    params: dict = {"sigma": sigma, "phi": phi}
    spike = False
    if kind == "spike_flat":
        spike, cls, start = True, "warmup", 1
    elif kind == "step_warmup":
        k = int(rng.uniform(0.05, 0.5) * n)
        level[:k] = rng.uniform(1.3, 3.0)
        if rng.random() < 0.5 and k > 20:
            k1 = int(k * rng.uniform(0.2, 0.6))
            level[:k1] = level[0] * rng.uniform(1.3, 2.0)
        spike = bool(rng.random() < 0.5)
        cls, start = "warmup", k
    elif kind == "exp_warmup":
        a = rng.uniform(0.5, 3.0)
        tau = rng.uniform(0.02, 0.08) * n
        level = 1.0 + a * np.exp(-i / tau)
        spike = bool(rng.random() < 0.5)
        cls, start = "warmup", int(math.ceil(tau * math.log(a / tolerance)))
        params.update(a=a, tau=tau)
    elif kind == "late_slowdown":
        k = int(rng.uniform(0.35, 0.65) * n)
        level[k:] = rng.uniform(1.2, 2.0)
        cls, start = "slowdown", k
    elif kind == "last_quarter_change":
        k = int(rng.uniform(0.8, 0.95) * n)
        f = rng.uniform(1.25, 2.0)
        level[k:] = f if rng.random() < 0.5 else 1.0 / f
        cls, start = "no-steady-state", None
    elif kind == "drift":
        d = rng.uniform(0.4, 0.8) * (1 if rng.random() < 0.5 else -1)
        level = 1.0 + d * i / n
        cls, start = "no-steady-state", None
        params.update(drift=d)
    elif kind == "cycles":
        amp = rng.uniform(0.005, 0.02)
        period = rng.uniform(0.05, 0.2) * n
        level = 1.0 + amp * np.sin(2 * math.pi * i / period + rng.uniform(0, 2 * math.pi))
        params.update(amp=amp, period=period)
    x = level * (1.0 + _noise(rng, n, noise, sigma, phi))
    if gc_spikes:
        # GC spikes land after the outlier filter's first window: inside it a lone slow call
        # is by design signal (indistinguishable from a recompilation), not noise.
        w = window_size(n)
        idx = rng.choice(np.arange(w, n), size=max(1, n // 200), replace=False)
        x[idx] *= rng.uniform(2.0, 10.0, idx.size)
    x = np.maximum(x, 0.05) * base
    if quantise:
        q = base * sigma * rng.uniform(0.3, 1.0)
        x = np.maximum(np.round(x / q), 1.0) * q
    if spike:
        x[0] = base * rng.uniform(1_000.0, 50_000.0)
    params.update(spike=spike, gc_spikes=gc_spikes, quantise=quantise, seed=seed)
    return Synthetic(x, kind, noise, cls, start, params)


def grid(sizes=(100, 300, 1000, 3000, 10_000), seeds=(0, 1)):
    """Yield the standard test grid: every kind × noise × size × seed, flags alternating."""
    j = 0
    for n in sizes:
        for kind in KINDS:
            for noise in NOISES:
                for s in seeds:
                    j += 1
                    yield generate(
                        kind,
                        n,
                        noise=noise,
                        seed=1000 * j + s,
                        gc_spikes=bool(j % 2),
                        quantise=bool((j // 2) % 2),
                    )


def busy_machine_processes(
    seed: int, processes: int = 5, base: float = 100_000.0
) -> list[np.ndarray]:
    """Several processes of one JIT-compiled call timed on a busy 2-core machine.

    The same process mix for every seed, only the random draws change: compile spike at call
    0 (1,000-5,000×), exponential warmup (1 + A·exp(-i/τ), A in [0.5, 1.5], τ in 10-40 calls),
    lognormal noise (σ 3-8 %) with AR(1) correlation (φ 0.3-0.6), 1 % preemption outliers
    (2-10×), 2-4 bursts of 10-40 calls at 1.3-2× (another job on the cores), and the machine's
    level in {1.0, 1.1} by minute: each process starts at one of them and, with probability
    0.3, jumps by 10 % to the other at a random call (a minute boundary during its run).
    Lengths vary (600-2,000 calls) as an adaptive runner's would. Known verdict: warms up.
    """
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(processes):
        n = int(rng.integers(600, 2001))
        i = np.arange(n, dtype=np.float64)
        a, tau = rng.uniform(0.5, 1.5), rng.uniform(10.0, 40.0)
        machine = 1.1 if rng.random() < 0.5 else 1.0
        level = (1.0 + a * np.exp(-i / tau)) * machine
        if rng.random() < 0.3:  # a minute boundary during this process: the other level
            level[int(rng.integers(1, n)) :] *= 1.0 / 1.1 if machine > 1.0 else 1.1
        sigma, phi = rng.uniform(0.03, 0.08), rng.uniform(0.3, 0.6)
        e = _noise(rng, n, "ar1", sigma, phi)
        x = level * np.exp(e - sigma * sigma / 2.0)
        idx = rng.choice(n, size=max(1, n // 100), replace=False)
        x[idx] *= rng.uniform(2.0, 10.0, idx.size)
        for _b in range(int(rng.integers(2, 5))):
            s, ln = int(rng.integers(0, n)), int(rng.integers(10, 41))
            x[s : s + ln] *= rng.uniform(1.3, 2.0)
        x = x * base
        x[0] = base * rng.uniform(1_000.0, 5_000.0)
        out.append(x)
    return out
