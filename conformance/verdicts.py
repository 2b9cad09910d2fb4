"""The verdict model of DESIGN.md §4: check, requirement and profile verdicts and the score."""

from __future__ import annotations

import enum
from collections.abc import Iterable

__all__ = ["LEVEL_WEIGHTS", "ProfileVerdict", "Verdict", "is_binding", "profile_verdict", "requirement_verdict"]


class Verdict(str, enum.Enum):
    """What one check, or one requirement, concluded."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    NOT_APPLICABLE = "not-applicable"
    MANUAL = "manual"
    WAIVED = "waived"

    @property
    def severity(self) -> int:
        """Higher is worse; a requirement takes the worst of its checks."""
        return _SEVERITY[self]


_SEVERITY = {
    Verdict.NOT_APPLICABLE: 0,
    Verdict.PASS: 1,
    Verdict.WAIVED: 2,
    Verdict.MANUAL: 3,
    Verdict.INCONCLUSIVE: 4,
    Verdict.FAIL: 5,
}


class ProfileVerdict(str, enum.Enum):
    CONFORMANT = "conformant"
    NOT_CONFORMANT = "not-conformant"
    INCOMPLETE = "incomplete"


# Weight of a requirement in the score, by level (stated in the report schema).
LEVEL_WEIGHTS = {"SHALL": 3, "SHOULD": 2, "MAY": 1}


def requirement_verdict(check_verdicts: Iterable[Verdict]) -> Verdict:
    """Worst of the checks (fail > inconclusive > manual > pass); all not-applicable → not-applicable."""
    verdicts = list(check_verdicts)
    if not verdicts:
        return Verdict.INCONCLUSIVE
    return max(verdicts, key=lambda v: v.severity)


def is_binding(level: str, capability: str | None, verdict: Verdict) -> bool:
    """Whether a requirement counts for the profile verdict (S13): every SHALL, and a MAY under a
    capability the platform declares, as a declared OGC conformance class binds its requirements.

    An undeclared capability makes the requirement not-applicable (the runner's capability gate), so a
    MAY with a capability and any other verdict is one whose capability the platform declared.
    """
    if level == "SHALL":
        return True
    return level == "MAY" and bool(capability) and verdict is not Verdict.NOT_APPLICABLE


def profile_verdict(shall_verdicts: Iterable[Verdict], *, complete: bool = True) -> ProfileVerdict:
    """Conformant only when every SHALL requirement passes (or is not applicable).

    ``complete`` is false when SHALL requirements were deselected (``-k``, ``--lf``): a partial
    run can never certify. Waived requirements are counted apart by the report, never as passes.
    """
    verdicts = list(shall_verdicts)
    if Verdict.FAIL in verdicts:
        return ProfileVerdict.NOT_CONFORMANT
    if not complete or any(v in (Verdict.INCONCLUSIVE, Verdict.MANUAL) for v in verdicts):
        return ProfileVerdict.INCOMPLETE
    return ProfileVerdict.CONFORMANT
