"""A report's derived values recomputed from its checks: a report that disagrees with itself is refused.

A signature says who signed a report, not that what it says is true: a vendor can set the verdict to
conformant, clear its failures and re-sign with a key of its own. Every value the suite derives — each
check's verdict from its findings, each requirement's from its checks (DESIGN §4, ``conformance.verdicts``),
the binding flags, the selection counts, the summary, the score and the profile verdict — is computed again
here by the same functions that built it, and the first one that differs is named by its JSON pointer.

What cannot be recomputed is the findings themselves: a report whose findings were rewritten consistently is
caught only by its signature (a trusted key) and its evidence digests.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConformanceError, UsageError
from ..results import RequirementResult
from ..verdicts import Verdict, is_binding, requirement_verdict
from .build import summarise, unique_failures, verdicts

__all__ = ["Disagreement", "InconsistentReport", "first_disagreement", "require_consistent"]

_VERDICTS = {v.value for v in Verdict}


@dataclass(frozen=True)
class Disagreement:
    """The first derived value of a report that its checks do not give: where, what they give, what it says."""

    pointer: str
    expected: Any
    found: Any

    def __str__(self) -> str:
        return (f"{self.pointer} disagrees with the report's own checks: recomputed {_short(self.expected)}, "
                f"the report says {_short(self.found)}")


class InconsistentReport(UsageError):
    """A report read as input whose derived values disagree with its checks (edited after it was made)."""


def require_consistent(report: Mapping[str, Any], source: str) -> None:
    """Raise :class:`InconsistentReport` (one line naming ``source`` and the first disagreement) unless consistent."""
    found = first_disagreement(report)
    if found is not None:
        raise InconsistentReport(f"{source}: refused, the report contradicts itself (edited after it was made): "
                                 f"{found}")


def first_disagreement(report: Mapping[str, Any]) -> Disagreement | None:
    """The first derived value of ``report`` that differs from its recomputation, or ``None``.

    Bottom-up: each check from its findings, each requirement from its checks, then the selection, the
    waivers used, the summary (counts and score), the evaluation (on its scheme, when installed here) and last
    the profile verdict, so the pointer names the value that was edited rather than one that follows from it.
    """
    try:
        return next(_disagreements(report), None)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a shape the schema should have refused
        return Disagreement("/", "a report.json as schemas/suite/report.json describes it",
                            f"a malformed report ({type(exc).__name__})")


def _disagreements(report: Mapping[str, Any]) -> Iterator[Disagreement]:
    requirements = report["requirements"]
    facts = _profile_facts(report.get("profile"))
    results: list[RequirementResult] = []
    for index, entry in enumerate(requirements):
        yield from _requirement(entry, f"/requirements/{index}", facts)
        results.append(RequirementResult(profile=str(report["profile"]["id"]), requirement=dict(entry),
                                         verdict=Verdict(entry["verdict"]), checks=[], waiver=entry.get("waiver")))
    selection = report.get("selection")
    not_run: list[str] = list(selection["not_run"]) if isinstance(selection, dict) else []
    if isinstance(selection, dict):
        yield from _differ("/selection/run", len(requirements), selection["run"])
        yield from _differ("/selection/requirements", len(requirements) + len(not_run), selection["requirements"])
    if "waivers_used" in report:
        yield from _differ("/waivers_used", [r["id"] for r in requirements if r["verdict"] == "waived"],
                           report["waivers_used"])
    summary = summarise(results)
    summary["unique_failures"] = unique_failures(requirements)
    for key, value in summary.items():
        yield from _differ(f"/summary/{key}", value, report["summary"].get(key, _ABSENT))
    if isinstance(report.get("evaluation"), dict):
        yield from _evaluation(report, report["evaluation"])
    yield from _profile_verdict(report, results, not_run, facts)


def _evaluation(report: Mapping[str, Any], recorded: Mapping[str, Any]) -> Iterator[Disagreement]:
    """The evaluation scored again on the scheme it names, when that scheme (same digest) is installed here."""
    from ..evaluation import evaluate_report, scheme_of

    try:
        scheme = scheme_of(report)
    except ConformanceError:
        return
    named = recorded.get("scheme")
    if not isinstance(named, dict) or scheme.get("digest") != named.get("digest"):
        return  # scored on a scheme this installation does not hold: only a trusted signature speaks for it
    yield from _differ("/evaluation", evaluate_report(report, scheme), recorded)


def _requirement(entry: Mapping[str, Any], at: str, facts: Mapping[str, tuple[str, str, str | None]] | None
                 ) -> Iterator[Disagreement]:
    checks = entry["checks"]
    for index, check in enumerate(checks):
        findings = [Verdict(f["verdict"]) for f in check.get("findings", [])]
        # a check takes the worst of its findings; one without findings passed (conformance.runner)
        expected = requirement_verdict(findings).value if findings else Verdict.PASS.value
        yield from _differ(f"{at}/checks/{index}/verdict", expected, check["verdict"])
    computed = requirement_verdict(Verdict(c["verdict"]) for c in checks).value
    if entry["verdict"] == Verdict.WAIVED.value:  # a waiver keeps what the checks concluded as original_verdict
        yield from _differ(f"{at}/waiver/original_verdict", computed, (entry.get("waiver") or {}).get(
            "original_verdict", _ABSENT))
    else:
        yield from _differ(f"{at}/verdict", computed, entry["verdict"])
    capability: str | None = None
    if facts is not None:
        if entry["id"] not in facts:
            yield Disagreement(f"{at}/id", "a requirement of the profile the report names", entry["id"])
            return
        level, subsystem, capability = facts[entry["id"]]
        yield from _differ(f"{at}/level", level, entry["level"])
        yield from _differ(f"{at}/subsystem", subsystem, entry["subsystem"])
    if "binding" in entry:
        verdict = Verdict(entry["verdict"])
        if facts is not None:
            yield from _differ(f"{at}/binding", is_binding(entry["level"], capability, verdict), entry["binding"])
        elif entry["level"] != "MAY" or verdict is Verdict.NOT_APPLICABLE:
            # without the profile a MAY's capability is unknown (it binds exactly when the platform declared it)
            yield from _differ(f"{at}/binding", is_binding(entry["level"], None, verdict), entry["binding"])


def _profile_verdict(report: Mapping[str, Any], results: list[RequirementResult], not_run: list[str],
                     facts: Mapping[str, tuple[str, str, str | None]] | None) -> Iterator[Disagreement]:
    """The verdict under every completeness the report allows: a requirement not run whose level is unknown
    (a local profile not installed here) may or may not have been a SHALL."""
    if facts is not None:
        choices = [not any(facts.get(i, ("SHALL",))[0] == "SHALL" for i in not_run)]
    else:
        choices = [True, False] if not_run else [True]
    outcomes = [verdicts(results, complete=complete) for complete in choices]
    waivers = report.get("waivers")
    found = (report["verdict"], waivers.get("verdict_if_waived", _ABSENT) if isinstance(waivers, dict) else None)
    if any(found[0] == verdict for verdict, _ in outcomes):
        outcomes = [o for o in outcomes if o[0] == found[0]]
    else:
        yield Disagreement("/verdict", outcomes[0][0], found[0])
        return
    if isinstance(waivers, dict) and not any(found[1] == if_waived for _, if_waived in outcomes):
        yield Disagreement("/waivers/verdict_if_waived", outcomes[0][1], found[1])


@functools.lru_cache(maxsize=16)
def _bundled_facts(profile_id: str, digest: str) -> Mapping[str, tuple[str, str, str | None]] | None:
    from ..profiles import ID, load_profile, profile_ids

    if not ID.fullmatch(profile_id) or profile_id not in profile_ids():
        return None
    try:
        profile = load_profile(profile_id)
    except ConformanceError:
        return None
    if profile.digest != digest:
        return None
    return {r.id: (r.level, r.subsystem, r.capability) for r in profile.requirements}


def _profile_facts(profile: Any) -> Mapping[str, tuple[str, str, str | None]] | None:
    """Level, sub-system and capability of each requirement, when the report's profile is a bundled one with the
    same digest (a report names its profile by id and digest); otherwise ``None`` and only the report speaks."""
    if not isinstance(profile, dict) or not isinstance(profile.get("id"), str):
        return None
    return _bundled_facts(profile["id"], str(profile.get("digest")))


class _Absent:
    def __repr__(self) -> str:
        return "nothing"


_ABSENT: Any = _Absent()


def _differ(pointer: str, expected: Any, found: Any) -> Iterator[Disagreement]:
    """The first leaf where ``found`` differs from ``expected``, as a JSON pointer (RFC 6901)."""
    if isinstance(expected, dict) and isinstance(found, dict):
        for key, value in expected.items():
            yield from _differ(f"{pointer}/{_escape(str(key))}", value, found.get(key, _ABSENT))
        extra = [key for key in found if key not in expected]
        if extra:
            yield Disagreement(f"{pointer}/{_escape(str(extra[0]))}", _ABSENT, found[extra[0]])
        return
    if isinstance(expected, list) and isinstance(found, list) and len(expected) == len(found):
        for index, (one, other) in enumerate(zip(expected, found)):
            yield from _differ(f"{pointer}/{index}", one, other)
        return
    if not _same(expected, found):
        yield Disagreement(pointer, expected, found)


def _same(expected: Any, found: Any) -> bool:
    if isinstance(expected, bool) or isinstance(found, bool):
        return type(expected) is type(found) and expected == found
    return bool(expected == found)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
