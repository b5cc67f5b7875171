"""IPython/Jupyter magics: ``%load_ext jitwarm``, then ``%jitwarm`` and ``%%jitwarm``.

``%jitwarm f(x)`` is like ``%timeit`` but reports the *first* call, the part of it spent
compiling (from the framework's own compile events) and the warm steady state: it calls
:func:`jitwarm.profile` on ``f`` with the evaluated arguments. Any other statement, and a
``%%jitwarm`` cell, is wrapped in a function and measured as a whole; compile events are
recorded for the first framework callable the code names (e.g. a Numba function).

Everything runs *in this process*: the first call is only cold if nothing compiled the
code before (re-running the cell measures a warm first call). For true cold starts use
``jitwarm profile`` or :func:`jitwarm.profile_target`, which start fresh processes.

Options: ``-n N`` cap on warm calls (default 2000), ``-t S`` cap on seconds (default 5),
``-o`` return the :class:`~jitwarm.ProfileResult`, ``-q`` print nothing (with ``-o``).
As with ``%%timeit``, names a cell assigns are local to the measured function.
"""

from __future__ import annotations

import ast
from typing import Any

from IPython.core.error import UsageError as IPythonUsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

from jitwarm._errors import JitwarmError
from jitwarm._units import fmt_ns, fmt_ratio
from jitwarm.adapters.base import Adapter

DEFAULT_MAX_CALLS = 2000
DEFAULT_MAX_TIME_S = 5.0


@magics_class
class JitwarmMagics(Magics):
    """``%jitwarm`` (a call or a statement) and ``%%jitwarm`` (a cell)."""

    @line_cell_magic
    def jitwarm(self, line: str = "", cell: str | None = None) -> Any:
        """Profile JIT warmup in this process: first call, compile part, warm median.

        Usage: ``%jitwarm [-n CALLS] [-t SECONDS] [-o] [-q] f(x)`` or
        ``%%jitwarm [-n CALLS] [-t SECONDS] [-o] [-q]`` above a cell.
        """
        opts, stmt = self.parse_options(line, "n:t:oq", posix=False, strict=False)
        max_calls = _number(opts, "n", DEFAULT_MAX_CALLS, int, minimum=2)
        max_time_s = _number(opts, "t", DEFAULT_MAX_TIME_S, float, minimum=1e-9)
        code = stmt if cell is None else cell
        if not code.strip():
            raise IPythonUsageError("%jitwarm needs code: %jitwarm f(x), or %%jitwarm above a cell")
        code = self.shell.transform_cell(code)
        ns = self.shell.user_ns
        notes: list[str] = []
        call = _single_call(code) if cell is None else None
        try:
            if call is not None:
                fn, args, kwargs = _evaluate_call(call, ns)
                label = code.strip()
                notes.extend(_already_compiled(fn))
                result = _profile_call(fn, args, kwargs, max_calls, max_time_s, label)
            else:
                fn, adapter, label = _cell_function(code, ns)
                if adapter.name == "python":
                    notes.append("no framework callable found in the code: no compile "
                                 "events recorded (plain Python timing)")
                result = _profile_cell(fn, adapter, max_calls, max_time_s, label)
        except JitwarmError as exc:
            tb = getattr(exc, "traceback", "")
            if tb:  # the user's own traceback, once, without jitwarm's frames
                print(tb.rstrip())
            message = str(exc)
        else:
            message = None
        if message is not None:
            raise IPythonUsageError(f"jitwarm: {message}")
        result.notes.extend(notes)
        if "q" not in opts:
            print(format_report(result, label))
        if "o" in opts:
            return result
        return None


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics (``%load_ext jitwarm``)."""
    ipython.register_magics(JitwarmMagics)


def _number(opts: Any, key: str, default: Any, kind: type, minimum: float) -> Any:
    if key not in opts:
        return default
    raw = opts[key]
    try:
        value = kind(raw)
    except ValueError:
        raise IPythonUsageError(f"-{key} {raw}: expected a {kind.__name__}") from None
    if value < minimum:
        raise IPythonUsageError(f"-{key} {raw}: must be at least {minimum:g}")
    return value


# --------------------------------------------------------------------------- a single call


def _single_call(code: str) -> ast.Call | None:
    """The call node when ``code`` is exactly one call expression, like ``f(x, n=2)``."""
    try:
        tree = ast.parse(code.strip(), mode="eval")
    except SyntaxError:
        return None
    return tree.body if isinstance(tree.body, ast.Call) else None


def _eval(node: ast.expr, ns: dict[str, Any]) -> Any:
    expr = ast.Expression(body=node)
    ast.fix_missing_locations(expr)
    return eval(compile(expr, "<jitwarm>", "eval"), ns)  # noqa: S307 - the user's own code


def _evaluate_call(call: ast.Call, ns: dict[str, Any]) -> tuple[Any, tuple[Any, ...],
                                                                dict[str, Any]]:
    """Evaluate the callee and the arguments once, in the user's namespace."""
    fn = _eval(call.func, ns)
    args: list[Any] = []
    for a in call.args:
        if isinstance(a, ast.Starred):
            args.extend(_eval(a.value, ns))
        else:
            args.append(_eval(a, ns))
    kwargs: dict[str, Any] = {}
    for kw in call.keywords:
        if kw.arg is None:
            kwargs.update(_eval(kw.value, ns))
        else:
            kwargs[kw.arg] = _eval(kw.value, ns)
    return fn, tuple(args), kwargs


def _already_compiled(fn: Any) -> list[str]:
    from jitwarm.adapters import adapter_for

    try:
        held = adapter_for(fn).specializations(fn)
    except Exception:  # best effort: a warning, not a measurement
        return []
    if held:
        return [f"{getattr(fn, '__name__', 'the function')} already held {held} compiled "
                "specialisation(s) before this run: its first call here was probably warm"]
    return []


def _profile_call(fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any], max_calls: int,
                  max_time_s: float, label: str) -> Any:
    from jitwarm._api import profile

    result = profile(fn, *args, kwargs=kwargs, max_calls=max_calls, max_time_s=max_time_s)
    result.case["statement"] = label
    return result


# --------------------------------------------------------------------------- a cell


def _names(tree: ast.AST) -> list[str]:
    """Names the code reads, in source order, each once."""
    seen: dict[str, None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            seen.setdefault(node.id, None)
    return list(seen)


def _cell_function(code: str, ns: dict[str, Any]) -> tuple[Any, Any, str]:
    """Compile ``code`` into a zero-argument function over the user's namespace.

    The value of a final expression is returned (so frameworks can synchronise on it).
    Returns the function, the adapter to record compile events with, and a label."""
    from jitwarm.adapters import FALLBACK, adapter_for

    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise IPythonUsageError(f"cannot parse the code: {exc.msg} (line {exc.lineno})") from None
    body = list(tree.body) or [ast.Pass()]
    if isinstance(body[-1], ast.Expr):
        body[-1] = ast.Return(value=body[-1].value)
    module = ast.parse("def __jitwarm_cell__():\n    pass\n")  # any Python version's AST
    module.body[0].body = body  # type: ignore[attr-defined]
    ast.fix_missing_locations(module)
    local: dict[str, Any] = {}
    exec(compile(module, "<jitwarm cell>", "exec"), ns, local)  # noqa: S102 - user's code
    adapter = FALLBACK
    for name in _names(tree):
        if name in ns:
            try:
                found = adapter_for(ns[name])
            except Exception:
                continue
            if found is not FALLBACK:
                adapter = found
                break
    lines = [ln for ln in code.strip().splitlines() if ln.strip()]
    label = lines[0] + (" …" if len(lines) > 1 else "") if lines else "cell"
    return local["__jitwarm_cell__"], _CellAdapter(adapter), label


class _CellAdapter(Adapter):
    """A framework's compile events and synchronisation for code that is not its callable.

    Per-callable facts (disk cache, specialisations, the function's own compile) are not
    available for a cell: the base adapter's "unknown" answers stand."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.needs_sync = inner.needs_sync
        self.module = inner.module

    def recorder(self) -> Any:
        return self.inner.recorder()

    def sync(self, result: Any) -> None:
        if result is not None:
            self.inner.sync(result)

    def version(self) -> str | None:
        return self.inner.version()

    def runtime_info(self) -> dict[str, Any]:
        return self.inner.runtime_info()


def _profile_cell(fn: Any, adapter: _CellAdapter, max_calls: int, max_time_s: float,
                  label: str) -> Any:
    """:func:`jitwarm.profile` for a cell function, with the cell's framework adapter."""
    from jitwarm._api import measure_in_process
    from jitwarm.cases.targets import Built
    from jitwarm.measure.process import Settings

    case = {"target": None, "name": label, "file": None, "module": "__main__",
            "statement": label}
    settings = Settings(max_calls=max_calls, max_time_s=max_time_s)
    return measure_in_process(Built(fn=fn, args=(), kwargs={}), adapter, settings, case)


# --------------------------------------------------------------------------- output


def format_report(result: Any, label: str) -> str:
    """The magic's plain-text report (the terminal and the notebook's text output)."""
    s = result.summary("in-process") or {}
    p = result.states["in-process"]["processes"][0]
    fw = result.framework or "python"
    version = p.get("framework_version")
    lines = [f"jitwarm {label}   [in this process; {fw}{' ' + version if version else ''}]"]
    lines.append(f"  first call    {fmt_ns(s.get('first_call_ns'))}")
    events = len(p.get("compile_events") or [])
    detail = f"{events} compile event(s)"
    if s.get("function_compile_ns") is not None:
        detail += f"; the function's own compile {fmt_ns(s['function_compile_ns'])}"
    if s.get("runtime_init_ns") is not None:
        detail += f"; other one-time work {fmt_ns(s['runtime_init_ns'])}"
    lines.append(f"    compile     {fmt_ns(s.get('compile_ns'))}   ({detail})")
    ci = s.get("warm_ci_ns")
    warm = fmt_ns(s.get("warm_median_ns"))
    if ci:
        warm += f"  [CI {fmt_ns(ci[0])} – {fmt_ns(ci[1])}]"
    steady = s.get("steady_state_call")
    lines.append(f"  warm median   {warm}   "
                 + (f"steady from call {steady}" if steady is not None else "no steady state")
                 + f", {s.get('classification')}")
    n_calls = sum(1 for _ in p.get("timings_ns") or [])
    lines.append(f"  first÷warm    {fmt_ratio(s.get('first_over_warm'))}   "
                 f"({n_calls} series elements, stopped: {p.get('stop_reason')})")
    if s.get("recompiles"):
        lines.append(f"  recompiles    {s['recompiles']} during the warm calls")
    for note in result.notes:
        lines.append(f"  caveat: {note}")
    return "\n".join(lines)
