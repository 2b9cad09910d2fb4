"""Faults only generated payloads find: each hides behind values no fixture happens to use."""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

from ..catalogue import Collection
from .problems import ProblemError
from .store import Record, Store

__all__ = ["keep_refused", "patch_lost", "stored"]

_NON_BMP = re.compile("[\U00010000-\U0010ffff]")
_FRACTION_WITH_OFFSET = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]+)(?:[Zz]|[+-][0-9]{2}:[0-9]{2})")
_FRACTION = re.compile(r"\.[0-9]+(?=[Zz+-])")
_RARE_TYPE = "social-organisation"
_BOUNDED = ("floors", "units")


def stored(collection: Collection, body: dict[str, Any], faults: frozenset[str]) -> dict[str, Any]:
    """What a faulty platform keeps of a valid body (or the 500 it answers instead)."""
    if "rare-enum-500" in faults and collection.entity == "organisation" and body.get("type") == _RARE_TYPE:
        raise ProblemError(500, "internal-error", "the platform failed")
    body = dict(body)
    if "address-truncated-64" in faults and isinstance(body.get("address"), str):
        body["address"] = body["address"][:64]
    if "contact-non-bmp-replaced" in faults:
        for member in ("contact", "grid_worker"):
            contact = body.get(member)
            if isinstance(contact, dict) and isinstance(contact.get("name"), str):
                body[member] = {**contact, "name": _NON_BMP.sub("\ufffd", contact["name"])}
    if "fraction-offset-dropped" in faults:
        body = {k: _drop_offset(v) for k, v in body.items()}
    if "name-nfc-normalised" in faults:
        body = {k: unicodedata.normalize("NFC", v) if isinstance(v, str) else v for k, v in body.items()}
    if "notice-text-trimmed" in faults and collection.entity == "notice":
        for member in ("title", "body"):
            if isinstance(body.get(member), dict):
                body[member] = {k: v.strip() if isinstance(v, str) else v for k, v in body[member].items()}
    if ("alarm-description-html-escaped" in faults and collection.entity == "alarm"
            and isinstance(body.get("description"), str)):
        body["description"] = html.escape(body["description"], quote=False)
    if ("observed-at-fraction-truncated" in faults and collection.entity == "observation"
            and isinstance(body.get("observed_at"), str)):
        body["observed_at"] = _FRACTION.sub("", body["observed_at"])
    return body


def _drop_offset(value: Any) -> Any:
    match = _FRACTION_WITH_OFFSET.fullmatch(value) if isinstance(value, str) else None
    return match.group(1) + "Z" if match else value  # the local time read as UTC


def keep_refused(store: Store, faults: frozenset[str], collection: Collection, item_id: str | None,
                 candidate: Any, errors: list[dict[str, str]]) -> None:
    """Store a building refused only for floors/units above the maximum (the 422 still goes out)."""
    if ("negative-stored" not in faults or collection.entity != "building" or not item_id
            or not isinstance(candidate, dict) or store.get(collection.name, item_id) is not None):
        return
    if errors and all(e.get("pointer", "").lstrip("/") in _BOUNDED and "maximum" in e.get("message", "")
                      for e in errors):
        store.insert(collection.name, item_id, dict(candidate), candidate.get("community_id"))


def patch_lost(record: Record, faults: frozenset[str]) -> bool:
    """Only the first merge patch of a record is applied; later ones answer 200 and change nothing."""
    return "patch-lost-after-first" in faults and record.updated_at != record.created_at
