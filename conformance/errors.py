"""The suite's exceptions, one root so callers can catch everything we raise.

    ConformanceError
    ├── ProfileError      a profile file is broken (names file, line and field)
    ├── SchemaError       our own schemas or formats cannot be trusted
    └── UsageError        a command-line or plugin option is wrong
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from .escaping import terminal

__all__ = ["ConformanceError", "ProfileError", "SchemaError", "UsageError", "did_you_mean"]


class ConformanceError(Exception):
    """Root of every error the suite raises on purpose.

    Its message is one line safe for a terminal, whichever door prints it: a platform's words, a YAML key or a
    file name may carry control sequences, and every error message is made of such pieces, so the one place
    they all pass through escapes them (shown as ``\\x1b``, never obeyed; newlines shown as ``\\n``).
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(terminal(arg, newlines=False) if isinstance(arg, str) else arg for arg in args))


class ProfileError(ConformanceError):
    """A profile cannot be loaded: the message starts with ``file:line: field:``."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        file = terminal(file, newlines=False) if file is not None else None
        field = terminal(field, newlines=False) if field is not None else None
        message = terminal(message, newlines=False)
        self.file, self.line, self.field, self.reason = file, line, field, message
        where = ":".join(str(part) for part in (file, line) if part is not None)
        prefix = f"{where}: " if where else ""
        prefix += f"{field}: " if field else ""
        super().__init__(prefix + message)


class SchemaError(ConformanceError):
    """A schema of ours is invalid, or a format it uses has no working checker."""


class UsageError(ConformanceError):
    """An option given by the user is wrong."""


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
