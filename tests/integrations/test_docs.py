"""The documentation: strict MkDocs build, CLI reference matching the live CLI, pictures."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mkdocs")

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        cwd=config.parent, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    proc = mkdocs_build(REPO / "mkdocs.yml", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WARNING" not in proc.stderr, proc.stderr
    return out


def _page(site: Path, md: str) -> Path:
    rel = Path(md).with_suffix("")
    return site / ("index.html" if md == "index.md" else rel / "index.html")


def test_every_page_is_built_and_in_the_nav(site: Path):
    home = (site / "index.html").read_text(encoding="utf-8")
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    assert {"index.md", "statistics.md", "cli.md", "pytest.md", "notebooks.md"} <= set(pages)
    for md in pages:
        assert _page(site, md).exists(), md
        if md != "index.md":
            href = Path(md).with_suffix("").as_posix() + "/"
            assert f'href="{href}"' in home, f"{md} is not in the navigation"


def _help(*args: str) -> str:
    """``jitwarm ARGS --help`` as a user sees it (typer's runner, in this process)."""
    from typer.testing import CliRunner

    from jitwarm.cli.main import app

    res = CliRunner().invoke(app, [*args, "--help"], prog_name="jitwarm",
                             env={"COLUMNS": "100", "NO_COLOR": "1"}, terminal_width=100)
    assert res.exit_code == 0, res.output
    return res.output


def _commands(help_text: str) -> list[str]:
    """Command names listed in the 'Commands' panel of a --help output."""
    box = help_text.split("Commands", 1)[1] if "Commands" in help_text else ""
    return re.findall(r"^│ ([a-z][\w-]*) ", box, flags=re.M)


def test_cli_reference_matches_the_live_cli(site: Path):
    """Every command and subcommand the real ``jitwarm --help`` lists has its section,
    with every option its own ``--help`` shows (the hook cannot drift from the CLI)."""
    page = _page(site, "cli.md").read_text(encoding="utf-8")
    top = _commands(_help())
    assert "profile" in top and "analyze" in top
    paths = [[c] for c in top]
    for c in top:
        paths += [[c, s] for s in _commands(_help(c))]
    assert len(paths) > len(top)  # groups (history, ...) have subcommands
    for path in paths:
        anchor = f'id="jitwarm-{"-".join(path)}"'
        assert anchor in page, path
        section = page.split(anchor, 1)[1].split('id="jitwarm-', 1)[0]
        options = set(re.findall(r"(--[a-z][\w-]+)", _help(*path)))
        assert "--help" in options
        for opt in options:
            assert opt in section, (path, opt)


def test_strict_build_fails_on_a_broken_link(tmp_path: Path):
    """The same configuration on a copy of the docs with one broken link fails; a link to
    a repository file outside docs/ is shown as its path instead of failing."""
    shutil.copy(REPO / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(DOCS, tmp_path / "docs", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "docs" / "cli.md").write_text("# Command line\n")  # faster: no CLI rendering
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "helper.py").write_text("x = 1\n")
    (tmp_path / "docs" / "extra-page.md").write_text(
        "# Extra page\n\nSee [the helper](../tools/helper.py) and [nothing](missing-page.md).\n")
    proc = mkdocs_build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert proc.returncode != 0
    assert "missing-page.md" in proc.stderr
    assert "helper.py" not in proc.stderr
    # without the broken link it builds, the new page is in the nav under "More"
    (tmp_path / "docs" / "extra-page.md").write_text(
        "# Extra page\n\nSee [the helper](../tools/helper.py).\n")
    proc = mkdocs_build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "site" / "extra-page" / "index.html").read_text(encoding="utf-8")
    assert "<code>tools/helper.py</code>" in page
    assert 'href="extra-page/"' in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")


def test_pictures_come_from_the_analysis(tmp_path: Path):
    """gen_pictures.py redraws every picture statistics.md shows, and the analysis still
    gives each series the verdict the page states (else the script exits non-zero)."""
    proc = subprocess.run([sys.executable, str(DOCS / "gen_pictures.py"), str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    drawn = sorted(p.name for p in tmp_path.glob("*.png"))
    shown = sorted(set(re.findall(r"\(img/([\w-]+\.png)\)",
                                  (DOCS / "statistics.md").read_text(encoding="utf-8"))))
    assert drawn == shown  # every picture drawn is shown, every picture shown is drawn
    assert set(shown) <= {p.name for p in (DOCS / "img").glob("*.png")}  # and committed
    text = (DOCS / "statistics.md").read_text(encoding="utf-8")
    for line in proc.stdout.splitlines():  # e.g. ".../warmup.png: warmup, steady from call 250"
        verdict = line.split(": ", 1)[1].split(",")[0]
        assert f"**{verdict}**" in text or f"consistent {verdict.split()[-1]}" in text, line
    assert "steady from call\n250" in text or "steady from call 250" in text
