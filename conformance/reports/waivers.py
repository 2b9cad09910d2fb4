"""Waivers and baselines as data: a waived failure is reported ``waived``; a baseline's known failures do not fail CI."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from ..errors import UsageError
from ..results import RequirementResult
from ..verdicts import Verdict

__all__ = ["Baseline", "Exemptions", "Waiver", "load_baseline", "load_waivers"]

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


def _waiver(entry: Any, where: str) -> Waiver:
    if not isinstance(entry, dict):
        raise UsageError(f"{where}: expected a mapping with {', '.join(_FIELDS)}, found {type(entry).__name__}")
    missing = [name for name in _FIELDS if not entry.get(name)]
    if missing:
        raise UsageError(f"{where}: a waiver needs {', '.join(_FIELDS)}; missing {', '.join(missing)}")
    requirement = str(entry["requirement"])
    if not _ID.match(requirement):
        raise UsageError(f"{where}: requirement {requirement!r} is not a requirement id such as CORE-HTTP-001")
    expires = entry["expires"]
    if not isinstance(expires, date):
        try:
            expires = date.fromisoformat(str(expires))
        except ValueError:
            raise UsageError(f"{where}: expires {expires!r} is not a date; write it as YYYY-MM-DD") from None
    return Waiver(requirement, str(entry["reason"]), str(entry["approver"]), expires, entry.get("profile"))


def load_waivers(path: Path) -> list[Waiver]:
    """A YAML or JSON file: ``waivers: [{requirement, reason, approver, expires, profile?}, …]``."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"cannot read the waiver file {path}: {exc}") from None
    entries = data.get("waivers") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise UsageError(f"{path}: expected a mapping with a `waivers:` list, found {type(data).__name__}")
    return [_waiver(entry, f"{path}: waivers[{index}]") for index, entry in enumerate(entries)]


@dataclass(frozen=True)
class Baseline:
    """Requirements known to fail, per profile (``None``: any profile)."""

    path: str
    known: frozenset[tuple[str | None, str]]

    def expects(self, profile: str, requirement: str) -> bool:
        return (profile, requirement) in self.known or (None, requirement) in self.known


def load_baseline(path: Path) -> Baseline:
    """A previous report.json (its failed and inconclusive requirements) or a text file of ids, one a line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read the baseline {path}: {exc}") from None
    if text.lstrip().startswith("{"):
        report = json.loads(text)
        profile = report.get("profile", {}).get("id")
        known = {(profile, r["id"]) for r in report.get("requirements", [])
                 if r.get("verdict") in ("fail", "inconclusive")
                 or r.get("waiver", {}).get("original_verdict") in ("fail", "inconclusive")}
        return Baseline(str(path), frozenset(known))
    ids = [line.split("#")[0].strip() for line in text.splitlines()]
    return Baseline(str(path), frozenset((None, i) for i in ids if i))


@dataclass
class Exemptions:
    """What a run may forgive: waivers (→ ``waived``) and a baseline (→ known failures, still ``fail``)."""

    waivers: list[Waiver] = field(default_factory=list)
    baseline: Baseline | None = None
    today: date = field(default_factory=date.today)

    @classmethod
    def load(cls, waivers: str | None, baseline: str | None) -> Exemptions:
        return cls(load_waivers(Path(waivers)) if waivers else [],
                   load_baseline(Path(baseline)) if baseline else None)

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

    def annotate(self, report: dict[str, Any]) -> None:
        """Record expired waivers and the baseline comparison in a built report."""
        profile = report["profile"]["id"]
        ids = {r["id"] for r in report["requirements"]}
        expired = [w.requirement for w in self.waivers
                   if w.requirement in ids and w.profile in (None, profile) and w.expires < self.today]
        if expired:
            report["expired_waivers"] = expired
        if self.baseline is None:
            return
        failing = [r["id"] for r in report["requirements"] if r["verdict"] in ("fail", "inconclusive")]
        known = [i for i in failing if self.baseline.expects(profile, i)]
        still = failing + [r["id"] for r in report["requirements"] if r["verdict"] == "waived"]
        fixed = sorted(i for p, i in self.baseline.known if p in (None, profile) and i in ids and i not in still)
        report["baseline"] = {"file": self.baseline.path, "known_failures": known,
                              "regressions": [i for i in failing if i not in known], "fixed": fixed}
