"""The IPython extension in a real IPython shell: %load_ext, %jitwarm, %%jitwarm, HTML."""

from __future__ import annotations

import pytest

IPython = pytest.importorskip("IPython")

import sys  # noqa: E402

from IPython.core.error import UsageError  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from traitlets.config import Config  # noqa: E402

import jitwarm  # noqa: E402


@pytest.fixture(scope="module")
def ip():
    """A real IPython shell (no history file), without leaking into other tests: the
    interpreter state it takes over (``__main__``, hooks) is given back afterwards."""
    saved = sys.modules.get("__main__"), sys.displayhook, sys.excepthook
    cfg = Config()
    cfg.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(config=cfg)
    sys.modules["__main__"], sys.displayhook, sys.excepthook = saved
    shell.run_line_magic("load_ext", "jitwarm")
    yield shell
    InteractiveShell.clear_instance()
    sys.modules["__main__"], sys.displayhook, sys.excepthook = saved


def test_extension_registers_magics(ip):
    magics = ip.magics_manager.magics
    assert "jitwarm" in magics["line"] and "jitwarm" in magics["cell"]


def test_line_magic_numba_first_call_compile_and_warm(ip, capsys):
    pytest.importorskip("numba")
    ip.run_cell("from numba import njit\n\n@njit\ndef poly(x):\n    return x * x + 2 * x + 1\n")
    res = ip.run_line_magic("jitwarm", "-n 200 -t 1 -o poly(3)")
    out = capsys.readouterr().out
    assert isinstance(res, jitwarm.ProfileResult) and res.framework == "numba"
    s = res.summary("in-process")
    assert 0 < s["compile_ns"] <= s["first_call_ns"]
    assert s["warm_median_ns"] < s["first_call_ns"]
    assert res.case["statement"] == "poly(3)"
    for needle in ("jitwarm poly(3)", "[in this process; numba", "first call", "compile",
                   "warm median", "first÷warm", "caveat: measured in this process"):
        assert needle in out, out
    # measured again: the function is compiled now, and the magic says so
    res2 = ip.run_line_magic("jitwarm", "-n 100 -t 1 -o poly(3)")
    out = capsys.readouterr().out
    assert res2.summary("in-process")["compile_ns"] == 0
    assert "already held 1 compiled specialisation(s)" in out


def test_line_magic_plain_call_kwargs_and_statement(ip, capsys):
    ip.run_cell("calls = []\ndef g(x, *, k):\n    calls.append((x, k))\n    return x + k\n")
    ip.run_line_magic("jitwarm", "-n 60 -t 1 g(*[1], **{'k': 2})")
    out = capsys.readouterr().out
    assert "jitwarm g(*[1], **{'k': 2})   [in this process; python]" in out
    assert set(ip.user_ns["calls"]) == {(1, 2)}
    assert len(ip.user_ns["calls"]) >= 60
    # not a single call: measured as a statement
    res = ip.run_line_magic("jitwarm", "-n 60 -t 1 -q -o total = sum(range(100))")
    assert capsys.readouterr().out == ""
    assert res.framework == "python" and res.summary("in-process")["processes_ok"] == 1
    assert any("no framework callable" in n for n in res.notes)


def test_cell_magic(ip, capsys):
    ip.run_cell("def h(x):\n    return [i * x for i in range(50)]\n")
    res = ip.run_cell_magic("jitwarm", "-n 80 -t 1 -o", "y = h(2)\nlen(y)\n")
    out = capsys.readouterr().out
    assert res.case["name"] == "y = h(2) …"
    assert res.summary("in-process")["warm_median_ns"] > 0
    assert "jitwarm y = h(2) …" in out and "warm median" in out
    assert "y" not in ip.user_ns  # like %%timeit: assignments stay inside the measurement


def test_cell_magic_records_the_framework_compile(ip, capsys):
    """A cell naming a Numba function: its compile events are recorded for the cell."""
    pytest.importorskip("numba")
    ip.run_cell("from numba import njit\n\n@njit\ndef cube(x):\n    return x * x * x\n")
    res = ip.run_cell_magic("jitwarm", "-n 80 -t 1 -o", "v = 3\ncube(v) + 1\n")
    s = res.summary("in-process")
    assert res.framework == "numba" and 0 < s["compile_ns"] <= s["first_call_ns"]
    assert "[in this process; numba" in capsys.readouterr().out


def test_errors_are_usage_errors(ip, capsys):
    with pytest.raises(UsageError, match="-n x: expected a int"):
        ip.run_line_magic("jitwarm", "-n x poly(3)")
    with pytest.raises(UsageError, match="needs code"):
        ip.run_line_magic("jitwarm", "-n 10")
    ip.run_cell("def bad(x):\n    raise ValueError('nope ' + str(x))\n")
    with pytest.raises(UsageError, match="the first call raised ValueError: nope 5"):
        ip.run_line_magic("jitwarm", "bad(5)")
    assert "ValueError: nope 5" in capsys.readouterr().out  # the user's traceback, once


def test_rich_html_display(ip):
    res = ip.run_cell_magic("jitwarm", "-n 80 -t 1 -q -o", "sum(range(300))\n")
    html_formatter = ip.display_formatter.formatters["text/html"]
    enabled = html_formatter.enabled
    html_formatter.enabled = True  # as in a Jupyter kernel (a terminal shell turns it off)
    try:
        data, _ = ip.display_formatter.format(res)
    finally:
        html_formatter.enabled = enabled
    page = data["text/html"]
    for needle in ("jitwarm-result", "<table", "first call", "warm median ± CI",
                   "in-process", "caveat: measured in this process", "<svg"):
        assert needle in page
    s = res.summary("in-process")
    from jitwarm._units import fmt_ns

    assert fmt_ns(s["first_call_ns"]) in page
    assert data["text/plain"].startswith("<ProfileResult")


def test_import_jitwarm_stays_light():
    """``%load_ext jitwarm`` needs ``load_ipython_extension`` on the package, but
    ``import jitwarm`` must not import IPython (nor numpy) for it."""
    import subprocess
    import sys

    code = ("import sys, jitwarm; assert callable(jitwarm.load_ipython_extension); "
            "heavy = [m for m in ('IPython', 'jitwarm.integrations.ipython', 'numpy') if m in sys.modules]; "
            "print(heavy)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_html_of_a_fresh_process_result(tmp_path):
    """The rich display of a result measured in fresh processes (as profile_target gives)."""
    case = tmp_path / "bench_display.py"
    case.write_text("import jitwarm\n\n@jitwarm.case\ndef twice():\n"
                    "    return (lambda x: 2 * x), (4,)\n")
    res = jitwarm.profile_target(f"{case}::twice", processes=1, states="cold", max_calls=60,
                                 max_time_s=1)
    page = res._repr_html_()
    assert "1 fresh process(es) per cache state" in page and ">cold</td>" in page
    assert "1 ok" in page and "<svg" in page
    assert "in this process" not in page
