"""The reference platform's default conformance declaration: every bundled profile, with its version."""

from __future__ import annotations

import functools

from ..profiles import load_profile, profile_ids

__all__ = ["bundled_declarations"]


@functools.cache
def bundled_declarations() -> tuple[tuple[str, str], ...]:
    """``(id, version)`` of each bundled profile, so a new profile is claimed without editing the app."""
    return tuple((pid, load_profile(pid).version) for pid in profile_ids())
