"""The standard's statements that hold for every response of a kind, as oracles over all traffic.

Each oracle states its rule in its docstring; the requirement that states the rule names it in a profile
(``oracle.<name>``). Applicability is data: the kind of path and the collection come from the catalogue,
schemas and lifecycles from the standard, scopes and communities from the credentials of the run.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from ..checks import _expect
from ..checks._expect import JSON_TYPES, SERVER_TIME_TOLERANCE  # one home: the checks and the oracles read alike
from ..formats import is_identity_number
from ..schemas import schema_store
from . import Traffic, View, Violation, oracle

__all__ = ["bearer_challenge", "instant"]

_COMMON = "https://smart-community.example/schemas/v1/common.json#/$defs/"
_PROBLEM = "https://smart-community.example/schemas/v1/interface/problem.json"
_RECORD_KINDS = ("list", "create", "read", "update", "delete", "transition")
_ITEM_KINDS = ("read", "update", "delete", "transition")


def instant(value: Any) -> datetime | None:
    """An RFC 3339 date-time with an offset as an aware datetime (the checks' reading, which also takes a space
    for the T; a rule over all traffic holds the platform to the T); None for anything else."""
    if not isinstance(value, str) or len(value) < 20 or value[10] not in "Tt":
        return None
    return _expect.instant(value)


_CHALLENGE = re.compile(r'(?:^|,)\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)(?=\s|,|$)')


def bearer_challenge(value: str) -> bool:
    """Whether a ``WWW-Authenticate`` value holds a Bearer challenge (RFC 9110 §11.6.1 allows several
    challenges in one header; the standard asks only that one of them is Bearer, RFC 6750 §3)."""
    for match in _CHALLENGE.finditer(value):
        scheme = match.group(1)
        rest = value[match.end():].lstrip()
        if rest.startswith("=") and not rest.startswith("=="):
            continue  # an auth-param name (realm=…), not a scheme
        if scheme.lower() == "bearer":
            return True
    return False


def _date(view: View) -> datetime | None:
    try:
        moment = parsedate_to_datetime(view.exchange.headers.get("date", ""))
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def _collection_kind(view: View) -> bool:
    return view.collection is not None and view.kind in _RECORD_KINDS


# -- HTTP conventions ------------------------------------------------------------------------------------------

@oracle("success_media_type", scope="every successful response with a body from the interface's paths",
        applies=lambda v: v.succeeded and bool(v.exchange.body) and v.kind != "other")
def success_media_type(view: View, traffic: Traffic) -> Iterator[Violation]:
    """Successful responses use a JSON media type (charset absent or utf-8) and are valid UTF-8 (CORE-HTTP-001)."""
    content_type = view.exchange.headers.get("content-type", "")
    if view.exchange.content_type not in JSON_TYPES and not view.exchange.content_type.endswith("+json"):
        yield Violation(f"{view.describe()} is served as {content_type or 'no content type'!r}",
                        "Content-Type", "application/json", content_type)
        return
    charset = next((p.split("=", 1)[1].strip().strip('"').lower()
                    for p in content_type.split(";")[1:] if p.strip().lower().startswith("charset=")), None)
    if charset not in (None, "utf-8"):
        yield Violation(f"{view.describe()} declares charset {charset!r}", "Content-Type", "utf-8", charset)
    try:
        view.exchange.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        yield Violation(f"{view.describe()}: the body is not valid UTF-8 ({exc.reason} at byte {exc.start})")


@oracle("bearer_challenge", scope="every 401 response", applies=lambda v: v.status == 401)
def challenge(view: View, traffic: Traffic) -> Iterator[Violation]:
    """Every 401 carries a `WWW-Authenticate` header with a Bearer challenge (other challenges may stand
    beside it) (CORE-AUTH-001, GUA-AUTHN-001)."""
    values = view.exchange.headers.get_list("www-authenticate")
    if not any(bearer_challenge(v) for v in values):
        yield Violation(f"{view.describe()}: 401 without a Bearer challenge", "WWW-Authenticate",
                        "Bearer realm=…", "; ".join(values) or None)


def _refused(view: View) -> Iterator[Violation]:
    if view.status < 400 or view.status == 403:
        yield Violation(f"{view.describe()}: answered {view.status} to a request "
                        + ("without a token" if view.token == "none" else "with a token that is not valid"),
                        expected=401, found=view.status)


@oracle("token_required", scope="every request without a token to a collection or record",
        applies=lambda v: v.token == "none" and _collection_kind(v))
def token_required(view: View, traffic: Traffic) -> Iterator[Violation]:
    """A request without a token to any collection or record path is answered 401, never served (CORE-AUTH-001)."""
    yield from _refused(view)


@oracle("bad_token_refused", scope="every request with a token that is not valid (made up, tampered or expired)",
        applies=lambda v: (v.token == "unknown" or (v.role is not None and v.role.name == "expired"))
        and _collection_kind(v))
def bad_token_refused(view: View, traffic: Traffic) -> Iterator[Violation]:
    """A malformed, wrongly signed or expired token is answered 401 on every collection and record path (GUA-AUTHN-001)."""
    yield from _refused(view)


@oracle("request_id", scope="every response", applies=lambda v: True)
def request_id(view: View, traffic: Traffic) -> Iterator[Violation]:
    """Every response carries X-Request-Id, echoing the one the client sent (CORE-TRACE-001)."""
    value = view.exchange.headers.get("x-request-id")
    sent = next((v for k, v in view.exchange.request_headers.items() if k.lower() == "x-request-id"), None)
    if not value:
        yield Violation(f"{view.describe()} carries no X-Request-Id", "X-Request-Id")
    elif sent and value != sent:
        yield Violation(f"{view.describe()} did not echo the client's X-Request-Id", "X-Request-Id", sent, value)


# -- errors --------------------------------------------------------------------------------------------------

@oracle("problem_document", scope="every error response (4xx, 5xx)", applies=lambda v: v.status >= 400)
def problem_document(view: View, traffic: Traffic) -> Iterator[Violation]:
    """Every error is `application/problem+json` valid against the problem schema, with `status` equal to
    the HTTP status and a registered `code` (CORE-ERR-001)."""
    if view.exchange.content_type != "application/problem+json":
        yield Violation(f"{view.describe()}: an error served as {view.exchange.content_type or 'no content type'!r}",
                        "Content-Type", "application/problem+json", view.exchange.content_type or None)
        return
    body = view.body()
    if not isinstance(body, dict):
        yield Violation(f"{view.describe()}: the problem document is not a JSON object", found=view.exchange.text[:120])
        return
    if body.get("status") != view.status:
        yield Violation(f"{view.describe()}: the problem's status differs from the HTTP status", "/status",
                        view.status, body.get("status"))
    if not isinstance(body.get("code"), str):
        yield Violation(f"{view.describe()}: the problem carries no machine `code`", "/code")
    for error in schema_store().errors(_PROBLEM, body)[:2]:
        pointer = "/" + "/".join(str(p) for p in error.absolute_path)
        yield Violation(f"{view.describe()}: the problem is not valid: {error.message[:160]}", pointer)


@functools.cache
def _codes_by_status() -> dict[int, frozenset[str]]:
    """The registered problem codes of each HTTP status (problem.json `x-statuses`); a validation failure may
    also come as 400 (CORE-VAL-001: rejected with 400 or 422)."""
    store = schema_store()
    statuses = store.documents[_PROBLEM]["properties"]["code"]["x-statuses"]
    by_status: dict[int, set[str]] = {}
    for code, status in statuses.items():
        by_status.setdefault(int(status), set()).add(code)
    by_status.setdefault(400, set()).add("validation-failed")
    return {status: frozenset(codes) for status, codes in by_status.items()}


@oracle("problem_code", scope="every problem document of a status the standard registers codes for",
        applies=lambda v: v.status in _codes_by_status() and v.exchange.content_type == "application/problem+json")
def problem_code(view: View, traffic: Traffic) -> Iterator[Violation]:
    """Each kind of error carries a code the standard registers for its status (`x-statuses` of the problem
    schema: 404 not-found, 401 unauthenticated, 415 unsupported-media-type, …) (CORE-ERR-003)."""
    body = view.body()
    code = body.get("code") if isinstance(body, dict) else None
    allowed = _codes_by_status()[view.status]
    if isinstance(code, str) and code not in allowed:
        yield Violation(f"{view.describe()}: the problem's code is not one registered for {view.status}", "/code",
                        sorted(allowed), code)


_PROBLEM_CODES = frozenset(["validation-failed", "malformed-json", "invalid-parameter", "not-found", "internal-error",
                            "unauthenticated", "forbidden", "conflict", "unavailable", "method-not-allowed"])


@oracle("errors_by_status", scope="every successful response with a JSON object body",
        applies=lambda v: v.succeeded and isinstance(v.body(), dict))
def errors_by_status(view: View, traffic: Traffic) -> Iterator[Violation]:
    """An error is carried by the HTTP status: no successful response is a problem or an error object (CORE-ERR-002)."""
    body = view.body()
    status = body.get("status")
    # a record may carry a member named status (an audit record's HTTP status): records have ids, problems do not
    looks_like_problem = "id" not in body and "items" not in body and (
        (isinstance(status, int) and status >= 400) or "error" in body or body.get("code") in _PROBLEM_CODES)
    if looks_like_problem:
        yield Violation(f"{view.describe()}: a successful status carries an error", found=view.exchange.text[:160])


# -- listings ------------------------------------------------------------------------------------------------

@oracle("page_envelope", scope="every successful listing of a collection",
        applies=lambda v: v.kind == "list" and v.succeeded)
def page_envelope(view: View, traffic: Traffic) -> Iterator[Violation]:
    """Every listing is a page envelope: an `items` array and a `next_cursor` member (a string or null) (CORE-PAGE-001)."""
    body = view.body()
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        yield Violation(f"{view.describe()}: the listing is not a page envelope with an `items` array", "/items")
    elif "next_cursor" not in body:
        yield Violation(f"{view.describe()}: the page has no `next_cursor` member", "/next_cursor")
    elif body["next_cursor"] is not None and (not isinstance(body["next_cursor"], str) or not body["next_cursor"]):
        yield Violation(f"{view.describe()}: `next_cursor` is neither a cursor string nor null", "/next_cursor",
                        found=body["next_cursor"])


def _limit(view: View) -> int | None:
    raw = view.query.get(view.page["limit_param"])
    return int(raw) if raw is not None and raw.isascii() and raw.isdigit() and int(raw) >= 1 else None


@oracle("page_limit", scope="every successful listing that asked for a limit",
        applies=lambda v: v.kind == "list" and v.succeeded and _limit(v) is not None)
def page_limit(view: View, traffic: Traffic) -> Iterator[Violation]:
    """A page holds at most `limit` items (CORE-PAGE-002)."""
    body = view.body()
    items = body.get("items") if isinstance(body, dict) else None
    limit = _limit(view)
    if isinstance(items, list) and limit is not None and len(items) > limit:
        yield Violation(f"{view.describe()}: a page of limit={limit} holds {len(items)} items", "/items",
                        f"at most {limit}", len(items))


def _invalid_limit(view: View) -> bool:
    raw = view.query.get(view.page["limit_param"])
    if raw is None:
        return False
    return not (raw.isascii() and raw.isdigit() and int(raw) >= 1)  # above max_page_size: the check judges it


@oracle("invalid_limit", scope="every listing that asked for a limit that is not a whole number of at least 1",
        applies=lambda v: v.kind == "list" and v.token == "role" and _invalid_limit(v))
def invalid_limit(view: View, traffic: Traffic) -> Iterator[Violation]:
    """A `limit` of 0, a negative number, a fraction or a non-number is answered 400 on every collection, never
    silently changed (CORE-PAGE-004)."""
    if view.status != 400:
        yield Violation(f"{view.describe()}: limit={view.query[view.page['limit_param']]!r} was answered "
                        f"{view.status}", expected=400, found=view.status)


def _since(view: View) -> datetime | None:
    return instant(view.query.get(view.page["updated_since_param"]))


@oracle("sync_window", scope="every successful `updated_since` listing",
        applies=lambda v: v.kind == "list" and v.succeeded and v.page["updated_since_param"] in v.query)
def sync_window(view: View, traffic: Traffic) -> Iterator[Violation]:
    """An `updated_since=T` listing holds only records updated at or after T, in ascending `updated_at`, across
    the pages of one walk too (CORE-SYNC-001)."""
    since = _since(view)
    body = view.body()
    items = body.get("items") if isinstance(body, dict) else None
    if since is None or not isinstance(items, list):
        return
    walks: dict[str, datetime] = traffic.state.setdefault("sync_window", {})
    cursor = view.query.get(view.page["cursor_param"])
    previous = walks.pop(cursor, None) if cursor else None
    for index, item in enumerate(items):
        stamp = instant(item.get("updated_at")) if isinstance(item, dict) else None
        if stamp is None:
            continue
        if stamp < since:
            yield Violation(f"{view.describe()}: a record updated before updated_since is listed",
                            f"/items/{index}/updated_at", f">= {view.query[view.page['updated_since_param']]}", item.get("updated_at"))
        if previous is not None and stamp < previous:
            yield Violation(f"{view.describe()}: the sync is not in ascending updated_at order",
                            f"/items/{index}/updated_at", f">= {previous.isoformat()}", item.get("updated_at"))
        previous = stamp
    following = body.get("next_cursor")
    if isinstance(following, str) and previous is not None:
        if len(walks) > 1000:
            walks.clear()
        walks[following] = previous


# -- records -------------------------------------------------------------------------------------------------

@oracle("entity_schema", scope="every record in a successful response of a collection",
        applies=lambda v: bool(v.entities()))
def entity_schema(view: View, traffic: Traffic) -> Iterator[Violation]:
    """Every record a collection answers with — created, read, listed on any page, changed, moved — is valid
    against the collection's entity schema (CORE-ENT-*)."""
    assert view.collection is not None
    store = schema_store()
    for pointer, entity in view.entities():
        for path, message in _schema_errors(store, view.collection.schema, entity)[:2]:
            at = pointer + path
            yield Violation(f"{view.describe()}: a {view.collection.entity} is not valid against its schema: "
                            f"{message[:160]}", at.rstrip("/") or "/")


_VALIDATED: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}  # the same record comes back on many pages
_VALIDATED_LIMIT = 50_000


def _schema_errors(store: Any, ref: str, entity: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """(JSON pointer, message) of each error, best first; remembered by the record's canonical text."""
    try:
        key = (ref, json.dumps(entity, sort_keys=True, ensure_ascii=False, allow_nan=True))
    except (TypeError, ValueError, RecursionError):
        key = None
    if key is not None and key in _VALIDATED:
        return _VALIDATED[key]
    found = tuple(("/" + "/".join(str(p) for p in e.absolute_path), e.message) for e in store.errors(ref, entity))
    if key is not None:
        if len(_VALIDATED) >= _VALIDATED_LIMIT:
            _VALIDATED.clear()
        _VALIDATED[key] = found
    return found


@oracle("server_instants", scope="every record in a successful response of a collection",
        applies=lambda v: bool(v.entities()))
def server_instants(view: View, traffic: Traffic) -> Iterator[Violation]:
    """`created_at` and `updated_at` are RFC 3339 date-times with an offset wherever a record is shown; a record a
    request just created or changed carries the real instant (within 300 s of `Date`); no record of any
    collection (an event, an audit record) was created or changed after the answer that shows it (later than
    `Date` by more than 300 s), nor changed before it was created (CORE-TIME-001)."""
    fresh = view.kind in ("create", "update", "transition")
    answered = _date(view)
    for pointer, entity in view.entities():
        moments = {}
        for member in ("created_at", "updated_at"):
            if member not in entity:
                continue
            moment = instant(entity[member])
            if moment is None:
                yield Violation(f"{view.describe()}: {member} is not an RFC 3339 date-time with an offset",
                                f"{pointer}/{member}", "RFC 3339 with offset", entity[member])
                continue
            moments[member] = moment
            if answered is None:
                continue
            gap = (moment - answered).total_seconds()
            if fresh and (member == "updated_at" or view.kind == "create") and abs(gap) > SERVER_TIME_TOLERANCE:
                yield Violation(f"{view.describe()}: {member} lies {abs(gap):.0f} s from the response's Date",
                                f"{pointer}/{member}", f"within {SERVER_TIME_TOLERANCE:.0f} s of Date",
                                entity[member])
            elif not fresh and gap > SERVER_TIME_TOLERANCE:
                yield Violation(f"{view.describe()}: {member} lies {gap:.0f} s after the response's Date: the record "
                                "cannot have been written after the answer that shows it", f"{pointer}/{member}",
                                f"at most {SERVER_TIME_TOLERANCE:.0f} s after Date", entity[member])
        if {"created_at", "updated_at"} <= moments.keys() and (
                moments["updated_at"] - moments["created_at"]).total_seconds() < -1:
            yield Violation(f"{view.describe()}: updated_at lies before created_at", f"{pointer}/updated_at",
                            f">= {entity['created_at']}", entity["updated_at"])


@oracle("string_ids", scope="every record in a successful response of a collection",
        applies=lambda v: bool(v.entities()))
def string_ids(view: View, traffic: Traffic) -> Iterator[Violation]:
    """Every record's `id` is a JSON string and never an identity number (CORE-CRUD-006)."""
    for pointer, entity in view.entities():
        if "id" not in entity:
            continue
        value = entity["id"]
        if not isinstance(value, str):
            yield Violation(f"{view.describe()}: a record id is a JSON {type(value).__name__}", f"{pointer}/id",
                            "a string", value)
        elif is_identity_number(value) or value in traffic.model.personal:
            yield Violation(f"{view.describe()}: a record id is an identity number", f"{pointer}/id",
                            found=value[:6] + "…")


@oracle("created_location", scope="every create answered with success",
        applies=lambda v: v.kind == "create" and v.succeeded)
def created_location(view: View, traffic: Traffic) -> Iterator[Violation]:
    """A create answers 201 with a `Location` of the new record (its id as the last path segment) and the stored
    entity in the body (CORE-CRUD-001)."""
    if view.status != 201:
        yield Violation(f"{view.describe()}: a create answered {view.status}", expected=201, found=view.status)
    body = view.body()
    location = view.exchange.headers.get("location")
    if not location:
        yield Violation(f"{view.describe()}: a create without a Location header", "Location")
        return
    if not isinstance(body, dict) or not isinstance(body.get("id"), str | int):
        yield Violation(f"{view.describe()}: the body of a create is not the stored entity with its id")
        return
    target = urlsplit(urljoin(view.exchange.url, location)).path.rstrip("/")
    if unquote(target.rsplit("/", 1)[-1]) != str(body["id"]):
        yield Violation(f"{view.describe()}: Location does not name the created record", "Location",
                        f".../{body['id']}", location)


# -- lifecycles ----------------------------------------------------------------------------------------------

@oracle("lifecycle_history", scope="every record of a lifecycle collection in a successful response",
        applies=lambda v: v.collection is not None and v.collection.lifecycle is not None and bool(v.entities()))
def lifecycle_history(view: View, traffic: Traffic) -> Iterator[Violation]:
    """Wherever a record of a lifecycle collection is shown, its status is a state of the lifecycle and its
    status history is a chain of listed transitions from the initial state (`from` null) to that status, each
    entry's `at` no earlier than the one before (GOV-WO-002, GOV-GE-001, INF-ALARM-001)."""
    assert view.collection is not None
    lifecycle = traffic.catalogue.lifecycle_of(view.collection.name)
    for pointer, entity in view.entities():
        status = entity.get(lifecycle.status_field)
        history = entity.get(lifecycle.history_field)
        if status not in lifecycle.states:
            yield Violation(f"{view.describe()}: status {status!r} is not a state of the {lifecycle.name} lifecycle",
                            f"{pointer}/{lifecycle.status_field}", list(lifecycle.states), status)
            continue
        if not isinstance(history, list) or not history or not all(isinstance(e, dict) for e in history):
            continue  # the schema oracle says what is wrong with its shape
        first = history[0]
        if first.get("from") is not None or first.get("to") != lifecycle.initial:
            yield Violation(f"{view.describe()}: the history does not start with the creation in "
                            f"{lifecycle.initial!r}", f"{pointer}/{lifecycle.history_field}/0",
                            {"from": None, "to": lifecycle.initial}, {"from": first.get("from"), "to": first.get("to")})
        previous_at = None
        for index, entry in enumerate(history):
            at = instant(entry.get("at"))
            if at is not None and previous_at is not None and at < previous_at:
                yield Violation(f"{view.describe()}: a history entry is earlier than the one before it",
                                f"{pointer}/{lifecycle.history_field}/{index}/at")
            previous_at = at or previous_at
            if index == 0:
                continue
            before = history[index - 1].get("to")
            if entry.get("from") != before:
                yield Violation(f"{view.describe()}: a history entry does not continue from the state before it",
                                f"{pointer}/{lifecycle.history_field}/{index}/from", before, entry.get("from"))
            elif lifecycle.transition(str(entry.get("from")), str(entry.get("to"))) is None:
                yield Violation(f"{view.describe()}: the history records a transition the lifecycle does not list",
                                f"{pointer}/{lifecycle.history_field}/{index}", "a listed transition",
                                f"{entry.get('from')} -> {entry.get('to')}")
        if history[-1].get("to") != status:
            yield Violation(f"{view.describe()}: the status is not where the history ends",
                            f"{pointer}/{lifecycle.status_field}", history[-1].get("to"), status)


# -- access ---------------------------------------------------------------------------------------------------

@oracle("write_scope", scope="every write to a collection by a role without its write scope",
        applies=lambda v: v.is_write and v.collection is not None and v.collection.writable and v.role is not None
        and v.role.name != "expired" and not v.holds(v.collection.scopes.get("write", "")))
def write_scope(view: View, traffic: Traffic) -> Iterator[Violation]:
    """A token without a collection's write scope never creates, changes, moves or deletes its records (GUA-AUTHZ-001)."""
    if view.succeeded:
        yield Violation(f"{view.describe()}: a write by the {view.role.name!r} role, which lacks the write scope, "  # type: ignore[union-attr]
                        "was carried out", expected=403, found=view.status)


@oracle("read_scope", scope="every read of a collection by a role without its read scope",
        applies=lambda v: v.kind in ("list", "read") and v.collection is not None and v.role is not None
        and v.role.name != "expired" and not v.holds(v.collection.scopes.get("read", "")))
def read_scope(view: View, traffic: Traffic) -> Iterator[Violation]:
    """A token without a collection's read scope reads none of its records: 403 for every listing and record
    (GUA-AUTHZ-001; the audit trail, which needs `audit:read`: GUA-AUDIT-002)."""
    if view.succeeded:
        yield Violation(f"{view.describe()}: the {view.role.name!r} role, which lacks the read scope "  # type: ignore[union-attr]
                        f"{view.collection.scopes.get('read')!r}, was served", expected=403, found=view.status)  # type: ignore[union-attr]


@oracle("read_only_collection", scope="every write to a collection the catalogue marks not writable",
        applies=lambda v: v.collection is not None and not v.collection.writable
        and v.method in ("POST", "PUT", "PATCH", "DELETE"))
def read_only_collection(view: View, traffic: Traffic) -> Iterator[Violation]:
    """No token, however privileged, creates, changes or deletes a record of a read-only collection such as the
    audit trail (GUA-AUDIT-003)."""
    if view.succeeded:
        yield Violation(f"{view.describe()}: a write to a read-only collection was carried out",
                        expected="403 or 405", found=view.status)


def _community_members(view: View) -> list[str]:
    assert view.collection is not None
    return [m for m, target in view.collection.references.items() if target == "communities"]


def _tenant_bound(view: View) -> bool:
    return view.role is not None and bool(view.role.community) and view.collection is not None


def _foreign(view: View, traffic: Traffic) -> Iterator[tuple[str, str, Any]]:
    """(pointer, member, value) of each record shown that belongs to another community than the token's."""
    assert view.role is not None and view.collection is not None
    own = view.role.community
    members = _community_members(view)
    for pointer, entity in view.entities():
        if view.collection.name == "communities":
            if "id" in entity and str(entity["id"]) != own:
                yield pointer, "id", entity["id"]
            continue
        for member in members:
            if member in entity and entity[member] is not None and str(entity[member]) != own:
                yield pointer, member, entity[member]


@oracle("tenant_listing", scope="every listing read with a token bound to a community",
        applies=lambda v: v.kind == "list" and v.succeeded and _tenant_bound(v))
def tenant_listing(view: View, traffic: Traffic) -> Iterator[Violation]:
    """A token bound to a community sees, on every page of every listing, only records of that community
    (GUA-AUTHZ-003)."""
    for pointer, member, value in _foreign(view, traffic):
        yield Violation(f"{view.describe()}: the {view.role.name!r} token is shown a record of another "  # type: ignore[union-attr]
                        "community", f"{pointer}/{member}", view.role.community, value)  # type: ignore[union-attr]


@oracle("tenant_records", scope="every create and every request on one record with a token bound to a community",
        applies=lambda v: v.kind in (*_ITEM_KINDS, "create") and _tenant_bound(v))
def tenant_records(view: View, traffic: Traffic) -> Iterator[Violation]:
    """A token bound to a community never reads, changes, moves or deletes a record of another community, nor
    creates one there: it gets 403 or 404, never data (GUA-AUTHZ-002)."""
    assert view.role is not None and view.collection is not None
    if not view.succeeded:
        return
    owner = traffic.model.community_of(view.collection.name, view.item_id)
    if owner is not None and owner != view.role.community:
        yield Violation(f"{view.describe()}: the {view.role.name!r} token was served a record of another community",
                        expected="403 or 404", found=view.status)
        return
    for pointer, member, value in _foreign(view, traffic):
        yield Violation(f"{view.describe()}: the {view.role.name!r} token is shown a record of another community",
                        f"{pointer}/{member}", view.role.community, value)


# -- personal data -------------------------------------------------------------------------------------------

def _at(entity: Any, pointer: str) -> Any:
    for part in pointer.strip("/").split("/"):
        entity = entity.get(part) if isinstance(entity, dict) else None
    return entity


_MASKS = {"number": "masked-identity-number", "phone": "masked-mobile-phone"}


@functools.cache
def _sensitive_tags() -> frozenset[str]:
    store = schema_store()
    return frozenset(store.documents[store.uri("common.json")]["$defs"]["sensitive-tag"]["enum"])


@oracle("masking", scope="every record with personal data shown to a token without the `pii` scope",
        applies=lambda v: v.collection is not None and bool(v.collection.pii_fields) and v.token != "none"
        and not v.holds("pii") and bool(v.entities()))
def masking(view: View, traffic: Traffic) -> Iterator[Violation]:
    """To a token without the `pii` scope, identity numbers and phone numbers are shown only in the standard's
    masks (6+4, 3+4) wherever a record comes back — by id, on every page, after a change (GUA-PRIV-001)."""
    assert view.collection is not None
    store = schema_store()
    for pointer, entity in view.entities():
        for field in view.collection.pii_fields:
            value = _at(entity, field)
            if not isinstance(value, str):
                continue
            definition = _MASKS.get(field.rsplit("/", 1)[-1], "masked-mobile-phone")
            if store.errors(_COMMON + definition, value):
                yield Violation(f"{view.describe()}: {field} is not masked for a token without the PII scope",
                                f"{pointer}{field}", definition, value[:3] + "…")


@oracle("sensitive_tags", scope="every record with tags shown to a token without the `sensitive` scope",
        applies=lambda v: v.token == "role" and not v.holds("sensitive") and bool(v.entities()))
def sensitive_tags(view: View, traffic: Traffic) -> Iterator[Violation]:
    """Sensitive tags (disability, low income, key care) are shown only to tokens with the `sensitive` scope,
    wherever a record comes back (GUA-PRIV-003)."""
    sensitive = _sensitive_tags()
    for pointer, entity in view.entities():
        tags = entity.get("tags")
        shown = sorted({t for t in tags if isinstance(t, str)} & sensitive) if isinstance(tags, list) else []
        if shown:
            yield Violation(f"{view.describe()}: a token without the sensitive scope is shown sensitive tags",
                            f"{pointer}/tags", "no sensitive tag", shown)


@oracle("personal_data_in_errors", scope="every error response, and every Location",
        applies=lambda v: v.status >= 400 or "location" in v.exchange.headers)
def personal_data_in_errors(view: View, traffic: Traffic) -> Iterator[Violation]:
    """Identity numbers and phone numbers never appear in an error's body or headers, nor in a URL the
    platform gives (GUA-PRIV-002)."""
    personal = traffic.model.personal
    places = [("Location", view.exchange.headers.get("location", ""))]
    if view.status >= 400:
        places = [("body", view.exchange.text)] + [(name, value) for name, value in view.exchange.headers.items()]
    for where, text in places:
        if not text:
            continue
        hit = next((value for value in personal if value in text), None)
        if hit is None:
            hit = next((m.group(0) for m in _ID_NUMBER.finditer(text) if is_identity_number(m.group(0))), None)
        if hit is not None:
            yield Violation(f"{view.describe()}: personal data in the {where}", where, "no identity or phone number",
                            hit[:3] + "…")


_ID_NUMBER = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9])")


# -- input ----------------------------------------------------------------------------------------------------

def _holds_write(view: View) -> bool:
    return view.collection is not None and view.holds(view.collection.scopes.get("write", ""))


@oracle("accepts_only_valid", scope="every create and change answered with success",
        applies=lambda v: v.kind in ("create", "update") and v.succeeded and v.collection is not None
        and v.collection.writable)
def accepts_only_valid(view: View, traffic: Traffic) -> Iterator[Violation]:
    """A create or a merge patch is carried out only when the record it makes is valid against the collection's
    create schema — types, bounds, formats, enums, required members — whichever request sent it; unknown members
    are left to CORE-VAL-009 (S3) (CORE-GEN-002)."""
    assert view.collection is not None
    sent = view.sent()
    if not isinstance(sent, dict):
        return
    if view.kind == "update":
        record = traffic.model.get(view.collection.name, view.item_id)
        if record is None:
            return
        sent = _expect.apply_merge_patch(record.expected, sent)
        what = "the record a merge patch made"
    else:
        what = "the record created"
    for error in schema_store().errors(view.collection.create_schema, sent):
        if error.validator in ("additionalProperties", "unevaluatedProperties"):
            continue  # S3: dropping unknown members is allowed; rejecting them is CORE-VAL-009's SHOULD
        pointer = "/" + "/".join(str(p) for p in error.absolute_path)
        yield Violation(f"{view.describe()}: {what} is invalid ({error.validator}: {error.message[:140]}), yet the "
                        f"platform answered {view.status}", pointer, "400 or 422", view.status)
        return


def _malformed(view: View) -> bool:
    raw = view.exchange.request_body
    if not raw or "json" not in next((v for k, v in view.exchange.request_headers.items()
                                      if k.lower() == "content-type"), ""):
        return False
    try:
        json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return True
    return False


@oracle("malformed_json", scope="every write whose JSON body does not parse, by a token that may write",
        applies=lambda v: v.kind in ("create", "update", "transition") and _holds_write(v) and _malformed(v))
def malformed_json(view: View, traffic: Traffic) -> Iterator[Violation]:
    """A request body sent as JSON that is not JSON is answered 400 on every method — never 5xx, never
    carried out (CORE-VAL-006)."""
    if view.status != 400:
        yield Violation(f"{view.describe()}: a body that is not JSON was answered {view.status}",
                        expected=400, found=view.status)


@oracle("indicator_arithmetic", scope="every performance indicator with a numerator and a denominator",
        applies=lambda v: v.collection is not None and v.collection.entity == "indicator" and bool(v.entities()))
def indicator_arithmetic(view: View, traffic: Traffic) -> Iterator[Violation]:
    """A rate is the fraction its numerator and denominator state (value = numerator / denominator, to the two
    decimals a published rate carries), between 0 and 1 (GUA-EVAL-001)."""
    for pointer, entity in view.entities():
        value, numerator, denominator = entity.get("value"), entity.get("numerator"), entity.get("denominator")
        if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in (value, numerator, denominator)):
            continue
        if denominator and abs(value - numerator / denominator) > 0.005:
            yield Violation(f"{view.describe()}: the rate is not its numerator over its denominator",
                            f"{pointer}/value", round(numerator / denominator, 4), value)
