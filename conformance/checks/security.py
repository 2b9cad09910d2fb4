"""Authentication and authorisation: bad tokens, missing scopes, and isolation between tenants.

Breadth is the catalogue's: each rule is tried on every operation it applies to (collection and item
paths, reads and writes, transitions of lifecycle collections) of every collection the profile names,
or of every collection the platform lists in discovery when it names none.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

from ..credentials import Role, unsigned_jwt
from ..oracles.rules import bearer_challenge
from ..results import Finding, fail
from ..session import CheckContext
from ..verdicts import Verdict
from . import check
from ._expect import Operation, offered_collections, operations, record_to_aim_at, require_status
from ._roles import as_role, listed_items, role, tenant_community, tenant_record
from .privacy import personal_fixture

_DENIED = (403, 404)


def _bad_tokens(ctx: CheckContext) -> Iterator[tuple[str, str | None]]:
    """Tokens that must be refused; none is read for what it grants (S11: tokens are opaque to clients), but a
    JWT is sent back once more with its own claims unsigned (alg none), the classic forgery a platform must refuse."""
    valid = role(ctx, ctx.session.credentials.default).token
    yield "a malformed token", "not-a-token"
    yield "a token with a wrong signature", _altered(valid)
    yield "a token the platform never issued", secrets.token_urlsafe(32)
    unsigned = unsigned_jwt(valid)
    if unsigned is not None:  # a JWT: its own claims with alg none and no signature (RFC 8725 §2.1)
        yield _UNSIGNED, unsigned
    expired = ctx.session.credentials.get("expired")
    yield _EXPIRED, expired.token if expired else None


_EXPIRED, _UNSIGNED = "an expired token", "an unsigned token (alg none)"


def _altered(token: str) -> str:
    """The valid token with one character of its tail changed: a wrong signature for a signed token, an unknown
    one for an opaque token. The sixth character from the end carries real bits in base64url (the last may not)."""
    at = max(len(token) - 6, 0)
    replacement = "A" if token[at:at + 1] != "A" else "B"
    return token[:at] + replacement + token[at + 1:]


def _first_transition(ctx: CheckContext, collection: str) -> dict[str, str]:
    """The request of the first step of the lifecycle's main path: allowed from the initial state."""
    step = ctx.catalogue.lifecycle_of(collection).path_to_final()[0]
    return {"to": step.target, "role": step.roles[0]}


def _write_body(ctx: CheckContext, collection: str, op: Operation, fixture: str | None = None) -> Any:
    """A body that would succeed if the request were authorised: a valid record, an empty patch, a legal step."""
    if op.kind == "create":
        return ctx.fixture(fixture or f"{collection}/valid/minimal")
    if op.kind == "transition":
        return _first_transition(ctx, collection)
    return {} if op.kind == "update" else None


@check("security.rejects_bad_tokens")
def rejects_bad_tokens(ctx: CheckContext, *, collections: list[str] | None = None) -> Iterator[Finding]:
    """Malformed, wrongly signed, never issued, unsigned (a JWT's own claims with alg none) and expired tokens get
    401 with a Bearer challenge on every operation, reads and writes; public paths stay open."""
    tokens = list(_bad_tokens(ctx))
    for what, token in tokens:
        if token is None:
            yield Finding(Verdict.INCONCLUSIVE, f"{what} was not tried: add an `expired` role (a token that has "
                                                "expired) to the credentials file")
    usable = [(what, token) for what, token in tokens if token is not None]
    # A covering design, not the full product: every kind of bad token meets every kind of operation (on the
    # first collection offering it), every operation of every collection meets one more kind in turn, and the
    # expired and the unsigned token meet every operation of every collection (expiry and the algorithm are
    # checked apart from the signature, and a route that skips them is the commonest slip).
    met: set[str] = set()
    expired = [(w, t) for w, t in usable if w in (_EXPIRED, _UNSIGNED)]
    others = [(w, t) for w, t in usable if w not in (_EXPIRED, _UNSIGNED)] or usable
    planned: list[tuple[str, Operation, str, str]] = []
    for index, name in enumerate(offered_collections(ctx, collections)):
        for number, op in enumerate(operations(ctx, name, record_to_aim_at(ctx, name))):
            chosen = usable if op.kind not in met else [others[(index + number) % len(others)], *expired]
            met.add(op.kind)
            planned += [(name, op, what, token) for what, token in chosen]
    # each refusal is independent of the others: they are sent side by side under --concurrency
    yield from ctx.each(planned, lambda probe, p: _refused(probe, *p))
    for path in ctx.catalogue.public_paths:
        exchange = ctx.get(path, token=False)
        if exchange.status != 200:
            yield fail(f"the public GET {path} without a token answered {exchange.status}", expected=200,
                       found=exchange.status)


def _refused(ctx: CheckContext, name: str, op: Operation, what: str, token: str) -> Iterator[Finding]:
    exchange = op.send(ctx, token=token)  # an empty body: the refusal must come before validation
    if exchange.status != 401:
        note = ctx.discard(name, exchange) if op.kind == "create" else None
        yield fail(f"{op.method} {op.path} with {what} answered {exchange.status}; it must be refused with 401"
                   + (f"; {note}" if note else ""), expected=401, found=exchange.status)
    elif not bearer_challenge(", ".join(exchange.headers.get_list("www-authenticate"))):
        yield fail(f"{op.method} {op.path} with {what}: 401 without a `WWW-Authenticate: Bearer …` challenge",
                   location="WWW-Authenticate")


@check("security.scope_required")
def scope_required(ctx: CheckContext, *, collections: list[str] | None = None,
                   fixture: str | None = None) -> Iterator[Finding]:
    """A token with the read scope but not the write scope reads, and is refused every write — create, patch,
    delete when offered, transitions — with 403, which changes nothing; a token without the read scope (the
    auditor's) is refused the listing and the record with 403. ``fixture`` (one collection only) replaces the
    `valid/minimal` fixture."""
    outsider = ctx.session.credentials.get("auditor")
    # each collection on a record of its own, side by side under --concurrency
    yield from ctx.each(offered_collections(ctx, collections, writable=True),
                        lambda probe, name: _reader_refused(probe, name, fixture, outsider))
    if outsider is not None:  # the collections nobody writes (the event feed): their listings too
        for name in offered_collections(ctx, collections):
            coll = ctx.collection(name)
            if not coll.writable and coll.scopes.get("read") not in outsider.scopes:
                refused = as_role(ctx, "auditor", "GET", coll.path)
                if refused.status != 403:
                    yield fail(f"GET {coll.path} with a token lacking the read scope answered {refused.status}",
                               expected=403, found=refused.status)


def _reader_refused(ctx: CheckContext, name: str, fixture: str | None, outsider: Role | None) -> Iterator[Finding]:
    # the reader's read is judged for masking too
    chosen = fixture or personal_fixture(ctx, name) or f"{name}/valid/minimal"
    _, entity = ctx.create(name, ctx.fixture(chosen), purpose="a record to aim at")
    ops = operations(ctx, name, str(entity["id"]))
    item = ctx.item_path(name, str(entity["id"]))
    require_status(as_role(ctx, "reader", "GET", item), 200, why="the reader role may read", precondition=True)
    if outsider is not None and ctx.collection(name).scopes.get("read") not in outsider.scopes:
        for path in (ctx.collection(name).path, item):
            refused = as_role(ctx, "auditor", "GET", path)
            if refused.status != 403:
                yield fail(f"GET {path} with a token lacking the read scope answered {refused.status}",
                           expected=403, found=refused.status)
    for op in (op for op in ops if op.writes):
        exchange = op.send(ctx, _write_body(ctx, name, op, chosen), token=role(ctx, "reader").token)
        if exchange.status != 403:
            note = ctx.discard(name, exchange) if op.kind == "create" else None
            yield fail(f"{op.method} {op.path} with a token lacking the write scope answered {exchange.status}"
                       + (f"; {note}" if note else ""), expected=403, found=exchange.status)
    after = ctx.get(item)
    if after.status != 200:
        yield fail(f"{item} is gone after a DELETE by a token without the write scope")
    elif ctx.collection(name).lifecycle:
        status_field = ctx.catalogue.lifecycle_of(name).status_field
        if after.json().get(status_field) != entity.get(status_field):
            yield fail(f"{item} changed state after a transition by a token without the write scope",
                       expected=entity.get(status_field), found=after.json().get(status_field),
                       location=f"/{status_field}")


@check("security.tenant_isolation")
def tenant_isolation(ctx: CheckContext, *, collections: list[str] | None = None) -> Iterator[Finding]:
    """A token bound to community B cannot read, change, delete or move (transitions) a record of community A
    by its id, in any collection."""
    community_a = tenant_community(ctx, "tenant-a")
    tenant_community(ctx, "tenant-b")
    # each collection on a record of community A's own, side by side under --concurrency
    yield from ctx.each(offered_collections(ctx, collections, writable=True),
                        lambda probe, name: _other_tenant_refused(probe, name, community_a))
    # the collections nobody writes that name a community (the event feed): a record of community A that tenant A
    # is shown (the records above made some) is refused to tenant B by its id too
    for name in offered_collections(ctx, collections):
        coll = ctx.collection(name)
        field = next((m for m, t in coll.references.items() if ctx.collection(t).entity == "community"), None)
        if coll.writable or field is None:
            continue
        if coll.scopes.get("read") not in role(ctx, "tenant-a").scopes | role(ctx, "tenant-b").scopes:
            continue
        theirs = next((item for item in listed_items(ctx, name, "tenant-a", max_pages=5)
                       if item.get(field) == community_a and item.get("id") is not None), None)
        if theirs is None:
            continue  # nothing of community A is listed there (the feed publishes lifecycle records only)
        path = ctx.item_path(name, str(theirs["id"]))
        exchange = as_role(ctx, "tenant-b", "GET", path)
        if exchange.status not in _DENIED:
            yield fail(f"GET {path} (community A's record) with community B's token answered {exchange.status}; "
                       "another tenant's id must give 403 or 404", expected=list(_DENIED), found=exchange.status)


def _other_tenant_refused(ctx: CheckContext, name: str, community_a: str) -> Iterator[Finding]:
    entity = tenant_record(ctx, name, community_a)
    record_id = str(entity["id"])
    item = ctx.item_path(name, record_id)
    require_status(as_role(ctx, "tenant-a", "GET", item), 200, why="tenant A reads its own record",
                   precondition=True)
    # The tenant itself is never deleted: under a leak that would take community A from every later check.
    kinds = ("read", "update", "transition") + (("delete",) if record_id != community_a else ())
    for op in operations(ctx, name, record_id, kinds=kinds):
        body = _first_transition(ctx, name) if op.kind == "transition" else {"extensions": None}
        exchange = op.send(ctx, body, token=role(ctx, "tenant-b").token)
        if exchange.status not in _DENIED:
            yield fail(f"{op.method} {op.path} (community A's record) with community B's token answered "
                       f"{exchange.status}; another tenant's id must give 403 or 404", expected=list(_DENIED),
                       found=exchange.status)
        elif op.kind == "read" and any(str(v) in exchange.text for k, v in entity.items()
                                       if k in ("name", "identity") and v):
            yield fail(f"the {exchange.status} to community B's GET {item} still shows the record's data")
    if as_role(ctx, "tenant-a", "GET", item).status != 200:
        yield fail(f"{item} of community A is gone after community B's DELETE")


@check("security.tenant_listing")
def tenant_listing(ctx: CheckContext, *, collections: list[str] | None = None) -> Iterator[Finding]:
    """Every listing shows a tenant's token only records of its own community: of every writable collection, on
    records tenant A made, and of every collection nobody writes that names a community (the event feed)."""
    community_a = tenant_community(ctx, "tenant-a")
    community_b = tenant_community(ctx, "tenant-b")
    for name in offered_collections(ctx, collections, writable=True):
        field = next((m for m, t in ctx.collection(name).references.items()
                      if ctx.collection(t).entity == "community"), None)
        record_id = str(tenant_record(ctx, name, community_a)["id"])
        if record_id not in {str(item.get("id")) for item in listed_items(ctx, name, "tenant-a")}:
            yield Finding(Verdict.INCONCLUSIVE, f"precondition failed: tenant A's listing of {name} "
                                                f"does not show its own record {record_id}")
            continue
        for item in listed_items(ctx, name, "tenant-b"):
            owner = item.get(field) if field else item.get("id")
            if str(item.get("id")) == record_id or (owner is not None and owner != community_b):
                yield fail(f"community B's listing of {name} shows {item.get('id')!r} of community {owner!r}",
                           expected=community_b, found=owner, location=f"/items/{field or 'id'}")
                break
    # the collections nobody writes (the event feed): what tenant A's records above made there, tenant B's token
    # must not be shown either
    tenant = role(ctx, "tenant-b")
    for name in offered_collections(ctx, collections):
        coll = ctx.collection(name)
        field = next((m for m, t in coll.references.items() if ctx.collection(t).entity == "community"), None)
        if coll.writable or field is None or coll.scopes.get("read") not in tenant.scopes:
            continue
        for item in listed_items(ctx, name, "tenant-b"):
            owner = item.get(field)
            if owner is not None and owner != community_b:
                yield fail(f"community B's listing of {name} shows {item.get('id')!r} of community {owner!r}",
                           expected=community_b, found=owner, location=f"/items/{field}")
                break
