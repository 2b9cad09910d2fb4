"""HTTP conventions: media types, bearer authentication, request ids."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from ..oracles.rules import bearer_challenge
from ..results import Finding, Halt, fail
from ..session import CheckContext
from ..target import Exchange
from ..verdicts import Verdict
from . import check
from ._expect import JSON_TYPES, offered_collections, operations, record_to_aim_at


@check("http.json_media_type")
def json_media_type(ctx: CheckContext, *, collections: list[str] | None = None) -> Iterator[Finding]:
    """Successful responses are JSON media types in UTF-8 (charset absent or utf-8): discovery, the declaration,
    and on every collection discovery lists (or `collections`) the listing, a record created from its minimal
    fixture where clients write it (the 201 and the record read back), else the first record the listing shows."""
    answered: list[Exchange] = []  # each response is judged as it arrives, so it is the proof of its finding
    for path in (ctx.catalogue.discovery_path, ctx.catalogue.conformance_path):
        yield from _json_in_utf8(ctx.get(path), answered)
    for name in offered_collections(ctx, collections):
        listing = ctx.get(ctx.collection(name).path)
        yield from _json_in_utf8(listing, answered)
        record_id = None
        if ctx.collection(name).writable:
            try:
                created, entity = ctx.create(name, ctx.fixture(f"{name}/valid/minimal"), purpose="a record to read")
                yield from _json_in_utf8(created, answered)
                record_id = str(entity["id"])
            except Halt:
                pass  # another requirement says why; the listing's first record is read instead
        if record_id is None:
            try:
                page = listing.json() if listing.status == 200 else None
            except ValueError:
                page = None
            items = page.get("items") if isinstance(page, dict) else None
            if isinstance(items, list) and items and isinstance(items[0], dict) and isinstance(items[0].get("id"), str):
                record_id = items[0]["id"]
        if record_id is not None:
            yield from _json_in_utf8(ctx.get(ctx.item_path(name, record_id)), answered)
    if not answered:  # nothing successful was seen, so nothing could show the rule broken
        yield Finding(Verdict.INCONCLUSIVE, "none of the requests answered with success, so no successful response "
                                            "could be examined")


def _json_in_utf8(exchange: Exchange, answered: list[Exchange]) -> Iterator[Finding]:
    if not 200 <= exchange.status < 300 or not exchange.body:
        return
    answered.append(exchange)
    where = f"{exchange.method} {urlsplit(exchange.url).path}"
    content_type = exchange.headers.get("content-type", "")
    charset = next((p.split("=", 1)[1].strip().strip('"').lower()
                    for p in content_type.split(";")[1:] if p.strip().lower().startswith("charset=")), None)
    if exchange.content_type not in JSON_TYPES:
        yield fail(f"{where} is served as {content_type or 'no content type'!r}",
                   expected="application/json", found=content_type, location="Content-Type")
    elif charset not in (None, "utf-8"):
        yield fail(f"{where} declares charset {charset!r}; the standard requires UTF-8",
                   expected="utf-8", found=charset, location="Content-Type")
    try:
        exchange.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        yield fail(f"{where}: the body is not valid UTF-8 ({exc.reason} at byte {exc.start})")


@check("http.bearer_required")
def bearer_required(ctx: CheckContext, *, collections: list[str] | None = None) -> Iterator[Finding]:
    """Without a token, every operation the catalogue offers (list, create; read, patch, delete when offered,
    transitions) answers 401 with a Bearer challenge (RFC 6750), at collection and item paths alike."""
    # each collection's operations, side by side under --concurrency
    yield from ctx.each(offered_collections(ctx, collections), _without_token)


def _without_token(ctx: CheckContext, name: str) -> Iterator[Finding]:
    record_id = record_to_aim_at(ctx, name)
    for op in operations(ctx, name, record_id):
        exchange = op.send(ctx, token=False)
        if exchange.status != 401:
            note = ctx.discard(name, exchange) if op.kind == "create" else None
            yield fail(f"{op.method} {op.path} without a token answered {exchange.status}"
                       + (f"; {note}" if note else ""), expected=401, found=exchange.status)
            continue
        challenge = ", ".join(exchange.headers.get_list("www-authenticate"))
        if not bearer_challenge(challenge):
            yield fail(f"{op.method} {op.path}: 401 without a `WWW-Authenticate: Bearer …` challenge",
                       expected="Bearer realm=…", found=challenge or None, location="WWW-Authenticate")



@check("http.request_id")
def request_id(ctx: CheckContext, *, collection: str) -> Iterator[Finding]:
    """Every response carries X-Request-Id; a client-supplied one is echoed (transaction id)."""
    path = ctx.collection(collection).path
    supplied = ctx.unique("sc-")
    for headers, expect_echo in (({"X-Request-Id": supplied}, True), ({}, False)):
        for target in (path, f"{path}/{ctx.unique('missing-')}"):
            exchange = ctx.get(target, headers=headers)
            value = exchange.headers.get("x-request-id")
            if not value:
                yield fail(f"GET {target} ({exchange.status}) carries no X-Request-Id", location="X-Request-Id")
            elif expect_echo and value != supplied:
                yield fail(f"GET {target} did not echo the client's X-Request-Id",
                           expected=supplied, found=value, location="X-Request-Id")
