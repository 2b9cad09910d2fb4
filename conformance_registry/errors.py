"""One error for the service: what was expected, what was found; shown as one line, exit 2."""

from __future__ import annotations

__all__ = ["RegistryError"]


class RegistryError(Exception):
    """A usage or configuration error of the registry commands (one line, exit status 2)."""
