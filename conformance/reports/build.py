"""Build ``report.json`` (DESIGN.md §5) for one profile from requirement results."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from .. import __version__
from ..profiles import Profile
from ..results import RequirementResult
from ..verdicts import LEVEL_WEIGHTS, Verdict, profile_verdict

__all__ = ["REPORT_VERSION", "build_report", "score", "summarise", "unique_failures"]

REPORT_VERSION = "1"
SUBSYSTEMS = ("infrastructure", "governance-service", "guarantee")


def score(results: Iterable[RequirementResult]) -> float | None:
    """Weighted share of applicable requirements that pass (SHALL 3, SHOULD 2, MAY 1), in percent."""
    total = earned = 0
    for result in results:
        if result.verdict is Verdict.NOT_APPLICABLE:
            continue
        weight = LEVEL_WEIGHTS[result.level]
        total += weight
        earned += weight if result.verdict is Verdict.PASS else 0
    return round(100 * earned / total, 1) if total else None


def _counts(results: Iterable[RequirementResult]) -> dict[str, int]:
    counts = Counter(r.verdict.value for r in results)
    return {v.value: counts.get(v.value, 0) for v in Verdict}


def summarise(results: list[RequirementResult]) -> dict[str, Any]:
    by_level = {level: _counts(r for r in results if r.level == level) for level in LEVEL_WEIGHTS}
    by_subsystem = {}
    for subsystem in SUBSYSTEMS:
        selected = [r for r in results if r.requirement["subsystem"] == subsystem]
        by_subsystem[subsystem] = {"by_verdict": _counts(selected), "score": score(selected), "requirements": len(selected)}
    return {
        "requirements": len(results),
        "by_verdict": _counts(results),
        "by_level": by_level,
        "by_subsystem": by_subsystem,
        "score": score(results),
    }


def unique_failures(requirements: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Failing findings counted once each: the same (code, message) reached by several requirements
    (a check call they share) is one failure to fix. ``by_code`` counts them per finding code."""
    seen: set[tuple[str, str]] = set()
    for requirement in requirements:
        for check in requirement.get("checks", []):
            for finding in check.get("findings", []):
                if finding.get("verdict") == "fail":
                    seen.add((finding.get("code") or "", finding["message"]))
    by_code = Counter(code or "uncoded" for code, _ in seen)
    return {"count": len(seen), "by_code": dict(sorted(by_code.items()))}


def build_report(
    profile: Profile,
    results: Mapping[str, RequirementResult],
    *,
    schemas_digest: str,
    target: Mapping[str, Any],
    seed: int,
    started_at: str,
    finished_at: str,
    created_records: list[str] | None = None,
    interrupted: bool = False,
) -> dict[str, Any]:
    """The report of one profile; requirements not run (deselected) make it incomplete, never conformant."""
    ordered = [results[req.id] for req in profile.requirements if req.id in results]
    not_run = [req.id for req in profile.requirements if req.id not in results]
    shall = [r.verdict for r in ordered if r.level == "SHALL"]
    complete = not any(profile.requirement(i).level == "SHALL" for i in not_run)
    waived = [r.id for r in ordered if r.verdict is Verdict.WAIVED]
    requirements = [r.to_json() for r in ordered]
    summary = summarise(ordered)
    summary["unique_failures"] = unique_failures(requirements)
    return {
        "report_version": REPORT_VERSION,
        "suite": {"name": "sc-conformance", "version": __version__},
        "profile": {
            "id": profile.id,
            "version": profile.version,
            "kind": profile.kind,
            "title": dict(profile.title),
            "extends": list(profile.extends),
            "digest": profile.digest,
        },
        "schemas_digest": schemas_digest,
        "target": dict(target),
        "seed": seed,
        "started_at": started_at,
        "finished_at": finished_at,
        "verdict": profile_verdict(shall, complete=complete).value,
        "selection": {"requirements": len(profile.requirements), "run": len(ordered), "not_run": not_run},
        "waivers_used": waived,
        "summary": summary,
        "requirements": requirements,
        "created_records": list(created_records or []),
        "interrupted": interrupted,  # stopped (Ctrl-C) before every selected requirement ran
    }
