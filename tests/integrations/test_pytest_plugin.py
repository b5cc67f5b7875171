"""The pytest plugin, through pytester: fixture, budgets, save/compare, skip, disable.

Fresh-process runs are kept few and small (plain-Python cases, 1 process, ~100 calls);
compare needs 4 processes per side to reach p < 0.05, so it has its own runs.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from jitwarm._errors import UsageError
from jitwarm.integrations.budgets import parse_budgets, parse_duration

pytest_plugins = ["pytester"]

# pytester's in-process runs share this interpreter and drop the modules first imported
# during a run afterwards, which C extensions (numpy) do not survive: import them here
import scipy.stats  # noqa: E402,F401

import jitwarm._api  # noqa: E402,F401
import jitwarm.analysis  # noqa: E402,F401
import jitwarm.measure.runner  # noqa: E402,F401
import jitwarm.store.history  # noqa: E402,F401

try:
    import numba  # noqa: F401
except ImportError:  # pragma: no cover
    pass

#: the plugin loads itself once the pytest11 entry point is installed; before that (and
#: to test without installing) it is named explicitly
ENTRY_POINT = any(ep.name == "jitwarm" and ep.value == "jitwarm.pytest_plugin"
                  for ep in entry_points(group="pytest11"))
PLUGIN = () if ENTRY_POINT else ("-p", "jitwarm.pytest_plugin")
SMALL = "max_calls=100, max_time_s=1"

HELPERS = '''
import time

import jitwarm as jw
import pytest

_calls = [0]


def _spin(ns):
    t = time.perf_counter_ns()
    while time.perf_counter_ns() - t < ns:
        pass


def warming(x):
    """300 us for the first 60 calls, then 30 us: steady from call ~60."""
    _calls[0] += 1
    _spin(300_000 if _calls[0] <= 60 else 30_000)
    return x + 1


def add(x):
    return x + 1


@jw.case
def add_case():
    return add, (41,)


class Box:
    def __init__(self, v):
        self.v = v


def unbox(box):
    return box.v + 1
'''


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest(*PLUGIN, "-p", "no:cacheprovider", *args)


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize("text, ns", [
    ("500ms", 500_000_000), ("2 s", 2_000_000_000), ("150us", 150_000),
    ("150µs", 150_000), ("150μs", 150_000), ("1.5e6ns", 1_500_000), (" .5s ", 500_000_000),
])
def test_parse_duration(text, ns):
    assert parse_duration(text) == ns


@pytest.mark.parametrize("bad, needle", [
    ("500", "has no unit"), (500, "has no unit"), ("5 parsecs", "unknown unit 'parsecs'"),
    ("fast", "is not a duration"), ("-1ms", "is negative"), ("1e999s", "not a finite"),
    (None, "is not a duration"),
])
def test_parse_duration_errors(bad, needle):
    with pytest.raises(UsageError, match=needle):
        parse_duration(bad, "max_first_call")


def test_parse_budgets_errors():
    with pytest.raises(UsageError, match="unknown budget max_frist_call"):
        parse_budgets({"max_frist_call": "1ms"})
    with pytest.raises(UsageError, match="whole number"):
        parse_budgets({"max_recompiles": "0"})
    with pytest.raises(UsageError, match="must not be negative"):
        parse_budgets({"steady_state_within": -1})
    with pytest.raises(UsageError, match="budgets are keywords"):
        parse_budgets({}, ("500ms",))
    assert parse_budgets({"max_compile": "3 ms", "max_recompiles": 0}) == {
        "max_compile": 3_000_000, "max_recompiles": 0}


# --------------------------------------------------------------------------- fixture


def test_fixture_fresh_processes(pytester: pytest.Pytester):
    """Plain module-level function (pickled args), @jitwarm.case, target string."""
    pytester.makepyfile(helpers=HELPERS)
    pytester.makepyfile(bench_target="""
        import jitwarm

        @jitwarm.case
        def square():
            return (lambda x: x * x), (7,)
    """)
    pytester.makepyfile(test_fresh=f"""
        import math
        import os
        from helpers import Box, add, add_case, unbox

        def test_plain(jitwarm):
            r = jitwarm(unbox, Box(1), {SMALL})       # processes from --jitwarm-processes
            p = r.states["cold"]["processes"]
            assert r.settings["processes"] == len(p) == 2
            assert all(x["status"] == "ok" and x["pid"] != os.getpid() for x in p)
            assert r.case["test_id"].endswith("test_fresh.py::test_plain")
            s = r.summary("cold")
            assert s["first_call_ns"] > 0 and s["warm_median_ns"] > 0
            assert p[0]["import_ns"] > 0 and p[0]["setup_ns"] > 0

        def test_case_and_target(jitwarm):
            r1 = jitwarm(add_case, processes=1, {SMALL})
            assert r1.case["target"] == "helpers:add_case" and r1.framework == "python"
            r2 = jitwarm("bench_target.py::square", processes=1, {SMALL})
            assert r2.case["name"] == "square" and r2.summary("cold")["processes_ok"] == 1
            assert r2.case["test_id"].endswith("::test_case_and_target#2")
            r3 = jitwarm(math.factorial, 20, processes=1, {SMALL})   # a built-in module
            assert r3.summary("cold")["processes_ok"] == 1
    """)
    res = run(pytester, "--jitwarm-processes", "2")
    res.assert_outcomes(passed=2)
    res.stdout.fnmatch_lines(["*- jitwarm -*", "*test_plain*cold*", "*test_case_and_target#2*"])


def test_fixture_usage_errors(pytester: pytest.Pytester):
    pytester.makepyfile(helpers=HELPERS)
    pytester.makepyfile(test_bad=f"""
        import threading
        from helpers import add, add_case

        def test_closure(jitwarm):
            def inner(x):
                return x
            jitwarm(inner, 1, {SMALL})

        def test_lambda(jitwarm):
            jitwarm(lambda x: x, 1, {SMALL})

        def test_unpicklable(jitwarm):
            jitwarm(add, threading.Lock(), {SMALL})

        def test_case_with_args(jitwarm):
            jitwarm(add_case, 1, {SMALL})

        def test_bad_target(jitwarm):
            jitwarm("nope.py::x", {SMALL})

        def test_not_callable(jitwarm):
            jitwarm(42, {SMALL})

        def test_bad_setting(jitwarm):
            jitwarm(add, 1, processes=0)

        def test_bad_cache_state(jitwarm):
            jitwarm(add, 1, cache="lukewarm")
    """)
    res = run(pytester)
    res.assert_outcomes(failed=8)
    res.stdout.fnmatch_lines([
        "*_ test_closure _*",
        "jitwarm usage error: *inner is defined inside a function*in_process=True",
        "*_ test_lambda _*",
        "jitwarm usage error: *<lambda> is defined inside a function (or is a lambda)*",
        "*_ test_unpicklable _*",
        "jitwarm usage error: the arguments of add cannot be sent to fresh processes*",
        "*_ test_case_with_args _*",
        "jitwarm usage error: add_case is a @jitwarm.case: it builds its own arguments*",
        "*_ test_bad_target _*",
        "jitwarm usage error: target file not found: nope.py",
        "*_ test_not_callable _*",
        "jitwarm usage error: jitwarm() measures a callable or a case target, not int",
        "*_ test_bad_setting _*",
        "jitwarm usage error: processes must be at least 1",
        "*_ test_bad_cache_state _*",
        "jitwarm usage error: unknown cache state *lukewarm*: choose from cold, cached",
    ])
    assert "Traceback" not in res.stdout.str()


def test_measured_code_raises(pytester: pytest.Pytester):
    pytester.makepyfile(test_raise=f"""
        def boom(x):
            raise ValueError("bad input " + str(x))

        def test_boom(jitwarm):
            jitwarm(boom, 3, processes=1, {SMALL})

        def test_boom_in_process(jitwarm):
            jitwarm(boom, 4, in_process=True, {SMALL})
    """)
    res = run(pytester)
    res.assert_outcomes(failed=2)
    res.stdout.fnmatch_lines([
        "*_ test_boom _*",
        "jitwarm: the measured code raised in a fresh process (cold #1):",
        "Traceback (most recent call last):",
        '  File "*test_raise.py", line 2, in boom',
        "ValueError: bad input 3",
        "the first call raised ValueError: bad input 3",
        "*_ test_boom_in_process _*",
        "jitwarm: the measured code raised:",
        "Traceback (most recent call last):",
        "ValueError: bad input 4",
    ])


def test_in_process_target_beside_the_test_file(pytester: pytest.Pytester):
    """A relative case target is found next to the test file, not only in the cwd; a case
    target and a case function work in process too."""
    pytester.makepyfile(**{"sub/bench_near": """
        import jitwarm

        @jitwarm.case
        def triple():
            return (lambda x: 3 * x), (5,)
    """, "sub/test_near": f"""
        import bench_near

        def test_near(jitwarm):
            r = jitwarm("bench_near.py::triple", in_process=True, {SMALL})
            assert r.summary("in-process")["processes_ok"] == 1
            r = jitwarm(bench_near.triple, in_process=True, {SMALL})
            assert r.framework == "python"
    """})
    run(pytester).assert_outcomes(passed=1)


def test_import_mode_importlib(pytester: pytest.Pytester):
    """The test module is not importable by name: the case file loads it by path."""
    pytester.makepyfile(test_imp=f"""
        def double(x):
            return 2 * x

        def test_it(jitwarm):
            r = jitwarm(double, 21, processes=1, {SMALL})
            assert r.summary("cold")["processes_ok"] == 1
    """)
    run(pytester, "--import-mode=importlib").assert_outcomes(passed=1)


# --------------------------------------------------------------------------- budgets


def test_budgets_pass_and_fail(pytester: pytest.Pytester):
    """Every budget, passing and failing, on a series with a known shape (in process)."""
    pytester.makepyfile(helpers=HELPERS)
    pytester.makepyfile(test_budgets="""
        import pytest
        import helpers

        def measure(jitwarm):
            helpers._calls[0] = 0   # every test starts the warmup afresh
            return jitwarm(helpers.warming, 1, in_process=True, max_calls=300, max_time_s=2)

        @pytest.mark.jitwarm(max_first_call="10 s", max_compile="1ms", max_warm="10ms",
                             max_recompiles=0, steady_state_within=150)
        def test_all_pass(jitwarm):
            measure(jitwarm)

        @pytest.mark.jitwarm(max_first_call="100us")
        def test_first_call_fails(jitwarm):
            measure(jitwarm)

        @pytest.mark.jitwarm(max_warm="1us")
        def test_warm_fails(jitwarm):
            measure(jitwarm)

        @pytest.mark.jitwarm(steady_state_within=20)
        def test_steady_fails(jitwarm):
            measure(jitwarm)
    """)
    # -rN: no short summary, whose messages pytest leaves untruncated when $CI is set
    res = run(pytester, "-rN")
    res.assert_outcomes(passed=1, failed=3)
    out = res.stdout.str()
    res.stdout.fnmatch_lines([
        "*_ test_first_call_fails _*",
        "jitwarm budget exceeded (test_budgets.py::test_first_call_fails; in-process; 1 *",
        "  budget * state * measured * budget * basis",
        "  first call * in-process * ?s * 100 µs * median of 1 process * EXCEEDED",
        "*_ test_warm_fails _*",
        "  warm median * in-process * ?s * 1* µs * median of 1 process * EXCEEDED",
        "*_ test_steady_fails _*",  # ~60, or "never steady" on a very busy machine
        "  steady state from call * in-process * 20 * worst of 1 process * EXCEEDED",
    ])
    assert out.count("EXCEEDED") == 3


def test_numba_compile_and_recompile_budgets(pytester: pytest.Pytester):
    """A real Numba case: compile time and a recompile (a new specialisation compiled
    during the warm series) from Numba's own events; failing in a fresh process, passing
    in process."""
    pytest.importorskip("numba")
    pytester.makepyfile(nbkernels="""
        from numba import njit, objmode

        _count = [0]

        @njit
        def other(x):
            return x * 2

        def _tick():
            _count[0] += 1
            if _count[0] == 40:
                other(1.5)          # a new specialisation: compiled at call 40

        @njit
        def kern(x):
            with objmode():
                _tick()
            return x + 1
    """)
    pytester.makepyfile(test_nb=f"""
        import pytest
        from nbkernels import kern

        @pytest.mark.jitwarm(max_compile="1us", max_recompiles=0)
        def test_fresh_fails(jitwarm):
            jitwarm(kern, 1, processes=1, {SMALL})

        @pytest.mark.jitwarm(max_compile="120 s", max_recompiles=1, max_first_call="120 s")
        def test_in_process_passes(jitwarm):
            r = jitwarm(kern, 1, in_process=True, {SMALL})
            assert r.framework == "numba"
            p = r.states["in-process"]["processes"][0]
            assert [x["name"] for x in p["recompiles"]] == ["other"]
    """)
    res = run(pytester)
    res.assert_outcomes(passed=1, failed=1)
    res.stdout.fnmatch_lines([
        "*_ test_fresh_fails _*",
        "jitwarm budget exceeded (test_nb.py::test_fresh_fails; cold; 1 process(es) per state):",
        "  budget * state * measured * budget * basis",
        "  compile (first call) * cold * *s * 1* µs * median of 1 process * EXCEEDED",
        "  recompiles * cold * 1 * 0 * worst of 1 process * EXCEEDED",
    ])


def test_bad_budgets_are_usage_errors(pytester: pytest.Pytester):
    pytester.makepyfile(test_badmark="""
        import pytest

        @pytest.mark.jitwarm(max_first_call="5 parsecs")
        def test_unit(jitwarm):
            pass

        @pytest.mark.jitwarm(max_first_call=500)
        def test_no_unit(jitwarm):
            pass

        @pytest.mark.jitwarm(max_frist_call="1ms")
        def test_typo(jitwarm):
            pass

        @pytest.mark.jitwarm(max_recompiles=-1)
        def test_negative(jitwarm):
            pass

        @pytest.mark.jitwarm(max_first_call="1ms")
        def test_no_fixture():
            pass

        @pytest.mark.jitwarm(max_first_call="1ms")
        def test_never_measures(jitwarm):
            pass
    """)
    res = run(pytester)
    res.assert_outcomes(errors=5, failed=1)
    usage = "jitwarm usage error in @pytest.mark.jitwarm: "
    res.stdout.fnmatch_lines([
        "*ERROR at setup of test_unit*",
        usage + "max_first_call='5 parsecs': unknown unit 'parsecs'; use ns, us (µs), ms or s",
        "*ERROR at setup of test_no_unit*",
        usage + "max_first_call=500 has no unit: write it as a string such as \"500ms\"*",
        "*ERROR at setup of test_typo*",
        usage + "unknown budget max_frist_call: choose from max_first_call, *",
        "*ERROR at setup of test_negative*",
        usage + "max_recompiles=-1 must not be negative",
        "*ERROR at setup of test_no_fixture*",
        "jitwarm usage error: @pytest.mark.jitwarm sets budgets for the jitwarm fixture, but "
        "this test does not use it*",
        "*_ test_never_measures _*",
        "jitwarm usage error: @pytest.mark.jitwarm: the test never measured anything*",
    ])


# --------------------------------------------------------------------------- skip, disable


SKIPPABLE = f"""
    import pytest

    def add(x):
        return x + 1

    def test_uses_fixture(jitwarm):
        jitwarm(add, 1, in_process=True, {SMALL})

    @pytest.mark.jitwarm(max_first_call="1 s")
    def test_uses_marker(jitwarm):
        jitwarm(add, 1, in_process=True, {SMALL})

    def test_other():
        pass
"""


def test_skip(pytester: pytest.Pytester):
    pytester.makepyfile(test_skip=SKIPPABLE)
    res = run(pytester, "--jitwarm-skip", "-rs")
    res.assert_outcomes(passed=1, skipped=2)
    res.stdout.fnmatch_lines(["*--jitwarm-skip*"])
    run(pytester).assert_outcomes(passed=3)


def test_disabled_with_p_no_jitwarm(pytester: pytest.Pytester, tmp_path: Path):
    """On by default through the pytest11 entry point; ``-p no:jitwarm`` turns it off.

    Before the entry point is installed, a dist-info folder on PYTHONPATH declares it, so
    the same discovery path is exercised."""
    pytester.makepyfile(test_skip=SKIPPABLE)
    env = os.environ.copy()
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    if not ENTRY_POINT:
        dist = tmp_path / "site" / "jitwarm_plugin_shim-0.dist-info"
        dist.mkdir(parents=True)
        (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: jitwarm-plugin-shim\n"
                                       "Version: 0\n")
        (dist / "entry_points.txt").write_text("[pytest11]\njitwarm = jitwarm.pytest_plugin\n")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(dist.parent),
                                                          env.get("PYTHONPATH")]))

    def pytest_run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                               *args], cwd=pytester.path, env=env, capture_output=True,
                              text=True, timeout=120)

    on = pytest_run("-q", "--jitwarm-skip")
    assert on.returncode == 0 and "1 passed, 2 skipped" in on.stdout, on.stdout + on.stderr
    off = pytest_run("-q", "-p", "no:jitwarm")
    assert off.returncode == 1, off.stdout + off.stderr
    assert "fixture 'jitwarm' not found" in off.stdout
    assert "2 errors" in off.stdout and "1 passed" in off.stdout
    bad_opt = pytest_run("-q", "-p", "no:jitwarm", "--jitwarm-skip")
    assert bad_opt.returncode == 4 and "unrecognized arguments: --jitwarm-skip" in bad_opt.stderr


def test_bad_options(pytester: pytest.Pytester):
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    res = run(pytester, "--jitwarm-processes", "0")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*--jitwarm-processes must be at least 1*"])
    res = run(pytester, "--jitwarm-compare", "yesterday")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*give a stored run id (an integer) or 'latest'*"])


# --------------------------------------------------------------------------- history


def test_save_and_compare(pytester: pytest.Pytester, tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch):
    """Save runs under their test id; compare against 'latest' and against a run id.

    The measured function's first call sleeps 20 ms when JITWARM_TEST_SLOW is set, so a
    regression is known to be there (4 vs 4 processes: p = 0.029)."""
    db = tmp_path / "history.db"
    pytester.makepyfile(test_hist=f"""
        import os
        import time

        _first = [True]

        def start(x):
            if _first[0] and os.environ.get("JITWARM_TEST_SLOW"):
                time.sleep(0.02)
            _first[0] = False
            return x + 1

        def test_start(jitwarm):
            jitwarm(start, 1, {SMALL})
    """)
    opts = (f"--jitwarm-db={db}", "--jitwarm-processes=4")
    # 1: nothing stored yet -> compare=latest only warns; the fast run is stored as run 1
    res = run(pytester, *opts, "--jitwarm-save", "--jitwarm-compare=latest")
    res.assert_outcomes(passed=1, warnings=1)
    res.stdout.fnmatch_lines(["*no stored run of test_hist.py::test_start*nothing to compare*"])
    rows = sqlite3.connect(db).execute("SELECT id, case_name FROM runs").fetchall()
    assert rows == [(1, "test_hist.py::test_start")]
    # 2: slow now vs latest (the fast run 1): a regression fails, figures side by side;
    #    the run is still stored (as run 2): the measurement is valid
    monkeypatch.setenv("JITWARM_TEST_SLOW", "1")
    res = run(pytester, *opts, "--jitwarm-save", "--jitwarm-compare=latest")
    res.assert_outcomes(failed=1)
    res.stdout.fnmatch_lines([
        "jitwarm cold start regressed against stored run 1 (test_hist.py::test_start, *",
        "  cold first call  stored * (n=4)  now 2* ms (n=4)  change +*% (95% CI +*% … +*%)"
        "  Mann-Whitney p=0.0286 (flagged: the whole interval lies above +10%)",
    ])
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2
    # 3: by run id, fast now vs the slow run 2, one process: it cannot be significant, so
    #    it passes with a warning saying so (and compare alone stores nothing)
    monkeypatch.delenv("JITWARM_TEST_SLOW")
    res = run(pytester, f"--jitwarm-db={db}", "--jitwarm-processes=1", "--jitwarm-compare=2")
    res.assert_outcomes(passed=1, warnings=1)
    res.stdout.fnmatch_lines(["*vs stored run 2: too few processes; 4 vs 1 processes cannot "
                              "reach p < 0.05*"])
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2
    # a missing run id is refused before anything is measured
    res = run(pytester, *opts, "--jitwarm-compare=99")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*--jitwarm-compare=99: no run 99 in *history.db*"])


def test_plugin_import_is_light():
    """The plugin loads in every pytest session once installed: no numpy, no framework."""
    code = ("import sys, jitwarm.pytest_plugin; "
            "print([m for m in ('numpy', 'scipy', 'numba', 'jitwarm.measure.runner') "
            "if m in sys.modules])")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_entry_point_declared():
    """The lead adds ``[project.entry-points.pytest11] jitwarm = "jitwarm.pytest_plugin"``
    to pyproject.toml; after ``pip install -e .`` the plugin is on by default."""
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert "[project.entry-points.pytest11]" in text
    assert 'jitwarm = "jitwarm.pytest_plugin"' in textwrap.dedent(text)


def test_counter_gates_and_unmeasured_state_in_fresh_processes(pytester: pytest.Pytester):
    """Real Numba in a fresh process: the compile-count gate passes at 1 and fails at 0;
    a budget on the cached state of a function without cache=True measured nothing, so it
    fails with the reason instead of passing."""
    pytest.importorskip("numba")
    pytester.makepyfile(nbgate="""
        from numba import njit

        @njit
        def kern(x):
            return x + 1
    """)
    pytester.makepyfile(test_gate=f"""
        import pytest
        from nbgate import kern

        @pytest.mark.jitwarm(max_compiles=1, max_recompiles=0)
        def test_one_compile_passes(jitwarm):
            jitwarm(kern, 1, processes=1, {SMALL})

        @pytest.mark.jitwarm(max_compiles=0)
        def test_zero_compiles_fails(jitwarm):
            jitwarm(kern, 1, processes=1, {SMALL})

        @pytest.mark.jitwarm(state="cached", max_first_call="100 s")
        def test_cached_budget_without_cache_fails(jitwarm):
            jitwarm(kern, 1, processes=1, cache="cold,cached", {SMALL})
    """)
    res = run(pytester, "-rN")
    res.assert_outcomes(passed=1, failed=2)
    res.stdout.fnmatch_lines([
        "*_ test_zero_compiles_fails _*",
        "  compiles * cold * 1 * 0 * worst of 1 process * EXCEEDED",
        "*_ test_cached_budget_without_cache_fails _*",
        "jitwarm budget not measured, so it fails (*",
        "  first call * cached * not measured * 100 s * not measured ?1? * NOT MEASURED",
        "  ?1? the cached state was skipped: the cold process saved no compiled code to disk*",
    ])


def test_cached_state_behind_a_plain_function_with_per_state_budgets(pytester: pytest.Pytester):
    """A plain ``predict`` calling an ``@njit(cache=True)`` kernel: the cached state is
    measured (cache="cached" alone fills the cache with an unreported cold process first),
    a per-state budget is enforced on that state only, and a budget over a state that was
    skipped fails with the state and the reason instead of passing."""
    pytest.importorskip("numba")
    pytester.makepyfile(nbwrapped="""
        from numba import njit

        @njit(cache=True)
        def kernel(x):
            return x * 2.0 + 1.0

        def predict(x):
            return kernel(x)

        def plain(x):
            return x + 1
    """)
    pytester.makepyfile(test_wrapped=f"""
        import pytest
        from nbwrapped import plain, predict

        @pytest.mark.jitwarm(max_first_call={{"cached": "100 s"}})
        def test_cached_only_is_measured(jitwarm):
            r = jitwarm(predict, 1.0, processes=1, cache="cached", {SMALL})
            assert list(r.states) == ["cached"] and not r.skipped_states
            assert r.states["cached"]["summary"]["processes_ok"] == 1

        @pytest.mark.jitwarm(max_first_call={{"cached": "1ns"}}, max_warm="100 s")
        def test_cached_budget_enforced(jitwarm):
            jitwarm(predict, 1.0, processes=1, cache="cold,cached", {SMALL})

        @pytest.mark.jitwarm(max_first_call="100 s")
        def test_budget_over_skipped_state_fails(jitwarm):
            jitwarm(plain, 1, processes=1, cache="cold,cached", {SMALL})
    """)
    res = run(pytester, "-rN")
    res.assert_outcomes(passed=1, failed=2)
    res.stdout.fnmatch_lines([
        "*_ test_cached_budget_enforced _*",
        "jitwarm budget exceeded (test_wrapped.py::test_cached_budget_enforced; cold, cached; *",
        "  first call * cached * ?s * 1 ns * median of 1 process * EXCEEDED",
        "*_ test_budget_over_skipped_state_fails _*",
        "jitwarm budget not measured, so it fails (*",
        "  first call * cold * ?s * 100 s * median of 1 process * ok",
        "  first call * cached * not measured * 100 s * not measured ?1? * NOT MEASURED",
        "  ?1? the cached state was skipped: the cold process saved no compiled code to disk "
        "(no framework wrote to its cache directory)*; to save it: numba: @njit(cache=True)",
    ])
    out = res.stdout.str()
    # the per-state limit applied to cached only: no cold row for max_first_call
    section = out.split("test_cached_budget_enforced _")[1].split(
        "test_budget_over_skipped_state_fails")[0]
    assert re.search(r"warm median\s+cold", section)  # the plain budget: every state
    assert not re.search(r"first call\s+cold", section)
