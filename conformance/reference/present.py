"""How an entity leaves the platform: personal data masked without the PII scope, and the output faults."""

from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from ..catalogue import Collection, catalogue
from ..formats import is_identity_number
from ..schemas import schema_store
from .store import Record

__all__ = ["mask_identity_number", "mask_phone", "present", "scrub_personal"]

_CHINA = timezone(timedelta(hours=8))
_GENDER_ZH = {"male": "男", "female": "女", "unspecified": "未说明"}
_ORGANISATION_TYPE_ZH = {
    "residents-committee": "居民委员会",
    "owners-committee": "业主委员会",
    "property-company": "物业公司",
    "service-company": "服务企业",
    "social-organisation": "社会组织",
}


def mask_identity_number(value: str, *, keep: int = 6) -> str:
    """The standard's mask: first 6 and last 4 kept, asterisks between (``keep`` only for a fault)."""
    return value[:keep] + "*" * (len(value) - keep - 4) + value[-4:] if len(value) > 10 else "*" * len(value)


def mask_phone(value: str) -> str:
    """The standard's mask: first 3 and last 4 kept, 4 asterisks between."""
    return value[:3] + "*" * 4 + value[-4:] if len(value) > 7 else "*" * len(value)


_MASKS = {"number": mask_identity_number, "phone": mask_phone}
_FOUR_FOUR = {"number": lambda text: mask_identity_number(text, keep=4), "phone": mask_phone}
SENSITIVE_TAGS = frozenset(schema_store().documents[schema_store().uri("common.json")]["$defs"]["sensitive-tag"]["enum"])


def _mask(entity: dict[str, Any], pointer: str, masks: dict[str, Any] = _MASKS) -> None:
    *parents, last = pointer.lstrip("/").split("/")
    node: Any = entity
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict) and isinstance(node.get(last), str):
        node[last] = masks.get(last, lambda text: "*" * len(text))(node[last])


def scrub_personal(collection: Collection, candidate: Any, errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validation messages quote rejected values; personal data in them is masked (never in an error body)."""
    values = []
    for pointer in collection.pii_fields:
        node = candidate
        for part in pointer.lstrip("/").split("/"):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, int | float) and not isinstance(node, bool):
            node = str(node)  # a number sent where a string belongs is quoted too
        if isinstance(node, str) and len(node) >= 7:
            values.append((node, _MASKS.get(pointer.rsplit("/", 1)[-1], mask_phone)(node)))
    scrubbed = []
    for error in errors:
        message = str(error.get("message", ""))
        for value, masked in values:
            message = message.replace(value, masked)
        # an identity number quoted from a field that must not hold one (a passage's pseudonym) is masked too
        message = _IDENTITY_NUMBER.sub(lambda m: mask_identity_number(m.group(0)) if is_identity_number(m.group(0))
                                       else m.group(0), message)
        scrubbed.append({**error, "message": message})
    return scrubbed


_IDENTITY_NUMBER = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9])")


_FRACTION = re.compile(r"\.[0-9]+(?=Z$)")


def _to_whole_seconds(collection: Collection, entity: dict[str, Any]) -> None:
    """The second-precision variant: server-set times without their fraction of a second."""
    history = catalogue().lifecycles[collection.lifecycle].history_field if collection.lifecycle else None
    for change in entity.get(history, []) if history and isinstance(entity.get(history), list) else []:
        if isinstance(change, dict) and isinstance(change.get("at"), str):
            change["at"] = _FRACTION.sub("", change["at"])
    for member in ("created_at", "updated_at"):
        if isinstance(entity.get(member), str):
            entity[member] = _FRACTION.sub("", entity[member])


def _naive_local(instant: str) -> str:
    moment = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    return moment.astimezone(_CHINA).strftime("%Y-%m-%d %H:%M:%S")


def present(collection: Collection, record: Record, *, pii: bool, faults: frozenset[str],
            single: bool = False, sensitive: bool = True, whole_seconds: bool = False) -> dict[str, Any]:
    """The entity as a response shows it; ``single`` is a GET of that one entity."""
    entity = copy.deepcopy(record.entity())
    if whole_seconds:
        _to_whole_seconds(collection, entity)
    if not pii:
        masks = _FOUR_FOUR if "pii-mask-4-4" in faults else _MASKS
        for pointer in collection.pii_fields:
            _mask(entity, pointer, masks)
    if not sensitive and isinstance(entity.get("tags"), list) and "sensitive-tags-unscoped" not in faults:
        entity["tags"] = [tag for tag in entity["tags"] if tag not in SENSITIVE_TAGS]
    if kind_faults := _guarantee_faults(collection.entity, faults):
        kind_faults(entity)
    if "time-no-offset" in faults:
        for member in ("created_at", "updated_at"):
            entity[member] = _naive_local(entity[member])
    if "created-at-local-as-utc" in faults:  # China's wall-clock time labelled Z: 8 hours off the real instant
        entity["created_at"] = _naive_local(entity["created_at"]).replace(" ", "T") + "Z"
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


def _guarantee_faults(kind: str, faults: frozenset[str]) -> Any:
    """The output faults of the guarantee entities, as one function that edits the entity (or None)."""
    if kind == "consent" and "consent-missing-purpose" in faults:
        return lambda entity: entity.pop("purpose", None)
    if kind == "consent" and "consent-withdrawn-dropped" in faults:
        return lambda entity: entity.pop("withdrawn_at", None)
    if kind == "indicator" and "indicator-rate-percent" in faults:
        return lambda entity: entity.update(value=round(entity["value"] * 100, 2)) if "value" in entity else None
    return None
