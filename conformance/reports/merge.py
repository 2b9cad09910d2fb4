"""Merge a re-run of some requirements (``run --rerun-failed``) into the report it re-ran."""

from __future__ import annotations

from typing import Any

from ..errors import UsageError
from ..results import RequirementResult
from ..verdicts import Verdict, profile_verdict
from .build import summarise, unique_failures

__all__ = ["merge_reports", "rerun_ids"]


def rerun_ids(report: dict[str, Any]) -> list[str]:
    """Requirements to run again: those that failed, were inconclusive, or were not run."""
    bad = [r["id"] for r in report["requirements"] if r["verdict"] in ("fail", "inconclusive")]
    return bad + list(report.get("selection", {}).get("not_run", []))


def _as_result(profile: str, entry: dict[str, Any]) -> RequirementResult:
    return RequirementResult(profile=profile, requirement=entry, verdict=Verdict(entry["verdict"]), checks=[])


def merge_reports(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``old`` with every requirement ``new`` ran replaced by its new result; verdict and summary recomputed."""
    for key in ("id", "version", "digest"):
        if old["profile"][key] != new["profile"][key]:
            raise UsageError(f"cannot merge: the earlier report was run against profile {key} "
                             f"{old['profile'][key]!r}, the re-run against {new['profile'][key]!r}; "
                             "run the whole profile again instead of --rerun-failed")
    fresh = {r["id"]: r for r in new["requirements"]}
    requirements = [fresh.pop(r["id"], r) for r in old["requirements"]] + list(fresh.values())
    not_run = [i for i in old["selection"]["not_run"] if i not in {r["id"] for r in requirements}]
    results = [_as_result(old["profile"]["id"], r) for r in requirements]
    shall = [r.verdict for r in results if r.level == "SHALL"]
    levels = {r["id"]: r["level"] for r in old["requirements"]}
    complete = not any(levels.get(i, "SHALL") == "SHALL" for i in not_run)
    merged = {**new, "started_at": old["started_at"], "requirements": requirements}
    merged.pop("signature", None)
    merged["verdict"] = profile_verdict(shall, complete=complete).value
    merged["selection"] = {"requirements": old["selection"]["requirements"], "run": len(requirements),
                           "not_run": not_run}
    merged["waivers_used"] = [r["id"] for r in requirements if r["verdict"] == "waived"]
    merged["summary"] = summarise(results)
    merged["summary"]["unique_failures"] = unique_failures(requirements)
    merged["merged_from"] = {"started_at": old["started_at"], "seed": old["seed"], "rerun": [r["id"] for r in new["requirements"]]}
    merged["created_records"] = list(old.get("created_records", [])) + list(new.get("created_records", []))
    return merged
