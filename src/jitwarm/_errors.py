"""Error types that map to the CLI's exit codes.

A :class:`UsageError` is the user's mistake (bad target, bad file, bad option): one
clear message, exit code 2. A :class:`CaseError` is the user's code failing (setup or a
call raised): the user's traceback is shown once, exit code 1.
"""

from __future__ import annotations


class JitwarmError(Exception):
    """Base class of every error jitwarm raises on purpose."""

    exit_code = 1


class UsageError(JitwarmError):
    """The user asked for something that cannot work (exit code 2)."""

    exit_code = 2


class CaseError(JitwarmError):
    """The measured code itself raised (exit code 1); carries the user's traceback."""

    exit_code = 1

    def __init__(self, message: str, traceback: str = "", phase: str = "") -> None:
        super().__init__(message)
        self.traceback = traceback
        self.phase = phase


class ArtifactRefused(JitwarmError):
    """An ahead-of-time artifact that must not be loaded here (exit code 1), with the reason."""

    exit_code = 1


class FrameworkMissing(UsageError):
    """A framework needed by a case or adapter is not installed."""

    def __init__(self, framework: str, extra: str | None = None) -> None:
        extra = extra or framework
        super().__init__(
            f"{framework} is not installed: pip install 'jitwarm[{extra}]'"
        )
        self.framework = framework
        self.extra = extra


#: characters that would move the cursor, recolour or hide text in a terminal
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_CONTROL.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", ord("\x1b"): "\\e"})
_CONTROL.update({c: f"\\u{c:04x}" for c in (0x200E, 0x200F, *range(0x202A, 0x202F),
                                             *range(0x2066, 0x206A))})  # bidi overrides


def shown(s: object, limit: int = 200) -> str:
    """``s`` as it may appear in a message: control characters (and bidi overrides)
    escaped, at most ``limit`` characters (an ellipsis marks a cut).

    User-controlled strings (paths, names, field values) go through this before they are
    put in a message, so a crafted name can neither drive the terminal nor flood it.
    """
    raw = str(s)
    text = raw[: limit * 4].translate(_CONTROL)  # never translate a huge string only to cut it
    if len(raw) > limit * 4 or len(text) > limit:
        text = text[: max(0, limit - 1)] + "…"
    return text
