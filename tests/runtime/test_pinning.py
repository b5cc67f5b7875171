"""Shape pinning: a sweep of 20 batch sizes compiles at most once per bucket, outputs correct.

Compiles are counted with each framework's own hooks: Numba's ``numba:compile`` events and
dispatcher signatures, JAX's ``_cache_size()``, torch's dynamo ``CompileCounter`` backend.
"""

from __future__ import annotations

import numpy as np
import pytest

import jitwarm
from jitwarm import ShapePinningError, pin_shapes, suggest_buckets
from jitwarm.adapters.hub import HubRecorder, count_compiles

SIZES = list(range(1, 21))  # a sweep of 20 batch sizes


def test_numba_sweep_compiles_once_per_bucket_and_slices_outputs():
    numba = pytest.importorskip("numba")

    @numba.njit
    def scale_rows(x, w):
        return x * w, (x * w).sum()

    pinned = pin_shapes(scale_rows, buckets={0: [4, 8, 16, 32]}, args=(0,))
    w = np.arange(3, dtype=np.float64)
    with HubRecorder() as rec:
        for n in SIZES:
            x = np.random.default_rng(n).random((n, 3))
            y, total = pinned(x, w)
            assert y.shape == (n, 3)
            np.testing.assert_allclose(y, x * w)
            np.testing.assert_allclose(total, (x * w).sum())  # zero padding: sum unchanged
    used = {min(b for b in (4, 8, 16, 32) if b >= n) for n in SIZES}
    assert count_compiles(rec.events) <= len(used)
    assert len(scale_rows.signatures) == 1  # numba specialises on ndim/dtype, not size
    rep = pinned.pinning.report()
    assert rep["calls"] == 20 and rep["distinct_shapes"] == 20
    assert rep["distinct_padded_shapes"] == len(used) == 4
    assert rep["compiles_avoided"] == 16
    assert rep["sizes_seen"][0] == SIZES


def test_jax_sweep_compiles_once_per_bucket():
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")

    @jax.jit
    def mlp(x, w):
        return jnp.tanh(x @ w)

    buckets = [4, 8, 16, 32]
    pinned = pin_shapes(mlp, buckets={0: buckets}, args=("x",))
    w = jnp.asarray(np.random.default_rng(0).random((5, 3)), dtype=jnp.float32)
    xs = {n: jnp.asarray(np.random.default_rng(n).random((n, 5)), dtype=jnp.float32)
          for n in SIZES}  # built before: creating JAX arrays is not what is counted
    with HubRecorder() as rec:
        for n in SIZES:
            y = pinned(xs[n], w)
            assert isinstance(y, jax.Array) and y.shape == (n, 3)
            np.testing.assert_allclose(np.asarray(y), np.tanh(np.asarray(xs[n]) @ np.asarray(w)),
                                       rtol=1e-5, atol=1e-6)
    assert mlp._cache_size() == len(buckets)
    # padding/slicing happen on the host: no other JAX compile during the sweep
    assert count_compiles(rec.events) == len(buckets)
    # without pinning, every size is a compile
    for n in SIZES[:6]:
        mlp(xs[n], w)
    assert mlp._cache_size() == len(buckets) + len([n for n in SIZES[:6] if n not in buckets])


@pytest.mark.slow
def test_torch_compile_sweep_compiles_once_per_bucket():
    torch = pytest.importorskip("torch")
    from torch._dynamo.testing import CompileCounterWithBackend

    counter = CompileCounterWithBackend("inductor")
    model = torch.nn.Linear(6, 2)
    compiled = torch.compile(model, backend=counter, dynamic=False)
    buckets = [4, 12, 20]
    pinned = pin_shapes(compiled, buckets={0: buckets})
    with torch.no_grad():
        for n in SIZES:
            x = torch.randn(n, 6)
            y = pinned(x)
            assert y.shape == (n, 2)
            torch.testing.assert_close(y, model(x), rtol=1e-4, atol=1e-5)
    assert counter.frame_count == len(buckets)


def test_passthrough_above_largest_bucket_and_error_by_default():
    def f(x):
        return x * 2

    strict = pin_shapes(f, buckets={0: [2, 4]})
    with pytest.raises(ShapePinningError, match="above the largest bucket 4"):
        strict(np.ones(5))
    loose = pin_shapes(f, buckets={0: [2, 4]}, oversize="passthrough")
    np.testing.assert_array_equal(loose(np.ones(5)), np.full(5, 2.0))
    assert loose.pinning.report()["passthrough_calls"] == 1
    padded = pin_shapes(f, buckets={0: [2, 4]}, slice_outputs=False)
    assert padded(np.ones(3)).shape == (4,)


def test_pad_value_kwargs_negative_dims_and_unpinned_args():
    seen = []

    def f(x, *, mask, scale):
        seen.append((x.shape, mask.shape, scale))
        return x.max(axis=-1), mask

    pinned = pin_shapes(f, buckets={-1: [8]}, pad_value=-np.inf)
    x = np.array([[1.0, -3.0, 2.0], [-5.0, -1.0, -2.0]])
    m, mask = pinned(x, mask=np.ones(3), scale=2)
    assert seen == [((2, 8), (8,), 2)]
    np.testing.assert_array_equal(m, [2.0, -1.0])  # -inf padding leaves max unchanged
    assert mask.shape == (3,)  # sliced back: its last dim had the padded size


def test_bad_configuration_fails_clearly():
    def f(x, y=None):
        return x

    with pytest.raises(ShapePinningError, match="buckets"):
        pin_shapes(f, buckets={})
    with pytest.raises(ShapePinningError, match="positive ints"):
        pin_shapes(f, buckets={0: [0, 4]})
    with pytest.raises(ShapePinningError, match="not a dimension"):
        pin_shapes(f, buckets={"batch": [4]})
    with pytest.raises(ShapePinningError, match="out of range"):
        pin_shapes(f, buckets={0: [4]}, args=(2,))
    with pytest.raises(ShapePinningError, match="no parameter 'z'"):
        pin_shapes(f, buckets={0: [4]}, args=("z",))
    with pytest.raises(ShapePinningError, match="oversize"):
        pin_shapes(f, buckets={0: [4]}, oversize="truncate")
    # at first call: a pinned argument that is no array, a dim that does not exist
    with pytest.raises(ShapePinningError, match="is list, not an array"):
        pin_shapes(f, buckets={0: [4]}, args=(0,))([1, 2])
    with pytest.raises(ShapePinningError, match="no dimension 1"):
        pin_shapes(f, buckets={1: [4]})(np.ones(3))
    # unselected non-arrays pass through
    assert pin_shapes(f, buckets={0: [4]})(np.ones(2), y="label").shape == (2,)


def test_suggest_buckets_minimises_padding():
    assert suggest_buckets([1, 2, 3, 100], n_buckets=2) == [3, 100]
    assert suggest_buckets({1: 50, 7: 1, 8: 50}, n_buckets=2) == [1, 8]
    assert suggest_buckets(range(1, 21), n_buckets=1) == [20]
    assert suggest_buckets([5, 5, 5], n_buckets=4) == [5]
    with pytest.raises(ValueError):
        suggest_buckets([])
    pinned = jitwarm.pin_shapes(lambda x: x, buckets={0: [64]})
    for n in (1, 1, 2, 30, 31, 32):
        pinned(np.ones(n))
    assert pinned.pinning.suggest(n_buckets=2) == [2, 32]
