"""The mirror of the fault matrix: every choice the standard allows keeps the reference conformant.

Each variant of the reference platform (``serve-reference --list-variants``) makes one choice the
published text leaves open; a requirement that fails under one enforces more than its statement says.
"""

import pytest
from test_fault_matrix import PROFILES, non_passing  # pytest puts this folder on sys.path (rootdir import)

from conformance.reference import VARIANTS
from conformance.reference.variants import validate_variants


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("profile_id", sorted(PROFILES))
def test_variant_stays_conformant(reference, variant, profile_id):
    assert non_passing(reference, PROFILES[profile_id], variants=[variant]) == {}


def test_every_variant_names_the_statement_that_allows_it():
    assert [v.name for v in VARIANTS.values() if not v.allowed_by.strip()] == []


def test_unknown_variant_is_a_usage_error():
    from conformance.errors import UsageError

    with pytest.raises(UsageError, match="unknown variant"):
        validate_variants(["no-such-variant"])
