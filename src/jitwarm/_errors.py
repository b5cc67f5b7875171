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


class FrameworkMissing(UsageError):
    """A framework needed by a case or adapter is not installed."""

    def __init__(self, framework: str, extra: str | None = None) -> None:
        extra = extra or framework
        super().__init__(
            f"{framework} is not installed: pip install 'jitwarm[{extra}]'"
        )
        self.framework = framework
        self.extra = extra
