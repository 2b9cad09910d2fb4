"""Traceability: every write leaves an audit record an auditor can read, and no one can change it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from ..results import Finding, fail
from ..session import CheckContext, inconclusive
from ..target import Exchange
from . import check
from ._expect import Operation, delete_offered, instant, operations, require_json, require_status, schema_findings
from ._roles import as_role, create_in, listed_items, role


def _request_id(exchange: Exchange, sent: str) -> str:
    return exchange.headers.get("x-request-id") or sent


# actions, outcomes, record id, request id, what, the role whose token wrote (None: the default token)
_Write = tuple[tuple[str, ...], tuple[str, ...], str, str, str, str | None]
_REFUSED = ("denied", "failed")
_TRANSITION = ("create", "update")  # a transition is a POST that changes the record: either reads as its action


def _audited(ctx: CheckContext, method: str, path: str, body: Any, *expected: int, why: str) -> tuple[Exchange, str]:
    """One write under a request id of its own; ``expected`` statuses are a precondition."""
    rid = ctx.unique("sc-audit-")
    headers = {"X-Request-Id": rid}
    exchange = (ctx.patch(path, body, headers=headers) if method == "PATCH"
                else ctx.request(method, path, json_body=body, headers=headers))
    require_status(exchange, *expected, why=why, precondition=True)
    return exchange, _request_id(exchange, rid)


def _transitions(ctx: CheckContext, collection: str, item: str, record_id: str) -> list[_Write]:
    """A refused transition and every transition of the main path, each under its own request id."""
    lifecycle = ctx.catalogue.lifecycle_of(collection)
    steps = lifecycle.path_to_final()
    if not steps:
        return []
    done: list[_Write] = []
    rid = ctx.unique("sc-audit-")
    refused = ctx.post(item + "/transitions", {"to": lifecycle.initial, "role": steps[0].roles[0]},
                       headers={"X-Request-Id": rid})
    if refused.status in (403, 409):  # whether it must be refused is the lifecycle requirements' business
        done.append((_TRANSITION, _REFUSED, record_id, _request_id(refused, rid),
                     f"refused transition {lifecycle.initial} → {lifecycle.initial}", None))
    for step in steps:
        _, rid = _audited(ctx, "POST", item + "/transitions", {"to": step.target, "role": step.roles[0]}, 200,
                          why=f"the allowed transition {step.source} → {step.target}")
        done.append((_TRANSITION, ("success",), record_id, rid, f"transition {step.source} → {step.target}", None))
    return done


def _writes(ctx: CheckContext, collection: str, fixture: str) -> list[_Write]:
    """Create, change, each transition (lifecycle collections), delete (when offered: S2) and refused writes."""
    payload = ctx.fixture(fixture)
    created, rid = _audited(ctx, "POST", ctx.collection(collection).path, payload, 201,
                            why="a valid record must be created")
    entity = require_json(created, precondition=True)
    record_id = str(entity.get("id"))
    item = ctx.item_path(collection, record_id)
    done: list[_Write] = [(("create",), ("success",), record_id, rid, "create", None)]
    _, rid = _audited(ctx, "PATCH", item, {}, 200, why="the update is a precondition")
    done.append((("update",), ("success",), record_id, rid, "update", None))
    if ctx.collection(collection).lifecycle:
        done += _transitions(ctx, collection, item, record_id)
    if delete_offered(ctx, collection):
        _, rid = _audited(ctx, "DELETE", item, None, 200, 204, why="the delete is a precondition")
        done.append((("delete",), ("success",), record_id, rid, "delete", None))
    # every kind of refused write: each write kind by a token without the write scope (403), an invalid create
    # and an invalid patch (400/422), aimed at a record of their own so a refused delete that deletes upsets nothing
    coll = ctx.collection(collection)
    reader = role(ctx, "reader").token
    _, aimed = ctx.create(collection, ctx.fixture(fixture), purpose="a record the refused writes aim at")
    aimed_id = str(aimed["id"])
    for op in operations(ctx, collection, aimed_id, kinds=("create", "update", "delete")):
        rid = ctx.unique("sc-audit-")
        refused = op.send(ctx, payload if op.kind == "create" else None, token=reader, headers={"X-Request-Id": rid})
        if refused.status == 403:
            done.append(((op.kind,), ("denied",), "" if op.kind == "create" else aimed_id, _request_id(refused, rid),
                         f"refused {op.kind}", "reader"))
        elif op.kind == "create":
            ctx.discard(collection, refused)
    aimed_item = ctx.item_path(collection, aimed_id)
    for op, body in ((Operation("create", "POST", coll.path), {}), (Operation("update", "PATCH", aimed_item),
                                                                     {"extensions": 1})):
        rid = ctx.unique("sc-audit-")
        invalid = op.send(ctx, body, headers={"X-Request-Id": rid})
        if 400 <= invalid.status < 500:  # refused as invalid: denied or failed, the standard does not say which
            done.append(((op.kind,), _REFUSED, "" if op.kind == "create" else aimed_id, _request_id(invalid, rid),
                         f"invalid {op.kind}", None))
    return done


def _trail(ctx: CheckContext, role: str = "auditor") -> dict[str, dict[str, Any]]:
    audit = ctx.collection("audit-records").name
    return {str(item.get("request_id")): item for item in listed_items(ctx, audit, role, max_pages=200)}


READABLE_WITHIN = 5.0  # S15: seconds after the write's response by which its audit record is readable


def _trails(ctx: CheckContext, wanted: set[str], role: str = "auditor") -> dict[str, list[dict[str, Any]]]:
    """Every audit record by request id (S16: a rate-limited attempt may leave a refused record beside the
    success of its retry); read again, for what is missing, until S15's delay has passed."""
    audit = ctx.collection("audit-records").name
    deadline = time.monotonic() + READABLE_WITHIN
    while True:
        found: dict[str, list[dict[str, Any]]] = {}
        for item in listed_items(ctx, audit, role, max_pages=200):
            found.setdefault(str(item.get("request_id")), []).append(item)
        if wanted <= found.keys() or time.monotonic() >= deadline:
            return found
        time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))


@check("audit.trail")
def trail(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """Each write (create, update, every transition, delete when offered, refused ones) has an audit record:
    actor (the writing token's `sub` when it is a JWT), action, resource, time, outcome."""
    writes = _writes(ctx, collection, fixture)
    trails = _trails(ctx, {write[3] for write in writes})
    schema = ctx.collection("audit-records").schema
    credentials = ctx.session.credentials
    for actions, outcomes, record_id, rid, what, writer in writes:
        token = credentials.get(writer or credentials.default)
        candidates = trails.get(rid, [])
        if not candidates:
            yield fail(f"the {what} under X-Request-Id {rid} left no audit record the auditor can read within "
                       f"{READABLE_WITHIN:g} s (S15)", expected=f"an audit record with request_id {rid}",
                       location="/items")
            continue
        # the record that says what the write did; others under the same id are rate-limited attempts (S16)
        record = next((c for c in candidates if c.get("action") in actions and c.get("outcome") in outcomes),
                      candidates[-1])
        yield from schema_findings(ctx, schema, record, what=f"the audit record of the {what}", limit=3)
        if record.get("action") not in actions or record.get("outcome") not in outcomes:
            yield fail(f"the audit record of the {what} (request {rid}) says {record.get('action')}/"
                       f"{record.get('outcome')}", expected=f"{' or '.join(actions)}/{' or '.join(outcomes)}",
                       found=f"{record.get('action')}/{record.get('outcome')}")
        if record_id and record_id not in str(record.get("resource", "")):
            yield fail(f"the audit record of the {what} does not name the resource {record_id}",
                       found=record.get("resource"), location="/resource")
        if instant(record.get("time")) is None:
            yield fail("the audit record's time is not an RFC 3339 instant", found=record.get("time"),
                       location="/time")
        subject = token.subject if token is not None else None
        if subject is not None and record.get("actor") != subject:
            yield fail(f"the audit record of the {what} names actor {record.get('actor')!r}, not the subject of the "
                       "token that wrote", expected=subject, found=record.get("actor"), location="/actor")


@check("audit.scope_required")
def scope_required(ctx: CheckContext) -> Iterator[Finding]:
    """The audit trail is read only with the audit scope: the auditor reads it, a registry reader gets 403."""
    path = ctx.collection("audit-records").path
    require_status(as_role(ctx, "auditor", "GET", path), 200, why="the auditor reads the trail", precondition=True)
    exchange = as_role(ctx, "reader", "GET", path)
    if exchange.status != 403:
        yield fail(f"GET {path} by a token without the audit scope answered {exchange.status}", expected=403,
                   found=exchange.status)


@check("audit.immutable")
def immutable(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """Audit records cannot be created, changed or deleted through the API, not even by the most privileged token."""
    create_in(ctx, collection, fixture)
    records = list(_trail(ctx).values())
    if not records:
        raise inconclusive("precondition failed: the audit trail is empty after a write")
    record = records[-1]
    path = ctx.collection("audit-records").path
    item = f"{path}/{record.get('id')}"
    for method, target, body in (("POST", path, {**record, "outcome": "success"}), ("PATCH", item, {"actor": "x"}),
                                 ("DELETE", item, None)):
        headers = {"Content-Type": "application/merge-patch+json"} if method == "PATCH" else None
        exchange = ctx.request(method, target, json_body=body, headers=headers)
        if 200 <= exchange.status < 300:
            yield fail(f"{method} {target} answered {exchange.status}: audit records must be read-only",
                       expected="403, 404 or 405", found=exchange.status)
    after = as_role(ctx, "auditor", "GET", item)
    if after.status != 200:
        yield fail(f"the audit record {record.get('id')} is no longer readable ({after.status})")
    elif require_json(after) != record:
        yield fail(f"the audit record {record.get('id')} changed", expected=record, found=require_json(after))
