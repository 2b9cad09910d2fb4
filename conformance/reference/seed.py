"""The pre-existing-data variant: records the platform holds before any client writes, in every
collection and in communities no tenant token of the run is bound to."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from ..fixtures import fixture_problem, load_fixture, references, resolve
from .context import Platform
from .domain import city_rules
from .lifecycle import publish, start_state
from .store import format_instant

__all__ = ["seed_records"]

COMMUNITIES = 2  # foreign tenants, each with a record in every collection
_AUDIT = "audit-records"


def seed_records(platform: Platform) -> None:
    """Store one minimal record per collection and community (parents first), and an audit record each."""
    for n in range(COMMUNITIES):
        made: dict[str, str] = {}
        for name in platform.catalogue.collections:
            _record(platform, name, made, n)
        body = {"actor": f"pre-existing-{n}", "action": "create", "resource": f"/communities/{made['communities']}",
                "collection": "communities", "time": format_instant(datetime.now(UTC)),
                "outcome": "success", "status": 201, "request_id": uuid.uuid4().hex}
        platform.store.insert(_AUDIT, f"aud-pre-{uuid.uuid4().hex[:12]}", body, None)


def _record(platform: Platform, name: str, made: dict[str, str], n: int) -> str | None:
    if name in made:
        return made[name]
    collection = platform.catalogue.collections[name]
    if fixture_problem(f"{name}/valid/minimal") is not None:
        return None  # no fixture: the audit trail and the event feed are filled by what is written
    fixture: Any = load_fixture(f"{name}/valid/minimal")
    for parent in sorted(references(fixture)):
        _record(platform, parent, made, n)
    body = resolve(fixture, lambda parent: made[parent])
    if collection.entity == "community":
        body = {**body, "name": f"{body.get('name', 'community')} (pre-existing {n})"}
    record_id = f"{collection.entity[:3]}-pre{n}-{uuid.uuid4().hex[:12]}"
    body = start_state(platform, collection, city_rules(platform, collection, body))
    record = platform.store.insert(name, record_id, body, platform.community_of(collection, record_id, body))
    publish(platform, collection, record, "created")
    made[name] = record_id
    return record_id
