"""The event feed for data sharing: creations and transitions of lifecycle records, in publication order (S7),
resumable with ``after`` strictly after the event it names."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from ..results import Finding, fail
from ..session import CheckContext, inconclusive
from . import check
from ._expect import require_json, require_status

FEED = "events"
AFTER = "after"
_WANTED_PAGE = 100
READABLE_WITHIN = 5.0  # S15: seconds after the write's response by which its event is readable
_RESUMED_RECORDS = 3  # creations published one after another, so `after` is judged on a several-event result


def _page_size(ctx: CheckContext) -> int:
    """The page size the feed is read with: 100, or less when discovery declares a smaller max_page_size (S1)."""
    return ctx.page_size(_WANTED_PAGE)


def _all_events(ctx: CheckContext) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for _, page in ctx.walk(FEED, limit=_page_size(ctx)):
        events += [e for e in page["items"] if isinstance(e, dict)]
    return events


def _mine(events: list[dict[str, Any]], record_id: str) -> list[dict[str, Any]]:
    return [e for e in events if isinstance(e.get("resource"), dict) and str(e["resource"].get("id")) == record_id]


def _about(events: list[dict[str, Any]], record_id: str) -> list[tuple[Any, Any]]:
    return [(e.get("type"), e.get("status")) for e in _mine(events, record_id)]


def _agree(found: list[tuple[Any, Any]], expected: list[tuple[Any, Any]]) -> bool:
    """The events match the expected (type, status) pairs in order; `status` is optional in the event schema,
    so an event that leaves it out matches by its type alone."""
    return len(found) == len(expected) and all(
        f_type == e_type and (f_status is None or f_status == e_status)
        for (f_type, f_status), (e_type, e_status) in zip(found, expected, strict=True))


@check("events.published")
def published(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """A record's creation and every transition of its main path appear in the feed, once each, in that order."""
    lifecycle = ctx.catalogue.lifecycle_of(collection)
    _, entity = ctx.create(collection, ctx.fixture(fixture), purpose=f"a {collection} record")
    record_id = str(entity["id"])
    steps = lifecycle.path_to_final()
    for step in steps:
        moved = ctx.post(ctx.item_path(collection, record_id) + "/transitions",
                         {"to": step.target, "role": step.roles[0]})
        require_status(moved, 200, precondition=True, why=f"the allowed transition {step.source} → {step.target}")
    expected = [("created", lifecycle.initial)] + [("transitioned", step.target) for step in steps]
    deadline = time.monotonic() + READABLE_WITHIN
    found = _about(_all_events(ctx), record_id)
    while not _agree(found, expected) and len(found) < len(expected) and time.monotonic() < deadline:
        time.sleep(0.5)  # S15: an event is readable within 5 s of the write's response; read again until then
        found = _about(_all_events(ctx), record_id)
    if _agree(found, expected):
        return
    if sorted(found, key=repr) == sorted(expected, key=repr):
        yield fail(f"the feed holds the {len(found)} events about {collection} {record_id} out of publication order "
                   "(S7: ascending)", expected=expected, found=found)
    else:
        yield fail(f"the feed's events about {collection} {record_id} are not its creation and each of its "
                   f"{len(steps)} transitions", expected=expected, found=found)


@check("events.resume", quiet=True)  # alone under --concurrency: another check's events between its three creations would push them past the resumed page
def resume(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """`after=<id>` returns the events published after that one: not it, nothing before it, none skipped."""
    before = {str(e.get("id")) for e in _all_events(ctx)}
    records = [str(ctx.create(collection, ctx.fixture(fixture), purpose=f"{collection} record {n + 1}")[1]["id"])
               for n in range(_RESUMED_RECORDS)]
    events = _all_events(ctx)
    creations = []
    for record_id in records:
        made = [e for e in _mine(events, record_id) if e.get("type") == "created" and isinstance(e.get("id"), str)]
        if not made:
            raise inconclusive(f"precondition failed: the feed holds no creation event with an id for {record_id}")
        creations.append(made[0]["id"])
    first, *later = creations
    exchange = ctx.get(ctx.collection(FEED).path, params={AFTER: first, "limit": _page_size(ctx)})
    require_status(exchange, 200, why=f"{AFTER}= names an event the feed returned")
    page = require_json(exchange)
    items = [e for e in page.get("items", []) if isinstance(e, dict)] if isinstance(page, dict) else []
    returned = [str(e.get("id")) for e in items]
    if first in returned:
        yield fail(f"{AFTER}={first} returned the event {first} itself", expected="only events published after it",
                   found=returned[:10])
    old = sorted(before & set(returned))
    if old:
        yield fail(f"{AFTER}={first} returned {len(old)} events published before it", expected="only newer events",
                   found=old[:5])
    skipped = [e for e in later if e not in returned]
    if skipped:
        yield fail(f"{AFTER}={first} leaves out {len(skipped)} of the {len(later)} creations published after it",
                   expected=later, found=returned[:10])
