"""What the guarantee checks share: requests as a named role, records placed in a tenant, listings walked."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any

from ..credentials import Role
from ..fixtures import load_fixture, resolve
from ..results import Finding, Halt
from ..session import CheckContext, RunSession, inconclusive
from ..target import Exchange
from ..verdicts import Verdict
from ._expect import require_json, require_status

__all__ = ["as_role", "create_in", "listed_items", "role", "role_pages", "tenant_community",
           "tenant_record"]


def role(ctx: CheckContext, name: str) -> Role:
    return ctx.session.role(name, why=f"{ctx.requirement.id} ({ctx.call.check})")


def as_role(ctx: CheckContext, name: str, method: str, path: str, **kwargs: Any) -> Exchange:
    """One request carrying the token of role ``name`` (recorded as evidence, token redacted)."""
    return ctx.request(method, path, token=role(ctx, name).token, **kwargs)


def tenant_community(ctx: CheckContext, name: str) -> str:
    community = role(ctx, name).community
    if not community:
        raise inconclusive(f"precondition failed: the role {name!r} has no `community` in the credentials file; "
                           "tenant roles must name the community id their token is bound to")
    return community


def create_in(ctx: CheckContext, collection: str, fixture: str, community: str | None = None
              ) -> tuple[Exchange, dict[str, Any]]:
    """Create a record from a fixture with the default token, placed in ``community`` when given."""
    payload = ctx.fixture(fixture)
    coll = ctx.collection(collection)
    if community is not None:
        for member, target in coll.references.items():
            if ctx.collection(target).entity == "community":
                payload[member] = community
            elif member in payload:
                del payload[member]  # a parent in another community would muddle the tenant under test
    return ctx.create(collection, payload, purpose=f"a {coll.entity} from {fixture}")


def listed_items(ctx: CheckContext, collection: str, role_name: str, *, max_pages: int = 50
                 ) -> Iterator[dict[str, Any]]:
    """Every item of a listing as seen by a role, following cursors (bounded)."""
    for _, items in role_pages(ctx, collection, role_name, max_pages=max_pages):
        yield from items



def role_pages(ctx: CheckContext, collection: str, role_name: str, *, params: dict[str, Any] | None = None,
               limit: int | None = None, max_pages: int = 50) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """The pages of a listing as a role sees them, numbered from 1, following cursors (bounded)."""
    page_cfg = ctx.catalogue.page
    query: dict[str, Any] = {**(params or {}), page_cfg["limit_param"]: limit or ctx.page_size(page_cfg["max_limit"])}
    for number in range(1, max_pages + 1):
        exchange = as_role(ctx, role_name, "GET", ctx.collection(collection).path, params=query)
        require_status(exchange, 200, why=f"the role {role_name!r} may list {collection}", precondition=True)
        page = require_json(exchange, precondition=True)
        if not isinstance(page, dict) or not isinstance(page.get("items"), list):
            raise Halt(Finding(Verdict.INCONCLUSIVE, f"precondition failed: listing {collection} is not a page"))
        yield number, [item for item in page["items"] if isinstance(item, dict)]
        cursor = page.get("next_cursor")
        if not cursor:
            return
        query = {**query, page_cfg["cursor_param"]: cursor}


# Parents created inside a tenant's community, once per run: (collection, community) -> id.
_TENANT_PARENTS: weakref.WeakKeyDictionary[RunSession, dict[tuple[str, str], str]] = weakref.WeakKeyDictionary()


def tenant_record(ctx: CheckContext, collection: str, community: str, *, fixture: str | None = None
                  ) -> dict[str, Any]:
    """A new record of ``collection`` (from ``fixture``, else `valid/minimal`) inside ``community``, created with
    the default token; every record it refers to lies in the same community. For the tenant collection itself
    the record is the community."""
    coll = ctx.collection(collection)
    if coll.entity == "community":
        read = ctx.get(ctx.item_path(collection, community))
        require_status(read, 200, why="the tenant's community must exist", precondition=True)
        entity = require_json(read, precondition=True)
        return entity if isinstance(entity, dict) else {"id": community}
    parents = _TENANT_PARENTS.setdefault(ctx.session, {})

    def parent(target: str) -> str:
        if ctx.collection(target).entity == "community":
            return community
        if (target, community) not in parents:
            parents[(target, community)] = str(tenant_record(ctx, target, community)["id"])
        return parents[(target, community)]

    payload = resolve(load_fixture(fixture or f"{collection}/valid/minimal"), parent)
    for member, target in coll.references.items():
        if ctx.collection(target).entity == "community":
            payload[member] = community
    _, entity = ctx.create(collection, payload, purpose=f"a {coll.entity} in community {community}")
    return entity
