"""Merge a re-run of some requirements (``run --rerun-failed``) into the report it re-ran.

The earlier report is evidence from outside this run: its passes are kept only when a trusted key
signed it (``--public-key`` files or ``$SC_TRUSTED_KEYS``). An unsigned, edited or unknown-key
report cannot vouch for anything, so every requirement is run again and the merge keeps nothing
of it but the record that it was read. Each merged report lists the digest of every report it
was merged from.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..errors import UsageError
from ..evaluation import evaluate_report, scheme_of
from ..results import RequirementResult
from ..verdicts import Verdict
from .binding import STRICT, Allowance, mismatch
from .build import summarise, unique_failures, verdicts
from .consistency import require_consistent
from .signing import Trust

__all__ = ["merge_reports", "rerun_ids", "rerun_selection"]


def rerun_ids(report: dict[str, Any]) -> list[str]:
    """Requirements to run again: those that failed, were inconclusive, were waived (re-judged) or were not run."""
    bad = [r["id"] for r in report["requirements"] if r["verdict"] in ("fail", "inconclusive", "waived")]
    return bad + list(report.get("selection", {}).get("not_run", []))


def rerun_selection(report: dict[str, Any], trust: Trust) -> tuple[list[str] | None, str | None]:
    """The requirements to re-run (``None``: all of them) and, when all, why the earlier verdicts are not kept."""
    if trust.state == "trusted":
        return rerun_ids(report), None
    return None, (f"the earlier report is {trust.label}; its verdicts cannot be trusted, so every requirement "
                  "is run again (sign reports with `report sign` and trust the key with --public-key or "
                  "$SC_TRUSTED_KEYS to re-run only what failed)")


def report_digest(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _as_result(profile: str, entry: dict[str, Any]) -> RequirementResult:
    return RequirementResult(profile=profile, requirement=entry, verdict=Verdict(entry["verdict"]), checks=[],
                             waiver=entry.get("waiver"))


def merge_reports(old: dict[str, Any], new: dict[str, Any], *, old_digest: str = "",
                  old_trust: Trust | None = None, allow: Allowance = STRICT) -> dict[str, Any]:
    """``old`` with every requirement ``new`` ran replaced by its new result; verdict and summary recomputed.

    When ``old`` is not trusted its requirements are all replaced (the caller re-ran them all); an
    old requirement the new run did not cover is then dropped to ``not_run`` instead of kept. An ``old`` whose
    derived values disagree with its checks, or that was made against another platform (``allow``: what the
    user accepted, see :mod:`.binding`), is refused: both doors refuse them before the run, this is the last guard.
    """
    require_consistent(old, "the earlier report")
    moved = mismatch(old.get("target"), new.get("target"), allow)
    if moved:
        raise UsageError(f"cannot merge: the earlier {moved}")
    for key in ("id", "version", "digest"):
        if old["profile"][key] != new["profile"][key]:
            raise UsageError(f"cannot merge: the earlier report was run against profile {key} "
                             f"{old['profile'][key]!r}, the re-run against {new['profile'][key]!r}; "
                             "run the whole profile again instead of --rerun-failed")
    trusted = old_trust is not None and old_trust.state == "trusted"
    fresh = {r["id"]: r for r in new["requirements"]}
    unchanged = sum(1 for r in old["requirements"] if r["id"] not in fresh) if trusted else 0
    kept = [fresh.pop(r["id"], r) for r in old["requirements"]] if trusted else []
    requirements = kept + [fresh[i] for i in [r["id"] for r in new["requirements"]] if i in fresh]
    covered = {r["id"] for r in requirements}
    order = [r["id"] for r in old["requirements"]] + old["selection"]["not_run"] + new["selection"]["not_run"]
    not_run = [i for i in dict.fromkeys(order) if i not in covered]
    results = [_as_result(old["profile"]["id"], r) for r in requirements]
    levels = {r["id"]: r["level"] for r in old["requirements"]}
    complete = not any(levels.get(i, "SHALL") == "SHALL" for i in not_run)
    verdict, if_waived = verdicts(results, complete=complete)
    merged = {**new, "started_at": old["started_at"] if trusted else new["started_at"], "requirements": requirements}
    merged.pop("signature", None)
    merged["verdict"] = verdict
    merged["selection"] = {"requirements": old["selection"]["requirements"], "run": len(requirements),
                           "not_run": not_run}
    merged["waivers_used"] = [r["id"] for r in requirements if r["verdict"] == "waived"]
    if merged["waivers_used"] or "waivers" in new:
        used = [{"requirement": r["id"], **r["waiver"]} for r in requirements if r.get("waiver")]
        merged["waivers"] = {**new.get("waivers", {"expired": [], "unknown": []}), "used": used,
                             "verdict_if_waived": if_waived}
    merged["summary"] = summarise(results)
    earlier = list(old.get("merged_from", {}).get("reports", []))
    merged["merged_from"] = {
        "started_at": old["started_at"], "seed": old["seed"], "rerun": [r["id"] for r in new["requirements"]],
        "reports": earlier + [{"digest": old_digest, "started_at": old["started_at"], "seed": old["seed"],
                               "trust": old_trust.state if old_trust else "unsigned", "kept": unchanged}],
    }
    merged["summary"]["unique_failures"] = unique_failures(requirements)
    merged["created_records"] = list(old.get("created_records", [])) + list(new.get("created_records", []))
    merged["evaluation"] = evaluate_report(merged, scheme_of(new))  # the re-run's covered only what it re-ran
    return merged
