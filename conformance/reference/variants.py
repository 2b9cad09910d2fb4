"""Tolerated variants of the reference platform: each is a choice the standard leaves open.

The mirror of :mod:`.faults`: a fault breaks exactly one requirement, a variant breaks none.
The tolerance matrix (``tests/integration/test_tolerance_matrix.py``) runs every bundled
profile against the platform under each variant and expects it to stay conformant; a variant
the checks reject is either a false fail of the suite or a gap in the published text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import UsageError, did_you_mean

__all__ = ["VARIANTS", "Variant", "validate_variants"]


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    allowed_by: str  # the statement of the published standard that leaves this choice open


# (name, what the platform then does, the statement that allows it)
_TABLE: tuple[tuple[str, str, str], ...] = (
    ("max-page-50", "declares max_page_size 50 (limit above it is a 400) and pages of 10 without limit",
     "S1: max_page_size is the platform's choice; the size of a page without limit too"),
    ("no-delete", "does not declare the delete capability; DELETE answers 405 (problem, with Allow)",
     "S2: DELETE is optional, offered exactly when the delete capability is declared"),
    ("drop-unknown-members", "drops unknown members of a create or patch instead of answering 422",
     "S3: rejecting unknown members is a SHOULD (CORE-VAL-009)"),
    ("path-prefix", "serves everything under /api; discovery hrefs and Location carry the prefix",
     "S4: the base URL may carry a path; hrefs are URI references resolved against discovery's URL"),
    ("rate-limit", "answers 429 with Retry-After: 1 to every 40th request, and 503 with an HTTP-date once "
     "(four times per start in all)", "S5: a platform MAY answer any request with 429 or 503 and Retry-After"),
    ("second-precision", "server-set times (created_at, updated_at, status_history[].at) in whole seconds",
     "S9: the precision of server-set times is the platform's choice"),
    ("newest-first", "plain listings newest first (the updated_since sync and the event feed stay ascending)",
     "S8: plain listing order is the platform's choice"),
    ("opaque-tokens", "bearer tokens are random strings looked up by the platform, not JWTs",
     "S11: tokens are opaque to clients"),
    ("relative-location", "Location of a created record is a relative reference (communities/{id})",
     "S4: Location is a URI reference resolved against the request URL"),
    ("numeric-string-ids", "ids are digit strings such as \"10001\"",
     "S11: ids are JSON strings of the platform's choice"),
    ("pre-existing-data", "starts with records in every collection, other tenants' records among them",
     "S11: a platform may hold records before the run"),
    ("basic-and-bearer", "a 401 offers a Basic challenge before the Bearer one in its WWW-Authenticate header",
     "RFC 9110 §11.6.1 allows several challenges; the challenge rule asks only that one of them is Bearer"),
    ("event-minimal", "events of the feed leave out the members the event schema marks optional (status, "
     "community_id)", "entities/event.json requires only type, resource and occurred_at (with id and times)"),
    # issue 10 (lifecycle): the role is checked before the state
    ("role-before-state", "a transition whose role is listed for no transition from the record's state answers 403 "
     "role-not-allowed before the state is looked at (so 403 from a final state, and for an illegal transition "
     "by an outsider)", "S6: when both 403 and 409 apply, either answer is conformant"),
)

VARIANTS: dict[str, Variant] = {name: Variant(name, text, allowed) for name, text, allowed in _TABLE}


def validate_variants(names: Iterable[str]) -> frozenset[str]:
    """Return the variant names as a set, raising :class:`UsageError` for an unknown one."""
    chosen = frozenset([names] if isinstance(names, str) else names)
    for name in sorted(chosen):
        if name not in VARIANTS:
            raise UsageError(f"unknown variant {name!r}{did_you_mean(name, VARIANTS)}; "
                             f"known variants: {', '.join(VARIANTS) or 'none'}")
    return chosen
