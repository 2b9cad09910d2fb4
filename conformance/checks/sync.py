"""Incremental sync for data sharing: the updated_since filter with stable ordering."""

from __future__ import annotations

from collections.abc import Iterator

from ..results import Finding, fail
from ..session import CheckContext, inconclusive
from . import check
from ._expect import instant


@check("sync.updated_since")
def updated_since(ctx: CheckContext, *, collection: str) -> Iterator[Finding]:
    """updated_since=T returns exactly the records updated at or after T, ordered by updated_at."""
    fixture = f"{collection}/valid/minimal"
    _, older = ctx.create(collection, ctx.fixture(fixture))
    _, newer = ctx.create(collection, ctx.fixture(fixture))
    since = instant(newer.get("updated_at"))
    if since is None:
        raise inconclusive("precondition failed: the created record has no usable updated_at")
    seen: list[tuple[str, object]] = []
    for _, page in ctx.walk(collection, limit=50, params={"updated_since": newer["updated_at"]}):
        seen += [(str(i.get("id")), i.get("updated_at")) for i in page["items"] if isinstance(i, dict)]
    ids = [i for i, _ in seen]
    if str(newer["id"]) not in ids:
        yield fail("a record updated at T is missing from updated_since=T", expected=newer["id"], found=ids[:10])
    older_at = instant(older.get("updated_at"))
    if older_at is not None and older_at < since and str(older["id"]) in ids:
        yield fail("a record updated before T is returned by updated_since=T",
                   expected=f"updated_at >= {newer['updated_at']}", found=older.get("updated_at"))
    stamps = [instant(at) for _, at in seen]
    early = [at for (_, at), parsed in zip(seen, stamps, strict=True) if parsed is None or parsed < since]
    if early:
        yield fail(f"{len(early)} records returned by updated_since=T were updated before T", found=early[:3])
    if any(a is not None and b is not None and b < a for a, b in zip(stamps, stamps[1:], strict=False)):
        yield fail("the sync is not ordered by updated_at", found=[at for _, at in seen][:10])
