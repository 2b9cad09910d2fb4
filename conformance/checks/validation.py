"""Input validation: invalid payloads are rejected with 4xx and never stored."""

from __future__ import annotations

from collections.abc import Iterator

from ..results import Finding, fail
from ..session import CheckContext
from . import check


@check("validation.rejects")
def rejects(ctx: CheckContext, *, collection: str, fixture: str, because: str,
            statuses: list[int] = [400, 422]) -> Iterator[Finding]:  # noqa: B006 - never mutated
    """POSTing an invalid payload answers 400/422 (never 2xx, never 5xx) and stores nothing."""
    path = ctx.collection(collection).path
    exchange = ctx.post(path, ctx.fixture(fixture))
    if exchange.status in statuses:
        return
    if 200 <= exchange.status < 300:
        message = f"an invalid {collection[:-1]} was accepted ({exchange.status}): {because}"
        note = ctx.discard(collection, exchange)
        if note:
            message += f"; {note}"
        yield fail(message, expected=statuses, found=exchange.status)
    else:
        yield fail(f"an invalid payload ({because}) answered {exchange.status}", expected=statuses,
                   found=exchange.status)


@check("validation.malformed_json")
def malformed_json(ctx: CheckContext, *, collection: str) -> Iterator[Finding]:
    """A body that is not JSON answers 400, not 5xx."""
    path = ctx.collection(collection).path
    exchange = ctx.request("POST", path, content=b'{"name": "unterminated', headers={"Content-Type": "application/json"})
    if exchange.status != 400:
        yield fail(f"a malformed JSON body answered {exchange.status}", expected=400, found=exchange.status)
