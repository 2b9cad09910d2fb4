"""Input validation: invalid payloads are rejected with 4xx and never stored, on create and on merge patch."""

from __future__ import annotations

from collections.abc import Iterator

from ..results import Finding, fail
from ..session import CheckContext
from . import check
from ._expect import delete_offered, merge_patch_between

_METHODS = ("POST", "PATCH")


@check("validation.rejects")
def rejects(ctx: CheckContext, *, collection: str, fixture: str, because: str,
            statuses: list[int] = [400, 422],  # noqa: B006 - never mutated
            methods: list[str] = list(_METHODS), base_fixture: str | None = None) -> Iterator[Finding]:  # noqa: B006
    """An invalid payload answers 400/422 (never 2xx, never 5xx) and stores nothing: POSTed as a new record, and
    sent as the merge patch that turns a valid record (``base_fixture``, else `valid/minimal`) into it."""
    coll = ctx.collection(collection)
    invalid = ctx.fixture(fixture)
    for method in methods:
        if method == "POST":
            exchange = ctx.post(coll.path, invalid)
        elif method == "PATCH" and coll.writable:
            base = ctx.fixture(base_fixture or f"{collection}/valid/minimal")
            patch = merge_patch_between(base, invalid)
            if not patch:
                continue  # the invalid fixture differs from the record in nothing a merge patch can say
            _, created = ctx.create(collection, base, purpose="a valid record to patch")
            exchange = ctx.patch(ctx.item_path(collection, str(created["id"])), patch)
        else:
            continue
        if exchange.status in statuses:
            continue
        if 200 <= exchange.status < 300:
            message = f"{method} of an invalid {coll.entity} was accepted ({exchange.status}): {because}"
            note = ctx.discard(collection, exchange) if method == "POST" else _drop(ctx, collection, exchange.url)
            if note:
                message += f"; {note}"
            yield fail(message, expected=statuses, found=exchange.status)
        else:
            yield fail(f"{method} of an invalid payload ({because}) answered {exchange.status}", expected=statuses,
                       found=exchange.status)


def _drop(ctx: CheckContext, collection: str, url: str) -> str:
    """A record a refused-but-applied patch made invalid is deleted where DELETE is offered, so it trips nothing else."""
    if delete_offered(ctx, collection) and ctx.delete(url).status in (200, 204):
        return "the record held it (the suite deleted the record)"
    return "the record now holds it"


@check("validation.malformed_json")
def malformed_json(ctx: CheckContext, *, collection: str) -> Iterator[Finding]:
    """A body that is not JSON answers 400, not 5xx."""
    path = ctx.collection(collection).path
    exchange = ctx.request("POST", path, content=b'{"name": "unterminated', headers={"Content-Type": "application/json"})
    if exchange.status != 400:
        yield fail(f"a malformed JSON body answered {exchange.status}", expected=400, found=exchange.status)
