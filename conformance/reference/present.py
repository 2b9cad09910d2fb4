"""How an entity leaves the platform: personal data masked without the PII scope, and the output faults."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any

from ..catalogue import Collection
from .store import Record

__all__ = ["mask_identity_number", "mask_phone", "present"]

_CHINA = timezone(timedelta(hours=8))
_GENDER_ZH = {"male": "男", "female": "女", "unspecified": "未说明"}
_ORGANISATION_TYPE_ZH = {
    "residents-committee": "居民委员会",
    "owners-committee": "业主委员会",
    "property-company": "物业公司",
    "service-company": "服务企业",
    "social-organisation": "社会组织",
}


def mask_identity_number(value: str) -> str:
    """The standard's mask: first 6 and last 4 kept, 8 asterisks between."""
    return value[:6] + "*" * 8 + value[-4:] if len(value) > 10 else "*" * len(value)


def mask_phone(value: str) -> str:
    """The standard's mask: first 3 and last 4 kept, 4 asterisks between."""
    return value[:3] + "*" * 4 + value[-4:] if len(value) > 7 else "*" * len(value)


_MASKS = {"number": mask_identity_number, "phone": mask_phone}


def _mask(entity: dict[str, Any], pointer: str) -> None:
    *parents, last = pointer.lstrip("/").split("/")
    node: Any = entity
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict) and isinstance(node.get(last), str):
        node[last] = _MASKS.get(last, lambda text: "*" * len(text))(node[last])


def _naive_local(instant: str) -> str:
    moment = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    return moment.astimezone(_CHINA).strftime("%Y-%m-%d %H:%M:%S")


def present(collection: Collection, record: Record, *, pii: bool, faults: frozenset[str],
            single: bool = False) -> dict[str, Any]:
    """The entity as a response shows it; ``single`` is a GET of that one entity."""
    entity = copy.deepcopy(record.entity())
    if not pii:
        for pointer in collection.pii_fields:
            _mask(entity, pointer)
    if "time-no-offset" in faults:
        for member in ("created_at", "updated_at"):
            entity[member] = _naive_local(entity[member])
    kind = collection.entity
    if kind == "community" and "community-missing-crs" in faults:
        entity.pop("crs", None)
    if kind == "grid" and "grid-code-number" in faults and isinstance(entity.get("code"), str):
        code = entity["code"]
        entity["code"] = int(code) if code.isascii() and code.isdigit() else len(code)
    if kind == "building" and "building-floors-string" in faults and "floors" in entity:
        entity["floors"] = str(entity["floors"])
    if kind == "resident" and "read-drops-field" in faults and single:
        entity.pop("gender", None)
    if kind == "resident" and "resident-gender-localised" in faults and "gender" in entity:
        entity["gender"] = _GENDER_ZH.get(entity["gender"], entity["gender"])
    if kind == "organisation" and "organisation-type-localised" in faults and "type" in entity:
        entity["type"] = _ORGANISATION_TYPE_ZH.get(entity["type"], entity["type"])
    return entity
