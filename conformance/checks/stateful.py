"""A hypothesis state machine over the core collections: create, update, read, list and delete in any order.

Invariants: listings agree with what the machine created, an update reads back updated, a
deleted record answers 404 and stays gone. A failing sequence is shrunk to the shortest one; once
the shrink budget is spent, every further sequence fails at once with the shortest real failure
(hypothesis alone would spend up to 300 s replaying sequences against the target).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..results import Finding, fail
from ..session import CheckContext
from . import check
from ._expect import apply_merge_patch
from ._probing import Evidence, cleanup, prepared_payloads, seed_for
from .entities import _differences

if TYPE_CHECKING:  # hypothesis is imported when a sequence runs: a run without one does not load it
    from hypothesis.stateful import RuleBasedStateMachine

    from ..generation import PropertyFailed

_STEPS = 12
_SHRINK_BUDGET = 40  # sequences replayed against the target after the first failure
Key = tuple[str, int]  # (collection, n-th record the sequence created)


class _Budget:
    """Counts sequences sent to the target and remembers the failing ones by their steps."""

    def __init__(self) -> None:
        self.sent, self.first_failure_at = 0, None  # type: int, int | None
        self.latest: tuple[PropertyFailed, list[Any]] | None = None  # the shortest real failure, its exchanges

    def spent(self) -> bool:
        return self.first_failure_at is not None and self.sent >= self.first_failure_at + _SHRINK_BUDGET


def _machine(ctx: CheckContext, names: list[str], budget: _Budget, evidence: Evidence
             ) -> type[RuleBasedStateMachine]:
    from hypothesis import strategies as st
    from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, precondition, rule

    from ..generation import PropertyFailed

    strategies = {name: prepared_payloads(ctx, name, "stateful") for name in names}
    deletes = ctx.offers_delete()  # DELETE is a step only where the platform declares it (S2)

    class Sequences(RuleBasedStateMachine):
        records = Bundle("records")

        def __init__(self) -> None:
            super().__init__()
            self.offline = budget.spent()
            budget.sent += 0 if self.offline else 1
            self.log: list[str] = []
            self.ids: dict[Key, str] = {}
            self.model: dict[Key, dict[str, Any]] = {}
            self.gone: set[Key] = set()
            self.since: dict[str, str] = {}
            self.writes = 0  # writes so far; a record's last write is self.touched[key]
            self.touched: dict[Key, int] = {}
            self.walks: dict[str, tuple[str, int, list[str]]] = {}  # name -> (next cursor, writes at start, ids)
            evidence.begin()

        def online(self) -> bool:
            """True when the step may be sent; past the shrink budget, fail at once with the shortest failure."""
            if self.offline and budget.latest is not None:
                error, evidence.focus = budget.latest
                raise error
            return True

        def broken(self, message: str, **details: Any) -> None:
            error = PropertyFailed(list(self.log), fail(message, **details))
            evidence.failed()
            budget.latest = (error, evidence.focus)
            if budget.first_failure_at is None:
                budget.first_failure_at = budget.sent
            raise error

        def path(self, key: Key) -> str:
            return ctx.item_path(key[0], self.ids[key])

        @rule(target=records, name=st.sampled_from(names), data=st.data())
        def create(self, name: str, data: st.DataObject) -> Key:
            payload = data.draw(strategies[name])
            key = (name, len(self.ids))
            if not self.online():
                return key
            exchange = ctx.post(ctx.collection(name).path, payload)
            entity = exchange.json() if exchange.status == 201 else None
            self.log.append(f"create {name} → {exchange.status}")
            if not isinstance(entity, dict) or entity.get("id") is None:
                self.broken(f"creating a valid {name} record answered {exchange.status}", expected=201,
                            found=exchange.status)
            self.ids[key], self.model[key] = str(entity["id"]), payload
            self.since.setdefault(name, str(entity.get("updated_at")))
            self.wrote(key)
            return key

        def wrote(self, key: Key) -> None:
            self.writes += 1
            self.touched[key] = self.writes

        @rule(key=records, data=st.data(), rounds=st.integers(1, 2))
        def update(self, key: Key, data: st.DataObject, rounds: int) -> None:
            """One or two merge patches in a row, each read back (a second change is where stale copies show)."""
            for _ in range(rounds):
                fresh = data.draw(strategies[key[0]])
                members = sorted(m for m in fresh if m not in ctx.collection(key[0]).references and m != "extensions")
                chosen = data.draw(st.lists(st.sampled_from(members), min_size=1, max_size=2, unique=True))
                if self.online() and key in self.ids:
                    self.patch(key, {m: fresh[m] for m in chosen})

        def patch(self, key: Key, patch: dict[str, Any]) -> None:
            exchange = ctx.patch(self.path(key), patch)
            self.log.append(f"update {key[0]} #{key[1]} {sorted(patch)} → {exchange.status}")
            if key in self.gone:
                if exchange.status != 404:
                    self.broken(f"PATCH of a deleted record answered {exchange.status}", expected=404,
                                found=exchange.status)
                return
            if exchange.status != 200:
                self.broken(f"a valid merge patch answered {exchange.status}", expected=200, found=exchange.status)
            self.wrote(key)
            self.model[key] = apply_merge_patch(self.model[key], patch)
            self.compare(key)

        def compare(self, key: Key) -> None:
            exchange = ctx.get(self.path(key))
            self.log.append(f"read {key[0]} #{key[1]} → {exchange.status}")
            if key in self.gone:
                if exchange.status != 404:
                    self.broken(f"a deleted record answered {exchange.status}", expected=404, found=exchange.status)
                return
            if exchange.status != 200:
                self.broken(f"a created record answered {exchange.status}", expected=200, found=exchange.status)
            difference = next(iter(_differences(ctx, key[0], self.model[key], exchange.json())), None)
            if difference is not None:
                self.broken(f"{key[0]} {self.ids[key]} after {len(self.log)} steps: {difference.message}",
                            expected=difference.expected, found=difference.found, location=difference.location)

        @precondition(lambda self: deletes)
        @rule(key=consumes(records))
        def delete(self, key: Key) -> None:
            if not self.online() or key not in self.ids:
                return
            exchange = ctx.delete(self.path(key))
            self.log.append(f"delete {key[0]} #{key[1]} → {exchange.status}")
            if exchange.status not in (200, 204):
                self.broken(f"DELETE answered {exchange.status}", expected=204, found=exchange.status)
            self.wrote(key)
            self.model.pop(key, None)
            self.gone.add(key)
            self.compare(key)

        @precondition(lambda self: bool(self.since))  # a read before any create would be a wasted step
        @rule(name=st.sampled_from(names))
        def walk_step(self, name: str) -> None:
            """One page of an `updated_since` walk of ``name`` from the sequence's first record (limit 2, so it
            holds few pages), continued where the last step left it, so writes land between its pages (S8): at its
            end, every record that existed unchanged for the whole walk was listed once, and none unchanged twice."""
            if not self.online() or name not in self.since:
                return
            page_cfg = ctx.catalogue.page
            cursor, started, seen = self.walks.pop(name, (None, self.writes, []))
            query: dict[str, Any] = {page_cfg["limit_param"]: ctx.page_size(2),
                                     page_cfg["updated_since_param"]: self.since[name]}
            if cursor is not None:
                query[page_cfg["cursor_param"]] = cursor
            exchange = ctx.get(ctx.collection(name).path, params=query)
            self.log.append(f"walk {name} {'on' if cursor else 'from the start'} → {exchange.status}")
            page = exchange.json() if exchange.status == 200 else None
            if not isinstance(page, dict) or not isinstance(page.get("items"), list):
                self.broken(f"a page of a walk of {name} answered {exchange.status} after writes during the walk "
                            "(S8: a cursor stays usable while records are written)", expected=200,
                            found=exchange.status)
            seen = seen + [str(i.get("id")) for i in page["items"] if isinstance(i, dict)]
            following = page.get("next_cursor")
            if following:
                self.walks[name] = (str(following), started, seen)
                return
            moved = {self.ids[k] for k, at in self.touched.items() if at > started and k in self.ids}
            twice = sorted({i for i in seen if seen.count(i) > 1 and i not in moved})
            steady = sorted(self.ids[k] for k in self.model
                            if k[0] == name and self.touched.get(k, 0) <= started and self.ids[k] not in seen)
            if twice or steady:
                self.broken(f"a walk of {name} with writes between its pages disagrees with the records (S8)",
                            expected="every record unchanged during the walk once, none twice",
                            found={"twice": twice[:5], "missing": steady[:5]})

        @precondition(lambda self: bool(self.since))
        @rule(name=st.sampled_from(names))
        def listing(self, name: str) -> None:
            if not self.online() or name not in self.since:
                return
            listed: set[str] = set()
            query = {ctx.catalogue.page["updated_since_param"]: self.since[name]}
            for _, page in ctx.walk(name, limit=100, params=query):
                listed |= {str(i.get("id")) for i in page["items"] if isinstance(i, dict)}
            self.log.append(f"list {name}")
            missing = sorted(self.ids[k] for k in self.model if k[0] == name and self.ids[k] not in listed)
            ghosts = sorted(self.ids[k] for k in self.gone if k[0] == name and self.ids[k] in listed)
            if missing or ghosts:
                self.broken(f"the {name} listing disagrees with what was created and deleted",
                            expected={"present": "every live record", "absent": "every deleted record"},
                            found={"missing": missing[:5], "deleted but listed": ghosts[:5]})

        def teardown(self) -> None:
            for name in names:
                cleanup(ctx, name, [self.ids[k] for k in self.model if k[0] == name])

    return Sequences


@check("stateful.sequences", quiet=True)  # alone under --concurrency: another check's records changed during its walks would be listed twice
def sequences(ctx: CheckContext, *, collections: list[str]) -> Iterator[Finding]:
    """Random sequences of create, update, read, list and (when declared) delete keep listings, reads and deletes
    consistent."""
    from hypothesis import HealthCheck, Phase, Verbosity, settings
    from hypothesis import seed as fixed_seed
    from hypothesis.errors import Flaky
    from hypothesis.stateful import run_state_machine_as_test

    from ..generation import PropertyFailed

    names = [n for n in collections if ctx.collection(n).writable and ctx.collection(n).deletable]
    evidence, budget = Evidence(ctx), _Budget()
    machine = fixed_seed(seed_for(ctx, *names))(_machine(ctx, names, budget, evidence))
    options = settings(max_examples=max(4, ctx.session.max_examples // 2), stateful_step_count=_STEPS,
                       database=None, deadline=None, suppress_health_check=list(HealthCheck),
                       verbosity=Verbosity.quiet, print_blob=False, report_multiple_bugs=False,
                       phases=(Phase.explicit, Phase.generate, Phase.shrink))
    try:
        run_state_machine_as_test(machine, settings=options)
    except PropertyFailed as minimal:
        yield _sequence_finding(ctx, minimal)
    except Flaky:
        # Past the shrink budget a sequence fails at its first step, which hypothesis may call flaky
        # data generation; the shortest real failure is then the answer.
        if budget.latest is None:
            raise
        yield _sequence_finding(ctx, budget.latest[0])
    evidence.settle()


def _sequence_finding(ctx: CheckContext, minimal: PropertyFailed) -> Finding:
    inner: Finding = minimal.failure
    return fail(f"{inner.message}. Shortest failing sequence: {'; '.join(minimal.value)} "
                f"(replay: --seed {ctx.session.seed}, or --sc-seed {ctx.session.seed} in pytest)",
                expected=inner.expected, found=inner.found,
                location=inner.location)
