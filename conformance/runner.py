"""Runs requirements: each check call through its function, findings into verdicts.

Nothing a target does may crash a run: transport trouble is ``inconclusive``, and so is an
unexpected exception inside a check (reported as an internal error of the suite, with its type).
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

from .checks import finding_code, load_builtin_checks
from .profiles import CheckCall, Requirement
from .results import CheckResult, Finding, Halt, RequirementResult
from .session import CheckContext, RunSession
from .target import Exchange, TargetError
from .verdicts import Verdict, requirement_verdict

__all__ = ["SUITE_CODES", "Runner", "judges_traffic", "oracles_last"]

# Codes of what the runner itself concludes (checks/codes.yaml, `suite`); a check's findings carry its own.
SUITE_CODES = {"target": "SC001", "internal": "SC002", "deadline": "SC003", "capability": "SC004",
               "vacuous": "SC005"}
_ORACLE_PREFIX = "oracle."
# Checks that conclude from what the vendor attests, not from exchanges (DESIGN §4: manual evidence).
_WITHOUT_EXCHANGES = ("institutions.",)


def judges_traffic(requirement: Requirement) -> bool:
    """Whether a requirement names an oracle: it judges the traffic of the whole run, so it runs last."""
    return any(call.check.startswith(_ORACLE_PREFIX) for call in requirement.checks)


def oracles_last(requirements: list[Requirement]) -> list[Requirement]:
    """The run order: every requirement that names no oracle, in profile order, then those that do."""
    return [r for r in requirements if not judges_traffic(r)] + [r for r in requirements if judges_traffic(r)]


class Runner:
    """Runs requirements in a session; the same check call is run once and shared across profiles."""

    def __init__(self, session: RunSession) -> None:
        self.session = session
        self.checks = load_builtin_checks()
        self._cache: dict[str, CheckResult] = {}
        self._planned: list[Requirement] = []

    def plan(self, requirements: list[Requirement]) -> None:
        """The requirements this run will get to: before the first that names an oracle is judged, the own checks
        of every planned one that does are run, so each oracle judges the traffic of all of them, not only of the
        requirements that happened to come before it."""
        self._planned = [r for r in requirements if judges_traffic(r)]

    def _prime(self) -> None:
        planned, self._planned = self._planned, []
        self.prime(planned)

    def prime(self, requirements: list[Requirement]) -> None:
        """Run the own checks (not the oracles) of ``requirements`` now; their results are kept for their run."""
        for requirement in requirements:
            if self._deadline_gate() or self._capability_gate(requirement):
                continue
            for call in requirement.checks:
                if not call.check.startswith(_ORACLE_PREFIX):
                    self.run_check(requirement, call)  # cached: the requirement's own run reuses the result

    def run_requirement(self, requirement: Requirement, profile_id: str) -> RequirementResult:
        if self._planned and judges_traffic(requirement):
            self._prime()
        gate = self._deadline_gate() or self._capability_gate(requirement)
        if gate:
            checks = [gate]
        else:  # a requirement's own checks first, its oracles after them (they judge that traffic too)
            calls = list(requirement.checks)
            late = [c for c in calls if c.check.startswith(_ORACLE_PREFIX)]
            done = {id(c): self.run_check(requirement, c) for c in [c for c in calls if c not in late] + late}
            checks = [done[id(c)] for c in calls]
        return RequirementResult(
            profile=profile_id,
            requirement=requirement.to_json(),
            verdict=requirement_verdict(c.verdict for c in checks),
            checks=checks,
        )

    def _deadline_gate(self) -> CheckResult | None:
        deadline = self.session.target.deadline
        if deadline is None or time.monotonic() < deadline:
            return None
        message = ("not run: the run's deadline (--deadline) passed before this requirement started; "
                   "raise the deadline or re-run only the unfinished requirements")
        return CheckResult("deadline", {}, Verdict.INCONCLUSIVE, message,
                           [Finding(Verdict.INCONCLUSIVE, message, code=SUITE_CODES["deadline"])])

    def _redacted(self, finding: Finding) -> Finding:
        """Findings quote responses; a credential in one is redacted like the evidence is."""
        redact = self.session.target.redact
        return dataclasses.replace(
            finding, message=redact(finding.message),
            expected=redact(finding.expected) if isinstance(finding.expected, str) else finding.expected,
            found=redact(finding.found) if isinstance(finding.found, str) else finding.found)

    def _capability_gate(self, requirement: Requirement) -> CheckResult | None:
        if not requirement.capability:
            return None
        name = "capability"
        params = {"capability": requirement.capability}
        try:
            declared = self.session.capabilities()
        except Halt as halt:
            return CheckResult(name, params, halt.finding.verdict, halt.finding.message, [halt.finding])
        if requirement.capability in declared:
            return None
        message = f"the platform does not declare the optional capability {requirement.capability!r}"
        return CheckResult(name, params, Verdict.NOT_APPLICABLE, message,
                           [Finding(Verdict.NOT_APPLICABLE, message, code=SUITE_CODES["capability"])])

    def run_check(self, requirement: Requirement, call: CheckCall) -> CheckResult:
        key = call.check + json.dumps(dict(call.params), sort_keys=True, ensure_ascii=False)
        if key not in self._cache:
            self._cache[key] = self._run(requirement, call)
        return self._cache[key]

    def _run(self, requirement: Requirement, call: CheckCall) -> CheckResult:
        spec = self.checks[call.check]
        ctx = self.session.context(requirement, call)
        findings: list[Finding] = []
        proofs: list[Exchange | None] = []  # per finding, the exchange made last before it (see CheckContext)
        started = time.perf_counter()
        try:
            for finding in spec.function(ctx, **call.params):
                findings.append(finding)
                proofs.append(ctx.last_exchange)
        except Halt as halt:
            findings.append(halt.finding)
            proofs.append(ctx.last_exchange)
        except TargetError as exc:
            findings.append(Finding(Verdict.INCONCLUSIVE, f"the target did not answer usably: {exc}",
                                    code=SUITE_CODES["target"]))
        except Exception as exc:  # a bug of ours must not pass or crash the run
            findings.append(Finding(
                Verdict.INCONCLUSIVE,
                f"internal error in check {call.check!r}: {type(exc).__name__}: {self.session.target.redact(str(exc))}",
                code=SUITE_CODES["internal"]))
        duration = time.perf_counter() - started
        if (ctx.exchange_count == 0 and not call.check.startswith((_ORACLE_PREFIX, *_WITHOUT_EXCHANGES))
                and all(f.verdict is Verdict.PASS for f in findings)):
            findings.append(Finding(  # a check that saw nothing cannot have seen a violation
                Verdict.INCONCLUSIVE, f"check {call.check!r} made no request, so no exchange could show a "
                                      "violation; nothing was judged", code=SUITE_CODES["vacuous"]))
        code = finding_code(call.check)
        findings = [self._redacted(f if f.code else dataclasses.replace(f, code=code)) for f in findings]
        verdict = max((f.verdict for f in findings), key=lambda v: v.severity, default=Verdict.PASS)
        worst = [f for f in findings if f.verdict == verdict]
        message = str(worst[0]) if worst else "passed"
        if len(worst) > 1:
            message += f" (+{len(worst) - 1} more)"
        # the exchange behind the finding the message quotes (the first of the worst)
        proof = None if verdict is Verdict.PASS else next((p for f, p in zip(findings, proofs) if f.verdict == verdict), None)
        evidence = self._evidence(ctx, proof)
        return CheckResult(call.check, dict(call.params), verdict, message, findings, evidence, duration)

    def _evidence(self, ctx: CheckContext, proof: Exchange | None) -> list[dict[str, Any]]:
        """The kept exchanges, the one that proves the check's finding first (even when the window left it out)."""
        kept, _ = ctx.evidence()
        kept = list({id(e): e for e in kept}.values())  # a check may have re-filed an exchange; show it once
        if proof is not None:
            kept = [proof] + [e for e in kept if e is not proof]
        evidence: list[dict[str, Any]] = [ex.to_evidence(self.session.target.redact) for ex in kept]
        if proof is not None:
            evidence[0]["proves"] = True
        omitted = ctx.exchange_count - len(kept)
        if omitted > 0:
            evidence.append({"omitted_exchanges": omitted})
        return evidence
