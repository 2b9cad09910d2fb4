"""HTTP conventions: media types, bearer authentication, request ids."""

from __future__ import annotations

from collections.abc import Iterator

from ..oracles.rules import bearer_challenge
from ..results import Finding, fail
from ..session import CheckContext
from ..verdicts import Verdict
from . import check
from ._expect import JSON_TYPES, offered_collections, operations, record_to_aim_at


@check("http.json_media_type")
def json_media_type(ctx: CheckContext, *, collections: list[str] | None = None) -> Iterator[Finding]:
    """Successful responses are JSON media types in UTF-8 (charset absent or utf-8): discovery, the declaration,
    the listing of every collection discovery lists (or `collections`) and the first record each listing shows."""
    paths = [ctx.catalogue.discovery_path, ctx.catalogue.conformance_path]
    for name in offered_collections(ctx, collections):
        paths.append(ctx.collection(name).path)
        first = ctx.get(ctx.collection(name).path, params={ctx.catalogue.page["limit_param"]: 1})
        try:
            page = first.json() if first.status == 200 else None
        except ValueError:
            page = None
        items = page.get("items") if isinstance(page, dict) else None
        if isinstance(items, list) and items and isinstance(items[0], dict) and isinstance(items[0].get("id"), str):
            paths.append(ctx.item_path(name, items[0]["id"]))
    answered = 0
    for path in paths:
        exchange = ctx.get(path)
        if not 200 <= exchange.status < 300:
            continue
        answered += 1
        content_type = exchange.headers.get("content-type", "")
        charset = next((p.split("=", 1)[1].strip().strip('"').lower()
                        for p in content_type.split(";")[1:] if p.strip().lower().startswith("charset=")), None)
        if exchange.content_type not in JSON_TYPES:
            yield fail(f"GET {path} is served as {content_type or 'no content type'!r}",
                       expected="application/json", found=content_type, location="Content-Type")
        elif charset not in (None, "utf-8"):
            yield fail(f"GET {path} declares charset {charset!r}; the standard requires UTF-8",
                       expected="utf-8", found=charset, location="Content-Type")
        try:
            exchange.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield fail(f"GET {path}: the body is not valid UTF-8 ({exc.reason} at byte {exc.start})")
    if not answered:  # nothing successful was seen, so nothing could show the rule broken
        yield Finding(Verdict.INCONCLUSIVE, f"none of the {len(paths)} paths answered with success, so no "
                                            "successful response could be examined")


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
