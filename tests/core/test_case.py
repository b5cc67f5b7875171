"""Target resolution and case validation (no processes)."""

from __future__ import annotations

import pytest

from jitwarm._errors import UsageError
from jitwarm.cases.targets import case, discover_cases, resolve_target, validate_built

SRC = """
import jitwarm
from jitwarm import case as c

@jitwarm.case
def first():
    return (lambda x: x), (1,)

@jitwarm.case(name="renamed")
def second():
    return (lambda x: x), (1,)

def not_a_case():
    pass
"""


def test_discover_finds_decorated_cases_without_importing(case_file):
    path = case_file(SRC + "\nraise SystemExit('importing would fail')\n")
    assert discover_cases(path) == ["first", "renamed"]


def test_resolve_forms(case_file):
    path = case_file(SRC)
    t = resolve_target(f"{path}::renamed")
    assert t.name == "renamed" and t.file == str(path.resolve())
    with pytest.raises(UsageError, match="several cases"):
        resolve_target(str(path))
    t2 = resolve_target("jitwarm.examples.numba_cases:poly")
    assert t2.name == "poly" and t2.module == "jitwarm.examples.numba_cases"


@pytest.mark.parametrize(
    "spec, match",
    [
        ("missing_file.py", "target file not found"),
        ("no/such/dir/x.py::c", "target file not found"),
        ("", "empty target"),
        ("no_such_module_xyz:case", "neither a file nor an importable module"),
    ],
)
def test_resolve_errors(spec, match):
    with pytest.raises(UsageError, match=match):
        resolve_target(spec)


def test_unknown_and_no_case(case_file):
    path = case_file(SRC)
    with pytest.raises(UsageError, match="unknown case 'nope'.*first, renamed"):
        resolve_target(f"{path}::nope")
    empty = case_file("x = 1\n", name="empty.py")
    with pytest.raises(UsageError, match="no case found"):
        resolve_target(str(empty))
    broken = case_file("def (:\n", name="broken.py")
    with pytest.raises(UsageError, match="cannot parse"):
        resolve_target(str(broken))


def test_validate_built_shapes():
    b = validate_built((len, [[1, 2]]), "c")
    assert b.args == ([1, 2],) and b.kwargs == {}
    b = validate_built((sorted, ([3, 1],), {"reverse": True}), "c")
    assert b.fn([3, 1], **b.kwargs) == [3, 1]
    for bad in (len, (len,), (1, ()), (len, 5), (len, (), []), (len, (), {1: 2}), (len, (), {}, 4)):
        with pytest.raises(UsageError, match="expected \\(callable, args\\)"):
            validate_built(bad, "c")


def test_case_decorator_marks():
    @case
    def a():
        return len, ()

    @case(name="b")
    def other():
        return len, ()

    assert a.__jitwarm_case__ == "a" and other.__jitwarm_case__ == "b"
