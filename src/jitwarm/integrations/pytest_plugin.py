"""pytest plugin: the ``jitwarm`` fixture, ``@pytest.mark.jitwarm`` budgets, history.

Registered through the ``pytest11`` entry point, so it is on once jitwarm is installed;
``pytest -p no:jitwarm`` turns it off. Nothing heavy is imported until a test measures.

.. code-block:: python

    @pytest.mark.jitwarm(max_first_call="500ms", max_compile="300ms", max_recompiles=0,
                         steady_state_within=50)
    def test_kernel_warmup(jitwarm):
        result = jitwarm(kernel, 10, processes=3)   # cold start in fresh processes
        assert result.summary("cold")["warm_median_ns"] < 10_000

What ``jitwarm(what, *args)`` accepts, and how fresh processes get to it:

- a **case target** string (``"bench.py::poly"``, ``"pkg.module:poly"``): run as
  ``jitwarm profile`` would;
- a **``@jitwarm.case`` function**: resolved to its module (by module name when the
  test's ``sys.path`` can import it, else by file) and run as a target;
- a **plain function defined at module level** (a test file, a helper module): the plugin
  writes a small case file that imports the function from its module and unpickles
  ``args``/``kwargs``, and runs that. So the worker *imports the test module*, as
  pytest-xdist workers do: its module-level code runs in every fresh process (counted in
  ``import_ns``, never in the first call). Keep it free of side effects and of eager
  compilation (a Numba function with an explicit signature compiles at import, and its
  first call is then warm), or put the function in a case file. Arguments must pickle.
- ``in_process=True``: :func:`jitwarm.profile` in the test process instead (closures and
  lambdas allowed; the first call is only cold if nothing compiled the function before).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # pragma: no cover
    from jitwarm.results.profile import ProfileResult

DEFAULT_PROCESSES = 3
DEFAULT_MAX_CALLS = 1000
DEFAULT_MAX_TIME_S = 2.0
DEFAULT_MIN_CHANGE = 10.0  # percent, for --jitwarm-compare

_budgets_key = pytest.StashKey[list]()
_results_key = pytest.StashKey[list]()
_summary_key = pytest.StashKey[list]()

MARKER_DOC = (
    "jitwarm(max_first_call=None, max_compile=None, max_warm=None, max_recompiles=None, "
    "max_compiles=None, max_cache_misses=None, max_first_call_instructions=None, "
    "steady_state_within=None, state=None): JIT warmup budgets checked on every result the "
    "jitwarm fixture measures in this test (durations as strings: '500ms', '2 s', '150us'; "
    "state='cold'|'cached'|'in-process' limits them to one cache state; a budget given as "
    "{state: limit}, e.g. max_first_call={'cached': '500ms'}, applies to those states only)"
)


# --------------------------------------------------------------------------- options


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("jitwarm", "JIT warmup measurement (jitwarm)")
    group.addoption("--jitwarm-processes", type=int, default=None, metavar="N",
                    help=f"fresh processes per cache state for the jitwarm fixture when the "
                         f"test does not say (default {DEFAULT_PROCESSES})")
    group.addoption("--jitwarm-max-time", type=float, default=None, metavar="SECONDS",
                    help=f"cap on each process's warm series (default {DEFAULT_MAX_TIME_S:g})")
    group.addoption("--jitwarm-skip", action="store_true", default=False,
                    help="skip every test that uses the jitwarm fixture or marker")
    group.addoption("--jitwarm-save", action="store_true", default=False,
                    help="store every measured result in the jitwarm history database, "
                         "under its test id")
    group.addoption("--jitwarm-compare", default=None, metavar="REF",
                    help="fail a test whose cold first call is significantly slower than "
                         "in the stored run REF: a run id, or 'latest' (the newest stored "
                         "run of the same test id)")
    group.addoption("--jitwarm-min-change", type=float, default=DEFAULT_MIN_CHANGE,
                    metavar="PERCENT",
                    help="smallest slowdown --jitwarm-compare reports as a regression "
                         f"(default {DEFAULT_MIN_CHANGE:g}%%; it must also be significant, "
                         "Mann-Whitney p < 0.05)")
    group.addoption("--jitwarm-db", default=None, metavar="PATH",
                    help="history database (default $JITWARM_HOME/history.db, else "
                         "~/.local/share/jitwarm/history.db)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_DOC)
    n = config.getoption("--jitwarm-processes")
    if n is not None and n < 1:
        raise pytest.UsageError("--jitwarm-processes must be at least 1")
    t = config.getoption("--jitwarm-max-time")
    if t is not None and t <= 0:
        raise pytest.UsageError("--jitwarm-max-time must be positive")
    if config.getoption("--jitwarm-min-change") < 0:
        raise pytest.UsageError("--jitwarm-min-change must not be negative")
    ref = config.getoption("--jitwarm-compare")
    if ref is not None and ref != "latest" and not config.getoption("--jitwarm-skip"):
        try:
            int(ref)
        except ValueError:
            raise pytest.UsageError(
                f"--jitwarm-compare={ref}: give a stored run id (an integer) or 'latest'"
            ) from None
        _check_run_exists(config, ref)  # before any measurement, not after minutes of it
    config.stash[_summary_key] = []


def _check_run_exists(config: pytest.Config, ref: str) -> None:
    from jitwarm.store.history import History

    problem = None
    try:
        with History(config.getoption("--jitwarm-db")) as h:
            h.get(ref)
    except Exception as exc:  # HistoryError: missing run, corrupted or locked database
        problem = str(exc)
    if problem is not None:
        raise pytest.UsageError(f"--jitwarm-compare={ref}: {problem}")


def _uses_jitwarm(item: pytest.Item) -> bool:
    return "jitwarm" in getattr(item, "fixturenames", ()) or \
        item.get_closest_marker("jitwarm") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--jitwarm-skip"):
        return
    skip = pytest.mark.skip(reason="jitwarm measurements skipped (--jitwarm-skip)")
    for item in items:
        if _uses_jitwarm(item):
            item.add_marker(skip)


def pytest_runtest_setup(item: pytest.Item) -> None:
    markers = list(item.iter_markers("jitwarm"))
    if not markers:
        return
    from jitwarm._errors import UsageError
    from jitwarm.integrations.budgets import parse_budgets

    try:  # one marker per state is allowed: @jitwarm(state="cached", max_first_call=...)
        item.stash[_budgets_key] = [parse_budgets(dict(m.kwargs), tuple(m.args))
                                    for m in markers]
        problem = None
    except UsageError as exc:
        problem = str(exc)
    if problem is not None:  # failed outside the except block: no chained traceback
        pytest.fail(f"jitwarm usage error in @pytest.mark.jitwarm: {problem}", pytrace=False)
    if "jitwarm" not in getattr(item, "fixturenames", ()):
        pytest.fail("jitwarm usage error: @pytest.mark.jitwarm sets budgets for the jitwarm "
                    "fixture, but this test does not use it: add a `jitwarm` argument and "
                    "measure with jitwarm(fn, *args)", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    out = yield
    if item.get_closest_marker("jitwarm") is not None and not item.stash.get(_results_key, []):
        pytest.fail("jitwarm usage error: @pytest.mark.jitwarm: the test never measured "
                    "anything, so no budget was checked: call jitwarm(fn, *args)",
                    pytrace=False)
    return out


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    rows = config.stash.get(_summary_key, [])
    if not rows:
        return
    from jitwarm._units import fmt_ns

    tr = terminalreporter
    tr.write_sep("-", "jitwarm")
    head = ("test", "state", "first call", "compile", "warm median", "verdict")
    table = [head]
    for test_id, result in rows:
        for state, data in result.states.items():
            s = data["summary"]
            table.append((test_id, state, fmt_ns(s.get("first_call_ns")),
                          fmt_ns(s.get("compile_ns")), fmt_ns(s.get("warm_median_ns")),
                          str(s.get("classification"))))
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    for r in table:
        tr.write_line("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


# --------------------------------------------------------------------------- fixture


@pytest.fixture
def jitwarm(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Jitwarm:
    """Measure JIT warmup: ``jitwarm(fn_or_target, *args, processes=3)`` → ProfileResult."""
    return Jitwarm(request, tmp_path_factory)


class Jitwarm:
    """The ``jitwarm`` fixture's callable (one per test)."""

    def __init__(self, request: pytest.FixtureRequest, tmp: pytest.TempPathFactory) -> None:
        self._request = request
        self._tmp = tmp
        self._item = request.node
        self._config = request.config
        self.results: list[ProfileResult] = []
        self._item.stash[_results_key] = self.results

    def __call__(
        self,
        what: Callable[..., Any] | str,
        *args: Any,
        kwargs: dict[str, Any] | None = None,
        processes: int | None = None,
        cache: str = "cold",
        in_process: bool = False,
        max_calls: int | None = None,
        max_time_s: float | None = None,
        timeout_s: float = 300.0,
    ) -> ProfileResult:
        """Measure ``what(*args, **kwargs)`` and check the test's budgets.

        ``what`` is a case target string, a ``@jitwarm.case`` function or a module-level
        function. Fresh processes by default (``processes``, default ``--jitwarm-processes``
        or 3; ``cache``: ``cold``, ``cached`` or ``cold,cached``; ``cached`` alone fills
        the cache with one unreported cold process first); ``in_process=True``
        measures in this process. Fails the test when the measured code raised, every
        process failed, a budget of ``@pytest.mark.jitwarm`` is exceeded, or (with
        ``--jitwarm-compare``) the cold first call regressed.
        """
        from jitwarm._errors import CaseError, UsageError

        cfg = self._config
        if processes is None:
            processes = cfg.getoption("--jitwarm-processes") or DEFAULT_PROCESSES
        if max_time_s is None:
            max_time_s = cfg.getoption("--jitwarm-max-time") or DEFAULT_MAX_TIME_S
        if max_calls is None:
            max_calls = DEFAULT_MAX_CALLS
        problem = None
        try:
            if in_process:
                result = self._in_process(what, args, kwargs, max_calls, max_time_s)
            else:
                result = self._fresh(what, args, kwargs, processes, cache, max_calls,
                                     max_time_s, timeout_s)
        except UsageError as exc:
            problem = f"jitwarm usage error: {exc}"
        except CaseError as exc:  # in process: the measured code raised
            problem = f"jitwarm: the measured code raised:\n{exc.traceback.rstrip()}\n{exc}"
        if problem is not None:  # failed outside the except block: no chained traceback
            pytest.fail(problem, pytrace=False)
        test_id = self._item.nodeid if not self.results else \
            f"{self._item.nodeid}#{len(self.results) + 1}"
        result.case["test_id"] = test_id
        self.results.append(result)
        _fail_on_errors(result)
        cfg.stash[_summary_key].append((test_id, result))
        problems = []
        ref = cfg.getoption("--jitwarm-compare")
        if ref is not None:
            problems.extend(self._compare(result, test_id, ref))
        if cfg.getoption("--jitwarm-save"):
            self._save(result, test_id)
        budgets = self._item.stash.get(_budgets_key, None)
        if budgets:
            from jitwarm.integrations.budgets import check_budgets, format_checks

            checks = [c for b in budgets for c in check_budgets(result, b)]
            if not all(c.ok for c in checks):
                what = "exceeded" if any(not c.ok and not c.unmeasured for c in checks) \
                    else "not measured, so it fails"
                problems.insert(0, format_checks(
                    checks, f"jitwarm budget {what} ({_where(result)}):"))
        if problems:
            pytest.fail("\n\n".join(problems), pytrace=False)
        return result

    # -- measuring

    def _in_process(self, what: Any, args: tuple[Any, ...], kwargs: dict[str, Any] | None,
                    max_calls: int, max_time_s: float) -> ProfileResult:
        from jitwarm._api import profile
        from jitwarm.cases.targets import _CASE_ATTR, build, load_case, resolve_target

        if isinstance(what, str) or getattr(what, _CASE_ATTR, None) is not None:
            if args or kwargs:
                raise _usage("a case builds its own arguments: pass no args to jitwarm(case)")
            if isinstance(what, str):
                tgt = resolve_target(self._near_test(what))
                built = build(load_case(tgt), tgt.name)
            else:
                built = build(what, getattr(what, _CASE_ATTR))
            return profile(built.fn, *built.args, kwargs=built.kwargs, max_calls=max_calls,
                           max_time_s=max_time_s)
        if not callable(what):
            raise _usage(f"jitwarm() measures a callable or a case target, "
                         f"not {type(what).__name__}")
        return profile(what, *args, kwargs=kwargs, max_calls=max_calls, max_time_s=max_time_s)

    def _fresh(self, what: Any, args: tuple[Any, ...], kwargs: dict[str, Any] | None,
               processes: int, cache: str, max_calls: int, max_time_s: float,
               timeout_s: float) -> ProfileResult:
        from jitwarm.cases.targets import resolve_target
        from jitwarm.measure.process import Settings
        from jitwarm.measure.runner import RunInterrupted, Runner, parse_states

        if processes < 1:
            raise _usage("processes must be at least 1")
        if max_calls < 2:
            raise _usage("max_calls must be at least 2")
        if max_time_s <= 0:
            raise _usage("max_time_s must be positive")
        states = parse_states(cache)
        spec = self._target_spec(what, args, kwargs)
        runner = Runner(
            resolve_target(spec),
            processes=processes,
            states=states,
            settings=Settings(max_calls=max_calls, max_time_s=max_time_s,
                              min_calls=min(50, max_calls)),
            timeout_s=timeout_s,
            extra_env={"PYTHONPATH": _pythonpath()},
        )
        try:
            return runner.run()
        except RunInterrupted:
            raise KeyboardInterrupt from None

    def _target_spec(self, what: Any, args: tuple[Any, ...],
                     kwargs: dict[str, Any] | None) -> str:
        """A target string the worker can load for ``what`` (see the module docstring)."""
        from jitwarm.cases.targets import _CASE_ATTR

        if isinstance(what, str):
            if args or kwargs:
                raise _usage("a case target builds its own arguments: "
                             "pass no args to jitwarm('file.py::case')")
            return self._near_test(what)
        if not callable(what):
            raise _usage(f"jitwarm() measures a callable or a case target, "
                         f"not {type(what).__name__}")
        mod_name, qualname, path = _locate(what)
        case_name = getattr(what, _CASE_ATTR, None)
        if case_name is not None:
            if args or kwargs:
                raise _usage(f"{qualname} is a @jitwarm.case: it builds its own arguments, "
                             "pass none to jitwarm()")
            if "." in qualname:
                raise _usage(f"@jitwarm.case {qualname} must be defined at module level")
            if _importable_as(mod_name, path):
                return f"{mod_name}:{case_name}"
            return f"{path}::{case_name}"
        return self._write_case_file(what, mod_name, qualname, path, args, kwargs or {})

    def _near_test(self, spec: str) -> str:
        """A relative file target that is not under the current directory but next to the
        test file is taken from there (``jitwarm("bench_x.py::case")`` in tests/)."""
        path_part, sep, rest = spec.partition("::")
        if not (path_part.endswith(".py") or sep) or Path(path_part).is_absolute():
            return spec
        if Path(path_part).exists():
            return spec
        beside = Path(str(self._item.path)).parent / path_part
        return f"{beside}{sep}{rest}" if beside.exists() else spec

    def _write_case_file(self, fn: Any, mod_name: str, qualname: str, path: str | None,
                         args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        try:
            payload = pickle.dumps((args, kwargs))
        except Exception as exc:
            raise _usage(
                f"the arguments of {qualname} cannot be sent to fresh processes "
                f"({type(exc).__name__}: {exc}): build them in a @jitwarm.case, or pass "
                "in_process=True"
            ) from None
        key = hashlib.sha1(f"{self._item.nodeid}|{mod_name}|{qualname}".encode()
                           + payload).hexdigest()[:12]
        folder = self._tmp.getbasetemp() / "jitwarm-cases"
        folder.mkdir(exist_ok=True)
        args_path = folder / f"case_{key}.args.pickle"
        args_path.write_bytes(payload)
        case_path = folder / f"case_{key}.py"
        case_name = qualname.replace(".", "_")
        if _importable_as(mod_name, path):
            load = f"import importlib\n_mod = importlib.import_module({mod_name!r})\n"
        else:  # e.g. --import-mode=importlib: load the file under the same module name
            load = (
                "import importlib.util\nimport sys\n"
                f"_spec = importlib.util.spec_from_file_location({mod_name!r}, {path!r})\n"
                "_mod = importlib.util.module_from_spec(_spec)\n"
                f"sys.modules[{mod_name!r}] = _mod\n"
                "_spec.loader.exec_module(_mod)\n"
            )
        walk = "".join(f".{part}" for part in qualname.split("."))
        case_path.write_text(
            f"# Generated by jitwarm's pytest plugin for {self._item.nodeid}:\n"
            f"# a case file that imports {mod_name}.{qualname} from its module.\n"
            "import pickle\n\nimport jitwarm\n\n"
            f"{load}\n\n"
            f"@jitwarm.case(name={case_name!r})\n"
            f"def {case_name}():\n"
            f"    with open({str(args_path)!r}, 'rb') as f:\n"
            "        args, kwargs = pickle.load(f)\n"
            f"    return _mod{walk}, args, kwargs\n",
            encoding="utf-8",
        )
        return f"{case_path}::{case_name}"

    # -- history

    def _save(self, result: ProfileResult, test_id: str) -> None:
        from jitwarm.store.history import store_result

        try:
            run_id, db = store_result(_for_history(result, test_id), self._db())
        except Exception as exc:  # HistoryError and friends: the measurement still stands
            pytest.fail(f"jitwarm --jitwarm-save: {exc}", pytrace=False)
        result.case["history_id"] = run_id
        self._item.user_properties.append(("jitwarm_run_id", run_id))

    def _compare(self, result: ProfileResult, test_id: str, ref: str) -> list[str]:
        from jitwarm._units import fmt_ns
        from jitwarm.store.history import History, compare_values, process_values

        try:
            with History(self._db()) as h:
                if ref == "latest":
                    runs = h.list(case=test_id, limit=1)
                    if not runs:
                        warnings.warn(pytest.PytestWarning(
                            f"jitwarm --jitwarm-compare=latest: no stored run of {test_id} in "
                            f"{h.path}; nothing to compare (store one with --jitwarm-save)"),
                            stacklevel=1)
                        return []
                    stored = h.get(runs[-1].id)
                else:
                    stored = h.get(ref)
        except Exception as exc:
            return [f"jitwarm --jitwarm-compare={ref}: {exc}"]
        states = ("cold", "in-process", "cached")
        old = process_values(stored.data or {}, states, "first_call_ns")
        new = process_values(result.to_dict(), states, "first_call_ns")
        min_change = self._config.getoption("--jitwarm-min-change") / 100.0
        cmp = compare_values(old, new, min_effect=min_change, key="cold_first_call",
                             label="cold first call")
        result.case["compared_with"] = stored.id
        if cmp.verdict == "slower":
            return [
                f"jitwarm cold start regressed against stored run {stored.id} "
                f"({stored.case_name}, {stored.stored_at}, git {stored.git_label()}):\n"
                f"  cold first call  stored {fmt_ns(cmp.median_a)} (n={len(old)})  "
                f"now {fmt_ns(cmp.median_b)} (n={len(new)})  "
                f"change {cmp.change:+.0%}"
                + (f" (95% CI {cmp.change_ci[0]:+.1%} … {cmp.change_ci[1]:+.1%})"
                   if cmp.change_ci else "")
                + f"  Mann-Whitney p={cmp.p_value:.3g} "
                f"(flagged: the whole interval lies above +{min_change:.0%})"
            ]
        if cmp.verdict in ("too few processes", "n/a"):
            warnings.warn(pytest.PytestWarning(
                f"jitwarm --jitwarm-compare: {test_id} vs stored run {stored.id}: "
                f"{cmp.verdict}; {cmp.note}"), stacklevel=1)
        return []

    def _db(self) -> str | None:
        return self._config.getoption("--jitwarm-db")


# --------------------------------------------------------------------------- helpers


def _usage(msg: str) -> Exception:
    from jitwarm._errors import UsageError

    return UsageError(msg)


def _where(result: ProfileResult) -> str:
    settings = result.settings
    states = ", ".join(result.states) or "no state"
    return f"{result.case.get('test_id') or result.case.get('name')}; {states}; " \
           f"{settings.get('processes')} process(es) per state"


def _fail_on_errors(result: ProfileResult) -> None:
    """The measured code raised, or every process of a state failed: fail the test."""
    if result.status == "error" and result.error:
        err = result.error
        tb = (err.get("traceback") or "").rstrip()
        where = f" in a fresh process ({err.get('state')} #{(err.get('index') or 0) + 1})" \
            if err.get("state") != "in-process" else ""
        pytest.fail(f"jitwarm: the measured code raised{where}:\n{tb}\n{err.get('message')}",
                    pytrace=False)
    for state, data in result.states.items():
        if data["summary"].get("processes_ok", 0) == 0:
            lines = [f"jitwarm: every {state} process failed:"]
            for p in data["processes"]:
                lines.append(f"  - {p.get('error') or p.get('status')}")
                tail = (p.get("output_tail") or "").strip()
                if tail:
                    lines.extend("      " + ln for ln in tail.splitlines())
            pytest.fail("\n".join(lines), pytrace=False)


def _locate(fn: Any) -> tuple[str, str, str | None]:
    """(module name, qualified name, file or None) of a module-level callable, or a usage
    error. ``None``: a module without a file (built in) that imports by name."""
    name = getattr(fn, "__name__", None)
    qualname = getattr(fn, "__qualname__", None) or name
    mod_name = getattr(fn, "__module__", None)
    hint = ("fresh processes must import it: define it at module level, pass a case target "
            "('file.py::case'), or use in_process=True")
    if not name or not qualname or not mod_name:
        raise _usage(f"{fn!r} has no importable name; {hint}")
    if "<locals>" in qualname or "<lambda>" in qualname:
        raise _usage(f"{qualname} is defined inside a function (or is a lambda); {hint}")
    mod = sys.modules.get(mod_name)
    path = getattr(mod, "__file__", None)
    if mod is None or mod_name == "__main__" or (not path and not _importable_as(mod_name,
                                                                               None)):
        raise _usage(f"{qualname}: its module {mod_name!r} cannot be imported by another "
                     f"process; {hint}")
    obj: Any = mod
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    if obj is not fn:
        raise _usage(f"{mod_name}.{qualname} is not {fn!r} (redefined or decorated after "
                     f"definition?); {hint}")
    return mod_name, qualname, str(Path(path).resolve()) if path else None


def _importable_as(mod_name: str, path: str | None) -> bool:
    """Whether ``import mod_name`` finds ``path`` (any file when None) with this
    ``sys.path``."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(mod_name)
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    if path is None:
        return True
    origin = getattr(spec, "origin", None)
    if not origin:
        return False
    try:
        return os.path.samefile(origin, path)
    except OSError:
        return False


def _pythonpath() -> str:
    """This process's ``sys.path`` (pytest's rootdir insertions included) for the workers."""
    installed = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix})  # the worker has these
    entries = [p for p in sys.path
               if p and os.path.isdir(p) and not os.path.abspath(p).startswith(installed)]
    env = os.environ.get("PYTHONPATH")
    if env:
        entries += [p for p in env.split(os.pathsep) if p and p not in entries]
    return os.pathsep.join(dict.fromkeys(entries))


def _for_history(result: ProfileResult, test_id: str) -> ProfileResult:
    """The result as stored: its case is named by the test id (what 'latest' looks up)."""
    from jitwarm.results.profile import ProfileResult

    data = result.to_dict()
    case = dict(data["case"])
    case.setdefault("case_name", case.get("name"))
    case["name"] = test_id
    data["case"] = case
    return ProfileResult.from_dict(data)
