"""The collection endpoints, derived from the catalogue: list, create, read, merge-patch, delete."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import Response

from ..catalogue import Collection
from .auth import Access, authorise
from .context import Platform, community_field, platform_of
from .domain import adjust_query, city_rules, present
from .lifecycle import carry_state, feed_order, publish, start_state
from .paging import encode_cursor, parse_page_query
from .payloads import JSON_TYPES, MERGE_PATCH_TYPES, merge_patch, read_json, stored_form
from .present import scrub_personal
from .probing_faults import keep_refused, patch_lost
from .probing_faults import stored as probed
from .problems import JsonResponse, ProblemError
from .store import Conflict, Record
from .validation import READ_ONLY

__all__ = ["add_collection_routes"]

Endpoint = Callable[[Request], Awaitable[Response]]


def _not_found(collection: Collection, item_id: str) -> ProblemError:
    return ProblemError(404, "not-found", f"no record {item_id!r} in {collection.name}")


def _visible(platform: Platform, access: Access, collection: Collection, item_id: str) -> Record | None:
    record = platform.store.get(collection.name, item_id)
    leak = "tenant-object-leak" in platform.faults
    return record if record is not None and (leak or access.can_see(record.community)) else None


def _respond(platform: Platform, collection: Collection, record: Record, access: Access, status: int = 200,
             headers: dict[str, str] | None = None, *, single: bool = False) -> Response:
    entity = present(collection, record, pii=access.sees_pii, faults=platform.faults, single=single,
                     sensitive=access.sees_sensitive, whole_seconds="second-precision" in platform.variants)
    return JsonResponse(entity, status_code=status, headers=headers)


def _accepted_body(platform: Platform, access: Access, collection: Collection, item_id: str | None,
                   candidate: Any, *, patching: bool = False) -> dict[str, Any]:
    """Validate a new or merged entity, its community and its references; return what to store."""
    body, errors = platform.validator.check(collection, candidate)
    if patching and "patch-skips-identity-check" in platform.faults:
        errors = [e for e in errors if e.get("pointer") != "/identity/number"]
    if errors and "pii-in-errors" not in platform.faults:
        errors = scrub_personal(collection, candidate, errors)
    if errors:
        keep_refused(platform.store, platform.faults, collection, item_id, candidate, errors)
        raise ProblemError(422, "validation-failed", f"the {collection.entity} does not match the standard's schema",
                           errors=errors)
    if access.community is not None:
        if platform.is_tenant(collection) and item_id != access.community:
            raise ProblemError(403, "forbidden", "a token bound to one community cannot create another")
        field = community_field(platform.catalogue, collection)
        if field and body.get(field) != access.community:
            raise ProblemError(403, "forbidden", f"the token is bound to community {access.community!r}")
    if "accept-dangling-reference" not in platform.faults:
        missing = [
            {"pointer": f"/{member}", "message": f"no record {body[member]!r} in {target}"}
            for member, target in collection.references.items()
            if isinstance(body.get(member), str)
            and _visible(platform, access, platform.catalogue.collections[target], body[member]) is None
        ]
        if missing:
            raise ProblemError(422, "reference-not-found", "the entity refers to records that do not exist",
                               errors=missing)
    stored: dict[str, Any] = probed(collection, stored_form(body, platform.faults), platform.faults)
    return stored


def _new_id(platform: Platform, collection: Collection, body: dict[str, Any]) -> str:
    if collection.entity == "resident" and "id-is-identity-number" in platform.faults:
        identity = body.get("identity")
        number = identity.get("number") if isinstance(identity, dict) else None
        if isinstance(number, str):
            # A second registration of the same number gets a suffix rather than a 409, so the
            # fault breaks the id rule and nothing else (fixtures reuse identity numbers).
            taken = itertools.count(2)
            candidate = number
            while platform.store.get(collection.name, candidate) is not None:
                candidate = f"{number}-{next(taken)}"
            return candidate
    if "numeric-string-ids" in platform.variants:
        return platform.next_number()
    return f"{collection.entity[:3]}-{uuid.uuid4().hex}"


def _location(platform: Platform, collection: Collection, record_id: str) -> str:
    """Where a created record lives: a path-absolute reference, or (relative-location) one relative to
    the collection URL the POST went to."""
    if "relative-location" in platform.variants:
        return f"{collection.path.rsplit('/', 1)[-1]}/{record_id}"
    return f"{platform.prefix}{collection.path}/{record_id}"


def _list(collection: Collection) -> Endpoint:
    async def list_items(request: Request) -> Response:
        platform, access = platform_of(request), authorise(request, collection, "read")
        page = platform.page
        query = parse_page_query(request.query_params, page, platform.faults)
        query = adjust_query(platform, collection, query, request.query_params)
        size = page["max_limit"] if "page-ignores-limit" in platform.faults else query.limit
        # Repeating the previous page's last item needs room for one new item, or the walk never ends.
        overlap = "page-cursor-overlap" in platform.faults and query.after is not None and size > 1
        since = None if "sync-ignores-filter" in platform.faults else query.since
        # newest-first orders plain listings only: the sync and the event feed have a required order.
        newest_first = "newest-first" in platform.variants and since is None and collection.name != "events"
        # A plain listing walks in creation order, so a record changed during a walk is not listed again (S8).
        by_creation = query.since is None and collection.name != "events"
        records = platform.store.page(collection.name, limit=size + 1, after=query.after, include_after=overlap,
                                      since=since, newest_first=newest_first, by_creation=by_creation,
                                      community=None if "tenant-list-leak" in platform.faults else access.community)
        if not records and "empty-page-404" in platform.faults:
            raise ProblemError(404, "not-found", f"no records in {collection.name}")
        more, records = len(records) > size, records[:size]
        pii, sensitive = _listing_scopes(platform.faults, access, query)
        body: dict[str, Any] = {
            "items": [present(collection, r, pii=pii, faults=platform.faults, sensitive=sensitive,
                              whole_seconds="second-precision" in platform.variants)
                      for r in feed_order(platform, collection, records)],
            "next_cursor": encode_cursor(records[-1], query.limit, by_creation=by_creation) if more else None,
            "limit": query.limit,
        }
        if body["next_cursor"] is None and "page-no-next-cursor" in platform.faults:
            del body["next_cursor"]
        media_type = "text/plain; charset=utf-8" if "content-type-text" in platform.faults else None
        return JsonResponse(body, media_type=media_type)

    return list_items


def _listing_scopes(faults: frozenset[str], access: Access, query: Any) -> tuple[bool, bool]:
    """What a listing page shows: the token's scopes, unless a fault forgets them on some read path."""
    pii = access.sees_pii or ("pii-unmasked-after-first-page" in faults and query.after is not None) \
        or ("pii-unmasked-in-sync" in faults and query.since is not None)
    return pii, access.sees_sensitive or "sensitive-tags-in-listings" in faults


def _create(collection: Collection) -> Endpoint:
    async def create_item(request: Request) -> Response:
        platform, access = platform_of(request), authorise(request, collection, "write")
        payload = await read_json(request, JSON_TYPES)
        new_id = _new_id(platform, collection, payload if isinstance(payload, dict) else {})
        body = _accepted_body(platform, access, collection, new_id, payload)
        body = start_state(platform, collection, city_rules(platform, collection, body))
        try:
            record = platform.store.insert(collection.name, new_id, body,
                                           platform.community_of(collection, new_id, body))
        except Conflict:
            raise ProblemError(409, "conflict", f"{collection.name} already holds {new_id!r}") from None
        publish(platform, collection, record, "created")
        location = _location(platform, collection, record.id)
        headers = {} if "create-no-location" in platform.faults else {"Location": location}
        return _respond(platform, collection, record, access, 201, headers)

    return create_item


def _read(collection: Collection) -> Endpoint:
    async def read_item(request: Request) -> Response:
        platform, access = platform_of(request), authorise(request, collection, "read")
        item_id = request.path_params["item_id"]
        record = _visible(platform, access, collection, item_id)
        if record is None:
            if "unknown-id-500" in platform.faults:
                raise ProblemError(500, "internal-error", "the platform failed")
            raise _not_found(collection, item_id)
        return _respond(platform, collection, record, access, single=True)

    return read_item


def _patch(collection: Collection) -> Endpoint:
    async def patch_item(request: Request) -> Response:
        platform, access = platform_of(request), authorise(request, collection, "write")
        item_id = request.path_params["item_id"]
        record = _visible(platform, access, collection, item_id)
        if record is None and "patch-unknown-creates" not in platform.faults:
            raise _not_found(collection, item_id)
        patch = await read_json(request, MERGE_PATCH_TYPES)
        if isinstance(patch, dict):
            patch = {member: value for member, value in patch.items() if member not in READ_ONLY}
        ignore_nulls = "patch-null-ignored" in platform.faults
        if record is None:
            created = merge_patch({}, patch, ignore_nulls=ignore_nulls)
            body = created if isinstance(created, dict) else {}
            try:
                record = platform.store.insert(collection.name, item_id, body,
                                               platform.community_of(collection, item_id, body))
            except Conflict:  # it exists in a community this token cannot see
                raise _not_found(collection, item_id) from None
            return _respond(platform, collection, record, access)
        if patch_lost(record, platform.faults):
            return _respond(platform, collection, record, access)
        merged = merge_patch(record.body, patch, ignore_nulls=ignore_nulls)
        if "patch-replaces-nested" in platform.faults and isinstance(patch, dict):  # a shallow merge
            merged = {**record.body, **patch}
            merged = {member: value for member, value in merged.items() if value is not None}
        body = city_rules(platform, collection, _accepted_body(platform, access, collection, item_id, merged,
                                                               patching=True))
        if "patch-name-bmp-only" in platform.faults:
            body = stored_form(body, frozenset({"name-bmp-only"}))
        body = carry_state(platform, collection, record.body, body, patch)
        updated = platform.store.update(collection.name, item_id, body, platform.community_of(collection, item_id, body))
        if updated is None:  # deleted by another request meanwhile
            raise _not_found(collection, item_id)
        return _respond(platform, collection, updated, access)

    return patch_item


def _delete(collection: Collection) -> Endpoint:
    async def delete_item(request: Request) -> Response:
        platform, access = platform_of(request), authorise(request, collection, "write")
        item_id = request.path_params["item_id"]
        if _visible(platform, access, collection, item_id) is None:
            raise _not_found(collection, item_id)
        if "delete-noop" not in platform.faults:
            platform.store.delete(collection.name, item_id)
        return Response(status_code=204)

    return delete_item


def add_collection_routes(app: FastAPI, collection: Collection) -> None:
    """Register the endpoints of one catalogue collection at its path."""
    item_path = collection.path + "/{item_id}"
    app.add_api_route(collection.path, _list(collection), methods=["GET"], include_in_schema=False)
    if collection.writable:
        app.add_api_route(collection.path, _create(collection), methods=["POST"], include_in_schema=False)
    app.add_api_route(item_path, _read(collection), methods=["GET"], include_in_schema=False)
    if collection.writable:
        app.add_api_route(item_path, _patch(collection), methods=["PATCH"], include_in_schema=False)
    if collection.deletable and "no-delete" not in app.state.platform.variants:
        app.add_api_route(item_path, _delete(collection), methods=["DELETE"], include_in_schema=False)
