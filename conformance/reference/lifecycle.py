"""Lifecycles of the reference platform: initial state, transitions by role, status history, the event feed.

The state machines come from ``schemas/interface/lifecycles.json`` through the catalogue; each
``{collection}-…`` fault below breaks one rule of one lifecycle on purpose.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import Response

from ..catalogue import Collection, Lifecycle
from .auth import authorise
from .context import Platform, community_field, platform_of
from .domain import present
from .payloads import JSON_TYPES, read_json
from .problems import JsonResponse, ProblemError
from .store import Record, format_instant

__all__ = ["add_transition_route", "carry_state", "feed_order", "publish", "start_state"]

EVENTS = "events"
_REQUEST_SCHEMA = "interface/lifecycles.json#/$defs/transition-request"


def _fault(platform: Platform, lifecycle: Lifecycle, kind: str) -> bool:
    return f"{lifecycle.name}-{kind}" in platform.faults


def _now() -> str:
    return format_instant(datetime.now(UTC))


def _lifecycle(platform: Platform, collection: Collection) -> Lifecycle | None:
    return platform.catalogue.lifecycles.get(collection.lifecycle) if collection.lifecycle else None


def start_state(platform: Platform, collection: Collection, body: dict[str, Any]) -> dict[str, Any]:
    """A new record of a lifecycle collection enters the initial state with a one-entry history."""
    lifecycle = _lifecycle(platform, collection)
    if lifecycle is None:
        return body
    history = [] if _fault(platform, lifecycle, "history-empty") else [
        {"from": None, "to": lifecycle.initial, "at": _now()}]
    started = {**body, lifecycle.status_field: lifecycle.initial, lifecycle.history_field: history}
    _check_gates(platform, lifecycle, started, body)
    return started


def carry_state(platform: Platform, collection: Collection, old: dict[str, Any], new: dict[str, Any],
                patch: Any) -> dict[str, Any]:
    """A merge patch never changes the state: the stored status and history are carried over."""
    lifecycle = _lifecycle(platform, collection)
    if lifecycle is None:
        return new
    carried = {k: old[k] for k in (lifecycle.status_field, lifecycle.history_field) if k in old}
    if _fault(platform, lifecycle, "status-patchable") and isinstance(patch, dict) \
            and isinstance(patch.get(lifecycle.status_field), str):
        carried[lifecycle.status_field] = patch[lifecycle.status_field]
    if _fault(platform, lifecycle, "history-patchable") and isinstance(patch, dict) \
            and isinstance(patch.get(lifecycle.history_field), list):
        carried[lifecycle.history_field] = patch[lifecycle.history_field]
    merged = {**new, **carried}
    _check_gates(platform, lifecycle, merged, patch)
    return merged


def _check_gates(platform: Platform, lifecycle: Lifecycle, merged: dict[str, Any], patch: Any) -> None:
    if "rating-before-resolution-accepted" in platform.faults or not isinstance(patch, dict):
        return
    state = merged.get(lifecycle.status_field)
    for member, states in lifecycle.field_gates.items():
        if "rating-accepted-when-cancelled" in platform.faults and _at_or_past(lifecycle, state, states):
            continue
        if patch.get(member) is not None and state not in states:
            raise ProblemError(409, "field-not-allowed-in-state",
                               f"{member!r} may be set only in states {', '.join(states)}; the record is {state!r}")


def _at_or_past(lifecycle: Lifecycle, state: Any, states: tuple[str, ...]) -> bool:
    """The fault's gate: states compared by their place in the enum, so the later-listed final ones pass too."""
    order = lifecycle.states
    return state in order and order.index(state) >= min(order.index(s) for s in states)


def _refuse(platform: Platform, lifecycle: Lifecycle, state: str, target: str, role: str) -> None:
    """Raise the problem the lifecycle gives for this transition, if any (subject to the faults)."""
    if target not in lifecycle.states:
        if "transition-unknown-state-500" in platform.faults:
            raise ProblemError(500, "internal-error", "the platform failed")
        raise ProblemError(422, "validation-failed", f"{target!r} is not a state of the {lifecycle.name} lifecycle",
                           errors=[{"pointer": "/to", "message": f"one of {', '.join(lifecycle.states)}"}])
    leaving = [t for t in lifecycle.transitions if t.source == state]
    if "role-before-state" in platform.variants and not any(role in t.roles for t in leaving):
        # S6: the caller's role makes no transition from here, so 403 and 409 both apply; this variant says 403.
        raise ProblemError(403, "role-not-allowed", f"{role!r} may not move a {lifecycle.name} out of {state!r}")
    reopenable = _fault(platform, lifecycle, "final-reopenable") or _fault(platform, lifecycle, f"{state}-reopenable")
    if state in lifecycle.final and not reopenable:
        raise ProblemError(409, "transition-not-allowed", f"{state!r} is a final state of the {lifecycle.name}")
    transition = lifecycle.transition(state, target)
    if transition is None:
        if state in lifecycle.final or _fault(platform, lifecycle, "any-transition") \
                or (_fault(platform, lifecycle, "self-transition") and state == target) \
                or (_fault(platform, lifecycle, "later-any-transition") and state != lifecycle.initial):
            return
        status = 400 if _fault(platform, lifecycle, "conflict-as-400") else 409
        raise ProblemError(status, "transition-not-allowed",
                           f"a {lifecycle.name} cannot go from {state!r} to {target!r}")
    first_only = _fault(platform, lifecycle, "role-first-only") and state != lifecycle.initial
    if role not in transition.roles and not _fault(platform, lifecycle, "role-unchecked") and not first_only:
        raise ProblemError(403, "role-not-allowed",
                           f"{role!r} may not move a {lifecycle.name} from {state!r} to {target!r}; "
                           f"allowed: {', '.join(transition.roles)}")


async def _request(platform: Platform, request: Request) -> dict[str, Any]:
    body = await read_json(request, JSON_TYPES)
    errors = platform.validator.schemas.errors(_REQUEST_SCHEMA, body)
    if errors:
        raise ProblemError(422, "validation-failed", "the transition request does not match its schema",
                           errors=[{"pointer": "/" + "/".join(map(str, e.absolute_path)), "message": e.message}
                                   for e in errors[:5]])
    return dict(body)


def _change_time(platform: Platform, lifecycle: Lifecycle, record: Record) -> str:
    """When a transition happened, as its history entry says (subject to the faults)."""
    if _fault(platform, lifecycle, "history-at-frozen"):
        return record.created_at
    if _fault(platform, lifecycle, "history-at-local-time"):  # Beijing wall-clock time labelled as UTC
        return format_instant(datetime.now(UTC) + timedelta(hours=8))
    return _now()


def _transition(collection: Collection, lifecycle: Lifecycle) -> Callable[[Request], Awaitable[Response]]:
    async def transition(request: Request) -> Response:
        platform, access = platform_of(request), authorise(request, collection, "write")
        item_id = request.path_params["item_id"]
        record = platform.store.get(collection.name, item_id)
        if record is None or not access.can_see(record.community):
            raise ProblemError(404, "not-found", f"no record {item_id!r} in {collection.name}")
        wanted = await _request(platform, request)
        state = str(record.body.get(lifecycle.status_field))
        _refuse(platform, lifecycle, state, wanted["to"], wanted["role"])
        change = {"from": state, "to": wanted["to"], "at": _change_time(platform, lifecycle, record),
                  "role": wanted["role"]}
        if wanted.get("note"):
            change["note"] = wanted["note"]
        history = list(record.body.get(lifecycle.history_field, []))
        if not _fault(platform, lifecycle, "history-not-appended"):
            history.append(change)
        body = {**record.body, lifecycle.status_field: wanted["to"], lifecycle.history_field: history}
        updated = platform.store.update(collection.name, item_id, body, record.community)
        if updated is None:
            raise ProblemError(404, "not-found", f"no record {item_id!r} in {collection.name}")
        publish(platform, collection, updated, "transitioned")
        if _fault(platform, lifecycle, "updated-at-frozen"):
            updated = dataclasses.replace(updated, updated_at=record.created_at)
        return JsonResponse(present(collection, updated, pii=access.sees_pii, faults=platform.faults, single=True,
                                    sensitive=access.sees_sensitive,
                                    whole_seconds="second-precision" in platform.variants))

    return transition


def add_transition_route(app: FastAPI, collection: Collection) -> None:
    """POST {path}/{id}/transitions for a collection with a lifecycle."""
    lifecycle = _lifecycle(app.state.platform, collection)
    if lifecycle is not None and collection.transitions_path:
        app.add_api_route(collection.transitions_path, _transition(collection, lifecycle), methods=["POST"],
                          include_in_schema=False)


def _unpublished(platform: Platform, collection: Collection, record: Record, kind: str) -> bool:
    if collection.entity == "alarm" and "event-feed-misses-alarms" in platform.faults:
        return True
    if collection.entity == "grid-event" and "event-feed-misses-grid-events" in platform.faults:
        return True
    lifecycle = _lifecycle(platform, collection)
    if kind == "transitioned" and lifecycle is not None and _fault(platform, lifecycle, "events-first-transition-only"):
        history = record.body.get(lifecycle.history_field)
        if isinstance(history, list) and len(history) > 2:
            return True
    return kind == "transitioned" and collection.entity == "work-order" \
        and "event-feed-misses-transitions" in platform.faults


def publish(platform: Platform, collection: Collection, record: Record, kind: str) -> None:
    """Append a creation or a transition of a lifecycle record to the event feed."""
    lifecycle = _lifecycle(platform, collection)
    feed = platform.catalogue.collections.get(EVENTS)
    if lifecycle is None or feed is None or _unpublished(platform, collection, record, kind):
        return
    body: dict[str, Any] = {
        "type": kind,
        "resource": {"collection": collection.name, "id": record.id, "href": f"{collection.path}/{record.id}"},
        "status": record.body.get(lifecycle.status_field),
        "occurred_at": record.updated_at,
    }
    member = community_field(platform.catalogue, collection)
    if member and isinstance(record.body.get(member), str):
        body["community_id"] = record.body[member]
    if "event-minimal" in platform.variants:  # the members the event schema leaves optional, left out
        body.pop("status", None)
        body.pop("community_id", None)
    platform.store.insert(EVENTS, f"evt-{uuid.uuid4().hex}", body, record.community)


def feed_order(platform: Platform, collection: Collection, records: list[Record]) -> list[Record]:
    """The order a page of the event feed is sent in: publication order (S7), unless a fault says otherwise."""
    if collection.entity == "event" and "event-feed-newest-first" in platform.faults and len(records) > 1:
        return records[::-1]
    return records
