"""Incremental sync for data sharing: the updated_since filter with stable ordering."""

from __future__ import annotations

import time
from collections.abc import Iterator

from ..results import Finding, Halt, fail
from ..session import CheckContext, inconclusive
from . import check
from ._expect import instant

_NEXT_TICK = 1.05  # seconds: past the next whole second of a platform whose times have whole seconds (S9)
_MAX_PAGES = 25
_FUTURE = "2999-01-01T00:00:00Z"  # later than any record  # a sync that ignores its filter is not walked to the end in pages of two


@check("sync.updated_since", quiet=True)  # alone under --concurrency: every record written during its walk would be listed again at its new updated_at
def updated_since(ctx: CheckContext, *, collection: str) -> Iterator[Finding]:
    """updated_since=T returns exactly the records updated at or after T, ordered by updated_at — checked on
    several records over several pages, so the order is more than a one-item result."""
    fixture = f"{collection}/valid/minimal"
    _, older = ctx.create(collection, ctx.fixture(fixture))
    created = [ctx.create(collection, ctx.fixture(fixture))[1] for _ in range(3)]
    if len({instant(e.get("updated_at")) for e in created}) < 2:
        # all three in one tick of a coarse clock (whole seconds, S9): an order can only show across two ticks,
        # so one more record a moment later (a platform that orders newest first passed on ties alone)
        time.sleep(_NEXT_TICK)
        created.append(ctx.create(collection, ctx.fixture(fixture))[1])
    since = instant(created[0].get("updated_at"))
    if since is None:
        raise inconclusive("precondition failed: the created record has no usable updated_at")
    seen: list[tuple[str, object]] = []
    param = ctx.catalogue.page["updated_since_param"]
    wanted, complete = {str(e["id"]) for e in created}, False
    for number, (_, page) in enumerate(ctx.walk(collection, limit=2, params={param: created[0]["updated_at"]}), 1):
        seen += [(str(i.get("id")), i.get("updated_at")) for i in page["items"] if isinstance(i, dict)]
        complete = not page.get("next_cursor")
        if wanted <= {i for i, _ in seen} or number >= _MAX_PAGES:
            break  # ours are the oldest of the result: what follows them was written later
    ids = [i for i, _ in seen]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:  # nothing was written during this walk, so no record may come twice (S8)
        yield fail(f"the sync over pages of 2 lists {len(twice)} record(s) twice", expected="each record once",
                   found=twice[:5])
    for entity in created:
        if str(entity["id"]) not in ids and complete:  # a walk cut at _MAX_PAGES proves no absence
            yield fail("a record updated at or after T is missing from updated_since=T", expected=entity["id"],
                       found=ids[:10])
    older_at = instant(older.get("updated_at"))
    if older_at is not None and older_at < since and str(older["id"]) in ids:
        yield fail("a record updated before T is returned by updated_since=T",
                   expected=f"updated_at >= {created[0]['updated_at']}", found=older.get("updated_at"))
    stamps = [instant(at) for _, at in seen]
    early = [at for (_, at), parsed in zip(seen, stamps, strict=True) if parsed is None or parsed < since]
    if early:
        yield fail(f"{len(early)} records returned by updated_since=T were updated before T", found=early[:3])
    if any(a is not None and b is not None and b < a for a, b in zip(stamps, stamps[1:], strict=False)):
        yield fail(f"the sync of {len(seen)} records over pages of 2 is not ordered by updated_at",
                   found=[at for _, at in seen][:10])


@check("sync.future_window")
def future_window(ctx: CheckContext, *, collections: list[str] | None = None) -> Iterator[Finding]:
    """`updated_since` filters every collection: a T later than every record returns none of them, on every
    collection discovery lists (or `collections`). How an empty result is shaped is CORE-PAGE-005's."""
    from ._expect import offered_collections

    param = ctx.catalogue.page["updated_since_param"]
    for name in offered_collections(ctx, collections):
        if ctx.collection(name).writable:  # a record to leave out: an empty collection proves nothing
            try:
                ctx.create(name, ctx.fixture(f"{name}/valid/minimal"), purpose=f"a record of {name} before T")
            except Halt:
                continue
        exchange = ctx.get(ctx.collection(name).path, params={param: _FUTURE, ctx.catalogue.page["limit_param"]: 1})
        try:
            page = exchange.json() if exchange.status == 200 else None
        except ValueError:
            page = None
        items = page.get("items") if isinstance(page, dict) else None
        if isinstance(items, list) and items:
            yield fail(f"GET {ctx.collection(name).path}?{param}={_FUTURE} returned records updated before it",
                       expected=[], found=[i.get("updated_at") for i in items if isinstance(i, dict)][:3])
