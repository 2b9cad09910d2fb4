"""The mirror of the fault matrix: every choice the standard allows keeps the reference conformant.

Each variant of the reference platform (``serve-reference --list-variants``) makes one choice the
published text leaves open; a requirement that fails under one enforces more than its statement says.
The default run starts one platform with every variant switched on and runs every requirement of the
bundled profiles there (each under the first profile that holds it); the slow run starts each variant
alone over the same requirements, and every variant x profile pair.
"""

import re

import pytest
from test_fault_matrix import PROFILES, non_passing  # pytest puts this folder on sys.path (rootdir import)

from conformance.reference import VARIANTS
from conformance.reference.variants import validate_variants

_ID = re.compile(r"\b[A-Z]+(?:-[A-Z0-9]+)+-[0-9]{3}\b")


def _union():
    """Every requirement of the bundled profiles once, as a profile-like object for ``non_passing``."""
    seen, requirements = set(), []
    for profile in PROFILES.values():
        for requirement in profile.requirements:
            if requirement.id not in seen:
                seen.add(requirement.id)
                requirements.append(requirement)

    class Union:
        id = "all-bundled"

    Union.requirements = requirements
    return Union


def tolerated(variant):
    """What a variant may leave non-passing: the non-binding requirements its ``allowed_by`` names
    (drop-unknown-members fails CORE-VAL-009, a SHOULD, by definition)."""
    return set(_ID.findall(VARIANTS[variant].allowed_by))


def _level(requirement_id):
    return next(r.level for p in PROFILES.values() for r in p.requirements if r.id == requirement_id)


def _assert_conformant(observed, *variants):
    allowed = set().union(*(tolerated(v) for v in variants))
    binding = {k: v for k, v in observed.items() if _level(k) == "SHALL" or k not in allowed}
    assert binding == {}


def test_a_platform_making_every_allowed_choice_at_once_stays_conformant(reference):
    """Every variant switched on together, over every bundled requirement: the default run's tolerance proof.

    A real platform makes many of these choices at once (a smaller page, no DELETE, a path prefix, rate
    limits, ...); the slow run also starts each variant alone, to say which choice a failure comes from."""
    _assert_conformant(non_passing(reference, _union(), variants=sorted(VARIANTS)), *sorted(VARIANTS))


@pytest.mark.slow
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variant_stays_conformant(reference, variant):
    _assert_conformant(non_passing(reference, _union(), variants=[variant]), variant)


@pytest.mark.slow
@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("profile_id", sorted(PROFILES))
def test_variant_stays_conformant_per_profile(reference, variant, profile_id):
    _assert_conformant(non_passing(reference, PROFILES[profile_id], variants=[variant]), variant)


def test_tolerated_failures_are_never_shall():
    for variant in VARIANTS:
        assert [i for i in tolerated(variant) if _level(i) == "SHALL"] == [], variant


def test_every_variant_names_the_statement_that_allows_it():
    assert [v.name for v in VARIANTS.values() if not v.allowed_by.strip()] == []


def test_unknown_variant_is_a_usage_error():
    from conformance.errors import UsageError

    with pytest.raises(UsageError, match="unknown variant"):
        validate_variants(["no-such-variant"])


def test_a_rate_limited_platform_is_waited_out_and_the_waits_are_counted(reference):
    """Every refusal of the rate-limit variant (429 + seconds, 503 + HTTP-date) is waited out, none reaches a check."""
    from conformance.reference.variant_middleware import EVERY, REFUSALS
    from conformance.target import Target

    with reference((), variants=["rate-limit"]) as (base_url, token):
        target = Target(base_url, token=token)
        try:
            statuses = {target.request("GET", "/communities").status for _ in range(EVERY * REFUSALS)}
        finally:
            target.close()
    assert statuses == {200}
    assert target.rate_limits.waits == REFUSALS and target.rate_limits.gave_up == 0
