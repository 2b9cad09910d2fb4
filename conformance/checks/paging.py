"""Pagination: the page envelope, limits, cursors that visit every record once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from ..results import Finding, fail
from ..session import CheckContext
from . import check
from ._expect import require_json, require_status, schema_findings

PAGE_SCHEMA = "interface/page.json"


def _seed_records(ctx: CheckContext, collection: str, count: int) -> list[str]:
    fixture = f"{collection}/valid/minimal"
    return [str(ctx.create(collection, ctx.fixture(fixture))[1]["id"]) for _ in range(count)]


@check("paging.envelope")
def page_envelope(ctx: CheckContext, *, collections: list[str]) -> Iterator[Finding]:
    """GET /{collection} answers a page envelope: `items` and `next_cursor`."""
    for name in collections:
        exchange = ctx.get(ctx.collection(name).path, params={"limit": 2})
        require_status(exchange, 200)
        page = require_json(exchange)
        yield from schema_findings(ctx, PAGE_SCHEMA, page, what=f"the page of {name}")


@check("paging.limit")
def page_limit(ctx: CheckContext, *, collection: str) -> Iterator[Finding]:
    """A page holds at most `limit` items, and points to the next page when there are more."""
    _seed_records(ctx, collection, 3)
    path = ctx.collection(collection).path
    for limit in (1, 2):
        exchange = ctx.get(path, params={"limit": limit})
        require_status(exchange, 200)
        page = require_json(exchange)
        items = page.get("items") if isinstance(page, dict) else None
        if not isinstance(items, list):
            yield fail("the listing has no `items` array", location="/items")
            continue
        if len(items) > limit:
            yield fail(f"limit={limit} returned {len(items)} items", expected=f"<= {limit}", found=len(items))
        if not page.get("next_cursor"):
            yield fail(f"limit={limit} over at least 3 records gave no next_cursor",
                       expected="a cursor", found=page.get("next_cursor"), location="/next_cursor")


def _once_each(seen: Counter[str], wanted: Iterable[str]) -> tuple[list[str], list[str]]:
    """What a walk listed more than once, and which of ``wanted`` it never listed."""
    return sorted(i for i, n in seen.items() if n > 1), [i for i in wanted if i not in seen]


@check("paging.walk")
def page_walk(ctx: CheckContext, *, collection: str, records: int = 5, limit: int = 2) -> Iterator[Finding]:
    """Following next_cursor visits every record exactly once: no duplicates, no gaps."""
    created = _seed_records(ctx, collection, records)
    seen: Counter[str] = Counter()
    pages = 0
    for _, page in ctx.walk(collection, limit=limit):
        pages += 1
        seen.update(str(item.get("id")) for item in page["items"] if isinstance(item, dict))
    duplicates, missing = _once_each(seen, created)
    if duplicates:
        yield fail(f"{len(duplicates)} records appeared on more than one page",
                   expected="each id once", found=duplicates[:5])
    if missing:
        yield fail(f"{len(missing)} of the {records} records just created never appeared while paging",
                   expected=created, found=missing)


@check("paging.walks_agree")
def walks_agree(ctx: CheckContext, *, collections: list[str] | None = None) -> Iterator[Finding]:
    """The page size never changes what a walk visits. What only the platform writes — the audit trail, the event
    feed, which no client changes or deletes — is walked in the largest pages and then again in about four (or in
    pages just over half as large, when there are more records than that): the
    second walk lists every record the first listed, none twice (the records the run wrote, in every collection,
    are oracle.walk_complete's). On every such collection the platform offers (`collections` narrows them)."""
    from ._expect import offered_collections

    names = [n for n in offered_collections(ctx, collections) if not ctx.collection(n).writable]
    yield from ctx.each(names, _walk_twice)


def _walk_twice(ctx: CheckContext, collection: str) -> Iterator[Finding]:
    largest = ctx.session.max_page_size()
    first = [str(item.get("id")) for _, page in ctx.walk(collection, limit=largest)
             for item in page["items"] if isinstance(item, dict)]
    if len(first) < 2:
        return  # one page either way: nothing a page size could change
    # about four pages; when that is no smaller than the largest page, a size whose pages end elsewhere
    quarter = -(-len(first) // 4)
    limit = quarter if quarter < largest else max(1, largest // 2 + 1)
    second: Counter[str] = Counter(str(item.get("id")) for _, page in ctx.walk(collection, limit=limit)
                                   for item in page["items"] if isinstance(item, dict))
    twice, lost = _once_each(second, first)
    if twice:
        yield fail(f"walking {collection} {limit} at a time listed {len(twice)} record(s) twice",
                   expected="each id once", found=twice[:5])
    if lost:
        yield fail(f"walking {collection} {limit} at a time left out {len(lost)} of the {len(first)} record(s) a "
                   "walk in the largest pages had just listed", expected="every record again", found=lost[:5])


@check("paging.invalid_limit")
def page_invalid_limit(ctx: CheckContext, *, collection: str | None = None,
                       collections: list[str] | None = None) -> Iterator[Finding]:
    """An invalid limit (0, negative, not a number, a fraction, above max_page_size) is a 400, not silently
    changed — on `collection`, or on every collection the platform lists (`collections` narrows them)."""
    from ._expect import offered_collections

    maximum = ctx.discovery().get("max_page_size")
    values = ["0", "-1", "abc", "2.5"]
    if isinstance(maximum, int):
        values.append(str(maximum + 1))
    names = [collection] if collection else offered_collections(ctx, collections)
    for name in names:
        path = ctx.collection(name).path
        for value in values if name == names[0] else values[::2]:  # every class on one, a spread on the rest
            exchange = ctx.get(path, params={ctx.catalogue.page["limit_param"]: value})
            if exchange.status != 400:
                yield fail(f"GET {path}?limit={value} answered {exchange.status}", expected=400,
                           found=exchange.status)


@check("paging.empty_result")
def page_empty_result(ctx: CheckContext, *, collection: str) -> Iterator[Finding]:
    """A query that matches nothing answers 200 with an empty page and no cursor."""
    path = ctx.collection(collection).path
    exchange = ctx.get(path, params={"updated_since": "2999-01-01T00:00:00Z"})
    require_status(exchange, 200, why="an empty result is a page with no items, not an error")
    page = require_json(exchange)
    if not isinstance(page, dict) or page.get("items") != []:
        yield fail("the empty result is not a page with `items: []`", found=page)
    elif page.get("next_cursor") is not None:
        yield fail("the empty page points to a next page", expected=None, found=page.get("next_cursor"),
                   location="/next_cursor")


@check("paging.walk_while_writing")
def walk_while_writing(ctx: CheckContext, *, collections: list[str] | None = None, limit: int = 4,
                       max_pages: int = 200) -> Iterator[Finding]:
    """A cursor stays usable while records are written (S8): between the pages of a walk the check creates,
    changes and (where offered) deletes records; the cursor still answers 200, every record that existed
    unchanged for the whole walk is visited exactly once, and none twice. Every writable collection the
    platform lists, unless `collections` names some."""
    from ._expect import offered_collections

    # each collection walked on records of its own: side by side under --concurrency
    yield from ctx.each(offered_collections(ctx, collections, writable=True),
                        lambda probe, name: _walk_while_writing(probe, name, limit, max_pages))


def _walk_while_writing(ctx: CheckContext, name: str, limit: int, max_pages: int) -> Iterator[Finding]:
    from ._expect import delete_offered

    fixture = f"{name}/valid/minimal"
    try:
        steady = _seed_records(ctx, name, 3)
    except Exception:  # noqa: BLE001 - a collection whose fixture cannot be created is another check's finding
        return
    changed = _seed_records(ctx, name, 2)
    writes = ["create", "change", "delete" if delete_offered(ctx, name) else "create"]
    page_cfg = ctx.catalogue.page
    query: dict[str, object] = {page_cfg["limit_param"]: ctx.page_size(limit)}
    seen: Counter[str] = Counter()
    for number in range(1, max_pages + 1):
        exchange = ctx.get(ctx.collection(name).path, params=query)
        if exchange.status != 200:
            yield fail(f"page {number} of a walk of {name} answered {exchange.status} after records were "
                       "written during the walk (S8: a cursor stays usable while records are written)",
                       expected=200, found=exchange.status)
            break
        page = require_json(exchange)
        items = page.get("items") if isinstance(page, dict) else None
        if not isinstance(items, list):
            yield fail(f"page {number} of {name} is not a page envelope", location="/items")
            break
        seen.update(str(item.get("id")) for item in items if isinstance(item, dict))
        if writes:
            with ctx.tidying():
                kind = writes.pop(0)
                if kind == "create":
                    ctx.create(name, ctx.fixture(fixture), purpose="a record created during a walk")
                elif kind == "change":
                    ctx.patch(ctx.item_path(name, changed[0]), {})
                else:
                    ctx.delete(ctx.item_path(name, changed[1]))
        cursor = page.get("next_cursor")
        if not cursor:
            break
        query = {page_cfg["limit_param"]: ctx.page_size(limit), page_cfg["cursor_param"]: cursor}
    else:
        yield fail(f"a walk of {name} did not end after {max_pages} pages")
        return
    twice, missing = _once_each(seen, steady)
    if twice:
        yield fail(f"a walk of {name} during writes listed {len(twice)} record(s) twice",
                   expected="each record at most once", found=twice[:5])
    if missing:
        yield fail(f"a walk of {name} during writes left out {len(missing)} record(s) that existed unchanged "
                   "for the whole walk", expected=steady, found=missing)
