"""The HTML report: self-contained, escaped, complete; findings derived from the data."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from _reports_synth import result

from jitwarm._units import fmt_ns
from jitwarm.report.html import render, write_html
from jitwarm.results.findings import findings
from jitwarm.results.profile import ProfileResult


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(text: str) -> _Collect:
    c = _Collect()
    c.feed(text)
    return c


def test_self_contained_and_complete(tmp_path: Path) -> None:
    data = result("poly", processes=2, recompile_at=(150,))
    r = ProfileResult.from_dict(data)
    path = write_html(r, tmp_path / "r.html")
    text = path.read_text(encoding="utf-8")
    doc = _parse(text)
    tags = [t for t, _ in doc.tags]
    assert "script" not in tags and "link" not in tags and "img" not in tags
    assert tags.count("svg") == 3  # breakdown, overlay, timelines: inline
    for _, attrs in doc.tags:  # nothing fetched from anywhere
        for k in ("src", "href"):
            v = attrs.get(k) or ""
            assert not v or v.startswith("#"), (k, v)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", text)
    assert "@import" not in text
    words = " ".join(doc.text)
    s = data["states"]["cold"]["summary"]
    assert fmt_ns(s["first_call_ns"]) in words
    assert fmt_ns(s["warm_median_ns"]) in words
    # the verdict in words, with Barrett's per-process classes as the detail
    from jitwarm.results.findings import state_verdict

    verdict = state_verdict(data["states"]["cold"])
    assert f"cold: {verdict.label}" in words and verdict.text in words
    assert s["classification"] in words
    # every compile event has a row: cold 2 x (first-call compile + recompile), cached 2 x 1
    n_events = sum(len(p["compile_events"]) for st in data["states"].values()
                   for p in st["processes"])
    assert n_events == 6 and "Compile events (6)" in words
    assert words.count("new batch size 8") == 4
    # the environment
    assert "Test CPU" in words and "0.60.0" in words


def test_everything_from_the_data_is_escaped() -> None:
    data = result("<script>alert(1)</script>", processes=1)
    data["environment"]["cpu_model"] = '"><img src=x onerror=alert(2)>'
    data["states"]["cold"]["processes"][0]["compile_events"][0]["signature"] = "<b>sig</b>"
    data["notes"] = ["<iframe src='http://evil.invalid'>"]
    text = render(ProfileResult.from_dict(data), plots=False)
    assert "<script>" not in text and "<img" not in text and "<iframe" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;b&gt;sig&lt;/b&gt;" in text
    tags = {t for t, _ in _parse(text).tags}
    assert not tags & {"script", "img", "iframe", "b"}


def test_several_results_one_page() -> None:
    rs = [ProfileResult.from_dict(result(n, processes=1, seed=i))
          for i, n in enumerate(("poly", "array_kernel", "poly"))]
    text = render(rs, plots=False)
    ids = re.findall(r'<section class="case" id="([^"]+)"', text)
    assert ids == ["poly", "array_kernel", "poly-2"]
    for i in ids:
        assert f'href="#{i}"' in text


def test_findings_are_derived_from_the_data() -> None:
    r = ProfileResult.from_dict(result(processes=5, recompile_at=(150, 160, 170)))
    lines = findings(r)
    text = "\n".join(lines)
    cold = r.summary("cold")
    cached = r.summary("cached")
    saved = cold["first_call_ns"] - cached["first_call_ns"]
    assert f"The disk cache saved {fmt_ns(saved)}" in text
    assert f"({100 * saved / cold['first_call_ns']:.0f}%)" in text
    assert "cold: 3 recompile(s) per process" in text
    assert "new batch size" in text and "@njit" in text  # numba-specific advice
    # no recompiles → no recompile advice; no cache gain → said plainly
    r2 = ProfileResult.from_dict(result(cached_first_ns=5e8))
    text2 = "\n".join(findings(r2))
    assert "recompile" not in text2
    assert "did not measurably shorten the first call" in text2


def test_error_result_is_shown() -> None:
    data = result(processes=1)
    data["status"] = "error"
    data["error"] = {"state": "cold", "index": 0, "phase": "setup",
                     "message": "ValueError: boom", "traceback": "Traceback...\nValueError: boom"}
    text = render(ProfileResult.from_dict(data), plots=False)
    assert "The measured code failed" in text and "ValueError: boom" in text


def test_in_process_result_renders(tmp_path: Path) -> None:
    import jitwarm
    from jitwarm.report.plots import save_plot

    r = jitwarm.profile(lambda n: sum(range(n)), 50, max_calls=200, max_time_s=0.5)
    assert list(r.states) == ["in-process"]
    text = render(r)
    words = " ".join(_parse(text).text)
    s = r.summary("in-process")
    assert "in-process first call" in words.lower()
    assert fmt_ns(s["first_call_ns"]) in words and fmt_ns(s["warm_median_ns"]) in words
    assert save_plot(r, tmp_path / "p.png").stat().st_size > 1000
