"""``--cleanup``: delete the records a run created, where the platform declares the ``delete`` capability (S2).

What stays is said, with the reason: without the capability every record stays; a collection the
catalogue marks ``deletable: false`` is never asked; a refusal (403, 405, 409 ``record-referenced``…)
keeps the record. Records are deleted newest first, so children go before the parents they reference.
"""

from __future__ import annotations

from typing import Any

from .catalogue import Collection
from .results import Halt
from .session import RunSession
from .target import TargetError

__all__ = ["clean_up", "merge_cleanups"]

_GONE = (404, 410)


def clean_up(session: RunSession) -> dict[str, Any]:
    """Delete what ``session.created`` lists; returns ``{removed, already_gone, kept: [{path, reason}]}``."""
    created = list(dict.fromkeys(session.created))
    outcome: dict[str, Any] = {"removed": [], "already_gone": [], "kept": []}
    try:
        declared = "delete" in session.capabilities()
    except Halt:
        declared = False
    if not declared:
        outcome["kept"] = [{"path": p, "reason": "the platform does not declare the delete capability"}
                           for p in created]
        return outcome
    refused: list[tuple[str, str]] = []
    for path in reversed(created):
        collection = _collection_of(session, path)
        if collection is not None and not collection.deletable:
            outcome["kept"].append({"path": path, "reason": f"{collection.name} records are not deletable"})
            continue
        reason = _delete(session, path, outcome)
        if reason:
            refused.append((path, reason))
    for path, first_reason in refused:  # a parent refused while its children existed may go now
        reason = _delete(session, path, outcome)
        if reason:
            outcome["kept"].append({"path": path, "reason": reason or first_reason})
    return outcome


def _delete(session: RunSession, path: str, outcome: dict[str, Any]) -> str | None:
    """Delete one record, noting it as removed or already gone; the reason it stays otherwise."""
    try:
        exchange = session.target.request("DELETE", path)
    except TargetError as exc:
        return f"DELETE was not answered: {exc}"
    if 200 <= exchange.status < 300:
        outcome["removed"].append(path)
        return None
    if exchange.status in _GONE:
        outcome["already_gone"].append(path)  # a check of the run deleted it already
        return None
    return f"DELETE answered {exchange.status}"


def _collection_of(session: RunSession, path: str) -> Collection | None:
    parent = path.rsplit("/", 1)[0]
    return next((c for c in session.catalogue.collections.values() if parent.endswith(c.path)), None)


def merge_cleanups(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The outcomes of several sessions (pytest-xdist workers) as one."""
    merged: dict[str, Any] = {"removed": [], "already_gone": [], "kept": []}
    for part in parts:
        for key in merged:
            merged[key].extend(part.get(key, []))
    return merged
