"""Digests of inputs that already passed a slow validation, remembered across processes.

Start-up meta-validated every bundled schema and validated each profile against suite/profile.json:
2.7 of the 5 s a one-requirement run took. What is remembered is only that the exact bytes (SHA-256,
with the suite's version and the validating schema's bytes) passed, never any parsed value, so a
stale or forged entry can skip a check of bytes that passed it once but cannot change what is loaded.
The cache lives in ``$XDG_CACHE_HOME/sc-conformance/validated`` (``~/.cache`` by default);
``SC_CONFORMANCE_NO_CACHE=1`` turns it off, and an unwritable directory only costs the next process the check.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from . import __version__

__all__ = ["cache_directory", "digest", "passed", "remember"]

_SEEN: set[str] = set()


def cache_directory(name: str) -> Path | None:
    """``$XDG_CACHE_HOME/sc-conformance/<name>`` (``~/.cache`` by default); None under ``SC_CONFORMANCE_NO_CACHE``."""
    if os.environ.get("SC_CONFORMANCE_NO_CACHE"):
        return None
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "sc-conformance" / name


def _directory() -> Path | None:
    return cache_directory("validated")


def digest(kind: str, *parts: bytes) -> str:
    sha = hashlib.sha256(f"{kind}\0{__version__}\0".encode())
    for part in parts:
        sha.update(len(part).to_bytes(8, "big") + part)
    return sha.hexdigest()


def passed(key: str) -> bool:
    """Whether the bytes behind ``key`` passed their validation before (in this process or an earlier one)."""
    if key in _SEEN:
        return True
    directory = _directory()
    if directory is not None and (directory / key).is_file():
        _SEEN.add(key)
        return True
    return False


def remember(key: str) -> None:
    _SEEN.add(key)
    directory = _directory()
    if directory is None:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / key).touch()
    except OSError:
        pass
