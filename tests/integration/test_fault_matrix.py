"""The reference platform is conformant, and each fault makes exactly its requirement fail.

Every requirement of every bundled profile must have a fault, so a requirement whose check
cannot fail is caught by the build. The default run puts each fault against the requirements
of its home profile that lead the platform to ask about it (:func:`exposed_to`); the slow run
(``tox -e slow``) against the whole home profile.
"""

import contextlib
import functools
from pathlib import Path

import pytest
import yaml

from conformance.checks import validate_call
from conformance.embedded import embedded_reference
from conformance.profiles import load_profile, profile_ids
from conformance.reference import FAULTS
from conformance.reference.faults import EVERY, STARTUP, trace_consultations
from conformance.runner import Runner, judges_traffic, oracles_last
from conformance.session import RunSession
from conformance.standards import installed
from conformance.target import Target
from conformance.verdicts import Verdict

COLLATERAL = yaml.safe_load((Path(__file__).parent / "fault_collateral.yaml").read_text(encoding="utf-8")) or {}
PROFILES = {pid: load_profile(pid, validate_check=validate_call) for pid in profile_ids()}


def home_profile(requirement_id):
    """The profile that defines a requirement (not one that only extends it)."""
    for profile in PROFILES.values():
        if any(r.id == requirement_id and r.profile == profile.id for r in profile.requirements):
            return profile
    raise LookupError(f"no bundled profile defines {requirement_id}")


def is_probe(requirement):
    """Generated-payload requirements: their collateral depends on the budget, so the fast matrix leaves them out."""
    return any(call.check.split(".")[0] in ("generated", "stateful") for call in requirement.checks)


def non_passing(reference, profile, faults=(), *, probes=True, variants=(), only=None, trace=None, concurrency=1):
    """Requirement id -> verdict of every requirement that did not pass; ``only`` narrows the requirements run,
    ``trace`` (a :class:`FaultTrace`) notes which fault switches each requirement made the platform ask about;
    ``concurrency`` above 1 runs the check calls ahead as a run does with --concurrency."""
    with reference(faults, variants=variants) as (base_url, token):
        target = Target(base_url, token=token, connections=max(8, concurrency))
        try:
            runner = Runner(RunSession(target, seed=20261125), concurrency=concurrency)
            results = []
            chosen = [r for r in oracles_last(profile.requirements)  # oracles judge the traffic of all the others
                      if (probes or not is_probe(r)) and (only is None or r.id in only)]
            if concurrency > 1:
                runner.plan(chosen)
                results = [runner.run_requirement(r, profile.id) for r in chosen]
                chosen = []
            late = [r for r in chosen if judges_traffic(r)]
            for req in [r for r in chosen if r not in late] + [None] + late:
                if req is None:  # the oracles' requirements make their own requests before any judges the run
                    for other in late:
                        with trace.during(other.id) if trace else contextlib.nullcontext():
                            runner.prime([other])
                    continue
                with trace.during(req.id) if trace else contextlib.nullcontext():
                    results.append(runner.run_requirement(req, profile.id))
        finally:
            target.close()
    return {r.id: r.verdict.value for r in results if r.verdict not in (Verdict.PASS, Verdict.NOT_APPLICABLE)}


@pytest.mark.parametrize("profile_id", sorted(PROFILES))
def test_reference_platform_is_conformant(reference, profile_id):
    assert non_passing(reference, PROFILES[profile_id]) == {}


def own_requirements(profile, collateral=()):
    """The requirements a profile defines (not those it inherits from the base standard), and ``collateral``."""
    return {r.id for r in profile.requirements if r.profile == profile.id} | set(collateral)


@functools.cache
def consulted(profile_id):
    """Requirement id -> the fault switches the clean reference platform asked about while it ran (own
    requirements of the profile, probes included); the platform's start-up under the key ``STARTUP``."""
    profile = PROFILES[profile_id]
    with trace_consultations() as trace:
        assert non_passing(embedded_reference, profile, only=own_requirements(profile), trace=trace) == {}
    return trace.consulted


def exposed_to(fault, profile, collateral):
    """What the default matrix runs under a fault: its requirement, its written collateral, and every own
    requirement of its home profile that made the clean platform ask about that fault (or about all of them).

    A requirement that never led the platform to ask about a fault sees the faulty platform answer exactly
    as the clean one, unless data an earlier requirement stored differs: that case is left to the slow
    ``test_fault_with_every_probe``, which runs every fault against the whole home profile."""
    asked = consulted(profile.id)
    if collateral or {fault, EVERY} & asked.get(STARTUP, set()):
        # written collateral can hang on data other requirements left (fault_collateral.yaml says why)
        return own_requirements(profile, collateral)
    reached = {r for r, names in asked.items() if fault in names or EVERY in names}
    return (own_requirements(profile) & reached) | {FAULTS[fault].requirement}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_fails_exactly_its_requirement(reference, fault):
    """Each fault against the own requirements of its home profile that it can reach (:func:`exposed_to`);
    a probe fault with the probes, any other without.

    ``test_fault_with_every_probe`` (slow) runs every fault against the whole home profile, inherited
    requirements and every probe included."""
    requirement = FAULTS[fault].requirement
    profile = home_profile(requirement)
    probes = is_probe(profile.requirement(requirement))
    written = COLLATERAL.get(fault, {})
    collateral = {k: v for k, v in written.items() if probes or not is_probe(profile.requirement(k))}
    observed = non_passing(reference, profile, [fault], probes=probes, only=exposed_to(fault, profile, written))
    expected = {requirement: "fail", **collateral}
    if probes:  # another probe may or may not meet the same fault, depending on the examples drawn
        for other in (set(observed) | set(expected)) - {requirement}:
            if is_probe(profile.requirement(other)):
                observed.pop(other, None)
                expected.pop(other, None)
    assert observed == expected


@pytest.mark.slow
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_with_every_probe(reference, fault):
    """The whole matrix: the generated-payload probes run under every fault, collateral exactly as written."""
    requirement = FAULTS[fault].requirement
    expected = {requirement: "fail", **COLLATERAL.get(fault, {})}
    assert non_passing(reference, home_profile(requirement), [fault]) == expected


# A sample of the faults (every 40th by name) against their whole home profile with 8 check calls in flight:
# exactly the verdicts of one at a time. The whole set runs under `slow`.
_CONCURRENT_SAMPLE = sorted(f for f in FAULTS if not is_probe(home_profile(FAULTS[f].requirement).requirement(
    FAULTS[f].requirement)))[::40]


@pytest.mark.parametrize("profile_id", ["core", "guarantee"])
def test_reference_platform_is_conformant_concurrently(profile_id):
    assert non_passing(embedded_reference, PROFILES[profile_id], concurrency=8) == {}


def _whole_profile_concurrently(fault):
    requirement = FAULTS[fault].requirement
    profile = home_profile(requirement)
    expected = {requirement: "fail", **COLLATERAL.get(fault, {})}
    observed = non_passing(embedded_reference, profile, [fault], concurrency=8)
    for other in (set(observed) | set(expected)) - {requirement}:  # probes draw their own examples
        if is_probe(profile.requirement(other)):
            observed.pop(other, None)
            expected.pop(other, None)
    return observed, expected


@pytest.mark.parametrize("fault", _CONCURRENT_SAMPLE)
def test_fault_fails_exactly_its_requirement_concurrently(fault):
    observed, expected = _whole_profile_concurrently(fault)
    assert observed == expected


@pytest.mark.slow
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_every_fault_concurrently(fault):
    observed, expected = _whole_profile_concurrently(fault)
    assert observed == expected


# A local standard cannot add a fault to the reference platform: its standard.yaml names an existing fault whose
# behaviour breaks its requirement too (lint checks the name; the test below checks that it does break it).
DECLARED = sorted((d.requirement, d.fault) for s in installed() for d in s.faults)


def test_every_requirement_of_every_profile_has_a_fault():
    broken = {f.requirement for f in FAULTS.values()} | {requirement for requirement, _ in DECLARED}
    missing = sorted({r.id for p in PROFILES.values() for r in p.requirements} - broken)
    assert missing == [], f"requirements no reference-platform fault breaks: {missing}"


@pytest.mark.parametrize(("requirement", "fault"), DECLARED)
def test_a_declared_fault_fails_its_local_requirement(reference, requirement, fault):
    profile = home_profile(requirement)
    assert non_passing(reference, profile, [fault], only={requirement}) == {requirement: "fail"}


def test_every_fault_targets_a_real_requirement():
    known = {r.id for p in PROFILES.values() for r in p.requirements}
    assert sorted(f.name for f in FAULTS.values() if f.requirement not in known) == []


def test_collateral_names_only_real_faults():
    assert sorted(set(COLLATERAL) - set(FAULTS)) == []
