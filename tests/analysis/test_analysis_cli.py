"""cli.main: input formats, JSON/plain output, and clean failures on bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from jitwarm.cli.analyze import main


def _warm(n=300, seed=0):
    x = 1000 * (1 + 0.01 * np.random.default_rng(seed).normal(size=n))
    x[:60] *= 2
    return [float(v) for v in x]


def _run(capsys, tmp_path, content, as_json=True, name="t.json"):
    p = tmp_path / name
    p.write_text(content if isinstance(content, str) else json.dumps(content))
    rc = main(str(p), as_json=as_json)
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("wrap", ["list", "timings", "text"])
def test_single_series_formats(capsys, tmp_path, wrap):
    s = _warm()
    content = {"list": s, "timings": {"timings": s}, "text": "\n".join(map(str, s)) + "\n"}[wrap]
    rc, out, err = _run(capsys, tmp_path, content, name="t.txt" if wrap == "text" else "t.json")
    assert rc == 0 and err == ""
    d = json.loads(out)
    assert d["classification"] == "warmup"
    assert abs(d["steady_state_start"] - 60) <= 2
    for k in ("steady_median", "change_points", "outliers"):
        assert k in d


def test_processes_and_plain_text(capsys, tmp_path):
    rc, out, _ = _run(capsys, tmp_path, {"processes": [_warm(seed=s) for s in range(3)]})
    d = json.loads(out)
    assert rc == 0 and d["consistency"] == "consistent warmup" and len(d["processes"]) == 3
    rc, out, _ = _run(capsys, tmp_path, {"processes": [_warm()]}, as_json=False)
    assert rc == 0 and "consistent warmup" in out and "steady state from call" in out


def test_profile_result(capsys, tmp_path):
    prof = {
        "schema": "jitwarm.profile/1",
        "states": {
            "cold": {"processes": [{"timings_ns": _warm(seed=s)} for s in range(2)]},
            "cached": {"processes": [{"timings_ns": _warm(seed=5)}]},
            "broken": {"processes": [{"status": "error", "error": "boom"}]},
        },
    }
    rc, out, _ = _run(capsys, tmp_path, prof)
    d = json.loads(out)
    assert rc == 0 and set(d["states"]) == {"cold", "cached", "broken"}
    assert d["states"]["broken"]["consistency"] == "no-data"
    assert d["states"]["cold"]["consistency"] == "consistent warmup"
    rc, out, _ = _run(capsys, tmp_path, prof, as_json=False)
    assert rc == 0 and "state cold" in out


@pytest.mark.parametrize(
    "content",
    [
        "[1, 2,",
        "",
        "[]",
        "[1, 2, NaN]",
        '{"timings": [1, Infinity]}',
        "[1, -2, 3]",
        "1\n2\nabc\n",
        "1\nnan\n",
        '{"processes": []}',
        '{"processes": [[1, 2], []]}',
        '{"foo": 1}',
        '"just a string"',
        '{"schema": "jitwarm.profile/1", "states": {"a": {}}}',
        '{"schema": "jitwarm.profile/1", "states": {"a": {"processes": [{"status": "error"}]}}}',
        '[1, "x"]',
        "[[1, 2]]",
    ],
)
def test_bad_input(capsys, tmp_path, content):
    rc, out, err = _run(capsys, tmp_path, content)
    assert rc == 2
    assert out == ""
    assert err.startswith("error:") and err.count("\n") == 1
    assert "Traceback" not in err


def test_missing_file(capsys, tmp_path):
    rc = main(str(tmp_path / "nope.json"))
    _, err = capsys.readouterr()
    assert rc == 2 and "no such file" in err


def test_directory_is_bad_input(capsys, tmp_path):
    rc = main(str(tmp_path))
    _, err = capsys.readouterr()
    assert rc == 2 and err.startswith("error:")


def test_json_output_is_standard_json_non_finite_as_null(capsys, tmp_path):
    """A series near the float limit has an infinite steady median: it was printed as
    ``Infinity``, which strict JSON parsers refuse; now ``null``."""
    rc, out, _ = _run(capsys, tmp_path, [1e308] * 50)
    assert rc == 0

    def strict(name):
        raise ValueError(f"non-standard JSON constant {name}")

    d = json.loads(out, parse_constant=strict)
    assert d["steady_median"] is None


def test_byte_order_mark_is_accepted(capsys, tmp_path):
    p = tmp_path / "bom.json"
    p.write_bytes(b"\xef\xbb\xbf" + json.dumps(_warm()).encode())
    assert main(str(p), as_json=True) == 0
    p.write_bytes(b"\xef\xbb\xbf" + "\n".join(map(str, _warm())).encode())
    assert main(str(p)) == 0


@pytest.mark.parametrize("raw,message", [
    (b"\xff\xfe1\n2\n", "not UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b"[" + b"9" * 400 + b"]", "too large"),
])
def test_undecodable_deep_or_huge_input_is_one_line(capsys, tmp_path, raw, message):
    p = tmp_path / "bad.json"
    p.write_bytes(raw)
    rc = main(str(p), as_json=True)
    out, err = capsys.readouterr()
    assert rc == 2 and out == "" and message in err
    assert err.startswith("error:") and err.count("\n") == 1


def test_messages_quote_at_most_a_short_piece_of_the_input(capsys, tmp_path):
    p = tmp_path / "long.txt"
    p.write_text("1\n" + "x" * 50_000 + "\x1b[2J\n", encoding="utf-8")
    assert main(str(p)) == 2
    err = capsys.readouterr().err
    assert len(err) < 400 and "\x1b" not in err and err.count("\n") == 1
