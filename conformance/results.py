"""The one result model every report is built from: findings → checks → requirements → profile."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .verdicts import Verdict

__all__ = ["CheckResult", "Finding", "Halt", "RequirementResult"]


@dataclass(frozen=True)
class Finding:
    """One thing a check concluded: the verdict, what was expected and what was found."""

    verdict: Verdict
    message: str
    expected: Any = None
    found: Any = None
    location: str | None = None  # JSON pointer in the response, or a header name
    code: str | None = None  # stable finding code (checks/codes.yaml), set by the runner from the check

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"verdict": self.verdict.value, "message": self.message}
        for key in ("expected", "found", "location", "code"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data

    def __str__(self) -> str:
        text = self.message
        if self.location:
            text = f"{self.location}: {text}"
        if self.expected is not None or self.found is not None:
            text += f" (expected {self.expected!r}, found {_short(self.found)})"
        return text


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fail(message: str, *, expected: Any = None, found: Any = None, location: str | None = None) -> Finding:
    return Finding(Verdict.FAIL, message, expected, found, location)


class Halt(Exception):
    """Stops a check at once with a finding (a failed precondition, or a failure nothing can follow)."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(str(finding))
        self.finding = finding


@dataclass
class CheckResult:
    name: str
    params: dict[str, Any]
    verdict: Verdict
    message: str
    findings: list[Finding] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    duration: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "params": self.params,
            "verdict": self.verdict.value,
            "message": self.message,
            "findings": [f.to_json() for f in self.findings],
            "evidence": self.evidence,
            "duration": round(self.duration, 4),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckResult:
        return cls(
            name=data["name"],
            params=data.get("params", {}),
            verdict=Verdict(data["verdict"]),
            message=data["message"],
            findings=[
                Finding(Verdict(f["verdict"]), f["message"], f.get("expected"), f.get("found"), f.get("location"),
                        f.get("code"))
                for f in data.get("findings", [])
            ],
            evidence=data.get("evidence", []),
            duration=data.get("duration", 0.0),
        )


@dataclass
class RequirementResult:
    """A requirement's verdict with the checks that decided it; travels from xdist workers as JSON."""

    profile: str
    requirement: dict[str, Any]  # Requirement.to_json()
    verdict: Verdict
    checks: list[CheckResult]
    waiver: dict[str, Any] | None = None

    @property
    def id(self) -> str:
        return str(self.requirement["id"])

    @property
    def level(self) -> str:
        return str(self.requirement["level"])

    def to_json(self) -> dict[str, Any]:
        req = self.requirement
        data = {
            "id": req["id"],
            "level": req["level"],
            "subsystem": req["subsystem"],
            "title": req["title"],
            "statement": req["statement"],
            "source": req["source"],
            "verdict": self.verdict.value,
            "checks": [c.to_json() for c in self.checks],
        }
        if self.waiver:
            data["waiver"] = self.waiver
        return data

    def to_transport(self) -> dict[str, Any]:
        return {"profile": self.profile, "requirement": self.requirement, "verdict": self.verdict.value,
                "checks": [c.to_json() for c in self.checks], "waiver": self.waiver}

    @classmethod
    def from_transport(cls, data: dict[str, Any]) -> RequirementResult:
        return cls(
            profile=data["profile"],
            requirement=data["requirement"],
            verdict=Verdict(data["verdict"]),
            checks=[CheckResult.from_json(c) for c in data["checks"]],
            waiver=data.get("waiver"),
        )
