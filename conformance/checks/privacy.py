"""Personal data: the standard's masks without the PII scope, never in errors or URLs, sensitive tags scoped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..results import Finding, fail
from ..session import CheckContext
from ..verdicts import Verdict
from . import check
from ._expect import require_json, require_status
from ._roles import as_role, create_in

_COMMON = "common.json#/$defs/"
# Where the standard's personal data sits in a resident, and the mask definition of each.
_PERSONAL = (("/identity/number", "masked-identity-number", 6, 4), ("/phone", "masked-mobile-phone", 3, 4))


def _at(entity: Any, pointer: str) -> Any:
    for part in pointer.strip("/").split("/"):
        entity = entity.get(part) if isinstance(entity, dict) else None
    return entity


def _expected_mask(value: str, head: int, tail: int) -> str:
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


@check("privacy.masking")
def masking(ctx: CheckContext, *, collection: str, fixture: str, role: str = "reader") -> Iterator[Finding]:
    """Without the PII scope identity number and phone use the standard's masks (6+4, 3+4); with it, in full."""
    payload = ctx.fixture(fixture)
    _, entity = ctx.create(collection, payload, purpose=f"a record from {fixture}")
    item = ctx.item_path(collection, str(entity["id"]))
    masked = as_role(ctx, role, "GET", item)
    require_status(masked, 200, why=f"the {role!r} role may read", precondition=True)
    full = ctx.get(item)
    require_status(full, 200, precondition=True)
    masked_entity, full_entity = require_json(masked), require_json(full)
    for pointer, definition, head, tail in _PERSONAL:
        sent = _at(payload, pointer)
        if not isinstance(sent, str):
            continue
        shown = _at(masked_entity, pointer)
        if shown == sent:
            yield fail(f"{pointer} is shown in full to a token without the PII scope", location=pointer)
        elif ctx.schemas.errors(_COMMON + definition, shown) or shown != _expected_mask(sent, head, tail):
            yield fail(f"{pointer} is not masked the standard's way ({head} kept, asterisks, {tail} kept)",
                       expected=_expected_mask(sent, head, tail), found=shown, location=pointer)
        if _at(full_entity, pointer) != sent:
            yield fail(f"{pointer} is not shown in full to a token holding the PII scope", location=pointer)


@check("privacy.not_in_errors")
def not_in_errors(ctx: CheckContext, *, collection: str, fixture: str, invalid_fixture: str) -> Iterator[Finding]:
    """Identity numbers and phones never appear in error bodies, headers or URLs of the platform."""
    rejected = ctx.fixture(invalid_fixture)
    valid = ctx.fixture(fixture)
    personal = [v for p in ("/identity/number", "/phone") for v in (_at(rejected, p), _at(valid, p))
                if isinstance(v, str)]
    refused = ctx.post(ctx.collection(collection).path, rejected)
    if 200 <= refused.status < 300:
        ctx.discard(collection, refused)
        yield Finding(Verdict.INCONCLUSIVE, f"the invalid fixture {invalid_fixture!r} was accepted, so its error "
                                            "body could not be examined")
    created, entity = ctx.create(collection, valid, purpose=f"a record from {fixture}")
    missing = ctx.get(ctx.item_path(collection, "sc-missing-" + ctx.unique()))
    # The created entity itself may show them (the default role holds the PII scope); nothing else may.
    places = [(refused, "body", refused.text), (missing, "body", missing.text)]
    places += [(exchange, "headers", " ".join(f"{k}: {v}" for k, v in exchange.headers.items()))
               for exchange in (refused, created, missing)]
    for exchange, part, text in places:
        for value in personal:
            if value in text:
                yield fail(f"{exchange.method} {exchange.url} ({exchange.status}) shows personal data in its "
                           f"{part}", found=value[:3] + "…", location=part)
    if any(value in str(entity.get("id", "")) for value in personal):
        yield fail("the record's id (and so its URL) contains personal data", location="/id")


@check("privacy.sensitive_tags")
def sensitive_tags(ctx: CheckContext, *, collection: str, fixture: str, tags: list[str],
                   role: str = "pii-reader") -> Iterator[Finding]:
    """Sensitive tags are omitted for a token without the sensitive scope (even with PII), shown with it."""
    sensitive = set(ctx.schemas.documents[ctx.schemas.uri("common.json")]["$defs"]["sensitive-tag"]["enum"])
    _, entity = create_in(ctx, collection, fixture)
    payload_tags = set(tags)
    item = ctx.item_path(collection, str(entity["id"]))
    require_status(ctx.patch(item, {"tags": tags}), 200, why="tags are part of the record", precondition=True)
    limited = as_role(ctx, role, "GET", item)
    require_status(limited, 200, why=f"the {role!r} role may read", precondition=True)
    shown = set(require_json(limited).get("tags") or [])
    if shown & sensitive:
        yield fail(f"a token without the sensitive scope sees the tags {sorted(shown & sensitive)}",
                   expected=sorted(payload_tags - sensitive), found=sorted(shown), location="/tags")
    if (payload_tags - sensitive) - shown:
        yield fail("ordinary tags vanished for a token without the sensitive scope", location="/tags",
                   expected=sorted(payload_tags - sensitive), found=sorted(shown))
    full = set(require_json(ctx.get(item)).get("tags") or [])
    if full != payload_tags:
        yield fail("a token holding the sensitive scope does not see every tag", expected=sorted(payload_tags),
                   found=sorted(full), location="/tags")
