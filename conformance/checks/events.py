"""The event feed for data sharing: creations and transitions of lifecycle records, resumable with ``after``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..results import Finding, fail
from ..session import CheckContext, inconclusive
from . import check
from ._expect import require_json, require_status

FEED = "events"
AFTER = "after"


def _all_events(ctx: CheckContext) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for _, page in ctx.walk(FEED, limit=100):
        events += [e for e in page["items"] if isinstance(e, dict)]
    return events


def _about(events: list[dict[str, Any]], record_id: str) -> list[tuple[Any, Any]]:
    return [(e.get("type"), e.get("status")) for e in events
            if isinstance(e.get("resource"), dict) and e["resource"].get("id") == record_id]


@check("events.published")
def published(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """Creating a lifecycle record and moving it one step publish, in order, a created and a transitioned event."""
    lifecycle = ctx.catalogue.lifecycle_of(collection)
    _, entity = ctx.create(collection, ctx.fixture(fixture), purpose=f"a {collection} record")
    record_id = str(entity["id"])
    step = lifecycle.path_to_final()[0]
    moved = ctx.post(ctx.item_path(collection, record_id) + "/transitions", {"to": step.target, "role": step.roles[0]})
    require_status(moved, 200, precondition=True, why=f"the allowed transition {step.source} → {step.target}")
    expected = [("created", lifecycle.initial), ("transitioned", step.target)]
    found = _about(_all_events(ctx), record_id)
    if found != expected:
        yield fail(f"the feed's events about {collection} {record_id} are not a creation then one transition",
                   expected=expected, found=found)


@check("events.resume")
def resume(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """``after=<id of the last event seen>`` returns only the events published since, nothing seen before."""
    ctx.create(collection, ctx.fixture(fixture), purpose=f"a {collection} record")
    seen = _all_events(ctx)
    if not seen or not isinstance(seen[-1].get("id"), str):
        raise inconclusive("precondition failed: the feed holds no event with an id after a creation")
    last = seen[-1]["id"]
    _, entity = ctx.create(collection, ctx.fixture(fixture), purpose=f"a second {collection} record")
    exchange = ctx.get(ctx.collection(FEED).path, params={AFTER: last, "limit": ctx.page_size(100)})
    require_status(exchange, 200, why=f"{AFTER}= names an event the feed returned")
    page = require_json(exchange)
    items = [e for e in page.get("items", []) if isinstance(e, dict)] if isinstance(page, dict) else []
    old = {str(e.get("id")) for e in seen} & {str(e.get("id")) for e in items}
    if old:
        yield fail(f"{AFTER}={last} returned {len(old)} events the consumer had already seen",
                   expected="only newer events", found=sorted(old)[:5])
    if not _about(items, str(entity["id"])):
        yield fail(f"{AFTER}={last} does not return the creation of {collection} {entity['id']}",
                   expected=("created", entity["id"]), found=[e.get("id") for e in items][:10])
