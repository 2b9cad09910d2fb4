"""Errors as RFC 9457 problem details, carried by HTTP statuses, with stable codes."""

from __future__ import annotations

from collections.abc import Iterator

from ..results import Finding, fail
from ..session import CheckContext, inconclusive
from ..target import Exchange
from . import check
from ._expect import schema_findings

PROBLEM_SCHEMA = "interface/problem.json"


def _provoke(ctx: CheckContext, collection: str, invalid_fixture: str) -> Iterator[tuple[str, str, Exchange]]:
    """Requests that must fail, each with the problem code the standard assigns to it."""
    path = ctx.collection(collection).path
    yield "an unknown id", "not-found", ctx.get(f"{path}/{ctx.unique('no-such-id-')}")
    invalid = ctx.post(path, ctx.fixture(invalid_fixture))
    ctx.discard(collection, invalid)
    yield "an invalid payload", "validation-failed", invalid
    yield "a missing token", "unauthenticated", ctx.get(path, token=False)
    yield "an invalid limit", "invalid-parameter", ctx.get(path, params={"limit": "abc"})


@check("problems.format")
def problem_format(ctx: CheckContext, *, collection: str, invalid_fixture: str) -> Iterator[Finding]:
    """Every error is application/problem+json, valid, with `status` equal to the HTTP status."""
    errors = 0
    for what, _, exchange in _provoke(ctx, collection, invalid_fixture):
        if exchange.status < 400:
            continue
        errors += 1
        label = f"the error for {what} ({exchange.status})"
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


@check("problems.codes")
def problem_codes(ctx: CheckContext, *, collection: str, invalid_fixture: str) -> Iterator[Finding]:
    """Each kind of error carries the code the standard's registry assigns to it."""
    examined = 0
    for what, code, exchange in _provoke(ctx, collection, invalid_fixture):
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
