"""State of one certification run, and the context a check works through.

The session owns the target, the schemas, the seed and what the run created; a
:class:`CheckContext` is what one check of one requirement sees: requests made through it
are recorded as that check's evidence.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import hashlib
import json
import random
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from .attestations import Attestation, attestations_for
from .catalogue import Catalogue, Collection, catalogue
from .credentials import Credentials, Role, issued_for
from .fixtures import load_fixture, resolve
from .options import DEFAULT_MAX_EXAMPLES, resolve_env
from .oracles import Traffic
from .profiles import CheckCall, Requirement
from .results import Finding, Halt
from .schemas import SchemaStore, schema_store
from .target import Exchange, Target, TargetError
from .verdicts import Verdict

__all__ = ["CheckContext", "RunSession", "inconclusive", "not_applicable"]

_KEEP_FIRST, _KEEP_LAST = 10, 2
_Item = TypeVar("_Item")
_PROBE_THREAD = threading.local()


def inconclusive(message: str) -> Halt:
    return Halt(Finding(Verdict.INCONCLUSIVE, message))


def not_applicable(message: str) -> Halt:
    return Halt(Finding(Verdict.NOT_APPLICABLE, message))


class RunSession:
    """One run against one target: shared caches, created records, the seed."""

    def __init__(
        self,
        target: Target,
        *,
        seed: int,
        schemas: SchemaStore | None = None,
        standard: Catalogue | None = None,
        credentials: Credentials | None = None,
        attestations: dict[str, Attestation] | None = None,
        max_examples: int | None = None,
    ) -> None:
        self.target = target
        # Without a credentials file: the ones the suite issued for a platform it started, else the run's token.
        self.credentials = credentials or issued_for(target.base_url) or Credentials.single(target.token)
        self.attestations = attestations if attestations is not None else dict(attestations_for(target.base_url))
        target.add_secrets(self.credentials.secrets())
        self.seed = seed
        self.nonce = secrets.token_bytes(8)
        # Generated examples per entity and requirement (--sc-max-examples, else SC_MAX_EXAMPLES, else the default).
        self.max_examples: int = max_examples or resolve_env("max-examples", None) or DEFAULT_MAX_EXAMPLES
        self.schemas = schemas or schema_store()
        self.catalogue = standard or catalogue()
        self.created: list[str] = []  # paths of records the run created
        self._discovery: dict[str, Any] | None = None
        self._discovery_error: str | None = None
        self._parents: dict[str, str] = {}
        # Under --concurrency several checks share the session: discovery and the parents are made once.
        self._once = threading.RLock()
        self.ranks: dict[str, int] = {}  # requirement id → its place in the run's plan (for deterministic ledgers)
        # Independent probes of one check (CheckContext.each) run here under --concurrency; None: one by one.
        self.probes: concurrent.futures.Executor | None = None
        # Every exchange of the run, judged by every oracle that applies to it (conformance/oracles).
        self.traffic = Traffic(self.catalogue, self.credentials, target.base_url)
        target.observers.append(self.traffic.observe)
        self.traffic.in_flight = target.in_flight

    # -- discovery, fetched once
    def discovery(self) -> dict[str, Any]:
        """The platform's discovery document; raises an inconclusive halt when it is unusable."""
        with self._once:
            return self._discovery_once()

    def _discovery_once(self) -> dict[str, Any]:
        if self._discovery is None and self._discovery_error is None:
            try:
                exchange = self.target.request("GET", self.catalogue.discovery_path, token=False)
                if exchange.status == 401 and self.target.token:
                    exchange = self.target.request("GET", self.catalogue.discovery_path)
                document = exchange.json() if exchange.status == 200 else None
                if isinstance(document, dict):
                    self._discovery = document
                else:
                    self._discovery_error = f"discovery document answered {exchange.status}"
            except (TargetError, ValueError) as exc:
                self._discovery_error = f"discovery document unusable: {exc}"
        if self._discovery is None:
            raise inconclusive(f"precondition failed: {self._discovery_error}")
        return self._discovery

    def capabilities(self) -> set[str]:
        declared = self.discovery().get("capabilities", [])
        return {c for c in declared if isinstance(c, str)} if isinstance(declared, list) else set()

    def declares(self, capability: str) -> bool:
        """Whether discovery declares ``capability``; False when discovery is unusable (its checks say so)."""
        try:
            return capability in self.capabilities()
        except Halt:
            return False

    def max_page_size(self) -> int:
        """The declared ``max_page_size`` (S1), else the catalogue's maximum when discovery does not say."""
        try:
            declared = self.discovery().get("max_page_size")
        except Halt:
            declared = None
        maximum = int(self.catalogue.page["max_limit"])
        return declared if type(declared) is int and declared >= 1 else maximum

    def resolve_href(self, href: str) -> str:
        """A discovery href as a URL: a URI reference resolved against the discovery document's URL (S4)."""
        return self.target.resolve(href, self.target.url(self.catalogue.discovery_path))

    # -- parents for references, created once
    def parent_id(self, collection: str, ctx: CheckContext) -> str:
        with self._once:
            return self._parent_once(collection, ctx)

    def _parent_once(self, collection: str, ctx: CheckContext) -> str:
        if collection not in self._parents:
            payload = ctx.fixture(f"{collection}/valid/minimal")
            _, entity = ctx.create(collection, payload, purpose=f"a parent record in {collection}")
            self._parents[collection] = str(entity["id"])
        return self._parents[collection]

    def role(self, name: str, *, why: str) -> Role:
        """A named role of the credentials; inconclusive (saying how to supply it) when it is missing."""
        role = self.credentials.get(name)
        if role is None:
            raise inconclusive(f"precondition failed: {why} needs the role {name!r} in the credentials file "
                               f"(--credentials FILE, `roles: {{{name}: {{token, scopes, community}}}}`)")
        return role

    def context(self, requirement: Requirement, call: CheckCall, part: tuple[int, ...] = ()) -> CheckContext:
        # whose requests the oracles judge next, in this thread, and where that check stands in the plan
        place = next((i for i, c in enumerate(requirement.checks) if c is call), len(requirement.checks))
        rank = (self.ranks.get(requirement.id, len(self.ranks)), place, *part)
        self.traffic.enter(f"{requirement.id} ({call.check})", rank)
        return CheckContext(self, requirement, call, part)

    def in_probe(self) -> bool:
        """Whether this thread runs a probe of CheckContext.each (whose own probes then run one by one)."""
        return getattr(_PROBE_THREAD, "active", False)


class CheckContext:
    """What a check sees: the target, the schemas, a seeded random source, and its own evidence."""

    def __init__(self, session: RunSession, requirement: Requirement, call: CheckCall,
                 part: tuple[int, ...] = ()) -> None:
        self.session = session
        self.target = session.target
        self.schemas = session.schemas
        self.catalogue = session.catalogue
        self.requirement = requirement
        self.call = call
        # Evidence is bounded so a check that walks 1,000 pages does not hold 1,000 bodies:
        # the first exchanges set the scene, the last ones show where it went wrong.
        self.exchanges: list[Exchange] = []
        self._tail: collections.deque[Exchange] = collections.deque(maxlen=_KEEP_LAST)
        self.exchange_count = 0
        self.chain = 0  # requests that had to follow one another (probes of ``each`` run side by side: the longest)
        # The newest exchange a finding can be about; the runner files it first in the evidence as the proof
        # of the finding yielded next. A check may set it to name another exchange; clean-up leaves it alone.
        self.last_exchange: Exchange | None = None
        # Seeded by the call's parameters too: a requirement that runs one check on two collections must not
        # draw the same values (the same X-Request-Id) twice.
        params = json.dumps(call.to_json(), sort_keys=True, default=str)
        where = "".join(f":{p}" for p in part)  # a probe of CheckContext.each draws its own values
        self.part = part
        digest = hashlib.sha256(f"{session.seed}:{requirement.id}:{params}{where}".encode()).digest()
        self.rng = random.Random(int.from_bytes(digest[:8], "big"))
        # Names and ids from ``unique`` also differ between two runs with the same seed against one platform
        # (a re-run of the failed requirements), so a record of the first run is never taken for the second's.
        self._ids = random.Random(digest + session.nonce)

    # -- requests, recorded as evidence
    def request(self, method: str, path: str, **kwargs: Any) -> Exchange:
        exchange = self.target.request(method, path, **kwargs)
        self.chain += 1
        self.cite(exchange)
        return exchange

    def cite(self, exchange: Exchange) -> None:
        """File an exchange as this check's evidence (one it made, or another check's), the proof of the next finding."""
        self.exchange_count += 1
        if len(self.exchanges) < _KEEP_FIRST:
            self.exchanges.append(exchange)
        else:
            self._tail.append(exchange)
        self.last_exchange = exchange

    def each(self, items: Iterable[_Item], probe: Callable[[CheckContext, _Item], Iterable[Finding]]
             ) -> Iterator[Finding]:
        """``probe(ctx, item)`` for every item, as independent probes of this check: under --concurrency they run
        at once, each with a context of its own (its own seeded values and evidence); their findings come back in
        the items' order, each filed with the exchange that proves it, and their exchanges are this check's
        evidence in that order — the same at any concurrency. A probe's halt is its finding; an error is raised."""
        items = list(items)
        runs = [self._probe(n, item, probe) for n, item in enumerate(items)]
        pool = self.session.probes
        state = self.session.traffic.state_of_thread()
        together = pool is not None and len(items) > 1 and not self.session.in_probe()
        try:
            if together:
                assert pool is not None
                outcomes = [f.result() for f in [pool.submit(run, True) for run in runs]]
            else:
                outcomes = [run(False) for run in runs]
        finally:
            self.session.traffic.restore_thread(state)
        chains = [child.chain for child, _ in outcomes]
        self.chain += (max(chains, default=0) if together else sum(chains))
        for child, found in outcomes:
            for exchange in child.exchanges + list(child._tail):
                self.cite(exchange)
            self.exchange_count += child.exchange_count - len(child.exchanges) - len(child._tail)
            for finding, proof in found:
                self.last_exchange = proof
                yield finding

    def _probe(self, n: int, item: _Item, probe: Callable[[CheckContext, _Item], Iterable[Finding]]
               ) -> Callable[[bool], tuple[CheckContext, list[tuple[Finding, Exchange | None]]]]:
        def run(pooled: bool) -> tuple[CheckContext, list[tuple[Finding, Exchange | None]]]:
            outer = getattr(_PROBE_THREAD, "active", False)
            _PROBE_THREAD.active = pooled or outer
            child = self.session.context(self.requirement, self.call, (*self.part, n))
            found: list[tuple[Finding, Exchange | None]] = []
            try:
                for finding in probe(child, item):
                    found.append((finding, child.last_exchange))
            except Halt as halt:
                found.append((halt.finding, child.last_exchange))
            finally:
                _PROBE_THREAD.active = outer
            return child, found
        return run

    def evidence(self) -> tuple[list[Exchange], int]:
        """The exchanges kept as evidence, and how many were left out between them."""
        kept = self.exchanges + list(self._tail)
        return kept, self.exchange_count - len(kept)

    def get(self, path: str, **kwargs: Any) -> Exchange:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, payload: Any, **kwargs: Any) -> Exchange:
        return self.request("POST", path, json_body=payload, **kwargs)

    def patch(self, path: str, payload: Any, **kwargs: Any) -> Exchange:
        headers = {"Content-Type": "application/merge-patch+json", **kwargs.pop("headers", {})}
        return self.request("PATCH", path, json_body=payload, headers=headers, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Exchange:
        return self.request("DELETE", path, **kwargs)

    def resolve(self, reference: str, exchange: Exchange) -> str:
        """A URI reference from a response (``Location``) resolved against that request's URL (S4)."""
        return self.target.resolve(reference, exchange.url)

    def page_size(self, wanted: int) -> int:
        """The page size to ask for: ``wanted``, or the platform's declared maximum if that is smaller (S1)."""
        return min(wanted, self.session.max_page_size())

    def offers_delete(self) -> bool:
        """DELETE is optional (S2): a check uses it only when the platform declares the capability."""
        return self.session.declares("delete")

    # -- the standard
    def collection(self, name: str) -> Collection:
        return self.catalogue.collection(name)

    def item_path(self, collection: str, record_id: str) -> str:
        return f"{self.collection(collection).path}/{record_id}"

    def discovery(self) -> dict[str, Any]:
        return self.session.discovery()

    # -- payloads
    def fixture(self, name: str) -> Any:
        """A fixture with its reference placeholders replaced by ids of records the run created."""
        return resolve(load_fixture(name), lambda collection: self.session.parent_id(collection, self))

    def unique(self, prefix: str = "") -> str:
        return f"{prefix}{self._ids.getrandbits(40):010x}"

    def create(self, collection: str, payload: Any, *, purpose: str = "a record") -> tuple[Exchange, dict[str, Any]]:
        """Create a record as a precondition: anything but 201 with a JSON object is inconclusive."""
        exchange = self.post(self.collection(collection).path, payload)
        try:
            entity = exchange.json() if exchange.status == 201 else None
        except ValueError:
            entity = None
        if not isinstance(entity, dict) or not isinstance(entity.get("id"), str | int):
            raise inconclusive(
                f"precondition failed: creating {purpose} in {collection} answered {exchange.status}, "
                "not 201 with the stored entity"
            )
        self.session.created.append(self.item_path(collection, str(entity["id"])))
        return exchange, entity

    @contextlib.contextmanager
    def tidying(self) -> Iterator[None]:
        """Requests made to clean up (deleting what a probe stored) never become the proof of a finding."""
        proof = self.last_exchange
        try:
            yield
        finally:
            self.last_exchange = proof

    def discard(self, collection: str, exchange: Exchange) -> str | None:
        """Delete a record a request should not have created, so it cannot trip other checks.

        Returns a note for the finding (what was stored, whether it is gone), or None if nothing was.
        """
        if not 200 <= exchange.status < 300:
            return None
        try:
            created = exchange.json()
        except ValueError:
            return None
        if not isinstance(created, dict) or created.get("id") is None:
            return None
        path = self.item_path(collection, str(created["id"]))
        if not self.offers_delete():
            self.session.created.append(path)
            return f"it was stored as {created['id']!r} (the platform offers no DELETE to remove it)"
        with self.tidying():  # the finding is about the request that stored the record, not this DELETE
            removal = self.delete(path)
        if removal.status in (200, 204):
            return f"it was stored as {created['id']!r} (the suite deleted it again)"
        self.session.created.append(path)
        return f"it was stored as {created['id']!r} and could not be deleted"

    def walk(self, collection: str, *, limit: int, params: dict[str, Any] | None = None,
             max_pages: int = 1000) -> Iterator[tuple[Exchange, dict[str, Any]]]:
        """Follow ``next_cursor`` page by page; a page that is not an envelope halts with a failure."""
        page_cfg = self.catalogue.page
        limit = self.page_size(limit)
        query: dict[str, Any] = {page_cfg["limit_param"]: limit, **(params or {})}
        for _ in range(max_pages):
            exchange = self.get(self.collection(collection).path, params=query)
            if exchange.status != 200:
                raise Halt(Finding(Verdict.FAIL, f"listing {collection} answered {exchange.status}",
                                   expected=200, found=exchange.status))
            try:
                page = exchange.json()
            except ValueError:
                raise Halt(Finding(Verdict.FAIL, f"listing {collection} is not JSON")) from None
            if not isinstance(page, dict) or not isinstance(page.get("items"), list):
                raise Halt(Finding(Verdict.FAIL, "a listing is not a page envelope with an `items` array",
                                   found=type(page).__name__))
            yield exchange, page
            cursor = page.get("next_cursor")
            if not cursor:
                return
            query = {page_cfg["limit_param"]: limit, **(params or {}), page_cfg["cursor_param"]: cursor}
        raise Halt(Finding(Verdict.FAIL, f"pagination did not end after {max_pages} pages"))
