"""Recompile guard: raises/warns at the framework's own compile hook, names function and reason."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

import jitwarm
from jitwarm import RecompileError, RecompileWarning, no_recompile
from jitwarm.adapters.hub import HubRecorder

numba = pytest.importorskip("numba")


def _fresh():
    @numba.njit
    def add1(x):
        return x + 1

    return add1


def test_no_compile_passes_and_new_types_raise_before_compiling():
    f = _fresh()
    f(1)
    with no_recompile() as g:
        assert f(2) == 3
    assert g.events == []
    with pytest.raises(RecompileError) as info:
        with no_recompile():
            f(2.5)
    err = info.value
    assert isinstance(err, jitwarm.JitwarmError)
    assert err.framework == "numba" and err.function.endswith("add1")
    assert "float64" in err.reason and "int64" in err.reason  # new types, and what it had
    # raised from numba's on_start: nothing was compiled, and numba still works afterwards
    assert len(f.signatures) == 1
    assert f(2.5) == 3.5 and len(f.signatures) == 2


def test_warn_mode_warns_once_per_compile_and_lets_it_run():
    f = _fresh()
    f(1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with no_recompile("warn") as g:
            out = f(np.ones(3))
    assert np.allclose(out, 2.0)
    msgs = [w for w in caught if issubclass(w.category, RecompileWarning)]
    assert len(msgs) == 1 and "add1" in str(msgs[0].message)
    assert len(g.events) == 1


def test_decorator_forms_and_swallowed_error_still_raises_on_exit():
    f = _fresh()
    f(1)

    @no_recompile
    def serve(v):
        return f(v)

    assert serve(3) == 4
    with pytest.raises(RecompileError):
        serve(np.float32(1))

    @no_recompile()
    def swallow():
        try:
            f(np.int8(1))
        except Exception:
            pass
        return "swallowed"

    with pytest.raises(RecompileError):
        swallow()


def test_thread_scope_ignores_other_threads_process_scope_does_not():
    f = _fresh()
    f(1)

    def compile_elsewhere(v):
        t = threading.Thread(target=f, args=(v,))
        t.start()
        t.join()

    with no_recompile() as g:
        compile_elsewhere(1.5)  # another thread: not this block's business
    assert g.events == []
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        with no_recompile("warn", scope="process") as g:
            compile_elsewhere(np.int16(2))
    assert len(g.events) == 1


def test_bad_options():
    with pytest.raises(ValueError):
        no_recompile("explode")
    with pytest.raises(ValueError):
        no_recompile(frameworks=["tensorflow"])
    with pytest.raises(ValueError):
        no_recompile(scope="galaxy")


def test_jax_compile_is_caught_with_input_types():
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")

    @jax.jit
    def double(x):
        return x * 2

    a, b = jnp.ones(3), jnp.ones(5)
    double(a)
    with no_recompile():
        double(a)
    with HubRecorder() as rec, pytest.raises(RecompileError) as info:
        with no_recompile():
            double(b)
    assert info.value.framework == "jax" and info.value.function == "double"
    assert "float32[5]" in info.value.reason
    assert rec.events == []  # raised at trace start: no trace or XLA compile completed
    assert float(double(b)[0]) == 2.0


@pytest.mark.slow
def test_torch_uses_fail_on_recompile_stance_and_names_the_guard_failure():
    torch = pytest.importorskip("torch")

    @torch.compile(dynamic=False)
    def tsin(x):
        return torch.sin(x) + 1

    tsin(torch.ones(4))
    with no_recompile():
        tsin(torch.ones(4))
    with pytest.raises(RecompileError) as info:
        with no_recompile():
            tsin(torch.ones(6))
    err = info.value
    assert err.framework == "torch" and err.function == "tsin"
    assert "size mismatch" in err.reason
    # torch's global stance is restored on exit
    from torch._dynamo import eval_frame

    assert eval_frame._stance.stance == "default"
    # warn mode: dynamo's compile callbacks, the compile goes ahead
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with no_recompile("warn") as g:
            assert tsin(torch.ones(6)).shape == (6,)
    assert [n.function.rsplit(".", 1)[-1] for n in g.events] == ["tsin"]
    assert g.events[0].recompile  # compile id "N/1": a second compile of the frame
    assert any(issubclass(w.category, RecompileWarning) and "tsin" in str(w.message)
               for w in caught)


def test_numba_error_names_only_the_argument_that_changed():
    """Four arguments, one new type: the error names that one (by its parameter name) and
    what it was compiled for, not every argument's type."""

    @numba.njit
    def blend(weights, bias, scale, offset):
        return weights[0] * scale + bias + offset

    w = np.ones(3)
    blend(w, 1, 2.0, 3)
    with pytest.raises(RecompileError) as info:
        with no_recompile():
            blend(w, 1, 2.0, np.float32(3))
    reason = info.value.reason
    assert reason == "new type for argument offset: float32 (compiled for int64)"
    assert "weights" not in reason and "array" not in reason  # unchanged ones left out
    assert "offset" in str(info.value)
    blend(w, 1, 2.0, np.float32(3))
    # two changed at once (an array's dimensions, a scalar's type): both, nothing else
    with pytest.raises(RecompileError) as info:
        with no_recompile():
            blend(np.ones((2, 2)), 1.5, 2.0, 3)
    reason = info.value.reason
    assert reason.startswith("new type for arguments weights: array(float64, 2d, C) "
                             "(compiled for array(float64, 1d, C)), bias: float64 "
                             "(compiled for int64)")
    assert "scale" not in reason and "offset" not in reason


def test_jax_error_names_only_the_input_that_changed():
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")

    with no_recompile():  # jitwarm's JAX hook is on from here: it sees the warmup trace
        pass

    @jax.jit
    def apply(x, params):
        return x * params["w"] + params["b"]

    x, b = jnp.ones(3), jnp.zeros(3)
    w16 = jnp.ones(3, jnp.bfloat16)  # eager ops compile too: built outside the block
    apply(x, {"w": jnp.ones(3), "b": b})
    with pytest.raises(RecompileError) as info:
        with no_recompile():
            apply(x, {"w": w16, "b": b})
    reason = info.value.reason
    assert reason == "new type for input params['w']: bfloat16[3] (traced before as float32[3])"
