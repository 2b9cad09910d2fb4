"""Behavioural mutants of the reference platform: an ASGI middleware outside it that changes one behaviour.

Faults (:mod:`.faults`) are switches inside the platform, one per requirement, written by hand; mutants are
generated. :func:`generate_mutants` applies each operator at every place the catalogue (collections, routes,
scopes, lifecycles and their transitions) and the entity schemas (members, their types, formats and bounds)
enumerate, and names the requirements each mutant breaks where the operator can name them (from the profiles'
check calls, so a requirement the profiles do not exercise at that place is still named: a mutant that
survives there is a gap). :class:`Mutant` wraps the platform's ASGI app and applies one spec; it never
touches the platform's code, only what crosses the wire (it may ask the platform to issue a token, as the
embedded door does when it provisions roles, and may call the inner app itself).

Every operator produces behaviour the standard forbids; the choices it allows are in :data:`ALLOWED` with the
statement that allows them, and are not generated (the tolerance matrix holds them as variants).
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..catalogue import TRANSITIONS_SUFFIX, Collection, Lifecycle, catalogue
from ..fixtures import fixture_names, load_fixture
from ..schemas import schema_store
from .tokens import ALL_SCOPES, InvalidToken, scopes_of, verify_token

__all__ = ["ALLOWED", "OPERATORS", "SERVER_WRITTEN", "Mutant", "MutantSpec", "Recorder", "bundled_calls",
           "generate_mutants", "requirement_index", "wrap_with"]


@dataclass(frozen=True)
class MutantSpec:
    """One mutant: an operator applied at one place."""

    id: str
    operator: str
    place: str
    description: str
    requirements: tuple[str, ...]  # what it breaks, where the operator can name it (may be empty)
    params: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)


# What an operator could do but the standard allows, with the statement that allows it: never generated.
ALLOWED: tuple[tuple[str, str], ...] = (
    ("drop a member the client never sent and the schema does not require",
     "the entity schemas: optional members may be absent"),
    ("answer a validation error with 400 instead of 422", "CORE-VAL-001..: rejected with 400 or 422"),
    ("answer 403 instead of 409 (or 409 instead of 403) where a role and the state both refuse a transition",
     "S6: when both 403 and 409 apply, either answer is conformant"),
    ("truncate the fraction of a second of server-set instants (created_at, updated_at, history at)",
     "S9: the precision of server-set times is the platform's choice"),
    ("accept (or drop) a member the schema does not define",
     "CORE-VAL-009 is a SHOULD; variant drop-unknown-members"),
    ("list records in another order (newest first)", "S8: plain listing order is the platform's choice"),
    ("answer 404 instead of 403 for another community's record", "GUA-AUTHZ-002: 403 or 404, never data"),
    ("omit or change X-Request-Id", "CORE-TRACE-001 is a SHOULD"),
)


# -- the requirements the profiles exercise, by check and collection ------------------------------------------

@functools.cache
def bundled_calls() -> tuple[tuple[str, str, dict[str, Any]], ...]:
    """(requirement id, check name, params) of every check call of every bundled profile, loaded once."""
    from ..profiles import load_profile, profile_ids

    return tuple((requirement.id, call.check, dict(call.params or {}))
                 for pid in profile_ids()
                 for requirement in load_profile(pid).requirements
                 for call in requirement.checks)


@functools.cache
def requirement_index() -> dict[tuple[str, str], tuple[str, ...]]:
    """(check name, collection) → ids of the bundled requirements calling that check on that collection;
    (check name, "") for calls naming no collection (they cover every one)."""
    index: dict[tuple[str, str], list[str]] = {}
    for rid, check, params in bundled_calls():
        named = [params["collection"]] if isinstance(params.get("collection"), str) else \
            list(params.get("collections") or [""])
        for name in named:
            ids = index.setdefault((check, str(name)), [])
            if rid not in ids:
                ids.append(rid)
    return {key: tuple(ids) for key, ids in index.items()}


def _reqs(collection: str, *checks: str, general: Iterable[str] = ()) -> tuple[str, ...]:
    index = requirement_index()
    found = list(general)
    for check in checks:
        for rid in index.get((check, collection), ()) + index.get((check, ""), ()):
            if rid not in found:
                found.append(rid)
    return tuple(found)


# -- schemas as places ------------------------------------------------------------------------------------------

def _merged(node: Any) -> Any:
    """A schema node with its allOf branches folded in (properties, required, keywords), recursively."""
    if not isinstance(node, dict):
        return node
    out = {k: v for k, v in node.items() if k != "allOf"}
    for branch in node.get("allOf", []):
        sub = _merged(branch)
        if not isinstance(sub, dict):
            continue
        for key, value in sub.items():
            if key == "properties":
                out["properties"] = {**value, **out.get("properties", {})}
            elif key == "required":
                out["required"] = sorted({*out.get("required", []), *value})
            else:
                out.setdefault(key, value)
    return out


@dataclass(frozen=True)
class Member:
    name: str
    kind: str  # enum, date-time, date, string, integer, number, boolean, array, object, other
    read_only: bool
    required: bool  # in every response (the entity schema's required)
    create_required: bool
    enum: tuple[Any, ...] = ()


def _kind(node: Any) -> tuple[str, tuple[Any, ...]]:
    node = _merged(node)
    if not isinstance(node, dict):
        return "other", ()
    if "enum" in node:
        return "enum", tuple(node["enum"])
    if node.get("format") in ("date-time", "date"):
        return str(node["format"]), ()
    kind = node.get("type")
    if isinstance(kind, str):
        return kind, ()
    for key in ("anyOf", "oneOf"):
        if node.get(key):
            return _kind(node[key][0])
    return "other", ()


@functools.cache
def members(collection: str) -> tuple[Member, ...]:
    """The top-level members of a collection's entity, from its schema and its create schema."""
    store, coll = schema_store(), catalogue().collection(collection)
    entity = _merged(store.validator(coll.schema).schema)
    create = _merged(store.validator(coll.create_schema).schema)
    found = []
    for name, node in entity.get("properties", {}).items():
        kind, enum = _kind(node)
        merged = _merged(node)
        found.append(Member(name, kind, bool(isinstance(merged, dict) and merged.get("readOnly")),
                            name in entity.get("required", []), name in create.get("required", []), enum))
    return tuple(found)


@functools.cache
def _valid_values(collection: str) -> dict[str, Any]:
    """A valid value of each member a valid fixture of the collection holds (references excluded)."""
    values: dict[str, Any] = {}
    for name in fixture_names():
        if not name.startswith(f"{collection}/valid/"):
            continue
        payload = load_fixture(name)
        if isinstance(payload, dict):
            for member, value in payload.items():
                if member not in values and "{{ref:" not in json.dumps(value):
                    values[member] = value
    return values


@functools.cache
def _rejecting(collection: str) -> dict[str, tuple[str, ...]]:
    """Member → the validation.rejects requirements whose invalid fixture breaks that member."""
    store = schema_store()
    coll = catalogue().collection(collection)
    found: dict[str, list[str]] = {}
    for rid, check, params in bundled_calls():
        if check != "validation.rejects" or params.get("collection") != collection:
            continue
        for member in _broken_members(store, coll, load_fixture(str(params["fixture"])), post=True):
            ids = found.setdefault(member, [])
            if rid not in ids:
                ids.append(rid)
    return {member: tuple(ids) for member, ids in found.items()}


_LAX = ("additionalProperties", "unevaluatedProperties")  # unknown members: a SHOULD (ALLOWED)


def _broken_members(store: Any, coll: Collection, payload: Any, *, post: bool) -> set[str]:
    """The top-level members a payload breaks the create schema at (unknown members aside)."""
    if not isinstance(payload, dict):
        return set()
    broken: set[str] = set()
    for error in store.validator(coll.create_schema).iter_errors(payload):
        if error.validator in _LAX:
            continue
        if error.path:
            member = str(error.path[0])
            if member in coll.references and "{{ref:" in json.dumps(payload.get(member)):
                continue
            broken.add(member)
        elif error.validator == "required" and post:
            broken |= {m for m in error.validator_value if m not in payload}
    return broken


# -- requests and responses as the middleware sees them ---------------------------------------------------------

def _encode(document: Any) -> bytes:
    """JSON as UTF-8; a string the client sent with a lone surrogate escape (valid JSON) stays escaped."""
    try:
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(document, separators=(",", ":")).encode("ascii")


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: list[tuple[bytes, bytes]]
    body: bytes
    scope: Scope  # the ASGI scope it came in (what forwarding it keeps)

    def header(self, name: str) -> str | None:
        key = name.lower().encode()
        return next((v.decode("latin-1") for k, v in self.headers if k.lower() == key), None)

    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


@dataclass
class Response:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: str) -> str | None:
        key = name.lower().encode()
        return next((v.decode("latin-1") for k, v in self.headers if k.lower() == key), None)

    def without(self, name: str) -> None:
        key = name.lower().encode()
        self.headers = [(k, v) for k, v in self.headers if k.lower() != key]

    def set_header(self, name: str, value: str) -> None:
        self.without(name)
        self.headers.append((name.lower().encode(), value.encode("latin-1")))

    def json(self) -> Any:
        if "json" not in (self.header("content-type") or ""):
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def set_json(self, document: Any, media_type: str | None = None) -> None:
        self.body = _encode(document)
        if media_type:
            self.set_header("content-type", media_type)


@dataclass(frozen=True)
class Route:
    collection: Collection
    kind: str  # list, create, read, patch, delete, transition
    item_id: str | None = None


def _route(prefix: str, method: str, path: str) -> Route | None:
    if prefix:
        if not path.startswith(prefix + "/"):
            return None
        path = path[len(prefix):]
    parts = path.strip("/").split("/")
    coll = next((c for c in catalogue().collections.values() if c.path == "/" + parts[0]), None)
    if coll is None:
        return None
    if len(parts) == 1:
        kind = {"GET": "list", "POST": "create"}.get(method)
        return Route(coll, kind) if kind else None
    if len(parts) == 2:
        kind = {"GET": "read", "PATCH": "patch", "DELETE": "delete"}.get(method)
        return Route(coll, kind, parts[1]) if kind else None
    if len(parts) == 3 and "/" + parts[2] == TRANSITIONS_SUFFIX and method == "POST":
        return Route(coll, "transition", parts[1])
    return None


READS, WRITES = ("list", "read"), ("create", "patch", "delete", "transition")

# Requirements whose statement covers every collection, though their checks exercise one: a mutant anywhere
# breaks them (whether their checks see it is what the score measures).
SERVER_INSTANTS = ("created_at", "updated_at")
TENANT_SCOPES = ("registry:read", "registry:write")  # what the roles bound to one community hold (README)
SERVER_TIME = ("CORE-TIME-001",)  # created_at/updated_at: RFC 3339 with an offset, the real instant
CLIENT_TIME = ("CORE-TIME-002",)  # a client's date-time reads back as the same instant
MISSING = ("CORE-VAL-001",)  # a payload missing a required field is rejected
PAGE_LIMIT = ("CORE-PAGE-002",)  # at most limit items, a next_cursor while more remain
PAGE_WALK = ("CORE-PAGE-003",)  # following next_cursor visits every record once
SYNC = ("CORE-SYNC-001",)
# The collections only the platform writes, and the check whose requirements read their records.
SERVER_WRITTEN = {"audit-records": "audit.trail", "events": "events.published"}  # updated_since returns exactly the records updated at or after it
ENTITY_ROUTES = ("list", "create", "read", "patch", "transition")


# -- the middleware -------------------------------------------------------------------------------------------

Apply = Callable[["Mutant", MutantSpec, Route, Request], Awaitable[Response]]


class Mutant:
    """Wrap the reference platform's ASGI app; apply ``spec`` (None: the identity middleware)."""

    def __init__(self, app: ASGIApp, spec: MutantSpec | None, platform: Any) -> None:
        self.app, self.spec, self.platform = app, spec, platform
        self._tokens: dict[tuple[frozenset[str], str], str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        spec = self.spec
        if scope["type"] != "http" or spec is None:
            await self.app(scope, receive, send)
            return
        route = _route(self.platform.prefix, scope["method"], scope["path"])
        operator = OPERATORS[spec.operator]
        if route is None or not operator.applies(spec, route):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        request = Request(scope["method"], scope["path"], parse_qsl(scope.get("query_string", b"").decode("latin-1"),
                                                                    keep_blank_values=True),
                          list(scope.get("headers", [])), b"".join(chunks), scope)
        response = await operator.apply(self, spec, route, request)
        headers = [(k, v) for k, v in response.headers if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    async def forward(self, request: Request) -> Response:
        """Send ``request`` to the platform; return its whole response."""
        body_sent = False

        async def receive() -> Message:
            nonlocal body_sent
            if body_sent:
                return {"type": "http.disconnect"}
            body_sent = True
            return {"type": "http.request", "body": request.body, "more_body": False}

        status, headers, parts = 500, [], []

        async def send(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status, headers = message["status"], list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        headers_in = [(k, v) for k, v in request.headers if k.lower() != b"content-length"]
        headers_in.append((b"content-length", str(len(request.body)).encode()))
        scope = {**request.scope, "method": request.method, "path": request.path,
                 "raw_path": request.path.encode(), "query_string": urlencode(request.query).encode(),
                 "headers": headers_in}
        await self.app(scope, receive, send)
        return Response(status, [(k, v) for k, v in headers if k.lower() != b"content-length"], b"".join(parts))

    # tokens: what the caller holds, and tokens the platform issues on the mutant's behalf
    def claims(self, request: Request, *, check_expiry: bool = True) -> dict[str, Any] | None:
        scheme, _, token = (request.header("authorization") or "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        try:
            return verify_token(self.platform.secret, token.strip(), book=self.platform.token_book,
                                check_expiry=check_expiry)
        except InvalidToken:
            return None

    def token(self, scopes: Iterable[str], community: str = "*") -> str:
        key = (frozenset(scopes), community)
        if key not in self._tokens:
            self._tokens[key] = self.platform.issue_token(scopes=sorted(key[0]), community=community,
                                                          subject="sc-admin", expires_in=24 * 3600)
        return self._tokens[key]

    @staticmethod
    def with_token(request: Request, token: str) -> Request:
        headers = [(k, v) for k, v in request.headers if k.lower() != b"authorization"]
        headers.append((b"authorization", f"Bearer {token}".encode()))
        return Request(request.method, request.path, request.query, headers, request.body, request.scope)


class Recorder:
    """The identity middleware noting the collections requests reach (``touched``; the caller clears it):
    a requirement whose requests never reach a mutant's collection sees the platform as without the mutant."""

    def __init__(self, app: ASGIApp, platform: Any) -> None:
        self.app, self.platform = app, platform
        self.touched: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            prefix, path = self.platform.prefix, scope["path"]
            first = "/" + (path[len(prefix):] if prefix and path.startswith(prefix) else path).strip("/").split("/")[0]
            self.touched.update(c.name for c in catalogue().collections.values() if c.path == first)
        await self.app(scope, receive, send)


def wrap_with(spec: MutantSpec | None) -> Callable[[Any], ASGIApp]:
    """For :func:`conformance.embedded.embedded_reference`'s ``wrap``: the platform's app wrapped by ``spec``."""
    return lambda app: Mutant(app, spec, app.state.platform)


# -- operators ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Operator:
    name: str
    family: str
    applies: Callable[[MutantSpec, Route], bool]
    apply: Apply
    places: Callable[[], Iterable[MutantSpec]]


def _on(routes: Iterable[str] | None = None) -> Callable[[MutantSpec, Route], bool]:
    chosen = None if routes is None else frozenset(routes)

    def applies(spec: MutantSpec, route: Route) -> bool:
        wanted = spec.params.get("routes", chosen)
        return route.collection.name == spec.params["collection"] and (wanted is None or route.kind in wanted)

    return applies


def _entities(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, dict) and isinstance(document.get("items"), list):
        return [item for item in document["items"] if isinstance(item, dict)]
    return [document] if isinstance(document, dict) and "id" in document else []


def _entity_op(edit: Callable[[MutantSpec, dict[str, Any]], None]) -> Apply:
    """An operator editing every entity of a successful response (a listing's items, or the one entity)."""
    async def apply(m: Mutant, spec: MutantSpec, route: Route, request: Request) -> Response:
        response = await m.forward(request)
        document = response.json()
        if 200 <= response.status < 300 and document is not None:
            before = copy.deepcopy(document)
            for entity in _entities(document):
                edit(spec, entity)
            if document != before:  # the body is sent as the platform wrote it unless the mutant changed it
                response.set_json(document)
        return response

    return apply


def _corrupt(value: Any, member: Member) -> Any:
    if isinstance(value, bool):
        return not value
    if member.kind == "enum":
        others = [v for v in member.enum if v != value]
        return others[0] if others else value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str) and value:
        last = value[-1]
        return value[:-1] + ("1" if last == "0" else "0" if last.isdigit() else ("b" if last == "a" else "a"))
    return value


_INSTANT = re.compile(r"^(?P<base>\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2})(?P<fraction>\.\d+)?(?P<offset>[Zz]|[+-]\d{2}:\d{2})$")


def _shift(value: str) -> str:
    match = _INSTANT.match(value)
    if not match:
        return value
    moved = datetime.fromisoformat(match["base"]) + timedelta(hours=1)
    return moved.strftime("%Y-%m-%dT%H:%M:%S") + (match["fraction"] or "") + match["offset"]


def _drop_offset(value: str) -> str:
    match = _INSTANT.match(value)
    return match["base"] + (match["fraction"] or "") if match else value


def _truncate(value: str) -> str:
    match = _INSTANT.match(value)
    return match["base"] + match["offset"] if match else value


def _drop_member_edit(spec: MutantSpec, entity: dict[str, Any]) -> None:
    entity.pop(spec.params["member"], None)


def _corrupt_value_edit(spec: MutantSpec, entity: dict[str, Any]) -> None:
    name = spec.params["member"]
    if name in entity:
        entity[name] = _corrupt(entity[name], spec.params["info"])


def _time_edit(change: Callable[[str], str]) -> Callable[[MutantSpec, dict[str, Any]], None]:
    def edit(spec: MutantSpec, entity: dict[str, Any]) -> None:
        name = spec.params["member"]
        if isinstance(entity.get(name), str):
            entity[name] = change(entity[name])
    return edit


_drop_member = _entity_op(_drop_member_edit)
_corrupt_value = _entity_op(_corrupt_value_edit)
_time_shift = _entity_op(_time_edit(_shift))
_time_offset = _entity_op(_time_edit(_drop_offset))
_time_fraction = _entity_op(_time_edit(_truncate))


def _problem_edit(edit: Callable[[MutantSpec, Request, Response], None]) -> Apply:
    async def apply(m: Mutant, spec: MutantSpec, route: Route, request: Request) -> Response:
        response = await m.forward(request)
        if response.status >= 400:
            edit(spec, request, response)
        return response
    return apply


def _problem_plain(spec: MutantSpec, request: Request, response: Response) -> None:
    problem = response.json()
    title = problem.get("title") if isinstance(problem, dict) else "error"
    response.set_json({"error": title}, "application/json")


def _problem_no_code(spec: MutantSpec, request: Request, response: Response) -> None:
    problem = response.json()
    if isinstance(problem, dict):
        problem.pop("code", None)
        response.set_json(problem)


def _problem_status(spec: MutantSpec, request: Request, response: Response) -> None:
    problem = response.json()
    if isinstance(problem, dict):
        problem["status"] = 400 if response.status != 400 else 422
        response.set_json(problem)


def _echo_body(spec: MutantSpec, request: Request, response: Response) -> None:
    problem = response.json()
    if isinstance(problem, dict) and 400 <= response.status < 500 and request.body:
        problem["request"] = request.json() if request.json() is not None else request.body.decode("utf-8", "replace")
        response.set_json(problem)


def _drop_challenge(spec: MutantSpec, request: Request, response: Response) -> None:
    if response.status == 401:
        response.without("www-authenticate")


async def _misstate(m: Mutant, spec: MutantSpec, route: Route, request: Request) -> Response:
    response = await m.forward(request)
    if response.status == spec.params["from"]:
        response.status = spec.params["to"]
    return response


async def _media_text(m: Mutant, spec: MutantSpec, route: Route, request: Request) -> Response:
    response = await m.forward(request)
    if 200 <= response.status < 300 and response.body:
        response.set_header("content-type", "text/plain; charset=utf-8")
    return response


async def _drop_location(m: Mutant, spec: MutantSpec, route: Route, request: Request) -> Response:
    response = await m.forward(request)
    response.without("location")
    return response


async def _page_edit(m: Mutant, spec: MutantSpec, route: Route, request: Request) -> Response:
    response = await m.forward(request)
    page = response.json()
    if response.status == 200 and isinstance(page, dict) and isinstance(page.get("items"), list):
        if spec.operator == "page-drop-last" and page.get("next_cursor") and page["items"]:
            page["items"].pop()
            response.set_json(page)
        elif spec.operator == "page-null-cursor" and page.get("next_cursor") is not None:
            page["next_cursor"] = None
            response.set_json(page)
    return response


async def _ignore_param(m: Mutant, spec: MutantSpec, route: Route, request: Request) -> Response:
    request.query = [(k, v) for k, v in request.query if k != spec.params["param"]]
    return await m.forward(request)


def _strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    return value


async def _patch_edit(m: Mutant, spec: MutantSpec, route: Route, request: Request) -> Response:
    patch = request.json()
    if isinstance(patch, dict):
        if spec.operator == "patch-keep-nulls":
            patch = _strip_nulls(patch)
        else:
            patch.pop(spec.params["member"], None)
        if patch != request.json():
            request.body = _encode(patch)
    return await m.forward(request)


async def _accept_invalid(m: Mutant, spec: MutantSpec, route: Route, request: Request) -> Response:
    """Replace a value breaking the schema at one member by a valid one; echo the client's value back."""
    payload, name = request.json(), spec.params["member"]
    coll = route.collection
    if not isinstance(payload, dict) or name not in _broken_members(schema_store(), coll, payload,
                                                                    post=route.kind == "create"):
        return await m.forward(request)
    sent, had = payload.get(name), name in payload
    payload[name] = copy.deepcopy(spec.params["valid"])
    request.body = _encode(payload)
    response = await m.forward(request)
    document = response.json()
    if 200 <= response.status < 300 and isinstance(document, dict):
        if had:
            document[name] = sent
        else:
            document.pop(name, None)
        response.set_json(document)
    return response


def _unsigned_claims(request: Request) -> dict[str, Any] | None:
    """The claims of a bearer JWT whose header says alg none (what a platform trusting the header would grant)."""
    token = (request.header("authorization") or "").partition(" ")[2].strip()
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header, claims = (json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) for p in parts[:2])
    except ValueError:
        return None
    if not isinstance(header, dict) or str(header.get("alg", "")).lower() != "none" or not isinstance(claims, dict):
        return None
    return claims


async def _escalate(m: Mutant, spec: MutantSpec, route: Route, request: Request) -> Response:
    """Skip one access check: the request is served with a token the platform issues with more rights."""
    kind = spec.params["check"]
    if kind == "no-token":
        if request.header("authorization") is None:
            request = m.with_token(request, m.token(ALL_SCOPES))
        return await m.forward(request)
    if kind == "expired":
        if m.claims(request) is None:
            lax = m.claims(request, check_expiry=False)
            if lax is not None:
                request = m.with_token(request, m.token(scopes_of(lax), str(lax.get("community", "*"))))
        return await m.forward(request)
    if kind == "unsigned":
        if m.claims(request) is None:
            claims = _unsigned_claims(request)
            if claims is not None:
                request = m.with_token(request, m.token(scopes_of(claims), str(claims.get("community", "*"))))
        return await m.forward(request)
    claims = m.claims(request)
    if claims is None:
        return await m.forward(request)
    scopes, community = scopes_of(claims), str(claims.get("community", "*"))
    if kind == "scope":
        needed = spec.params["scope"]
        if needed not in scopes:
            request = m.with_token(request, m.token(scopes | {needed}, community))
    elif kind == "tenant" and community != "*":
        request = m.with_token(request, m.token(scopes, "*"))
    return await m.forward(request)


async def _lifecycle_edit(m: Mutant, spec: MutantSpec, route: Route, request: Request) -> Response:
    """Refusals a lifecycle gives turned into 200 with the record moved (as the response claims)."""
    lifecycle: Lifecycle = spec.params["lifecycle"]
    wanted = request.json()
    read = await m.forward(Request("GET", request.path.rsplit("/", 1)[0], [], m.with_token(
        request, m.token(ALL_SCOPES)).headers, b"", request.scope))
    before = read.json() if read.status == 200 else None
    response = await m.forward(request)
    if not isinstance(wanted, dict) or not isinstance(before, dict):
        return response
    state, target = before.get(lifecycle.status_field), wanted.get("to")
    operator = spec.operator
    if operator == "history-not-appended":
        document = response.json()
        if response.status == 200 and isinstance(document, dict) and document.get(lifecycle.history_field):
            document[lifecycle.history_field] = document[lifecycle.history_field][:-1]
            response.set_json(document)
        return response
    fabricate = (
        (operator == "accept-refused-transition" and response.status == 409 and state == spec.params["state"])
        or (operator == "accept-role-refusal" and response.status == 403 and state == spec.params["source"]
            and target == spec.params["target"])
        or (operator == "accept-unknown-state" and response.status == 422 and target not in lifecycle.states)
    )
    if not fabricate:
        return response
    moved = dict(before)
    moved[lifecycle.status_field] = target
    history = list(before.get(lifecycle.history_field) or [])
    history.append({"from": state, "to": target, "at": before.get("updated_at"), "role": wanted.get("role")})
    moved[lifecycle.history_field] = history
    response.status, response.headers = 200, [(b"content-type", b"application/json")]
    response.set_json(moved)
    return response


# -- places ---------------------------------------------------------------------------------------------------

def _collections(*, writable: bool | None = None) -> list[Collection]:
    return [c for c in catalogue().collections.values() if writable is None or c.writable == writable]


def _spec(operator: str, place: str, description: str, requirements: Iterable[str], **params: Any) -> MutantSpec:
    return MutantSpec(f"{operator}:{place}", operator, place, description, tuple(dict.fromkeys(requirements)), params)


def _reqs_where(collection: str, check: str, **wanted: Any) -> tuple[str, ...]:
    """The bundled requirements calling ``check`` on ``collection`` (or naming none: every one) with the
    parameters ``wanted`` — e.g. the inputs.classes calls that send a collection's valid classes."""
    found: list[str] = []
    for rid, name, params in bundled_calls():
        named = [params["collection"]] if isinstance(params.get("collection"), str) else params.get("collections")
        if name == check and (not named or collection in named) and rid not in found \
                and all(params.get(key) == value for key, value in wanted.items()):
            found.append(rid)
    return tuple(found)


def _entity_reqs(coll: str) -> tuple[str, ...]:
    """The requirements that hold a collection's records to its schema (audit trail, event feed: those reading them)."""
    if coll in SERVER_WRITTEN:
        return tuple(dict.fromkeys(rid for key, ids in requirement_index().items() if key[0] == SERVER_WRITTEN[coll]
                                   for rid in ids))
    return _reqs(coll, "entities.schema")


def _readback_reqs(coll: str) -> tuple[str, ...]:
    """The requirements reading a collection's submitted members back: round trips, generated records, and
    every valid class of every member (CORE-GEN-001, GOV-GEN-001, INF-GEN-001 state it for their collections),
    and the model of what the run wrote predicting every read (CORE-GEN-003 states it for every collection)."""
    return tuple(dict.fromkeys((*_reqs(coll, "entities.round_trip", "generated.accepted"),
                                *_reqs_where(coll, "inputs.classes", expect="valid"),
                                *_reqs_where(coll, "oracle.model_read"))))


def _member_places(operator: str) -> Iterable[MutantSpec]:
    for coll in _collections():
        for member in members(coll.name):
            if member.name == "id":
                continue
            # what only the platform writes: read-only members, and every member of a collection clients cannot write
            server_set = member.read_only or not coll.writable
            if operator == "drop-member":
                # dropping an optional member is a fault only when a client sends it: a server-set one never is
                if server_set and not member.required:
                    continue
                named = _entity_reqs(coll.name) if member.required else _readback_reqs(coll.name)
                if member.name in SERVER_INSTANTS:
                    named = (*named, *_reqs(coll.name, "entities.server_instants", general=SERVER_TIME))
                yield _spec(operator, f"{coll.name}:{member.name}",
                            f"responses of {coll.name} lack {member.name}", named, collection=coll.name,
                            member=member.name, routes=ENTITY_ROUTES)
            elif operator == "corrupt-value":
                # what the platform writes itself and a statement names (an audit record's actor, action,
                # resource, outcome, request id; an event's type: the schema's required members) is predicted
                # from the writes the run made; a member only the platform sets and nobody names is its own
                stated = not coll.writable and member.required and not member.read_only
                if (server_set and not stated) \
                        or member.kind not in ("enum", "string", "integer", "number", "boolean", "date") \
                        or (member.kind == "enum" and len(member.enum) < 2):  # a constant has nothing to change to
                    continue
                yield _spec(operator, f"{coll.name}:{member.name}",
                            f"responses of {coll.name} carry a changed {member.name} ({member.kind})",
                            _entity_reqs(coll.name) if stated else _readback_reqs(coll.name), collection=coll.name,
                            member=member.name, info=member, routes=ENTITY_ROUTES)
            elif member.kind == "date-time":
                server = member.name in SERVER_INSTANTS
                instant = _reqs(coll.name, "entities.server_instants", general=SERVER_TIME) if server else \
                    _entity_reqs(coll.name) if server_set else \
                    CLIENT_TIME + tuple(rid for rid in _reqs(coll.name, "entities.instant_preserved")
                                        if _param_of(rid, "field") == member.name)
                if operator == "time-shift":
                    named = (*instant, *(() if server_set else _readback_reqs(coll.name)))
                    yield _spec(operator, f"{coll.name}:{member.name}",
                                f"{member.name} of {coll.name} is sent an hour late, offset kept", named,
                                collection=coll.name, member=member.name, routes=ENTITY_ROUTES)
                elif operator == "time-drop-offset":
                    named = (*_entity_reqs(coll.name), *instant)
                    yield _spec(operator, f"{coll.name}:{member.name}",
                                f"{member.name} of {coll.name} is sent without its offset", named,
                                collection=coll.name, member=member.name, routes=ENTITY_ROUTES)
                elif operator == "time-truncate-fraction" and not server_set:  # server-set: S9 allows it
                    named = (*instant, *_readback_reqs(coll.name))
                    yield _spec(operator, f"{coll.name}:{member.name}",
                                f"{member.name} of {coll.name} loses its fraction of a second", named,
                                collection=coll.name, member=member.name, routes=ENTITY_ROUTES)


@functools.cache
def _params_by_requirement() -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for rid, _, params in bundled_calls():
        found.setdefault(rid, []).append(params)
    return found


def _param_of(requirement_id: str, name: str) -> Any:
    return next((p[name] for p in _params_by_requirement().get(requirement_id, []) if name in p), None)


def _state_members(coll: Collection) -> tuple[str, ...]:
    """A lifecycle's status and history: what a create or patch sends of them is ignored (or refused)."""
    if not coll.lifecycle:
        return ()
    life = catalogue().lifecycles[coll.lifecycle]
    return (life.status_field, life.history_field)


def _invalid_reqs(coll: str) -> tuple[str, ...]:
    """The requirements sending a collection's invalid records: CORE-GEN-002 states for every collection that a
    record with one violation is refused (never 5xx) and not stored — its checks and its oracle over every create
    and change name no collection or this one."""
    return tuple(dict.fromkeys((*_reqs(coll, "generated.rejected", "oracle.accepts_only_valid"),
                                *_reqs_where(coll, "inputs.classes", expect="invalid"))))


def _accept_invalid_places() -> Iterable[MutantSpec]:
    for coll in _collections(writable=True):
        valid = _valid_values(coll.name)
        rejecting = _rejecting(coll.name)
        # CORE-GEN-002 states it for every record with one violation, whichever collection: its checks and its
        # oracle over every create and change name no collection or this one
        generated = _invalid_reqs(coll.name)
        for member in members(coll.name):
            if member.read_only or member.name not in valid or member.name in coll.references \
                    or member.name in _state_members(coll):  # sent state is ignored or refused: either is allowed
                continue  # a reference breaks no schema keyword; a dangling one is accept-dangling (a fault)
            named = (*rejecting.get(member.name, ()), *(MISSING if member.create_required else ()), *generated)
            yield _spec("accept-invalid", f"{coll.name}:{member.name}",
                        f"a {coll.entity} whose {member.name} breaks the schema is stored with a valid value, "
                        "and the response echoes the client's value", named, collection=coll.name,
                        member=member.name, valid=valid[member.name], routes=("create", "patch"))


def _status_places() -> Iterable[MutantSpec]:
    for coll in _collections():
        val = tuple(rid for ids in _rejecting(coll.name).values() for rid in ids) if coll.writable else ()
        cases = [("read", 404, 200, ("CORE-NF-001", "CORE-ERR-002")), ("read", 404, 500, ("CORE-NF-001",)),
                 ("list", 400, 500, (*_reqs(coll.name, "paging.invalid_limit"), "CORE-PAGE-004"))]
        if coll.writable:
            cases += [("create", 201, 200, ("CORE-CRUD-001",)),
                      ("create", 422, 500, (*val, *_invalid_reqs(coll.name))),
                      ("create", 400, 500, ("CORE-VAL-006",)),
                      ("patch", 404, 200, ("CORE-NF-002",))]
        for kind, old, new, named in cases:
            yield _spec("misstate-status", f"{coll.name}:{kind}:{old}-{new}",
                        f"{kind} on {coll.name} answers {new} where it answered {old}", named,
                        collection=coll.name, routes=(kind,), **{"from": old, "to": new})


def _access_places() -> Iterable[MutantSpec]:
    for coll in _collections():
        for action, kinds in (("read", READS), ("write", WRITES)):
            if action == "write" and not coll.writable:
                continue
            scope = coll.scopes[action]
            named = ("GUA-AUDIT-002",) if scope == "audit:read" else ("GUA-AUTHZ-001",)  # reads and writes alike
            yield _spec("skip-scope-check", f"{coll.name}:{action}",
                        f"{action}s of {coll.name} are served to tokens lacking {scope}", named,
                        collection=coll.name, routes=kinds, check="scope", scope=scope)
            yield _spec("no-token-served", f"{coll.name}:{action}",
                        f"{action}s of {coll.name} without a token are served as the admin", ("CORE-AUTH-001",),
                        collection=coll.name, routes=kinds, check="no-token")
            yield _spec("expired-token-accepted", f"{coll.name}:{action}",
                        f"{action}s of {coll.name} accept an expired token", ("GUA-AUTHN-001",),
                        collection=coll.name, routes=kinds, check="expired")
            yield _spec("unsigned-token-accepted", f"{coll.name}:{action}",
                        f"{action}s of {coll.name} accept a JWT whose header says alg none, unsigned",
                        ("GUA-AUTHN-001",), collection=coll.name, routes=kinds, check="unsigned")
        tenant_cases: list[tuple[str, tuple[str, ...], str]] = [("list", ("list",), "GUA-AUTHZ-003"),
                                                                ("read", ("read",), "GUA-AUTHZ-002")]
        if coll.writable:
            tenant_cases.append(("change", ("patch", "delete", "transition"), "GUA-AUTHZ-002"))
        if not set(coll.scopes.values()) <= set(TENANT_SCOPES):
            tenant_cases = []  # no community-bound token may read it at all: which community is beside the point
        for label, tenant_kinds, rid in tenant_cases:
            yield _spec("skip-tenant-check", f"{coll.name}:{label}",
                        f"{label} on {coll.name} ignores the community a token is bound to", (rid,),
                        collection=coll.name, routes=tenant_kinds, check="tenant")
        if coll.pii_fields:
            for kind in READS:
                yield _spec("skip-pii-mask", f"{coll.name}:{kind}",
                            f"{kind} on {coll.name} shows personal data unmasked to tokens without pii",
                            ("GUA-PRIV-001",), collection=coll.name, routes=(kind,), check="scope", scope="pii")
        if any(m.name == "tags" for m in members(coll.name)):
            for kind in READS:
                yield _spec("skip-sensitive-filter", f"{coll.name}:{kind}",
                            f"{kind} on {coll.name} shows sensitive tags to tokens without sensitive",
                            ("GUA-PRIV-003",), collection=coll.name, routes=(kind,), check="scope",
                            scope="sensitive")


def _response_places() -> Iterable[MutantSpec]:
    for coll in _collections():
        c = coll.name
        yield _spec("problem-plain-json", c, f"errors of {c} are application/json {{\"error\": title}}",
                    ("CORE-ERR-001",), collection=c)
        yield _spec("problem-without-code", c, f"problems of {c} lack code", ("CORE-ERR-001",), collection=c)
        yield _spec("problem-status-mismatch", c, f"problems of {c} carry a status other than the HTTP status",
                    ("CORE-ERR-001",), collection=c)
        yield _spec("drop-challenge", c, f"401 on {c} carries no WWW-Authenticate",
                    ("CORE-AUTH-001", "GUA-AUTHN-001"), collection=c)
        for kind in ("list", "read", "create") if coll.writable else ("list", "read"):
            yield _spec("media-type-text", f"{c}:{kind}", f"{kind} on {c} is sent as text/plain",
                        ("CORE-HTTP-001",), collection=c, routes=(kind,))
        if coll.writable:
            yield _spec("drop-location", c, f"201 on {c} lacks Location", ("CORE-CRUD-001",), collection=c,
                        routes=("create",))
        if coll.pii_fields:
            yield _spec("echo-body-in-errors", c, f"4xx problems of {c} echo the request body",
                        ("GUA-PRIV-002",), collection=c)
        walk = _reqs(c, "paging.walk", "stateful.sequences", general=PAGE_WALK)
        yield _spec("page-drop-last", c, f"pages of {c} with a next_cursor lose their last item", walk,
                    collection=c, routes=("list",))
        yield _spec("page-null-cursor", c, f"pages of {c} give a null next_cursor while more remain",
                    _reqs(c, "paging.limit", general=(*PAGE_LIMIT, *walk)), collection=c, routes=("list",))
        params = [("limit", _reqs(c, "paging.limit", "paging.invalid_limit", general=PAGE_LIMIT)),
                  ("cursor", walk), ("updated_since", _reqs(c, "sync.updated_since", general=SYNC))]
        if c == "events":  # the feed's own parameter: every requirement resuming the feed names it
            params.append(("after", tuple(dict.fromkeys(
                rid for key, ids in requirement_index().items() if key[0] == "events.resume" for rid in ids))))
        for param, named in params:
            yield _spec("ignore-query-param", f"{c}:{param}", f"listings of {c} ignore {param}", named,
                        collection=c, routes=("list",), param=param)
        if coll.writable:
            merge = _reqs(c, "entities.merge_patch", "stateful.sequences", general=("CORE-CRUD-005",))
            yield _spec("patch-keep-nulls", c, f"null members of a merge patch on {c} are ignored", merge,
                        collection=c, routes=("patch",))
            for member in members(c):
                if not member.read_only and member.name not in _state_members(coll):  # a patch's state is ignored
                    yield _spec("patch-drop-member", f"{c}:{member.name}",
                                f"merge patches on {c} lose their {member.name}",
                                (*merge, *(rid for rid in _reqs(c, "entities.round_trip")
                                           if isinstance(_param_of(rid, "patch"), dict)
                                           and member.name in _param_of(rid, "patch")),
                                 *_reqs_where(c, "inputs.classes", expect="valid", methods=None)),
                                collection=c, member=member.name, routes=("patch",))


def _lifecycle_places() -> Iterable[MutantSpec]:
    cat = catalogue()
    for coll in _collections():
        if not coll.lifecycle:
            continue
        life, c = cat.lifecycles[coll.lifecycle], coll.name
        for state in life.states:
            if state in life.final:
                named = _reqs(c, "lifecycle.final")
            elif life.forbidden_from(state):
                named = _reqs(c, "lifecycle.forbidden")
            else:
                continue
            yield _spec("accept-refused-transition", f"{c}:{state}",
                        f"a {life.name} in {state} accepts a transition the lifecycle refuses (409 → 200)", named,
                        collection=c, routes=("transition",), lifecycle=life, state=state)
        for t in life.transitions:
            yield _spec("accept-role-refusal", f"{c}:{t.source}->{t.target}",
                        f"any role may move a {life.name} from {t.source} to {t.target} (403 → 200)",
                        _reqs(c, "lifecycle.roles"), collection=c, routes=("transition",), lifecycle=life,
                        source=t.source, target=t.target)
        yield _spec("accept-unknown-state", c, f"a {life.name} accepts a transition to a state it lacks (422 → 200)",
                    _reqs(c, "lifecycle.unknown_state"), collection=c, routes=("transition",), lifecycle=life)
        yield _spec("history-not-appended", c, f"a transition's answer on {c} lacks the new history entry",
                    _reqs(c, "lifecycle.walk"), collection=c, routes=("transition",), lifecycle=life)


def _member_op(name: str) -> Callable[[], Iterable[MutantSpec]]:
    return lambda: _member_places(name)


def _from(places: Callable[[], Iterable[MutantSpec]], name: str) -> Callable[[], Iterable[MutantSpec]]:
    return lambda: (s for s in places() if s.operator == name)


_TABLE: tuple[tuple[str, str, Callable[[MutantSpec, Route], bool], Apply, Callable[[], Iterable[MutantSpec]]], ...] = (
    ("drop-member", "response", _on(), _drop_member, _member_op("drop-member")),
    ("corrupt-value", "response", _on(), _corrupt_value, _member_op("corrupt-value")),
    ("time-shift", "time", _on(), _time_shift, _member_op("time-shift")),
    ("time-drop-offset", "time", _on(), _time_offset, _member_op("time-drop-offset")),
    ("time-truncate-fraction", "time", _on(), _time_fraction, _member_op("time-truncate-fraction")),
    ("misstate-status", "response", _on(), _misstate, _status_places),
    ("media-type-text", "response", _on(), _media_text, _from(_response_places, "media-type-text")),
    ("drop-location", "response", _on(), _drop_location, _from(_response_places, "drop-location")),
    ("drop-challenge", "response", _on(), _problem_edit(_drop_challenge), _from(_response_places, "drop-challenge")),
    ("problem-plain-json", "response", _on(), _problem_edit(_problem_plain),
     _from(_response_places, "problem-plain-json")),
    ("problem-without-code", "response", _on(), _problem_edit(_problem_no_code),
     _from(_response_places, "problem-without-code")),
    ("problem-status-mismatch", "response", _on(), _problem_edit(_problem_status),
     _from(_response_places, "problem-status-mismatch")),
    ("page-drop-last", "paging", _on(), _page_edit, _from(_response_places, "page-drop-last")),
    ("page-null-cursor", "paging", _on(), _page_edit, _from(_response_places, "page-null-cursor")),
    ("ignore-query-param", "request", _on(), _ignore_param, _from(_response_places, "ignore-query-param")),
    ("patch-keep-nulls", "request", _on(), _patch_edit, _from(_response_places, "patch-keep-nulls")),
    ("patch-drop-member", "request", _on(), _patch_edit, _from(_response_places, "patch-drop-member")),
    ("accept-invalid", "accept", _on(), _accept_invalid, _accept_invalid_places),
    ("skip-scope-check", "access", _on(), _escalate, _from(_access_places, "skip-scope-check")),
    ("skip-tenant-check", "access", _on(), _escalate, _from(_access_places, "skip-tenant-check")),
    ("skip-pii-mask", "access", _on(), _escalate, _from(_access_places, "skip-pii-mask")),
    ("skip-sensitive-filter", "access", _on(), _escalate, _from(_access_places, "skip-sensitive-filter")),
    ("no-token-served", "access", _on(), _escalate, _from(_access_places, "no-token-served")),
    ("expired-token-accepted", "access", _on(), _escalate, _from(_access_places, "expired-token-accepted")),
    ("unsigned-token-accepted", "access", _on(), _escalate, _from(_access_places, "unsigned-token-accepted")),
    ("accept-refused-transition", "lifecycle", _on(), _lifecycle_edit,
     _from(_lifecycle_places, "accept-refused-transition")),
    ("accept-role-refusal", "lifecycle", _on(), _lifecycle_edit, _from(_lifecycle_places, "accept-role-refusal")),
    ("accept-unknown-state", "lifecycle", _on(), _lifecycle_edit, _from(_lifecycle_places, "accept-unknown-state")),
    ("history-not-appended", "lifecycle", _on(), _lifecycle_edit, _from(_lifecycle_places, "history-not-appended")),
    ("echo-body-in-errors", "leak", _on(), _problem_edit(_echo_body), _from(_response_places, "echo-body-in-errors")),
)

OPERATORS: dict[str, Operator] = {name: Operator(name, family, applies, apply, places)
                                  for name, family, applies, apply, places in _TABLE}


@functools.cache
def _generated() -> tuple[MutantSpec, ...]:
    specs = [spec for operator in OPERATORS.values() for spec in operator.places()]
    ids = [s.id for s in specs]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ValueError(f"mutant ids are not unique: {duplicated[:5]}")
    return tuple(specs)


def generate_mutants() -> list[MutantSpec]:
    """Every mutant: each operator at every place the catalogue, lifecycles, schemas and scopes enumerate."""
    return list(_generated())
