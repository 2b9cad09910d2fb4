"""Traceability: every write leaves an audit record an auditor can read, and no one can change it."""

from __future__ import annotations

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


def _writes(ctx: CheckContext, collection: str, fixture: str) -> list[tuple[str, tuple[str, ...], str, str]]:
    """Create, change and delete (when offered), and every kind of refused write — each write kind by a token
    without the write scope (403), an invalid create and an invalid patch — each under its own request id:
    (action, outcomes accepted, record id, request id)."""
    done: list[tuple[str, tuple[str, ...], str, str]] = []
    coll = ctx.collection(collection)
    rid = ctx.unique("sc-audit-")
    payload = ctx.fixture(fixture)
    created = ctx.post(coll.path, payload, headers={"X-Request-Id": rid})
    require_status(created, 201, why="a valid record must be created", precondition=True)
    entity = require_json(created, precondition=True)
    record_id = str(entity.get("id"))
    item = ctx.item_path(collection, record_id)
    done.append(("create", ("success",), record_id, _request_id(created, rid)))
    reader = role(ctx, "reader").token
    _, aimed = ctx.create(collection, ctx.fixture(fixture), purpose="a record the refused writes aim at")
    aimed_id = str(aimed["id"])  # its own record: a refused delete that deletes must not upset the rest
    for op in operations(ctx, collection, aimed_id, kinds=("create", "update", "delete")):
        rid = ctx.unique("sc-audit-")
        refused = op.send(ctx, payload if op.kind == "create" else None, token=reader, headers={"X-Request-Id": rid})
        if refused.status == 403:
            done.append((op.kind, ("denied",), "" if op.kind == "create" else aimed_id, _request_id(refused, rid)))
        elif op.kind == "create":
            ctx.discard(collection, refused)
    aimed_item = ctx.item_path(collection, aimed_id)
    for op, body in ((Operation("create", "POST", coll.path), {}), (Operation("update", "PATCH", aimed_item),
                                                                     {"extensions": 1})):
        rid = ctx.unique("sc-audit-")
        invalid = op.send(ctx, body, headers={"X-Request-Id": rid})
        if 400 <= invalid.status < 500:  # refused as invalid: denied or failed, the standard does not say which
            done.append((op.kind, ("denied", "failed"), "" if op.kind == "create" else aimed_id,
                         _request_id(invalid, rid)))
    steps = [("update", "PATCH", {})] + ([("delete", "DELETE", None)] if delete_offered(ctx, collection) else [])
    for action, method, body in steps:
        rid = ctx.unique("sc-audit-")
        headers = {"X-Request-Id": rid}
        exchange = (ctx.patch(item, body, headers=headers) if method == "PATCH"
                    else ctx.request(method, item, headers=headers))
        require_status(exchange, 200, 204, why=f"the {action} is a precondition", precondition=True)
        done.append((action, ("success",), record_id, _request_id(exchange, rid)))
    return done


def _trail(ctx: CheckContext, role: str = "auditor") -> dict[str, dict[str, Any]]:
    audit = ctx.collection("audit-records").name
    return {str(item.get("request_id")): item for item in listed_items(ctx, audit, role, max_pages=200)}


@check("audit.trail")
def trail(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """Each write (create, update, delete, refused) has an audit record: actor, action, resource, time, outcome."""
    writes = _writes(ctx, collection, fixture)
    records = _trail(ctx)
    schema = ctx.collection("audit-records").schema
    for action, outcomes, record_id, rid in writes:
        outcome = "/".join(outcomes)
        record = records.get(rid)
        if record is None:
            yield fail(f"the {outcome} {action} under X-Request-Id {rid} left no audit record the auditor can read",
                       expected=f"an audit record with request_id {rid}", location="/items")
            continue
        yield from schema_findings(ctx, schema, record, what=f"the audit record of the {action}", limit=3)
        if record.get("action") != action or record.get("outcome") not in outcomes:
            yield fail(f"the audit record of request {rid} says {record.get('action')}/{record.get('outcome')}",
                       expected=f"{action}/{outcome}", found=f"{record.get('action')}/{record.get('outcome')}")
        if record_id and record_id not in str(record.get("resource", "")):
            yield fail(f"the audit record of the {action} does not name the resource {record_id}",
                       found=record.get("resource"), location="/resource")
        if instant(record.get("time")) is None:
            yield fail("the audit record's time is not an RFC 3339 instant", found=record.get("time"),
                       location="/time")


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
