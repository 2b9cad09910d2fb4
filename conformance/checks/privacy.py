"""Personal data: the standard's masks without the PII scope, never in errors or URLs, sensitive tags scoped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..fixtures import fixture_names, load_fixture
from ..results import Finding, fail
from ..session import CheckContext
from ..verdicts import Verdict
from . import check
from ._expect import create_required, instant, offered_collections, require_json, require_status
from ._roles import as_role, create_in, listed_items, role_pages

_COMMON = "common.json#/$defs/"
# The standard's masks by the last segment of a catalogue pii_fields pointer: definition, kept head and tail.
_MASKS = {"number": ("masked-identity-number", 6, 4), "phone": ("masked-mobile-phone", 3, 4)}


def _at(entity: Any, pointer: str) -> Any:
    for part in pointer.strip("/").split("/"):
        entity = entity.get(part) if isinstance(entity, dict) else None
    return entity


def _expected_mask(value: str, head: int, tail: int) -> str:
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


def _read_paths(ctx: CheckContext, collection: str, role_name: str, created: list[dict[str, Any]]
                ) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each created record as ``role_name`` sees it on every read path it comes back on (S12): by id, the
    listing (whichever page holds it), an `updated_since` sync in pages of one (so later pages too), and
    the record an event of the feed points at, when the platform declares `event-feed`."""
    ids = [str(entity["id"]) for entity in created]
    for record_id in ids:
        item = ctx.item_path(collection, record_id)
        exchange = as_role(ctx, role_name, "GET", item)
        require_status(exchange, 200, why=f"the {role_name!r} role may read", precondition=True)
        yield f"GET {item} (by id)", require_json(exchange, precondition=True)
    capabilities = ctx.session.capabilities()
    walks: list[tuple[str, dict[str, Any], int | None]] = [("the listing", {}, None)]
    stamps = sorted((instant(e.get("updated_at")), e.get("updated_at")) for e in created if instant(e.get("updated_at")))
    if stamps and "updated-since" in capabilities:
        since = ctx.catalogue.page["updated_since_param"]
        walks.append((f"the {since}={stamps[0][1]} sync", {since: stamps[0][1]}, 1))
    for label, params, limit in walks:
        missing = set(ids)
        for number, items in role_pages(ctx, collection, role_name, params=params, limit=limit):
            for item in items:
                if str(item.get("id")) in missing:
                    missing.discard(str(item.get("id")))
                    yield f"{label}, page {number}", item
            if not missing:
                break
    if "event-feed" in capabilities and ctx.collection(collection).lifecycle and "events" in ctx.catalogue.collections:
        yield from _through_feed(ctx, role_name, set(ids))


def _through_feed(ctx: CheckContext, role_name: str, ids: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The feed names records by reference (its schema carries no entity data): follow the href of each of ours."""
    followed: set[str] = set()
    for item in listed_items(ctx, "events", role_name):
        resource = item.get("resource")
        href = resource.get("href") if isinstance(resource, dict) else None
        if isinstance(href, str) and str(resource.get("id")) in ids and href not in followed:
            followed.add(href)
            exchange = as_role(ctx, role_name, "GET", href)
            if exchange.status == 200 and isinstance(body := require_json(exchange), dict):
                yield f"the event feed's href {href}", body


def _mask_findings(ctx: CheckContext, collection: str, sent: dict[str, Any], shown: dict[str, Any],
                   where: str) -> Iterator[Finding]:
    for pointer in ctx.collection(collection).pii_fields:
        value = _at(sent, pointer)
        definition, head, tail = _MASKS.get(pointer.rsplit("/", 1)[-1], ("masked-mobile-phone", 3, 4))
        if not isinstance(value, str):
            continue
        got = _at(shown, pointer)
        if got == value:
            yield fail(f"{where}: {pointer} is shown in full to a token without the PII scope", location=pointer)
        elif ctx.schemas.errors(_COMMON + definition, got) or got != _expected_mask(value, head, tail):
            yield fail(f"{where}: {pointer} is not masked the standard's way ({head} kept, asterisks, {tail} kept)",
                       expected=_expected_mask(value, head, tail), found=got, location=pointer)


def personal_fixture(ctx: CheckContext, collection: str) -> str | None:
    """The valid fixture of a collection carrying the most of its personal members (its ``full`` one first on a
    tie), or None when none carries any: what a masking probe of that collection sends."""
    pii_fields = ctx.collection(collection).pii_fields
    names = [n for n in fixture_names() if n.startswith(f"{collection}/valid/")]
    names.sort(key=lambda n: (not n.endswith("/full"), n))
    scored = [(sum(isinstance(_at(load_fixture(n), p), str) for p in pii_fields), n) for n in names]
    best = max(scored, key=lambda pair: pair[0], default=(0, ""))
    return best[1] if best[0] else None


def _masked_everywhere(ctx: CheckContext, collection: str, fixture: str, role: str) -> Iterator[Finding]:
    payload = ctx.fixture(fixture)
    created = [ctx.create(collection, ctx.fixture(fixture), purpose=f"a record from {fixture}")[1] for _ in range(2)]
    for where, shown in _read_paths(ctx, collection, role, created):
        yield from _mask_findings(ctx, collection, payload, shown, where)
    full = ctx.get(ctx.item_path(collection, str(created[0]["id"])))
    require_status(full, 200, precondition=True)
    for pointer in ctx.collection(collection).pii_fields:
        if isinstance(_at(payload, pointer), str) and _at(require_json(full), pointer) != _at(payload, pointer):
            yield fail(f"{collection}: {pointer} is not shown in full to a token holding the PII scope",
                       location=pointer)


@check("privacy.masking")
def masking(ctx: CheckContext, *, collection: str | None = None, fixture: str | None = None,
            role: str = "reader") -> Iterator[Finding]:
    """Without the PII scope identity numbers and phones (the catalogue's pii_fields) use the standard's masks
    (6+4, 3+4) on every read path — by id, every page of the listing, `updated_since`, the feed; with it, in full.
    Naming no collection, every writable collection the platform offers with personal members is probed, each
    with its valid fixture carrying the most of them."""
    if collection is not None:
        chosen = fixture or personal_fixture(ctx, collection)
        places = [(collection, chosen)] if chosen else []
    else:
        places = [(c, name) for c in offered_collections(ctx, writable=True)
                  if (name := personal_fixture(ctx, c))]
    if not places:
        yield Finding(Verdict.INCONCLUSIVE, "no writable collection with personal members has a valid fixture "
                                            "carrying them: nothing could be shown masked")
        return
    yield from ctx.each(places, lambda child, place: _masked_everywhere(child, place[0], place[1], role))


@check("privacy.not_in_errors")
def not_in_errors(ctx: CheckContext, *, collection: str | None = None, fixture: str | None = None,
                  invalid_fixture: str | None = None) -> Iterator[Finding]:
    """Identity numbers and phones never appear in error bodies, headers or URLs of the platform: with
    ``invalid_fixture``, its refusal on ``collection``; else, on every writable collection the platform offers
    with personal members, its fixture carrying them sent without a required member."""
    if collection is not None and fixture is not None and invalid_fixture is not None:
        yield from _leaks(ctx, collection, fixture, ctx.fixture(invalid_fixture), invalid_fixture)
        return
    places = [(c, name) for c in ([collection] if collection else offered_collections(ctx, writable=True))
              if (name := fixture or personal_fixture(ctx, c))]
    yield from ctx.each(places, lambda probe, place: _refused_incomplete(probe, *place))


def _refused_incomplete(ctx: CheckContext, collection: str, fixture: str) -> Iterator[Finding]:
    """The fixture without its first required member that holds no personal data: refused, personal data kept
    (a collection whose every required member is personal has nothing to leave out, and is not probed)."""
    payload = ctx.fixture(fixture)
    personal = {pointer.strip("/").split("/")[0] for pointer in ctx.collection(collection).pii_fields}
    dropped = next((m for m in create_required(ctx, collection) if m in payload and m not in personal), None)
    if dropped is not None:
        del payload[dropped]
        yield from _leaks(ctx, collection, fixture, payload, f"{fixture} without {dropped}")


def _leaks(ctx: CheckContext, collection: str, fixture: str, rejected: Any, what: str) -> Iterator[Finding]:
    valid = ctx.fixture(fixture)
    pointers = {"/identity/number", "/phone", *ctx.collection(collection).pii_fields}
    personal = [v for p in sorted(pointers) for v in (_at(rejected, p), _at(valid, p)) if isinstance(v, str)]
    refused = ctx.post(ctx.collection(collection).path, rejected)
    if 200 <= refused.status < 300:
        ctx.discard(collection, refused)
        yield Finding(Verdict.INCONCLUSIVE, f"the invalid payload {what!r} was accepted, so its error body could "
                                            "not be examined")
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
    """Sensitive tags are omitted for a token without the sensitive scope (even with PII) on every read path —
    by id, every page of the listing, `updated_since`, the feed — and shown with it."""
    sensitive = set(ctx.schemas.documents[ctx.schemas.uri("common.json")]["$defs"]["sensitive-tag"]["enum"])
    payload_tags = set(tags)
    created = []
    for _ in range(2):
        _, entity = create_in(ctx, collection, fixture)
        patched = ctx.patch(ctx.item_path(collection, str(entity["id"])), {"tags": tags})
        require_status(patched, 200, why="tags are part of the record", precondition=True)
        created.append(require_json(patched, precondition=True))
    for where, item in _read_paths(ctx, collection, role, created):
        shown = set(item.get("tags") or [])
        if shown & sensitive:
            yield fail(f"{where}: a token without the sensitive scope sees the tags {sorted(shown & sensitive)}",
                       expected=sorted(payload_tags - sensitive), found=sorted(shown), location="/tags")
        if (payload_tags - sensitive) - shown:
            yield fail(f"{where}: ordinary tags vanished for a token without the sensitive scope", location="/tags",
                       expected=sorted(payload_tags - sensitive), found=sorted(shown))
    full = set(require_json(ctx.get(ctx.item_path(collection, str(created[0]["id"])))).get("tags") or [])
    if full != payload_tags:
        yield fail("a token holding the sensitive scope does not see every tag", expected=sorted(payload_tags),
                   found=sorted(full), location="/tags")
