"""Build ``report.json`` (DESIGN.md §5) for one profile from requirement results."""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .. import __version__
from ..profiles import Profile
from ..resources import fixtures_dir, profiles_dir, schemas_dir
from ..results import RequirementResult
from ..verdicts import LEVEL_WEIGHTS, Verdict, profile_verdict

__all__ = ["REPORT_VERSION", "build_report", "score", "suite_digest", "summarise", "verdicts"]

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
) -> dict[str, Any]:
    """The report of one profile; requirements not run (deselected) make it incomplete, never conformant."""
    ordered = [results[req.id] for req in profile.requirements if req.id in results]
    not_run = [req.id for req in profile.requirements if req.id not in results]
    complete = not any(profile.requirement(i).level == "SHALL" for i in not_run)
    waived = [r.id for r in ordered if r.verdict is Verdict.WAIVED]
    verdict, if_waived = verdicts(ordered, complete=complete)
    report = {
        "report_version": REPORT_VERSION,
        "suite": {"name": "sc-conformance", "version": __version__, "digest": suite_digest()},
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
        "verdict": verdict,
        "selection": {"requirements": len(profile.requirements), "run": len(ordered), "not_run": not_run},
        "waivers_used": waived,
        "summary": summarise(ordered),
        "requirements": [r.to_json() for r in ordered],
        "created_records": list(created_records or []),
    }
    if waived:
        report["waivers"] = {"used": [], "expired": [], "unknown": [], "verdict_if_waived": if_waived}
    return report


def verdicts(results: Iterable[RequirementResult], *, complete: bool) -> tuple[str, str]:
    """The profile's verdict, and the verdict it would have if its waived requirements had passed.

    DESIGN §4: a waived failure is still a failure for the certificate (the first); waivers only
    change the exit status, which follows the second.
    """
    shall = [r for r in results if r.level == "SHALL"]
    actual = [Verdict((r.waiver or {}).get("original_verdict", "fail")) if r.verdict is Verdict.WAIVED else r.verdict
              for r in shall]
    forgiven = [Verdict.PASS if r.verdict is Verdict.WAIVED else r.verdict for r in shall]
    return (profile_verdict(actual, complete=complete).value, profile_verdict(forgiven, complete=complete).value)


@functools.cache
def suite_digest() -> str:
    """SHA-256 over the installed suite's code, templates and data (schemas, profiles, fixtures).

    A modified copy with the same version string makes reports with another digest; ``report
    verify`` and ``report compare`` show it.
    """
    package = Path(__file__).resolve().parent.parent
    roots = [package, schemas_dir(), profiles_dir(), fixtures_dir()]
    digest = hashlib.sha256()
    for root in roots:
        for file in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in _DIGESTED
                           and "__pycache__" not in p.parts and "_data" not in p.relative_to(root).parts[:1]):
            digest.update(f"{root.name}/{file.relative_to(root).as_posix()}\0".encode())
            digest.update(hashlib.sha256(file.read_bytes()).digest())
    return "sha256:" + digest.hexdigest()


_DIGESTED = {".py", ".j2", ".css", ".json", ".yaml", ".yml", ".typed"}
