"""What the governance-service and infrastructure collections add to plain CRUD in the reference platform:
the output, validation, listing and discovery faults of their requirements, and the local profile's rules."""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from jsonschema.exceptions import ValidationError

from ..catalogue import Collection
from .context import Platform
from .paging import PageQuery
from .present import present as present_plain
from .problems import ProblemError
from .store import Record, format_instant
from .validation import EntityValidator

__all__ = ["DomainValidator", "adjust_query", "city_rules", "hidden_collections", "present"]

CITY = "example-city"
_LEVELS = {"low": 1, "medium": 2, "high": 3, "critical": 4}
_FACILITY_STATUS_ZH = {"in-service": "在用", "out-of-service": "停用", "under-maintenance": "维修中",
                       "planned": "规划"}
_SERVICE_CATEGORY_ZH = {"government": "政务服务", "public": "公共服务", "property": "物业服务",
                        "daily-life": "生活服务", "disability-assistance": "助残服务"}
_OFFSET = re.compile(r"([Zz]|[+-][0-9]{2}:[0-9]{2})$")
Mutation = Callable[[dict[str, Any]], None]


def _wall_clock_in_china(entity: dict[str, Any], member: str) -> None:
    """Keep the wall-clock time but claim +08:00: the instant changes unless it was sent in +08:00."""
    if isinstance(entity.get(member), str):
        entity[member] = _OFFSET.sub("+08:00", entity[member])


def _set(member: str, convert: Callable[[Any], Any]) -> Mutation:
    def mutate(entity: dict[str, Any]) -> None:
        if member in entity:
            entity[member] = convert(entity[member])
    return mutate


def _drop(*path: str) -> Mutation:
    def mutate(entity: dict[str, Any]) -> None:
        node: Any = entity
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(path[-1], None)
    return mutate


def _leak(member: str) -> Mutation:
    def mutate(entity: dict[str, Any]) -> None:
        entity[member] = 1
    return mutate


def _flip_antimeridian(entity: dict[str, Any]) -> None:
    coordinates = entity.get("location", {}).get("coordinates") if isinstance(entity.get("location"), dict) else None
    if isinstance(coordinates, list) and coordinates and coordinates[0] == 180:
        coordinates[0] = -180


# fault → (entity, how the response is spoiled)
_OUTPUT_FAULTS: dict[str, tuple[str, Mutation]] = {
    "household-member-count-string": ("household", _set("member_count", str)),
    "service-category-localised": ("service-item", _set("category", lambda v: _SERVICE_CATEGORY_ZH.get(v, v))),
    "work-order-internal-member": ("work-order", _leak("wo_seq")),
    "grid-event-severity-number": ("grid-event", _set("severity", lambda v: _LEVELS.get(v, v))),
    "notice-internal-member": ("notice", _leak("notice_seq")),
    "feedback-rating-string": ("feedback", _set("rating", str)),
    "work-order-attachments-dropped": ("work-order", _drop("attachments")),
    "notice-english-dropped": ("notice", _drop("title", "en")),
    "due-at-offset-dropped": ("work-order", lambda e: _wall_clock_in_china(e, "due_at")),
    "facility-status-localised": ("facility", _set("status", lambda v: _FACILITY_STATUS_ZH.get(v, v))),
    "device-internal-member": ("device", _leak("device_seq")),
    "observation-value-object": ("observation", _set("value", lambda v: {"v": v})),
    "passage-direction-localised": ("access-passage", _set("direction", {"in": "进", "out": "出"}.get)),
    "parking-space-internal-member": ("parking-space", _leak("space_seq")),
    "parking-session-internal-member": ("parking-session", _leak("session_seq")),
    "alarm-severity-number": ("alarm", _set("severity", lambda v: _LEVELS.get(v, v))),
    "facility-antimeridian-flipped": ("facility", _flip_antimeridian),
    "device-last-seen-dropped": ("device", _drop("last_seen_at")),
    "observed-at-offset-dropped": ("observation", lambda e: _wall_clock_in_china(e, "observed_at")),
    "parking-session-end-dropped": ("parking-session", _drop("ended_at")),
    "city-street-code-missing": ("work-order", _drop("extensions", CITY)),
}


def present(collection: Collection, record: Record, *, pii: bool, faults: frozenset[str],
            single: bool = False, **options: Any) -> dict[str, Any]:
    """The plain presentation (``options`` passed through), then the output faults of this module's requirements."""
    entity = present_plain(collection, record, pii=pii, faults=faults, single=single, **options)
    for fault in faults & _OUTPUT_FAULTS.keys():
        kind, mutate = _OUTPUT_FAULTS[fault]
        if kind == collection.entity:
            mutate(entity)
    return entity


# fault → (entity or None for any, JSON Schema keyword, last member of the instance path)
_VALIDATION_FAULTS: dict[str, tuple[str | None, str, str]] = {
    "accept-negative-member-count": ("household", "minimum", "member_count"),
    "accept-unknown-service-category": ("service-item", "enum", "category"),
    "accept-work-order-without-description": ("work-order", "required", "description"),
    "accept-http-attachment": ("work-order", "pattern", "url"),
    "accept-rating-out-of-range": (None, "maximum", "rating"),
    "accept-unknown-severity": ("grid-event", "enum", "severity"),
    "accept-notice-without-audience": ("notice", "required", "audience"),
    "accept-unknown-facility-type": ("facility", "enum", "type"),
    "accept-device-without-protocol": ("device", "required", "protocol"),
    "accept-naive-observed-at": ("observation", "pattern", "observed_at"),
    "accept-identity-person-ref": ("access-passage", "not", "person_ref"),
    "accept-unknown-alarm-type": ("alarm", "enum", "type"),
    "accept-bad-plate-number": ("parking-session", "pattern", "plate_number"),
}


class DomainValidator(EntityValidator):
    """The platform's validator, with the lifecycle state ignored on input and this module's faults."""

    _entity: str | None = None

    def check(self, collection: Collection, body: Any) -> tuple[Any, list[dict[str, str]]]:
        if collection.lifecycle and isinstance(body, dict):
            body = {k: v for k, v in body.items() if k not in ("status", "status_history")}
        self._entity = collection.entity
        try:
            return super().check(collection, body)
        finally:
            self._entity = None

    def _ignored(self, error: ValidationError) -> bool:
        if super()._ignored(error):
            return True
        for fault in self.faults & _VALIDATION_FAULTS.keys():
            entity, keyword, member = _VALIDATION_FAULTS[fault]
            if entity not in (None, self._entity) or error.validator not in (keyword, "format"):
                continue
            path = list(error.absolute_path)
            named = path[-1] if path else None
            if keyword == "required" and isinstance(error.instance, dict):
                named = next((m for m in error.validator_value if m not in error.instance), None)
            if named == member:
                return True
        return False


def adjust_query(platform: Platform, collection: Collection, query: PageQuery,
                 params: Mapping[str, str]) -> PageQuery:
    """The event feed's ``after`` parameter, and the listing faults of this module's requirements."""
    faults, entity = platform.faults, collection.entity
    if entity == "event" and params.get("after") is not None and "event-feed-after-ignored" not in faults:
        last = platform.store.get(collection.name, params["after"])
        if last is None:
            raise ProblemError(400, "invalid-parameter", f"query parameter 'after': no event {params['after']!r}; "
                               "resume from the id of an event this feed returned")
        repeat = "event-feed-after-repeats" in faults  # resumes at the event named, not after it
        query = dataclasses.replace(query, after=(last.updated_at, last.seq - 1 if repeat else last.seq))
    if f"{entity}-sync-ignores-filter" in faults:
        query = dataclasses.replace(query, since=None)
    if entity == "device" and "device-page-of-one-ignored" in faults and query.limit == 1:
        query = dataclasses.replace(query, limit=2)
    if entity == "alarm" and "alarms-future-since-rejected" in faults and query.since is not None:
        if query.since > format_instant(datetime.now(UTC)):
            raise ProblemError(400, "invalid-parameter", "updated_since lies in the future")
    return query


def hidden_collections(faults: frozenset[str]) -> set[str]:
    """Collections a discovery fault leaves out."""
    return {name for name in ("work-orders", "alarms") if f"discovery-missing-{name}" in faults}


def city_rules(platform: Platform, collection: Collection, body: dict[str, Any]) -> dict[str, Any]:
    """The example city's work-order rule, applied when the platform claims the city's profile:
    ``extensions.example-city.street_code`` is the 12-digit code of the community's street, filled in when absent."""
    if collection.entity != "work-order" or CITY not in {p for p, _ in platform.declared_profiles}:
        return body
    community = platform.store.get("communities", str(body.get("community_id")))
    code = community.body.get("statistical_code") if community else None
    if not isinstance(code, str):
        return body
    street = code[:9] + "000"
    extensions = copy.deepcopy(body.get("extensions") or {})
    city = extensions.setdefault(CITY, {})
    if not isinstance(city, dict):
        raise ProblemError(422, "validation-failed", f"extensions.{CITY} must be an object",
                           errors=[{"pointer": f"/extensions/{CITY}", "message": "expected an object"}])
    given = city.get("street_code")
    if given is None:
        city["street_code"] = street
    elif given != street and "city-street-code-unchecked" not in platform.faults:
        raise ProblemError(422, "validation-failed", f"street_code {given!r} is not the street of the community",
                           errors=[{"pointer": f"/extensions/{CITY}/street_code", "message": f"expected {street}"}])
    return {**body, "extensions": extensions}
