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
