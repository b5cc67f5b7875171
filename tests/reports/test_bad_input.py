"""Bad input to the result, report and history commands (issue 12): each is one clear line
on stderr and exit 2, never a traceback. ``cli`` runs the app with exceptions propagating,
so a traceback fails the test instead of being swallowed."""

from __future__ import annotations

import copy
import json
import os
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest
from _reports_synth import cli, result, write

from conftest import run_cli
from jitwarm._errors import shown
from jitwarm.results.profile import ProfileResult
from jitwarm.store.history import History, HistoryError, store_result


def one_line(proc: Any) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error:") and proc.stderr.count("\n") == 1, proc.stderr
    return proc.stderr


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return write(tmp_path / "good.json", result(processes=2))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "h.db"
    with History(path) as h:
        for seed in (1, 2, 3):
            h.add(result(processes=2, seed=seed))
    return path


# --------------------------------------------------------------------------- run ids


@pytest.mark.parametrize("ref", ["99999999999999999999", "-99999999999999999999",
                                 "latest~99999999999999999999", "9223372036854775808"])
def test_run_id_beyond_int64(db: Path, ref: str) -> None:
    assert "out of range" in one_line(cli("history", "show", "--db", str(db), "--", ref))


@pytest.mark.parametrize("ref", ["latest~-2", "latest~+1", "latest~", "1e3", "1_000", "٣"])
def test_malformed_run_refs_are_refused(db: Path, ref: str) -> None:
    """``latest~-2`` used to mean run 1; ``int()`` also took ``1_000`` and Arabic digits."""
    assert "run id must be" in one_line(cli("history", "show", "--db", str(db), "--", ref))


def test_valid_run_refs_still_work(db: Path) -> None:
    for ref, run in (("latest", 3), ("latest~0", 3), ("latest~2", 1), ("-1", 3), ("2", 2)):
        proc = cli("history", "show", "--db", str(db), "--", ref)
        assert proc.returncode == 0 and proc.stdout.startswith(f"run {run}:"), proc.stderr


def test_compare_with_an_out_of_range_id(db: Path, good: Path) -> None:
    one_line(cli("history", "compare", "99999999999999999999", str(good), "--db", str(db)))


# --------------------------------------------------------------------------- file content


def test_non_utf8_files(tmp_path: Path, good: Path) -> None:
    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{"schema": "jitwarm.profile/1", "case": {"name": "caf\xe9"}}')
    assert "not UTF-8" in one_line(cli("report", str(bad), "-o", str(tmp_path / "r.html")))
    assert "not UTF-8" in one_line(cli("history", "compare", str(bad), str(good)))
    assert "not UTF-8" in one_line(cli("history", "compare", str(good), str(bad)))


def test_a_byte_order_mark_is_accepted(tmp_path: Path, good: Path) -> None:
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + good.read_bytes())
    proc = cli("history", "compare", str(bom), str(good), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["a"] == "bom.json"
    assert ProfileResult.load(bom).case["name"] == "poly"


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000,
                                  '{"a":' * 100_000 + "1" + "}" * 100_000])
def test_deeply_nested_json(tmp_path: Path, good: Path, text: str) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text(text, encoding="utf-8")
    assert "nested too deeply" in one_line(cli("report", str(deep), "-o",
                                               str(tmp_path / "r.html")))
    assert "nested too deeply" in one_line(cli("history", "compare", str(deep), str(good)))


def test_huge_integer_literal(tmp_path: Path) -> None:
    f = tmp_path / "digits.json"
    f.write_text('{"schema": "jitwarm.profile/1", "x": ' + "9" * 5000 + "}", encoding="utf-8")
    one_line(cli("report", str(f), "-o", str(tmp_path / "r.html")))


@pytest.mark.slow  # many CLI runs (seconds)
def test_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    """A FIFO with no writer blocked ``report`` forever; a subprocess with a timeout so a
    regression fails instead of hanging the suite."""
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    for args in (("report", str(fifo), "-o", str(tmp_path / "r.html")),
                 ("history", "compare", str(fifo), str(fifo)),
                 ("analyze", str(fifo))):
        try:
            proc = run_cli(*args, timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{args[0]} blocked on a FIFO")
        assert proc.returncode == 2 and "not a regular file" in proc.stderr, proc.stderr
        assert proc.stderr.count("\n") == 1


# --------------------------------------------------------------------------- field types

#: (path into the result, a wrong value) pairs the type check must refuse
WRONG: list[tuple[tuple[Any, ...], Any]] = [
    (("states", "cold", "processes", 0, "timings_ns"), "1,2,3"),
    (("states", "cold", "processes"), {"0": {}}),
    (("states", "cold", "summary"), None),
    (("states", "cold", "summary", "first_call_ns"), "5000"),
    (("states", "cold"), None),
    (("states",), []),
    (("case",), "poly"),
]

#: typed fields a fuzzer may hit, and the wrong values it may put there
FIELDS = [
    ("states", "cold", "processes", 0, "timings_ns"),
    ("states", "cold", "processes", 0, "timings_ns", 3),
    ("states", "cold", "processes", 1, "first_call_ns"),
    ("states", "cold", "processes", 1, "warm_median_ns"),
    ("states", "cold", "processes", 0, "batch_sizes"),
    ("states", "cold", "processes", 0, "batch_sizes", 1),
    ("states", "cold", "processes", 0, "compile_events"),
    ("states", "cold", "processes", 0, "compile_events", 0, "duration_ns"),
    ("states", "cold", "processes", 0, "cache"),
    ("states", "cold", "processes", 0, "cache", "hits"),
    ("states", "cold", "processes", 0, "steady_ci_ns"),
    ("states", "cold", "processes", 0, "status"),
    ("states", "cold", "processes", 0),
    ("states", "cached", "summary"),
    ("states", "cached", "summary", "warm_median_ns"),
    ("states", "cached", "summary", "warm_ci_ns"),
    ("states", "cached", "summary", "classification"),
    ("states", "cached", "summary", "classifications"),
    ("states", "cold", "processes"),
    ("states", "cold"),
    ("states",),
    ("case",),
    ("case", "name"),
    ("environment",),
    ("environment", "versions"),
    ("settings", "max_calls"),
    ("skipped_states",),
    ("notes",),
    ("notes", 0),
    ("error",),
]


def _wrong_values(rng: random.Random, current: Any) -> Any:
    """A value of another type than ``current`` (strings of numbers included)."""
    if isinstance(current, bool):
        pool: list[Any] = ["true", 1.5, [], {}]
    elif isinstance(current, (int, float)):
        pool = [str(current), [current], {"v": current}, True, float("nan"), float("inf")]
    elif isinstance(current, str):
        pool = [17, [current], {"s": current}, False]
    elif isinstance(current, list):
        pool = [json.dumps(current)[:50], {"0": current[:1]}, 3, "", True]
    elif isinstance(current, dict):
        pool = [[], "obj", 0, [current], False]
    else:
        pool = [[], "x", 0]
    if current is not None and not (isinstance(current, (dict, list))
                                    and current is not None and current == []):
        pool.append(None)
    return rng.choice(pool)


def _set(d: Any, path: tuple[Any, ...], value: Any) -> None:
    for k in path[:-1]:
        d = d[k]
    d[path[-1]] = value


def _get(d: Any, path: tuple[Any, ...]) -> Any:
    for k in path:
        d = d[k]
    return d


NULLABLE = {"cache", "steady_ci_ns", "error", "classification", "status", "name",
            "warm_median_ns", "first_call_ns", "duration_ns", "hits", "max_calls",
            "classifications", "warm_ci_ns", "batch_sizes", "compile_events", "timings_ns",
            "versions", "environment", "case", "skipped_states", "notes", "settings"}


@pytest.mark.parametrize("path,value", WRONG)
def test_wrong_field_types_name_the_field(tmp_path: Path, path: tuple[Any, ...],
                                          value: Any) -> None:
    data = result(processes=2)
    _set(data, path, value)
    f = write(tmp_path / "mut.json", data)
    err = one_line(cli("report", str(f), "-o", str(tmp_path / "r.html")))
    assert ".".join(str(k) for k in path[:2]) in err


@pytest.mark.slow  # many CLI runs (seconds)
def test_fuzzed_field_types_exit_2_in_one_line(tmp_path: Path, good: Path) -> None:
    """Seeded: 60 mutations of typed fields of a real result, each one wrong type (or a
    null where an object is required); ``report`` and ``history compare`` both refuse it
    with one line before drawing anything."""
    rng = random.Random(12)
    base = result(processes=2)
    base["notes"] = ["a caveat"]
    seen = 0
    for i in range(60):
        data = copy.deepcopy(base)
        path = rng.choice(FIELDS)
        current = _get(data, path)
        value = _wrong_values(rng, current)
        if value is None and path[-1] in NULLABLE:
            continue  # null is a valid "not measured" for these
        _set(data, path, value)
        f = write(tmp_path / f"m{i}.json", data)
        for args in (("report", str(f), "-o", str(tmp_path / "r.html")),
                     ("history", "compare", str(good), str(f))):
            err = one_line(cli(*args))
            assert "Traceback" not in err
        assert not (tmp_path / "r.html").exists()
        seen += 1
    assert seen >= 40


@pytest.mark.slow  # many CLI runs (seconds)
def test_fuzzed_anything_never_a_traceback(tmp_path: Path, good: Path) -> None:
    """Seeded: any field anywhere (known or not) replaced by a value of another type:
    ``history compare`` either works or says one line; never a traceback."""
    rng = random.Random(7)
    base = result(processes=2)

    def paths(d: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        out = []
        items = d.items() if isinstance(d, dict) else enumerate(d) if isinstance(d, list) \
            else []
        for k, v in items:
            if isinstance(k, int) and k > 3:
                continue
            out.append((*prefix, k))
            out.extend(paths(v, (*prefix, k)))
        return out

    every = [p for p in paths(base) if p != ("schema",)]
    for i in range(80):
        data = copy.deepcopy(base)
        path = rng.choice(every)
        _set(data, path, _wrong_values(rng, _get(data, path)))
        f = write(tmp_path / f"any{i}.json", data)
        proc = cli("history", "compare", str(good), str(f), "--json")
        if proc.returncode != 0:
            one_line(proc)


def test_a_stored_run_with_wrong_types_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    bad = result(processes=2)
    bad["states"]["cold"]["processes"][0]["timings_ns"] = "oops"
    with History(path) as h:
        h.add(bad)
    one_line(cli("history", "show", "1", "--db", str(path)))
    one_line(cli("history", "compare", "1", "1", "--db", str(path)))


# --------------------------------------------------------------------------- terminal text


def test_markup_and_emoji_codes_in_user_text_are_printed_as_typed(tmp_path: Path) -> None:
    """A case named ``a:b:c [red]x[/red]`` was shown as 'a🅱c x' (emoji code, markup eaten)."""
    data = result(processes=2, name="a:b:c [red]x[/red] :smile:")
    data["case"]["target"] = "bench.py::[bold]t[/bold]"
    path = tmp_path / "h.db"
    with History(path) as h:
        h.add(data)
    proc = cli("history", "show", "1", "--db", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "a:b:c [red]x[/red] :smile:" in proc.stdout
    assert "[bold]t[/bold]" in proc.stdout and "🅱" not in proc.stdout
    lst = cli("history", "list", "--db", str(path))
    assert "a:b:c [red]x[/red]" in lst.stdout


def test_shown_escapes_and_truncates() -> None:
    assert shown("a\x1b[31mb\nc\u202e") == "a\\e[31mb\\nc\\u202e"
    long = shown("x" * 10_000)
    assert len(long) == 200 and long.endswith("…")
    assert shown("plain") == "plain"


def test_long_and_control_character_paths_in_messages(tmp_path: Path) -> None:
    name = "\x1b[2J" + "d" * 3000 + ".json"
    err = one_line(cli("report", str(tmp_path / name)))
    assert "\x1b" not in err and len(err) < 400


# --------------------------------------------------------------------------- read-only history


def test_history_in_a_read_only_folder(tmp_path: Path) -> None:
    """Reading commands work there (``mode=ro``/``immutable``); storing is one clear error.
    A read-only mount, since root ignores permission bits."""
    d = tmp_path / "ro"
    d.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(d)], check=True,
                       capture_output=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {exc}")
    try:
        with History(d / "h.db") as h:
            h.add(result(processes=2))
        subprocess.run(["mount", "-o", "remount,ro", str(d)], check=True, capture_output=True)
        lst = cli("history", "list", "--db", str(d / "h.db"))
        assert lst.returncode == 0 and "poly" in lst.stdout, lst.stderr
        show = cli("history", "show", "latest", "--db", str(d / "h.db"))
        assert show.returncode == 0 and show.stdout.startswith("run 1:"), show.stderr
        with pytest.raises(HistoryError, match="read-only"):
            store_result(ProfileResult.from_dict(result(processes=2)), d / "h.db")
        assert sorted(os.listdir(d)) == ["h.db"]
    finally:
        subprocess.run(["umount", "-l", str(d)], check=False, capture_output=True)


@pytest.mark.parametrize("where,value,said", [
    (("states", "cold", "processes", 0, "first_call_ns"), -5, "a duration must be"),
    (("states", "cold", "processes", 0, "timings_ns", 0), 1e17, "a duration must be"),
    (("states", "cold", "summary", "first_call_ns"), -1, "a duration must be"),
    (("states", "cold", "processes", 0, "index"), 1e300, "out of range"),
])
def test_negative_or_absurd_durations_are_refused(tmp_path: Path, where: tuple[Any, ...],
                                                  value: float, said: str) -> None:
    """A crafted result with a duration no measurement gives (negative, or longer than
    days) is refused in one line instead of being rendered as such."""
    data = result(processes=2)
    node = data
    for k in where[:-1]:
        node = node[k]
    node[where[-1]] = value
    f = write(tmp_path / "mut.json", data)
    err = one_line(cli("report", str(f), "-o", str(tmp_path / "r.html")))
    assert said in err and str(where[-1] if isinstance(where[-1], str) else where[-2]) in err
