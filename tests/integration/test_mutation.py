"""Behavioural mutants of the reference platform (conformance/reference/mutants.py) against the requirements.

The generator is checked whole; a fixed handful of mutants, one per family, must each be killed at the
requirement it names; the middleware that changes nothing leaves the platform conformant. The whole set runs
under ``tox -e slow``: each mutant is killed at a requirement it names (naming none: by any requirement),
unless ``mutation_survivors.yaml`` lists it with the reason (a gap to close; ``python -m benchmarks.mutation
--survivors`` rewrites it); a listed mutant now killed must leave the list. ``python -m benchmarks mutation``
measures the score (killed by any requirement) on a sample.
"""

from pathlib import Path

import pytest
import yaml

from conformance.catalogue import catalogue
from conformance.checks import validate_call
from conformance.embedded import embedded_reference
from conformance.profiles import load_profile, profile_ids
from conformance.reference.mutants import ALLOWED, OPERATORS, MutantSpec, generate_mutants, members, wrap_with
from conformance.runner import Runner
from conformance.session import RunSession
from conformance.target import Target
from conformance.verdicts import Verdict

MUTANTS = {spec.id: spec for spec in generate_mutants()}
PROFILES = {pid: load_profile(pid, validate_check=validate_call) for pid in profile_ids()}
EVERY = list({r.id: (r, pid) for pid, p in PROFILES.items() for r in p.requirements if r.profile == pid}.values())
SURVIVORS = yaml.safe_load((Path(__file__).parent / "mutation_survivors.yaml").read_text(encoding="utf-8")) or {}

# One mutant per family, each at a place a requirement's checks exercise: killed at the requirement it names.
FAST = (
    "drop-member:residents:gender",  # response: a submitted member is lost (CORE-CRUD-002)
    "time-drop-offset:buildings:updated_at",  # time: an instant without offset (CORE-ENT-BUILDING-001)
    "accept-invalid:residents:identity",  # accept what must be refused (CORE-VAL-002)
    "skip-scope-check:communities:write",  # access: a reader writes (GUA-AUTHZ-001)
    "skip-tenant-check:residents:list",  # access: a tenant lists another community (GUA-AUTHZ-003)
    "accept-refused-transition:work-orders:submitted",  # lifecycle: 409 becomes 200 (GOV-WO-003)
)


def run(spec, requirements, *, stop=True):
    """Requirement id -> verdict of each requirement that did not pass against the platform wrapped by ``spec``
    (None: the identity middleware), the ones ``spec`` names first; with ``stop``, up to the first failure."""
    named = spec.requirements if spec else ()
    ordered = sorted(requirements, key=lambda pair: (pair[0].id not in named,
                                                     named.index(pair[0].id) if pair[0].id in named else 0))
    found = {}
    with embedded_reference(wrap=wrap_with(spec)) as (base_url, token):
        target = Target(base_url, token=token)
        try:
            runner = Runner(RunSession(target, seed=20261206))
            for requirement, pid in ordered:
                verdict = runner.run_requirement(requirement, pid).verdict
                if verdict not in (Verdict.PASS, Verdict.NOT_APPLICABLE):
                    found[requirement.id] = verdict.value
                    if stop and verdict == Verdict.FAIL:
                        break
        finally:
            target.close()
    return found


def requirements(ids):
    return [pair for pair in EVERY if pair[0].id in set(ids)]


def test_generator_makes_at_least_500_mutants_over_at_least_10_operators():
    specs = generate_mutants()
    assert len(specs) >= 500
    assert len({s.id for s in specs}) == len(specs), "mutant ids are unique"
    used = {s.operator for s in specs}
    assert len(used) >= 10 and used == set(OPERATORS), "every operator is applied somewhere"
    assert all(s.id == f"{s.operator}:{s.place}" and s.description for s in specs)
    assert [s.id for s in generate_mutants()] == [s.id for s in specs], "the same mutants in the same order"


def test_every_named_requirement_exists_in_the_bundled_profiles():
    known = {r.id for p in PROFILES.values() for r in p.requirements}
    unknown = sorted({rid for s in MUTANTS.values() for rid in s.requirements} - known)
    assert unknown == []
    named = sum(1 for s in MUTANTS.values() if s.requirements)
    assert named / len(MUTANTS) > 0.8, "most mutants name the requirement they break"


def test_choices_the_standard_allows_are_not_generated():
    assert ALLOWED, "the allowed behaviours are listed with the statement that allows them"
    read_only = {(c, m.name) for c in catalogue().collections for m in members(c) if m.read_only}
    # S9: the precision of server-set instants is the platform's; an optional server-set member may be absent
    assert not [i for i, s in MUTANTS.items() if s.operator == "time-truncate-fraction"
                and (s.params["collection"], s.params["member"]) in read_only]
    assert not [i for i, s in MUTANTS.items() if s.operator == "drop-member"
                and (s.params["collection"], s.params["member"]) in read_only
                and not next(m for m in members(s.params["collection"]) if m.name == s.params["member"]).required]
    # a constant has no other value to change to
    assert not [i for i, s in MUTANTS.items() if s.operator == "corrupt-value" and s.params["info"].kind == "enum"
                and len(s.params["info"].enum) < 2]
    # S6 (403 or 409), 400 or 422 for validation: no status operator swaps answers the standard lets choose
    swaps = {(s.params["from"], s.params["to"]) for s in MUTANTS.values() if s.operator == "misstate-status"}
    assert not swaps & {(403, 409), (409, 403), (422, 400), (400, 422), (403, 404), (404, 403)}


def test_tenant_scopes_are_the_ones_the_embedded_door_issues():
    """skip-tenant-check is generated only where a community-bound token may read at all (else it is equivalent)."""
    from conformance.embedded import _ROLE_SCOPES
    from conformance.reference.mutants import TENANT_SCOPES

    assert {_ROLE_SCOPES["tenant-a"], _ROLE_SCOPES["tenant-b"]} == {TENANT_SCOPES}
    assert not [i for i, s in MUTANTS.items() if s.operator == "skip-tenant-check"
                and not set(catalogue().collection(s.params["collection"]).scopes.values()) <= set(TENANT_SCOPES)]


def test_the_survivor_list_names_real_mutants_with_reasons():
    assert sorted(set(SURVIVORS) - set(MUTANTS)) == []
    assert all(isinstance(reason, str) and len(reason) > 20 for reason in SURVIVORS.values())


def test_identity_middleware_leaves_the_platform_conformant():
    """A mutant whose operator meets every residents request but changes nothing: the middleware's own
    plumbing (body, headers, query re-sent to the platform) is behaviour-neutral."""
    neutral = MutantSpec("misstate-status:residents:none", "misstate-status", "residents", "changes nothing", (),
                         {"collection": "residents", "from": 999, "to": 999})
    ids = ("CORE-CRUD-002", "CORE-CRUD-005", "CORE-PAGE-003", "CORE-SYNC-001", "GUA-AUTHZ-001", "GUA-PRIV-001")
    assert run(neutral, requirements(ids), stop=False) == {}


@pytest.mark.parametrize("mutant", FAST)
def test_mutant_is_killed_at_the_requirement_it_names(mutant):
    spec = MUTANTS[mutant]
    assert spec.requirements
    failed = run(spec, requirements(spec.requirements))
    assert any(failed.get(rid) == "fail" for rid in spec.requirements), failed


@pytest.mark.slow
@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_every_mutant_is_killed_or_listed(mutant):
    """The whole set: each mutant killed at a requirement it names (naming none: by any requirement), or listed
    in mutation_survivors.yaml with the reason; a listed mutant now killed at what it names must leave the list."""
    spec = MUTANTS[mutant]
    verdicts = run(spec, requirements(spec.requirements) if spec.requirements else EVERY)
    failed = sorted(rid for rid, verdict in verdicts.items() if verdict == "fail")
    if mutant not in SURVIVORS:
        assert failed, f"{mutant} survived ({spec.description}); it names {spec.requirements}"
    elif spec.requirements:  # naming none, a kill can hang on records other requirements left: not kept exact
        assert not failed, f"{mutant} is now killed by {failed}: remove it from mutation_survivors.yaml"
