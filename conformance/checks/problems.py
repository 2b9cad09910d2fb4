"""Errors as RFC 9457 problem details, carried by HTTP statuses, with stable codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlsplit

from ..catalogue import TRANSITIONS_SUFFIX
from ..results import Finding, Halt, fail
from ..session import CheckContext, inconclusive
from ..target import Exchange
from . import check
from ._expect import offered_collections, schema_findings
from ._roles import as_role

PROBLEM_SCHEMA = "interface/problem.json"


_OVERSIZED = 1024 * 1024 + 1024  # past a 1 MiB body: the smallest limit a platform is expected to keep


def _provoke(ctx: CheckContext, collection: str, invalid_fixture: str) -> Iterator[tuple[str, str, Exchange]]:
    """Requests that must fail, one per error status the interface standard names (400, 401, 403, 404, 405,
    409, 413, 415, 422), each with the problem code the standard assigns to it. 403 needs the `reader` role and
    409 a lifecycle collection the platform offers; without them those two are not provoked."""
    coll = ctx.collection(collection)
    path = coll.path
    yield "an unknown id", "not-found", ctx.get(f"{path}/{ctx.unique('no-such-id-')}")
    invalid = ctx.post(path, ctx.fixture(invalid_fixture))
    ctx.discard(collection, invalid)
    yield "an invalid payload", "validation-failed", invalid
    yield "a missing token", "unauthenticated", ctx.get(path, token=False)
    yield "an invalid limit", "invalid-parameter", ctx.get(path, params={"limit": "abc"})
    yield "a malformed JSON body", "malformed-json", ctx.request(
        "POST", path, content=b'{"name": "unterminated', headers={"Content-Type": "application/json"})
    yield "a method the path does not offer", "method-not-allowed", ctx.request("PUT", path, json_body={})
    body = json.dumps({"name": "x" * _OVERSIZED}).encode()
    oversized = ctx.request("POST", path, content=body, headers={"Content-Type": "application/json"})
    ctx.discard(collection, oversized)
    yield "an oversized body", "payload-too-large", oversized
    wrong_type = ctx.request("POST", path, content=json.dumps(ctx.fixture(f"{collection}/valid/minimal")).encode(),
                             headers={"Content-Type": "text/plain"})
    ctx.discard(collection, wrong_type)
    yield "a body sent as text/plain", "unsupported-media-type", wrong_type
    if ctx.session.credentials.get("reader") is not None and coll.writable:
        refused = as_role(ctx, "reader", "POST", path, json_body=ctx.fixture(f"{collection}/valid/minimal"))
        ctx.discard(collection, refused)
        yield "a write without the write scope", "forbidden", refused
    conflict = _illegal_transition(ctx)
    if conflict is not None:
        yield "a transition the lifecycle does not list", "transition-not-allowed", conflict


def _illegal_transition(ctx: CheckContext) -> Exchange | None:
    """S6: from the initial state, to a state the table gives no transition to, by a role listed there: 409."""
    for name in offered_collections(ctx):
        coll = ctx.collection(name)
        if not coll.lifecycle or not coll.writable:
            continue
        lifecycle = ctx.catalogue.lifecycle_of(name)
        allowed = [t for t in lifecycle.transitions if t.source == lifecycle.initial]
        forbidden = lifecycle.forbidden_from(lifecycle.initial)
        if not allowed or not forbidden:
            continue
        try:
            _, entity = ctx.create(name, ctx.fixture(f"{name}/valid/minimal"), purpose="a lifecycle record")
        except Halt:
            return None
        return ctx.post(ctx.item_path(name, str(entity["id"])) + TRANSITIONS_SUFFIX,
                        {"to": forbidden[0], "role": allowed[0].roles[0]})
    return None


@check("problems.format")
def problem_format(ctx: CheckContext, *, collection: str | None = None,
                   invalid_fixture: str | None = None) -> Iterator[Finding]:
    """Every error is application/problem+json, valid, with `status` equal to the HTTP status: every error status
    the standard names on ``collection`` (with ``invalid_fixture``); else, on ``collection`` or on every collection
    the platform offers, an unknown id and a missing token, and on the writable ones an empty record and a write
    without the write scope."""
    if collection is not None and invalid_fixture is not None:
        yield from _judge_problems(ctx, _provoke(ctx, collection, invalid_fixture))
        return
    names = [collection] if collection is not None else offered_collections(ctx)
    yield from ctx.each(names, lambda probe, name: _judge_problems(probe, _provoke_few(probe, name)))


def _provoke_few(ctx: CheckContext, collection: str) -> Iterator[tuple[str, str, Exchange]]:
    """The errors every collection can give: an unknown id, a missing token; a writable one also an empty record
    (required members missing) and, with the `reader` role, a write without the write scope."""
    coll = ctx.collection(collection)
    yield "an unknown id", "not-found", ctx.get(f"{coll.path}/{ctx.unique('no-such-id-')}")
    yield "a missing token", "unauthenticated", ctx.get(coll.path, token=False)
    if coll.writable:
        empty = ctx.post(coll.path, {})
        ctx.discard(collection, empty)
        yield "an empty record", "validation-failed", empty
        if ctx.session.credentials.get("reader") is not None:
            refused = as_role(ctx, "reader", "POST", coll.path, json_body=ctx.fixture(f"{collection}/valid/minimal"))
            ctx.discard(collection, refused)
            yield "a write without the write scope", "forbidden", refused


def _judge_problems(ctx: CheckContext, provoked: Iterator[tuple[str, str, Exchange]]) -> Iterator[Finding]:
    errors = 0
    for what, _, exchange in provoked:
        if exchange.status < 400:
            continue
        errors += 1
        label = f"the error for {what} on {exchange.method} {urlsplit(exchange.url).path} ({exchange.status})"
        if exchange.content_type != "application/problem+json":
            yield fail(f"{label} is served as {exchange.content_type or 'no content type'!r}",
                       expected="application/problem+json", found=exchange.content_type, location="Content-Type")
        try:
            body = exchange.json()
        except ValueError:
            yield fail(f"{label} has no JSON body", found=exchange.text[:200])
            continue
        yield from schema_findings(ctx, PROBLEM_SCHEMA, body, what=label)
        if isinstance(body, dict) and body.get("status") != exchange.status:
            yield fail(f"{label}: `status` differs from the HTTP status", expected=exchange.status,
                       found=body.get("status"), location="/status")
    if errors == 0:
        raise inconclusive("none of the requests that must fail did fail, so no error could be examined")


@check("problems.http_status")
def problem_http_status(ctx: CheckContext) -> Iterator[Finding]:
    """An unknown path is 404: errors are never '200 with an error code in the body'."""
    path = f"/{ctx.unique('no-such-collection-')}"
    exchange = ctx.get(path)
    if exchange.status != 404:
        yield fail(f"GET {path} (no such resource) answered {exchange.status}", expected=404, found=exchange.status)


_STATED_CODES = ["not-found", "validation-failed", "unauthenticated", "invalid-parameter"]


@check("problems.codes")
def problem_codes(ctx: CheckContext, *, collection: str, invalid_fixture: str,
                  codes: list[str] = _STATED_CODES) -> Iterator[Finding]:  # noqa: B006 - never mutated
    """Each kind of error whose code is among ``codes`` (those the requirement states) carries that code."""
    examined = 0
    for what, code, exchange in _provoke(ctx, collection, invalid_fixture):
        if code not in codes:
            continue
        try:
            body = exchange.json()
        except ValueError:
            continue
        if exchange.status < 400 or not isinstance(body, dict) or "code" not in body:
            continue  # not a problem document: problems.format reports that
        examined += 1
        if body["code"] != code:
            yield fail(f"the problem for {what} carries code {body['code']!r}", expected=code,
                       found=body["code"], location="/code")
    if examined == 0:
        raise inconclusive("no problem document with a `code` came back, so no code could be examined")
