"""MkDocs hooks (``hooks:`` in mkdocs.yml), run at build time.

- ``on_config``: the navigation, built from the pages that exist: a preferred order for the
  known pages, then every other ``docs/*.md`` under "More", so a new page is never left
  out of the nav (and no nav entry points at a page that is not there).
- ``on_page_markdown``:
  - ``cli.md``: the ``<!-- jitwarm-cli -->`` marker is replaced by the live command
    line's own help: ``jitwarm --help``, then ``--help`` of every command and subcommand
    found by walking typer's click command tree. It cannot drift from the CLI.
  - every page: a relative link to a repository file outside ``docs/`` (a script in
    ``benchmarks/``, a source file) becomes its path in code, since the site does not
    carry those files; a link to a file that does not exist is left alone, so
    ``mkdocs build --strict`` reports it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

CLI_MARKER = "<!-- jitwarm-cli -->"

#: (section, title, file): the nav's order for the pages that exist
PREFERRED: list[tuple[str | None, str, str]] = [
    (None, "Home", "index.md"),
    ("Guides", "pytest plugin", "pytest.md"),
    ("Guides", "IPython & Jupyter", "notebooks.md"),
    ("Guides", "Frameworks", "frameworks.md"),
    ("Guides", "Eliminating warmup", "caching.md"),
    ("Guides", "Reports & history", "reports.md"),
    ("Guides", "Serving without warmup spikes", "serving.md"),
    ("Guides", "Fleets", "fleet.md"),
    ("Concepts", "Statistics in plain words", "statistics.md"),
    ("Concepts", "Steady-state analysis", "analysis.md"),
    ("Reference", "Command line", "cli.md"),
    ("Reference", "JSON result schema", "json-schema.md"),
    ("Reference", "Architecture", "ARCHITECTURE.md"),
    ("Reference", "Benchmarks", "benchmarks.md"),
]


def _title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip().strip("`")
    return path.stem.replace("-", " ").replace("_", " ")


def build_nav(docs_dir: Path) -> list[Any]:
    """The nav for the pages present in ``docs_dir`` (see the module docstring)."""
    present = {p.relative_to(docs_dir).as_posix() for p in docs_dir.rglob("*.md")}
    nav: list[Any] = []
    sections: dict[str, list[Any]] = {}
    listed = set()
    for section, title, file in PREFERRED:
        if file not in present:
            continue
        listed.add(file)
        if section is None:
            nav.append({title: file})
        else:
            if section not in sections:
                sections[section] = []
                nav.append({section: sections[section]})
            sections[section].append({title: file})
    rest = sorted(present - listed)
    if rest:
        nav.append({"More": [{_title(docs_dir / f): f} for f in rest]})
    return nav


def on_config(config: Any) -> Any:
    config["nav"] = build_nav(Path(config["docs_dir"]))
    return config


# --------------------------------------------------------------------------- CLI reference

HELP_WIDTH = 100


def cli_help(path: list[str]) -> str:
    """``jitwarm PATH... --help`` as the CLI prints it (plain text, fixed width)."""
    from typer.testing import CliRunner

    from jitwarm.cli.main import app

    env = {"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": str(HELP_WIDTH)}
    res = CliRunner().invoke(app, [*path, "--help"], prog_name="jitwarm", env=env,
                             terminal_width=HELP_WIDTH)
    if res.exit_code != 0:
        raise RuntimeError(f"jitwarm {' '.join(path)} --help exited {res.exit_code}:\n"
                           f"{res.output}")
    lines = [ln.rstrip() for ln in res.output.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines).rstrip()


def command_paths() -> list[list[str]]:
    """Every visible command of the live CLI, groups before their subcommands."""
    import typer.main

    from jitwarm.cli.main import app

    root = typer.main.get_command(app)
    out: list[list[str]] = []

    def walk(cmd: Any, ctx: Any, path: list[str]) -> None:
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is None or getattr(sub, "hidden", False):
                continue
            out.append([*path, name])
            if hasattr(sub, "list_commands"):
                walk(sub, sub.context_class(sub, info_name=name, parent=ctx), [*path, name])

    walk(root, root.context_class(root, info_name="jitwarm"), [])
    return out


def cli_reference() -> str:
    """Markdown: ``jitwarm --help``, then every command's and subcommand's help."""
    parts = ["```text", cli_help([]), "```", ""]
    for path in command_paths():
        level = "#" * min(1 + len(path), 4)
        parts += [f"{level} jitwarm {' '.join(path)}", "", "```text", cli_help(path), "```", ""]
    return "\n".join(parts)


# --------------------------------------------------------------------------- links

_LINK = re.compile(r"(?<!!)\[([^\]\n]+)\]\(([^)\s#]+)(#[^)\s]*)?\)")


def _outside_links(markdown: str, page_dir: Path, docs_dir: Path, repo: Path) -> str:
    def fix(m: re.Match[str]) -> str:
        text, target = m.group(1), m.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("/"):
            return m.group(0)  # a URL or an absolute path: not ours to judge
        resolved = (page_dir / target).resolve()
        try:
            resolved.relative_to(docs_dir)
            return m.group(0)  # inside the docs: MkDocs checks it
        except ValueError:
            pass
        try:
            rel = resolved.relative_to(repo)
        except ValueError:
            return m.group(0)
        if not resolved.exists():
            return m.group(0)  # broken: leave it for --strict to report
        shown = rel.as_posix() + ("/" if resolved.is_dir() else "")
        if text.strip("`") == shown.rstrip("/") or text.strip("`") == shown:
            return f"`{shown}`"
        return f"{text} (`{shown}`)"

    return _LINK.sub(fix, markdown)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    docs_dir = Path(config["docs_dir"]).resolve()
    if page.file.src_uri == "cli.md" and CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, cli_reference())
    page_dir = (docs_dir / page.file.src_uri).parent
    return _outside_links(markdown, page_dir, docs_dir, docs_dir.parent)
