"""The Warmer: readiness only after every item's first call and repeats; failures; threads."""

from __future__ import annotations

import asyncio
import textwrap
import threading
import time

import numpy as np
import pytest

import jitwarm
from jitwarm import Warmer, spec

numba = pytest.importorskip("numba")


def _kernel():
    @numba.njit
    def poly(x):
        return (x * x + 2.0 * x + 1.0).sum()

    return poly


def test_background_warmup_becomes_ready_after_all_calls_with_compile_events():
    poly = _kernel()
    calls = []

    def plain(n):
        calls.append(n)
        return n

    w = Warmer(repeat=2)
    item = w.add(poly, spec((16,), "float64", fill="random"))
    w.add(plain, 7, repeat=4, name="plain")
    assert not w.ready and w.progress()["calls_total"] == 3 + 5
    w.start()
    assert w.wait(60) is True
    assert w.ready and not w.failed and w.error is None
    st = w.status()
    assert st["calls_done"] == st["calls_total"] == 8 and st["fraction"] == 1.0
    d = st["items"][0]
    assert d["state"] == "warm" and d["calls_done"] == 3 and len(d["repeat_ns"]) == 2
    assert d["event_source"] == "numba" and d["compiles"] == 1  # numba's own event
    top = [e for e in item.events if e.depth == 0]
    assert len(top) == 1 and top[0].name.endswith("poly") and "float64" in top[0].signature
    assert d["first_call_ns"] > max(d["repeat_ns"])  # the first call compiled
    assert [e["name"] for e in d["events"]] == [top[0].name] and d["events"][0]["duration_ns"] > 0
    assert calls == [7] * 5 and st["items"][1]["compiles"] == 0
    assert len(poly.signatures) == 1


def test_ready_is_false_until_the_last_repeat():
    gate = threading.Event()
    seen = []

    def slow(x):
        seen.append(x)
        if len(seen) == 3:  # the last repeat blocks until released
            gate.wait(10)
        return x

    w = Warmer(repeat=2)
    w.add(slow, 1)
    w.start()
    deadline = time.monotonic() + 10
    while len(seen) < 3 and time.monotonic() < deadline:
        time.sleep(0.001)
    assert len(seen) == 3 and not w.ready and not w.wait(0.05)
    assert w.progress()["current"] == "test_ready_is_false_until_the_last_repeat.<locals>.slow"
    gate.set()
    assert w.wait(10)


def test_spec_that_does_not_match_the_function_fails_with_its_own_error():
    poly = _kernel()

    @numba.njit
    def matvec(a, x):
        return a @ x

    w = Warmer()
    w.add(poly, spec((4,), "float64"))
    w.add(matvec, spec((3, 4), "float64"), spec((5,), "float64"))  # shapes don't match
    w.add(poly, spec((4,), "float64"), name="never reached")
    w.start()
    assert w.wait(120) is False
    assert w.failed and not w.ready
    st = w.status()
    states = [i["state"] for i in st["items"]]
    assert states == ["warm", "failed", "cancelled"]
    assert "matvec" in st["error"] and "incompatible array sizes" in st["items"][1]["error"]
    assert "ValueError: incompatible array sizes" in w.items[1].traceback


def test_wrong_rank_spec_fails_at_numba_typing():
    poly = _kernel()

    @numba.njit
    def first_row(x):
        return x[0, :]

    w = Warmer()
    w.add(first_row, spec((8,), "float64"))  # rank 1, function indexes 2 dims
    assert w.run() is False and w.failed
    assert w.status()["items"][0]["error_type"] == "TypingError"
    del poly


def test_steps_and_run_async_and_single_start():
    poly = _kernel()
    w = Warmer(repeat=1)
    w.add(poly, np.ones(3))
    steps = list(w.steps())
    assert [s.call for s in steps] == [0, 1] and all(s.ok for s in steps) and w.ready
    with pytest.raises(jitwarm.UsageError):
        w.start()
    with pytest.raises(jitwarm.UsageError):
        w.add(poly, np.ones(3))

    w2 = Warmer(repeat=1)
    w2.add(poly, np.ones(4))
    ticks = []

    async def main():
        async def ticker():
            while not w2.done:
                ticks.append(1)
                await asyncio.sleep(0)

        t = asyncio.create_task(ticker())
        ok = await w2.run_async()
        await t
        return ok

    assert asyncio.run(main()) is True
    assert ticks  # the loop ran other tasks between warmup calls


def test_specs_build_numpy_file_torch_and_jax(tmp_path):
    a = spec((2, 3), "int32", fill="ones").build()
    assert a.dtype == np.int32 and a.shape == (2, 3) and a.sum() == 6
    r1, r2 = spec(5, "float32", fill="random", seed=3).build(), spec(5, "float32", fill="random",
                                                                   seed=3).build()
    np.testing.assert_array_equal(r1, r2)
    path = tmp_path / "x.npy"
    np.save(path, np.arange(6, dtype=np.float64).reshape(2, 3))
    f = spec((2, 3), "float64", file=path).build()
    assert f[1, 2] == 5.0
    with pytest.raises(ValueError, match="shape"):
        spec((3, 3), "float64", file=path).build()
    torch = pytest.importorskip("torch")
    t = spec((8, 16), "float32", fill="random", kind="torch").build()
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32 and tuple(t.shape) == (8, 16)
    jax = pytest.importorskip("jax")
    j = spec((4,), "float32", kind="jax").build()
    assert isinstance(j, jax.Array) and j.shape == (4,)
    for bad in (dict(shape=(-1,)), dict(shape=(2,), fill="noise"), dict(shape=(2,), kind="tf"),
                dict(shape=(2,), dtype="float77"), dict(shape=(2,), fill="file")):
        with pytest.raises(jitwarm.UsageError):
            spec(**bad)


def test_missing_npy_file_fails_the_item_not_the_caller(tmp_path):
    w = Warmer()
    w.add(lambda x: x, spec((2,), file=tmp_path / "nope.npy"))
    assert w.run() is False and "nope.npy" in w.progress()["error"]


def test_plan_file_cases(tmp_path):
    (tmp_path / "cases.py").write_text(textwrap.dedent("""
        import jitwarm
        import numpy as np

        @jitwarm.case
        def kernel():
            from numba import njit

            @njit
            def cube(x):
                return x ** 3

            return cube, (np.ones(4),)

        @jitwarm.case
        def with_kwargs():
            return (lambda a, *, b: a + b), (1,), {"b": 2}
    """))
    plan = tmp_path / "warmup.toml"
    plan.write_text('[[case]]\ntarget = "cases.py::kernel"\nrepeat = 1\n'
                    'inputs = [{shape = [2, 3]}, {dtype = "int64"}]\n\n'
                    '[[case]]\ntarget = "cases.py::with_kwargs"\nname = "kw"\n')
    w = Warmer(repeat=2)
    items = w.add_plan(plan)
    assert [i.name for i in items] == ["kernel", 'kernel {"shape": [2, 3]}',
                                       'kernel {"dtype": "int64"}', "kw"]
    assert [i.repeat for i in items] == [1, 1, 1, 2]
    assert items[1].args[0].shape == (2, 3) and items[2].args[0].dtype == np.int64
    assert w.run()
    # one compile per new signature: float64 1-d, float64 2-d, int64 1-d
    assert [i["compiles"] for i in w.status()["items"]] == [1, 1, 1, 0]
    bad = tmp_path / "bad.toml"
    bad.write_text("[[case]]\nname = 'x'\n")
    with pytest.raises(jitwarm.UsageError, match="target"):
        Warmer().add_plan(bad)
    bad.write_text("not = [toml")
    with pytest.raises(jitwarm.UsageError, match="TOML"):
        Warmer().add_plan(bad)


def test_warming_while_threads_hammer_the_same_function():
    """Real requests and the warmer call the same numba function at once: no crash."""
    @numba.njit
    def work(x):
        acc = 0.0
        for i in range(x.shape[0]):
            acc += x[i] * x[i]
        return acc

    x = np.arange(100, dtype=np.float64)
    expected = float((x * x).sum())
    errors: list[BaseException] = []
    results: list[float] = []
    stop = threading.Event()
    start = threading.Barrier(5)

    def hammer():
        start.wait()
        while not stop.is_set():
            try:
                results.append(work(x))
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)
                return

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    w = Warmer(repeat=50)
    w.add(work, x)
    w.add(work, np.arange(10, dtype=np.int64))  # a second specialisation, compiled meanwhile
    start.wait()
    w.start()
    ready = w.wait(120)
    time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert ready and w.ready
    assert results and all(r == expected for r in results)
    assert len(work.signatures) == 2


def test_jax_function_warms_through_its_adapter_then_serves_without_compiling():
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")

    @jax.jit
    def layer(x, w):
        return jnp.maximum(x @ w, 0.0)

    w_arr = spec((6, 3), "float32", fill="random", kind="jax")
    warmer = Warmer(repeat=2)
    for b in (2, 8):
        warmer.add(layer, spec((b, 6), "float32", fill="random", kind="jax"), w_arr)
    assert warmer.run()
    st = warmer.status()
    assert [i["event_source"] for i in st["items"]] == ["jax", "jax"]  # the registry's adapter
    assert all(i["compiles"] >= 1 for i in st["items"])
    assert layer._cache_size() == 2
    x8 = jnp.ones((8, 6), dtype=jnp.float32)
    w = w_arr.build()
    with jitwarm.no_recompile():
        layer(x8, w).block_until_ready()  # a warmed shape: no compile
    x4 = jnp.ones((4, 6), dtype=jnp.float32)  # outside: creating it compiles jnp.ones
    with pytest.raises(jitwarm.RecompileError) as info:
        with jitwarm.no_recompile():
            layer(x4, w)
    assert info.value.function == "layer"


@pytest.mark.slow
def test_torch_compile_warms_in_a_thread_then_serves_without_recompiling():
    torch = pytest.importorskip("torch")
    model = torch.compile(torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU()),
                          dynamic=False)
    warmer = Warmer(repeat=2)
    warmer.add(model, spec((4, 8), "float32", fill="random", kind="torch"))
    warmer.start()
    assert warmer.wait(300), warmer.progress()
    item = warmer.status()["items"][0]
    assert item["event_source"] == "torch" and item["compiles"] >= 1  # dynamo's own metrics
    assert item["first_call_ns"] > 10 * item["warm_median_ns"]
    x = torch.randn(4, 8)
    with jitwarm.no_recompile():
        model(x)  # as warmed: no compile
    # serving under another global state than the warmup's is a recompile, and torch says so
    with pytest.raises(jitwarm.RecompileError, match="grad_mode"):
        with jitwarm.no_recompile(), torch.no_grad():
            model(x)
