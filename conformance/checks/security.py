"""Authentication and authorisation: bad tokens, missing scopes, and isolation between tenants."""

from __future__ import annotations

from collections.abc import Iterator

from ..credentials import tampered_signature
from ..results import Finding, fail
from ..session import CheckContext
from ..verdicts import Verdict
from . import check
from ._expect import require_status
from ._roles import as_role, create_in, listed_items, role, tenant_community

_DENIED = (403, 404)


def _bad_tokens(ctx: CheckContext) -> Iterator[tuple[str, str | None]]:
    valid = role(ctx, ctx.session.credentials.default).token
    yield "a malformed token", "not-a-token"
    yield "a token with a wrong signature", tampered_signature(valid)
    expired = ctx.session.credentials.get("expired")
    yield "an expired token", expired.token if expired else None


@check("security.rejects_bad_tokens")
def rejects_bad_tokens(ctx: CheckContext, *, collections: list[str]) -> Iterator[Finding]:
    """Malformed, wrongly signed and expired tokens get 401 with a Bearer challenge; public paths stay open."""
    for what, token in _bad_tokens(ctx):
        if token is None:
            yield Finding(Verdict.INCONCLUSIVE, f"{what} was not tried: add an `expired` role (a token that has "
                                                "expired) to the credentials file")
            continue
        for name in collections:
            path = ctx.collection(name).path
            exchange = ctx.get(path, token=token)
            if exchange.status != 401:
                yield fail(f"GET {path} with {what} answered {exchange.status}; it must be refused with 401",
                           expected=401, found=exchange.status)
            elif not exchange.headers.get("www-authenticate", "").lower().startswith("bearer"):
                yield fail(f"GET {path} with {what}: 401 without a `WWW-Authenticate: Bearer …` challenge",
                           location="WWW-Authenticate")
    for path in ctx.catalogue.public_paths:
        exchange = ctx.get(path, token=False)
        if exchange.status != 200:
            yield fail(f"the public GET {path} without a token answered {exchange.status}", expected=200,
                       found=exchange.status)


@check("security.scope_required")
def scope_required(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """A token with the read scope but not the write scope reads, and is refused every write with 403."""
    coll = ctx.collection(collection)
    _, entity = create_in(ctx, collection, fixture)
    item = ctx.item_path(collection, str(entity["id"]))
    require_status(as_role(ctx, "reader", "GET", item), 200, why="the reader role may read", precondition=True)
    attempts = [("POST", coll.path, ctx.fixture(fixture)), ("PATCH", item, {}), ("DELETE", item, None)]
    for method, path, body in attempts:
        if method == "DELETE" and not ctx.offers_delete():
            continue  # DELETE is optional (S2): without the capability there is no write to refuse
        headers = {"Content-Type": "application/merge-patch+json"} if method == "PATCH" else None
        exchange = as_role(ctx, "reader", method, path, json_body=body, headers=headers)
        if exchange.status != 403:
            note = ctx.discard(collection, exchange) if method == "POST" else None
            yield fail(f"{method} {path} with a token lacking the write scope answered {exchange.status}"
                       + (f"; {note}" if note else ""), expected=403, found=exchange.status)
    if ctx.get(item).status != 200:
        yield fail(f"{item} is gone after a DELETE by a token without the write scope")


@check("security.tenant_isolation")
def tenant_isolation(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """A token bound to community B cannot read, change or delete a record of community A by its id."""
    community_a = tenant_community(ctx, "tenant-a")
    tenant_community(ctx, "tenant-b")
    _, entity = create_in(ctx, collection, fixture, community_a)
    record_id = str(entity["id"])
    item = ctx.item_path(collection, record_id)
    require_status(as_role(ctx, "tenant-a", "GET", item), 200, why="tenant A reads its own record", precondition=True)
    for method, body in (("GET", None), ("PATCH", {"extensions": None}), ("DELETE", None)):
        if method == "DELETE" and not ctx.offers_delete():
            continue  # DELETE is optional (S2): a 405 to another tenant is no leak, and not this rule
        headers = {"Content-Type": "application/merge-patch+json"} if method == "PATCH" else None
        exchange = as_role(ctx, "tenant-b", method, item, json_body=body, headers=headers)
        if exchange.status not in _DENIED:
            yield fail(f"{method} {item} (community A's record) with community B's token answered "
                       f"{exchange.status}; another tenant's id must give 403 or 404", expected=list(_DENIED),
                       found=exchange.status)
        elif method == "GET" and any(str(v) in exchange.text for k, v in entity.items()
                                     if k in ("name", "identity") and v):
            yield fail(f"the {exchange.status} to community B's GET {item} still shows the record's data")
    if as_role(ctx, "tenant-a", "GET", item).status != 200:
        yield fail(f"{item} of community A is gone after community B's DELETE")


@check("security.tenant_listing")
def tenant_listing(ctx: CheckContext, *, collection: str, fixture: str) -> Iterator[Finding]:
    """A listing shows a tenant's token only records of its own community."""
    community_a = tenant_community(ctx, "tenant-a")
    community_b = tenant_community(ctx, "tenant-b")
    _, entity = create_in(ctx, collection, fixture, community_a)
    record_id = str(entity["id"])
    if record_id not in {str(item.get("id")) for item in listed_items(ctx, collection, "tenant-a")}:
        yield Finding(Verdict.INCONCLUSIVE, f"precondition failed: tenant A's listing of {collection} "
                                            f"does not show its own record {record_id}")
        return
    field = next((m for m, t in ctx.collection(collection).references.items()
                  if ctx.collection(t).entity == "community"), None)
    for item in listed_items(ctx, collection, "tenant-b"):
        owner = item.get(field) if field else None
        if str(item.get("id")) == record_id or (owner is not None and owner != community_b):
            yield fail(f"community B's listing of {collection} shows {item.get('id')!r} of community {owner!r}",
                       expected=community_b, found=owner, location=f"/items/{field}")
            return
