"""Expectations shared by the checks: statuses, JSON bodies, schemas, problems, instants."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from ..catalogue import TRANSITIONS_SUFFIX
from ..merge_patch import apply_merge_patch, merge_patch_between
from ..results import Finding, Halt, fail
from ..session import CheckContext, inconclusive
from ..target import Exchange
from ..verdicts import Verdict

__all__ = [
    "JSON_TYPES",
    "Operation",
    "SERVER_TIME_TOLERANCE",
    "apply_merge_patch",
    "delete_offered",
    "describe_difference",
    "equal_values",
    "instant",
    "merge_patch_between",
    "off_the_clock",
    "offered_collections",
    "operations",
    "record_to_aim_at",
    "require_json",
    "require_status",
    "response_time",
    "same_instant",
    "schema_findings",
]

JSON_TYPES = ("application/json", "application/problem+json", "application/merge-patch+json")


def _what(exchange: Exchange) -> str:
    return f"{exchange.method} {exchange.url}"


def require_status(exchange: Exchange, *expected: int, why: str = "", precondition: bool = False) -> None:
    """Halt unless the status is one of ``expected``: a failure, or inconclusive for a precondition."""
    if exchange.status in expected:
        return
    wanted = " or ".join(map(str, expected))
    message = f"{_what(exchange)} answered {exchange.status}, expected {wanted}"
    if why:
        message += f": {why}"
    if precondition:
        raise inconclusive("precondition failed: " + message)
    raise Halt(fail(message, expected=list(expected), found=exchange.status))


def require_json(exchange: Exchange, *, precondition: bool = False) -> Any:
    try:
        return exchange.json()
    except ValueError as exc:
        message = f"{_what(exchange)}: the body is not JSON ({exc})"
        if precondition:
            raise inconclusive("precondition failed: " + message) from None
        raise Halt(fail(message, found=exchange.text[:200])) from None


def schema_findings(ctx: CheckContext, ref: str, instance: Any, *, what: str, limit: int = 5) -> Iterator[Finding]:
    """One failing finding per validation error (best first), located by JSON pointer."""
    errors = ctx.schemas.errors(ref, instance)
    for error in errors[:limit]:
        pointer = "/" + "/".join(str(p) for p in error.absolute_path)
        schema_path = "/".join(str(p) for p in error.absolute_schema_path)
        yield Finding(
            Verdict.FAIL,
            f"{what} does not conform to {ref.rsplit('/v1/', 1)[-1]}: {error.message}",
            expected=f"{error.validator}: {error.validator_value!r}"[:200] if error.validator != "$ref" else None,
            found=error.instance if not isinstance(error.instance, dict | list) else None,
            location=f"{pointer} (schema: {schema_path})",
        )
    if len(errors) > limit:
        yield fail(f"{what}: {len(errors) - limit} more schema errors not shown")


def instant(value: Any) -> datetime | None:
    """An RFC 3339 string with an offset as an aware datetime; None for anything else."""
    if not isinstance(value, str) or len(value) < 20:
        return None
    text = value.replace("z", "Z").replace("t", "T")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


_SAME_INSTANT = timedelta(milliseconds=1)


def same_instant(a: datetime, b: datetime) -> bool:
    """S9: a client's date-time reads back as the same instant to the millisecond (precision is the platform's)."""
    return abs(a - b) < _SAME_INSTANT


def equal_values(sent: Any, got: Any) -> bool:
    """Equal as the standard means it: date-times as instants (to the millisecond), everything else exactly."""
    if isinstance(sent, dict) and isinstance(got, dict):
        return sent.keys() <= got.keys() and all(equal_values(v, got[k]) for k, v in sent.items())
    if isinstance(sent, list) and isinstance(got, list):
        return len(sent) == len(got) and all(equal_values(a, b) for a, b in zip(sent, got, strict=True))
    if isinstance(sent, str) and isinstance(got, str) and sent != got:
        a, b = instant(sent), instant(got)
        return a is not None and b is not None and same_instant(a, b)
    return type(sent) is type(got) and sent == got


def describe_difference(sent: Any, got: Any) -> str:
    """Say how two strings differ by code point, which is how rare characters get lost."""
    if isinstance(sent, str) and isinstance(got, str):
        for index, (a, b) in enumerate(zip(sent, got)):
            if a != b:
                return f"code point {index} changed from U+{ord(a):04X} to U+{ord(b):04X}"
        if len(sent) != len(got):
            return f"length changed from {len(sent)} to {len(got)} code points"
    return "values differ"


# -- the targets of a convention: every collection, method and path the catalogue offers

def offered_collections(ctx: CheckContext, names: list[str] | None = None, *, writable: bool = False) -> list[str]:
    """``names`` when a profile gives them, else every catalogue collection the platform lists in discovery
    (under a declared capability where the catalogue names one), so a new collection is covered unasked."""
    if names is None:
        listed = ctx.discovery().get("collections")
        shown = {c.get("name") for c in listed if isinstance(c, dict)} if isinstance(listed, list) else set()
        capabilities = ctx.session.capabilities()
        names = [c.name for c in ctx.catalogue.collections.values()
                 if c.name in shown and (c.capability is None or c.capability in capabilities)]
    return [n for n in names if not writable or ctx.collection(n).writable]


def record_to_aim_at(ctx: CheckContext, collection: str) -> str:
    """The id of a fresh record for item requests that must be refused (so a refusal is not a mere 404), else an
    unknown id where the collection is not writable or the record cannot be created."""
    if ctx.collection(collection).writable:
        try:
            _, entity = ctx.create(collection, ctx.fixture(f"{collection}/valid/minimal"), purpose="a record to aim at")
            return str(entity["id"])
        except Halt:
            pass
    return ctx.unique("no-such-id-")


def delete_offered(ctx: CheckContext, collection: str) -> bool:
    """S2: DELETE is offered exactly when the collection is deletable and the `delete` capability is declared
    (an unusable discovery document declares nothing)."""
    if not ctx.collection(collection).deletable:
        return False
    try:
        return "delete" in ctx.session.capabilities()
    except Halt:
        return False


@dataclass(frozen=True)
class Operation:
    """One operation of a collection: what it does, its method and path, and a body that changes nothing."""

    kind: str  # list, create, read, update, delete, transition
    method: str
    path: str

    @property
    def writes(self) -> bool:
        return self.kind not in ("list", "read")

    def send(self, ctx: CheckContext, body: Any = None, **kwargs: Any) -> Exchange:
        """Send it (through ``ctx``, so it is evidence); writes get ``body`` or an empty object."""
        if self.writes and self.kind != "delete":
            kwargs["json_body"] = {} if body is None else body
        if self.kind == "update":
            kwargs["headers"] = {"Content-Type": "application/merge-patch+json", **kwargs.get("headers", {})}
        return ctx.request(self.method, self.path, **kwargs)


def operations(ctx: CheckContext, collection: str, record_id: str | None, *,
               kinds: tuple[str, ...] = ("list", "create", "read", "update", "delete", "transition")
               ) -> list[Operation]:
    """Every operation the catalogue offers on ``collection``: list and create at the collection path; read,
    merge-patch, delete (only when offered, S2) and transitions (lifecycle collections) at the item path."""
    coll = ctx.collection(collection)
    item = ctx.item_path(collection, record_id) if record_id is not None else None
    found = [Operation("list", "GET", coll.path)]
    if coll.writable:
        found.append(Operation("create", "POST", coll.path))
    if item is not None:
        found.append(Operation("read", "GET", item))
        if coll.writable:
            found.append(Operation("update", "PATCH", item))
        if delete_offered(ctx, collection):
            found.append(Operation("delete", "DELETE", item))
        if coll.lifecycle:
            found.append(Operation("transition", "POST", item + TRANSITIONS_SUFFIX))
    return [op for op in found if op.kind in kinds]


SERVER_TIME_TOLERANCE = 300.0  # seconds a server-set time may lie from the response's Date (S9)


def response_time(exchange: Exchange) -> datetime:
    """When the platform answered: its ``Date`` header, else the suite's clock now (S9)."""
    try:
        moment = parsedate_to_datetime(exchange.headers.get("date", ""))
    except (TypeError, ValueError):
        moment = None
    if moment is None or moment.tzinfo is None:
        return datetime.now(UTC)
    return moment


def off_the_clock(moment: datetime, exchange: Exchange) -> float | None:
    """Seconds a server-set time lies from the response's ``Date`` beyond the tolerance; None when within it."""
    gap = abs((moment - response_time(exchange)).total_seconds())
    return gap if gap > SERVER_TIME_TOLERANCE else None


# -- the top level of a collection's create schema (what a create or a merge patch addresses)

def _create_nodes(ctx: CheckContext, name: str) -> Iterator[dict[str, Any]]:
    """The create schema of a collection, its $refs inlined, and its allOf branches."""
    from ..generation import resolved_tree

    stack: list[Any] = [resolved_tree(ctx.schemas, ctx.collection(name).create_schema)]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack += node.get("allOf", [])


def create_properties(ctx: CheckContext, name: str) -> dict[str, Any]:
    """Every top-level member a client may send on create, with its (inlined) schema."""
    properties: dict[str, Any] = {}
    for node in _create_nodes(ctx, name):
        properties.update(node.get("properties") or {})
    return properties


def create_required(ctx: CheckContext, name: str) -> list[str]:
    """The top-level members a create must carry, in the schema's order."""
    return list(dict.fromkeys(m for node in _create_nodes(ctx, name) for m in node.get("required") or []))
