"""JSON Merge Patch (RFC 7396) as the suite reads it: one home for the checks, the oracles and the published examples.

The reference platform keeps its own implementation on purpose: it is the product under test, and a platform that
shared the suite's reading of the RFC could not show the suite wrong.
"""

from __future__ import annotations

from typing import Any

__all__ = ["apply_merge_patch", "merge_patch_between"]


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 applied: what a record should look like after ``patch`` (objects merge, null removes)."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for member, value in patch.items():
        if value is None:
            result.pop(member, None)
        else:
            result[member] = apply_merge_patch(result.get(member), value)
    return result


def merge_patch_between(before: Any, after: Any) -> dict[str, Any]:
    """The merge patch that turns ``before`` into ``after`` (RFC 7396 §2 read backwards; nested objects nest)."""
    patch: dict[str, Any] = {member: None for member in before if member not in after}
    for member, value in after.items():
        old = before.get(member)
        if isinstance(value, dict) and isinstance(old, dict):
            inner = merge_patch_between(old, value)
            if inner:
                patch[member] = inner
        elif old != value or member not in before:
            patch[member] = value
    return patch
