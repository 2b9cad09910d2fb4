"""Where the standard's data lives: in the wheel (``conformance/_data``) or beside the package in a checkout."""

from __future__ import annotations

from pathlib import Path

__all__ = ["data_dir", "fixtures_dir", "profiles_dir", "schemas_dir"]

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the directory holding ``schemas``, ``profiles`` or ``fixtures``."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the suite's {name!r} directory is missing: the installation is broken")


def schemas_dir() -> Path:
    return data_dir("schemas")


def profiles_dir() -> Path:
    return data_dir("profiles")


def fixtures_dir() -> Path:
    return data_dir("fixtures")
