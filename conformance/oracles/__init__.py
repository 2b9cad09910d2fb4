"""Oracles: statements that hold for every response of a kind, judged on every exchange the run makes.

A check makes requests and judges what it asked for; an oracle judges what *any* check or probe asked for.
Each oracle is a small named function with an applicability predicate built from data — the method and the
kind of path (from the catalogue), the status class, the collection's schema, the scopes and community of
the token that was sent — so a new collection, field or role is judged without touching an oracle.

The run's :class:`Traffic` sees each exchange as :class:`~conformance.target.Target` completes it, classifies
it once (:class:`View`), lets every applicable oracle judge it, and keeps per oracle and collection how many
exchanges were judged and the first violations with their exchange. A profile names an oracle like a check
(``oracle.<name>``, see ``checks/oracle.py``); that check reports the ledger against the requirement that
states the rule, and is ``inconclusive`` when no exchange of the run could have shown a violation.
"""

from __future__ import annotations

import bisect
import collections
import dataclasses
import inspect
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..catalogue import TRANSITIONS_SUFFIX, Catalogue, Collection
from ..credentials import Credentials, Role

if TYPE_CHECKING:
    from ..target import Exchange

__all__ = ["ORACLES", "Judged", "OracleSpec", "Traffic", "View", "Violation", "oracle"]

_KEEP_VIOLATIONS = 3  # per oracle and collection, with their exchanges; the rest are counted


@dataclass(frozen=True)
class Violation:
    """What one exchange showed against an oracle's statement."""

    message: str
    location: str | None = None
    expected: Any = None
    found: Any = None
    # The collection the violation is about when it is not the exchange's own (an event feed's entries are about
    # the records of other collections); a Violation with no message only says that collection was judged.
    about: str | None = None


@dataclass
class View:
    """One exchange as the oracles see it: what kind of request it was, on which collection, by which role."""

    exchange: Exchange
    kind: str  # discovery, conformance, list, create, read, update, delete, transition, other
    collection: Collection | None
    item_id: str | None
    token: str  # "none", "role" (a token of the credentials) or "unknown" (one a check made up)
    role: Role | None
    query: dict[str, str]
    origin: str  # the requirement and check whose request it was
    serial: int  # when the exchange completed, in the run's sequence of events (Exchange.done)
    begun: int  # when its request was sent, in the same sequence (before ``serial``; others may complete between)
    page: dict[str, Any]  # the catalogue's paging parameters
    _body: Any = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)

    @property
    def status(self) -> int:
        return self.exchange.status

    @property
    def method(self) -> str:
        return self.exchange.method

    @property
    def succeeded(self) -> bool:
        return 200 <= self.status < 300

    @property
    def is_write(self) -> bool:
        return self.kind in ("create", "update", "delete", "transition")

    def body(self) -> Any:
        """The response body as JSON, or None when it is not JSON (or was cut)."""
        if not self._parsed:
            self._parsed = True
            try:
                self._body = self.exchange.json() if self.exchange.body else None
            except ValueError:
                self._body = None
        return self._body

    def sent(self) -> Any:
        """The request body as JSON, or None."""
        raw = self.exchange.request_body
        if not raw:
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None

    def entities(self) -> list[tuple[str, dict[str, Any]]]:
        """The records a successful response of a collection carries, each with its JSON pointer:
        the items of a page, or the entity a create, read, change or transition answers with."""
        if not self.succeeded or self.collection is None:
            return []
        body = self.body()
        if self.kind == "list":
            items = body.get("items") if isinstance(body, dict) else None
            return [(f"/items/{i}", e) for i, e in enumerate(items) if isinstance(e, dict)] if isinstance(items, list) else []
        if self.kind in ("create", "read", "update", "transition") and isinstance(body, dict):
            return [("", body)]
        return []

    def holds(self, scope: str) -> bool:
        """Whether the token sent holds ``scope`` as far as the credentials say (unknown tokens hold nothing)."""
        return self.role is not None and scope in self.role.scopes

    def describe(self) -> str:
        return f"{self.method} {urlsplit(self.exchange.url).path} ({self.status})"


Judge = Callable[[View, "Traffic"], Iterator[Violation]]
Applies = Callable[[View], bool]


@dataclass(frozen=True)
class OracleSpec:
    name: str
    judge: Judge
    applies: Applies
    scope: str  # what kind of exchange it judges, in words (for `checks show` and an inconclusive verdict)

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.judge.__doc__ or "")


ORACLES: dict[str, OracleSpec] = {}


def oracle(name: str, *, applies: Applies, scope: str) -> Callable[[Judge], Judge]:
    """Register an oracle: ``judge(view, traffic)`` yields a :class:`Violation` per breach of its statement
    in one exchange for which ``applies(view)`` holds."""

    def register(function: Judge) -> Judge:
        if name in ORACLES and ORACLES[name].judge is not function:
            raise ValueError(f"oracle {name!r} registered twice")
        ORACLES[name] = OracleSpec(name, function, applies, scope)
        return function

    return register


@dataclass
class Judged:
    """What an oracle concluded over the run for one collection (or for exchanges of no collection).

    The violations kept are the first by the run's plan (the requirement and check that made the request, then
    the request's place among that check's), not by arrival: under --concurrency the same seed keeps the same ones.
    """

    count: int = 0
    violations: list[tuple[Violation, Exchange, str]] = field(default_factory=list)
    more: int = 0
    keys: list[tuple[int, ...]] = field(default_factory=list, repr=False)

    def keep(self, key: tuple[int, ...], violation: Violation, exchange: Exchange, origin: str) -> None:
        same = next((i for i, (kept, _, _) in enumerate(self.violations) if kept.message == violation.message), None)
        if same is not None:
            self.more += 1
            if key >= self.keys[same]:
                return
            del self.violations[same], self.keys[same]
        at = bisect.bisect(self.keys, key)
        if at >= _KEEP_VIOLATIONS:
            if same is None:
                self.more += 1
            return
        self.keys.insert(at, key)
        self.violations.insert(at, (violation, exchange, origin))
        if len(self.violations) > _KEEP_VIOLATIONS:
            self.keys.pop()
            self.violations.pop()
            if same is None:
                self.more += 1


class Traffic:
    """Every exchange of a run, classified once and judged by every oracle that applies to it."""

    def __init__(self, catalogue: Catalogue, credentials: Credentials, base_url: str) -> None:
        from . import model, rules  # noqa: F401  (registers the oracles)

        self.catalogue = catalogue
        self.base_path = urlsplit(base_url).path.rstrip("/")
        self._everything = frozenset(catalogue.scopes)
        self._tokens: dict[str, Role] = {}
        self.add_credentials(credentials)
        self._by_path = {c.path: c for c in catalogue.collections.values()}
        self.ledger: dict[str, dict[str, Judged]] = collections.defaultdict(dict)
        self._local = threading.local()  # whose requests this thread makes (the runner's check in it)
        self._lock = threading.RLock()  # one exchange judged at a time: the ledger and the model are shared
        self.count = 0
        self.judgements = 0  # (exchange, oracle) pairs judged
        self.model = model.RecordModel(catalogue)
        self.in_flight: dict[int, tuple[str, str]] = {}  # the target's requests under way (Target.in_flight)
        self.state: dict[str, Any] = {}  # what oracles keep between exchanges (walks in progress, …)

    _SETUP = "the run's set-up (preflight, discovery)"

    @property
    def origin(self) -> str:
        return getattr(self._local, "origin", self._SETUP)

    @origin.setter
    def origin(self, text: str) -> None:
        self.enter(text, ())

    def enter(self, text: str, rank: tuple[int, ...]) -> None:
        """The requests this thread makes next are ``text``'s (a requirement and check), at ``rank`` in the plan."""
        self._local.origin, self._local.rank, self._local.made = text, rank, 0

    def state_of_thread(self) -> tuple[Any, ...]:
        return tuple(getattr(self._local, name, None) for name in ("origin", "rank", "made"))

    def restore_thread(self, state: tuple[Any, ...]) -> None:
        for name, value in zip(("origin", "rank", "made"), state):
            if value is None:
                self._local.__dict__.pop(name, None)
            else:
                setattr(self._local, name, value)

    def _key(self) -> tuple[int, ...]:
        made = getattr(self._local, "made", 0) + 1
        self._local.made = made
        return (*getattr(self._local, "rank", ()), made)

    def add_credentials(self, credentials: Credentials) -> None:
        for role in credentials.roles.values():
            if role.token:
                # A run with one token (SC_TOKEN) knows no scopes: that token is the admin role, every scope
                if not role.scopes and role.name == credentials.default:
                    role = dataclasses.replace(role, scopes=self._everything)
                self._tokens[role.token] = role

    def classify(self, exchange: Exchange) -> View:
        parts = urlsplit(exchange.url)
        path = parts.path
        if self.base_path and path.startswith(self.base_path):
            path = path[len(self.base_path):] or "/"
        kind, collection, item = "other", None, None
        if path == self.catalogue.discovery_path:
            kind = "discovery"
        elif path == self.catalogue.conformance_path:
            kind = "conformance"
        else:
            head, _, rest = path.lstrip("/").partition("/")
            collection = self._by_path.get("/" + head)
            if collection is not None:
                method = exchange.method
                if not rest:
                    kind = {"GET": "list", "POST": "create"}.get(method, "other")
                elif rest.endswith(TRANSITIONS_SUFFIX) and rest.count("/") == 1:
                    item = unquote(rest[: -len(TRANSITIONS_SUFFIX)])
                    kind = "transition" if method == "POST" else "other"
                elif "/" not in rest:
                    item = unquote(rest)
                    kind = {"GET": "read", "PATCH": "update", "DELETE": "delete"}.get(method, "other")
        authorization = exchange.request_headers.get("authorization") or exchange.request_headers.get("Authorization")
        role, token = None, "none"
        if authorization:
            bearer = authorization[7:] if authorization[:7].lower() == "bearer " else authorization
            role = self._tokens.get(bearer)
            token = "role" if role is not None else "unknown"
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.count += 1
        serial = exchange.done or self.count
        return View(exchange, kind, collection, item, token, role, query, self.origin, serial,
                    exchange.begun or serial, self.catalogue.page)

    def observe(self, exchange: Exchange) -> None:
        """Judge one exchange by every oracle that applies; an oracle's own error never reaches the run."""
        key = self._key()
        with self._lock:
            self._observe(exchange, key)

    def _item_of(self, url: str) -> tuple[str, str] | None:
        """The record a request to ``url`` is about (an item or its transitions), or None."""
        path = urlsplit(url).path
        if self.base_path and path.startswith(self.base_path):
            path = path[len(self.base_path):]
        head, _, rest = path.lstrip("/").partition("/")
        collection = self._by_path.get("/" + head)
        item = rest[: -len(TRANSITIONS_SUFFIX)] if rest.endswith(TRANSITIONS_SUFFIX) else rest
        return (collection.name, unquote(item)) if collection is not None and item and "/" not in item else None

    def _unsettled(self, begun: int) -> frozenset[tuple[str, str]]:
        """Records that writes still under way (other than the exchange ``begun``) may be changing."""
        found = set()
        for started, (method, url) in list(self.in_flight.items()):
            if started != begun and method in ("POST", "PATCH", "PUT", "DELETE"):
                item = self._item_of(url)
                if item is not None:
                    found.add(item)
        return frozenset(found)

    def _observe(self, exchange: Exchange, key: tuple[int, ...]) -> None:
        view = self.classify(exchange)
        self.model.judging, self.model.unsettled = view.begun, self._unsettled(exchange.begun)
        try:
            self._judge(view, exchange, key)
        finally:
            self.model.judging = None
        try:
            self.model.observe(view)
        except Exception:  # the model is an oracle's input: a platform's odd answer must not crash the run
            pass

    def _judge(self, view: View, exchange: Exchange, key: tuple[int, ...]) -> None:
        for spec in ORACLES.values():
            try:
                if not spec.applies(view):
                    continue
                violations = list(spec.judge(view, self))
            except Exception as exc:  # a bug of ours is reported, never a crash or a pass
                violations = [Violation(f"internal error in oracle {spec.name}: {type(exc).__name__}: {exc}")]
            own = view.collection.name if view.collection else ""
            about = {v.about or own for v in violations} or {own}
            for name in about:  # the exchange counts as judged for every collection it was judged about
                self.ledger[spec.name].setdefault(name, Judged()).count += 1
            self.judgements += 1
            for violation in violations:
                if violation.message:
                    self.ledger[spec.name][violation.about or own].keep(key, violation, exchange, view.origin)

    def judged(self, name: str, collections: list[str] | None = None) -> Judged:
        """The ledger of oracle ``name``, over ``collections`` (None: every exchange it judged)."""
        total = Judged()
        for key, part in self.ledger.get(name, {}).items():
            if collections is None or key in collections:
                total.count += part.count
                total.violations += part.violations
                total.more += part.more
        return total
