"""Waivers and baselines as data: a waived failure is reported ``waived``; a baseline's known failures do not fail CI."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..loading import data_file, line_of, read_text
from ..results import RequirementResult
from ..verdicts import Verdict
from .consistency import require_consistent
from .signing import check_signature, read_report

__all__ = ["Baseline", "Exemptions", "Waiver", "exit_ok", "load_baseline", "load_waivers", "waiver_lines"]

_WAIVABLE = (Verdict.FAIL, Verdict.INCONCLUSIVE)
_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*-[0-9]{3}$")  # as schemas/suite/profile.json
_FIELDS = ("requirement", "reason", "approver", "expires")


@dataclass(frozen=True)
class Waiver:
    requirement: str
    reason: str
    approver: str
    expires: date
    profile: str | None = None  # None: every profile that has the requirement

    def applies(self, profile: str, today: date) -> bool:
        return today <= self.expires and self.profile in (None, profile)

    def to_json(self) -> dict[str, Any]:
        return {"reason": self.reason, "approver": self.approver, "expires": self.expires.isoformat()}


_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _waiver(entry: Any, where: str) -> Waiver:
    if not isinstance(entry, dict):
        raise UsageError(f"{where}: expected a mapping with {', '.join(_FIELDS)}, found {type(entry).__name__}")
    missing = [name for name in _FIELDS if not entry.get(name)]
    if missing:
        raise UsageError(f"{where}: a waiver needs {', '.join(_FIELDS)}; missing {', '.join(missing)}")
    requirement = str(entry["requirement"])
    if not _ID.match(requirement):
        raise UsageError(f"{where}: requirement {requirement[:40]!r} is not a requirement id such as CORE-HTTP-001")
    text = str(entry["expires"])
    try:
        if not _DATE.match(text):
            raise ValueError
        expires = date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{where}: expires {text[:40]!r} is not a calendar date; write it as YYYY-MM-DD "
                         "(a day, not a date and time)") from None
    profile = entry.get("profile")
    if profile is not None and not isinstance(profile, str):
        raise UsageError(f"{where}: profile must be a profile id (a string)")
    return Waiver(requirement, str(entry["reason"]), str(entry["approver"]), expires, profile)


def load_waivers(path: Path) -> list[Waiver]:
    """A YAML or JSON file: ``waivers: [{requirement, reason, approver, expires, profile?}, …]``."""
    data, lines = data_file(path, "waiver")
    entries = data.get("waivers") if isinstance(data, dict) else None
    if not isinstance(entries, list):  # not a waiver file: quote nothing of it
        raise UsageError(f"{path}: expected a mapping with a `waivers:` list, found {type(data).__name__}")
    return [_waiver(entry, f"{path}:{line_of(lines, ('waivers', index)) or 1}: waivers[{index}]")
            for index, entry in enumerate(entries)]


@dataclass(frozen=True)
class Baseline:
    """Requirements known to fail, per profile (``None``: any profile), and whether the file can be trusted."""

    path: str
    known: frozenset[tuple[str | None, str]]
    digest: str = ""
    trust: str = "unsigned"  # how the file's signature checked out (signing.Trust.state)
    target: dict[str, Any] | None = None  # a baseline report's target: it stands for that platform only

    def expects(self, profile: str, requirement: str) -> bool:
        return (profile, requirement) in self.known or (None, requirement) in self.known


def load_baseline(path: Path, trusted_keys: list[bytes] | None = None) -> Baseline:
    """A previous report.json (its failed, inconclusive and waived requirements) or a text file of ids, one a line.

    A report's signature is checked: the baseline only changes CI's exit status, never a verdict, but
    every report made with it records the baseline's digest and whether a trusted key signed it.
    """
    text = read_text(path, "baseline")
    digest = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    if text.lstrip().startswith("{"):
        raw, report = read_report(path)
        require_consistent(report, f"--baseline {path}")
        trust = check_signature(raw, report, trusted_keys or [])
        profile = report.get("profile", {}).get("id") if isinstance(report.get("profile"), dict) else None
        requirements = report.get("requirements")
        if not isinstance(profile, str) or not isinstance(requirements, list):
            raise UsageError(f"{path}: a baseline report needs `profile.id` and a `requirements` list")
        known = {(profile, str(r.get("id"))) for r in requirements if isinstance(r, dict) and (
            r.get("verdict") in ("fail", "inconclusive", "waived"))}
        return Baseline(str(path), frozenset(known), digest, trust.state, dict(report["target"]))
    ids = [line.split("#")[0].strip() for line in text.splitlines()]
    bad = next((i for i, rid in enumerate(ids) if rid and not _ID.match(rid)), None)
    if bad is not None:
        raise UsageError(f"{path}:{bad + 1}: not a requirement id such as CORE-HTTP-001 (a baseline is a report.json "
                         "or a text file of requirement ids, one a line)")
    return Baseline(str(path), frozenset((None, i) for i in ids if i), digest)


def exit_ok(report: dict[str, Any]) -> bool:
    """Whether CI should pass: conformant, or every SHALL failure waived (still ``not-conformant``), or no regression.

    Waivers and baselines change this exit status, never the report's verdict.
    """
    if "baseline" in report:
        return not report["baseline"]["regressions"]
    verdict = report.get("waivers", {}).get("verdict_if_waived", report["verdict"])
    return verdict == "conformant"


def waiver_lines(report: dict[str, Any]) -> list[str]:
    """What a reader must be told about waivers and the baseline: used, expired, unknown (plain text, one a line)."""
    waivers = report.get("waivers", {})
    lines = [f"waived {w['requirement']} ({w['original_verdict']}): approved by {w['approver']} until {w['expires']}"
             f" — {w['reason']}" for w in waivers.get("used", [])]
    if waivers.get("used"):
        lines.append(f"{len(waivers['used'])} waiver(s) used: they change the exit status only; the verdict stays "
                     f"{report['verdict']}")
    lines += [f"expired waiver not applied: {w['requirement']} (approved by {w['approver']}, expired {w['expires']})"
              for w in waivers.get("expired", [])]
    lines += [f"waiver ignored: {w['requirement']}{' for profile ' + w['profile'] if w.get('profile') else ''}: "
              f"{w['why']}" for w in waivers.get("unknown", [])]
    baseline = report.get("baseline")
    if baseline:
        lines.append(f"baseline {baseline['file']} ({baseline.get('trust', 'unsigned')}): "
                     f"{len(baseline['known_failures'])} known failure(s), {len(baseline['regressions'])} regression(s)")
    return lines


@dataclass
class Exemptions:
    """What a run may forgive: waivers (→ ``waived``) and a baseline (→ known failures, still ``fail``)."""

    waivers: list[Waiver] = field(default_factory=list)
    baseline: Baseline | None = None
    today: date = field(default_factory=date.today)
    waivers_file: str | None = None
    unknown_profiles: set[str] = field(default_factory=set)
    unknown_anywhere: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, waivers: str | None, baseline: str | None, trusted_keys: list[bytes] | None = None) -> Exemptions:
        return cls(load_waivers(Path(waivers)) if waivers else [],
                   load_baseline(Path(baseline), trusted_keys) if baseline else None, waivers_file=waivers)

    def waiver_for(self, profile: str, requirement: str) -> Waiver | None:
        return next((w for w in self.waivers if w.requirement == requirement and w.applies(profile, self.today)),
                    None)

    def apply(self, result: RequirementResult) -> tuple[RequirementResult, str | None]:
        """The result as reported, and why pytest should treat its failure as expected (or None)."""
        if result.verdict not in _WAIVABLE:
            return result, None
        waiver = self.waiver_for(result.profile, result.id)
        if waiver is not None:
            record = {**waiver.to_json(), "original_verdict": result.verdict.value}
            waived = replace(result, verdict=Verdict.WAIVED, waiver=record)
            return waived, f"waived by {waiver.approver} until {waiver.expires}: {waiver.reason}"
        if self.baseline and self.baseline.expects(result.profile, result.id):
            return result, f"known failure in the baseline {self.baseline.path}"
        return result, None

    def annotate(self, report: dict[str, Any], profile_requirements: list[str] | None = None) -> None:
        """Record the waivers used, expired and unknown, and the baseline comparison, in a built report."""
        profile = report["profile"]["id"]
        ids = {r["id"] for r in report["requirements"]}
        known_ids = set(profile_requirements) if profile_requirements is not None else ids
        mine = [w for w in self.waivers if w.profile in (None, profile)]
        expired = [w for w in mine if w.requirement in known_ids and w.expires < self.today]
        if expired:
            report["expired_waivers"] = [w.requirement for w in expired]
        used = [{"requirement": r["id"], **r["waiver"]} for r in report["requirements"] if r.get("waiver")]
        unknown = [{"requirement": w.requirement, "profile": w.profile,
                    "why": f"profile {profile!r} has no requirement {w.requirement}"}
                   for w in self.waivers if w.profile == profile and w.requirement not in known_ids]
        unknown += [{"requirement": w.requirement, "profile": w.profile,
                     "why": "no profile of this run has that requirement"}
                    for w in self.waivers if w.profile is None and w.requirement in self.unknown_anywhere]
        unknown += [{"requirement": w.requirement, "profile": w.profile,
                     "why": f"this run does not certify profile {w.profile!r}"}
                    for w in self.waivers if w.profile is not None and w.profile in self.unknown_profiles]
        if self.waivers or used:
            report["waivers"] = {
                "file": self.waivers_file,
                "used": used,
                "expired": [{"requirement": w.requirement, **w.to_json()} for w in expired],
                "unknown": unknown,
                "verdict_if_waived": report.get("waivers", {}).get("verdict_if_waived", report["verdict"]),
            }
        if self.baseline is None:
            return
        failing = [r["id"] for r in report["requirements"] if r["verdict"] in ("fail", "inconclusive")]
        known = [i for i in failing if self.baseline.expects(profile, i)]
        still = failing + [r["id"] for r in report["requirements"] if r["verdict"] == "waived"]
        fixed = sorted(i for p, i in self.baseline.known if p in (None, profile) and i in ids and i not in still)
        report["baseline"] = {"file": self.baseline.path, "digest": self.baseline.digest, "trust": self.baseline.trust,
                              "known_failures": known, "regressions": [i for i in failing if i not in known],
                              "fixed": fixed}

    def check_scope(self, profiles: dict[str, list[str]]) -> None:
        """Note waivers naming a profile the run does not certify, or a requirement no profile of it has."""
        every = {rid for ids in profiles.values() for rid in ids}
        self.unknown_profiles = {w.profile for w in self.waivers if w.profile is not None and w.profile not in profiles}
        self.unknown_anywhere = {w.requirement for w in self.waivers if w.profile is None and w.requirement not in every}

