"""The HTML report in a real browser (headless Chromium): what a person sees.

Skips only when no Chromium can be found (``make test`` installs it). The screenshot is kept
in ``test-artifacts/report.png`` for a human look.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from _reports_synth import result

from jitwarm._units import fmt_ns
from jitwarm.report.html import write_html
from jitwarm.results.findings import state_verdict
from jitwarm.results.profile import ProfileResult

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"


def find_chromium() -> str | None:
    env = os.environ.get("JITWARM_CHROMIUM")
    if env:
        return env
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium not found (apt-get install chromium, or set JITWARM_CHROMIUM)",
)


def chromium(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with a throw-away profile and no network services."""
    with tempfile.TemporaryDirectory(prefix="jitwarm-chromium-") as profile:
        return subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
             f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=timeout,
        )


class _Text(HTMLParser):
    """Visible text of a DOM: skips <style>, <title> and anything under <svg>'s defs."""

    def __init__(self) -> None:
        super().__init__()
        self.skip = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "title", "head"):
            self.skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "title", "head") and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> tuple[Path, list[ProfileResult]]:
    d = tmp_path_factory.mktemp("browser")
    rs = [ProfileResult.from_dict(result("poly", processes=3, seed=1)),
          ProfileResult.from_dict(result("array_kernel", processes=3, seed=2, warm_ns=1.4e5,
                                         cold_first_ns=2.5e9, recompile_at=(140,)))]
    return write_html(rs, d / "report.html"), rs


def test_rendered_dom_shows_the_key_figures(page) -> None:
    path, rs = page
    proc = chromium("--dump-dom", path.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert "<svg" in dom and "</html>" in dom
    t = _Text()
    t.feed(dom)
    text = " ".join(" ".join(t.parts).split())
    for r in rs:
        cold = r.summary("cold")
        assert fmt_ns(cold["first_call_ns"]) in text  # cold first call
        assert fmt_ns(cold["warm_median_ns"]) in text  # warm median
        assert cold["classification"] in text  # Barrett's classes, as the detail
        verdict = state_verdict(r.states["cold"])  # the verdict in words
        assert " ".join(verdict.text.split()) in text
    assert "array_kernel" in text and "Compile events" in text


def test_screenshot_is_a_real_page(page) -> None:
    import matplotlib.image as mpimg
    import numpy as np

    path, _ = page
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    proc = chromium(f"--screenshot={shot}", "--window-size=1280,2000", "--hide-scrollbars",
                    path.as_uri())
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    img = mpimg.imread(shot)
    assert img.shape[:2] == (2000, 1280)
    # the dark page header is drawn at the top, and the body is not blank
    assert np.allclose(img[20, 640, :3], [0x0F / 255, 0x17 / 255, 0x2A / 255], atol=0.03)
    body = img[200:1900, :, :3]
    assert body.std() > 0.05
    assert len(np.unique((body * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 200
