"""Runs requirements: each check call through its function, findings into verdicts.

Nothing a target does may crash a run: transport trouble is ``inconclusive``, and so is an
unexpected exception inside a check (reported as an internal error of the suite, with its type).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import threading
import time
from collections.abc import Callable
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
    """Runs requirements in a session; the same check call is run once and shared across profiles.

    With ``concurrency`` above 1 the own checks of every planned requirement run ahead when the first requirement
    is reached, ``concurrency`` check calls at once against the one target, each on records it created. A check that judges a global state of the platform (``quiet``
    in the registry) runs afterwards with nothing else in flight. Every requirement then reports from those
    results, in the run's order, and its oracles judge the whole run's traffic: the verdicts do not depend on the
    concurrency.
    """

    def __init__(self, session: RunSession, *, concurrency: int = 1) -> None:
        self.session = session
        self.checks = load_builtin_checks()
        self.concurrency = max(1, concurrency)
        self._cache: dict[str, concurrent.futures.Future[CheckResult]] = {}
        self._lock = threading.Lock()
        self._planned: list[Requirement] = []
        self._ahead: list[Requirement] = []
        # requests made by each check call, and the longest run of requests that had to follow one another
        self._requests: dict[str, int] = {}
        self.critical_path = 0
        # told (done, total) in the run's thread as check calls run ahead finish: the doors show it while no
        # requirement reports yet
        self.on_progress: Callable[[int, int], None] | None = None
        self._done = 0

    def plan(self, requirements: list[Requirement]) -> None:
        """The requirements this run will get to, in the run's order: before the first that names an oracle is
        judged, the own checks of every planned one that does are run, so each oracle judges the traffic of all of
        them, not only of the requirements that happened to come before it (and under --concurrency, the own
        checks of all of them run ahead, concurrently)."""
        for requirement in requirements:
            self.session.ranks.setdefault(requirement.id, len(self.session.ranks))
        self._planned = [r for r in requirements if judges_traffic(r)]
        self._ahead = list(requirements) if self.concurrency > 1 else []

    def _calls_ahead(self, requirements: list[Requirement]) -> list[tuple[Requirement, CheckCall]]:
        """The own check calls (not oracles) of ``requirements`` that are not gated, each once, in the run's order."""
        calls: dict[str, tuple[Requirement, CheckCall]] = {}
        for requirement in requirements:
            if self._deadline_gate() or self._capability_gate(requirement):
                continue
            for call in requirement.checks:
                if not call.check.startswith(_ORACLE_PREFIX):
                    calls.setdefault(self._key(call), (requirement, call))
        return list(calls.values())

    def _call(self, requirement: Requirement, call: CheckCall) -> int:
        """Run one check call (unless the run's deadline passed); the requests it made, one after another."""
        if not self._deadline_gate():
            self.run_check(requirement, call)
        with self._lock:
            self._done += 1
        return self._requests.get(self._key(call), 0)

    def _run_ahead(self) -> None:
        """The own checks of every planned requirement, ``concurrency`` check calls at a time, then the quiet ones
        alone; an interrupt stops every request still to be sent and reaches the caller."""
        ahead, self._ahead = self._ahead, []
        calls = self._calls_ahead(ahead)
        together = [(r, c) for r, c in calls if not getattr(self.checks.get(c.check), "quiet", False)]
        alone = [(r, c) for r, c in calls if getattr(self.checks.get(c.check), "quiet", False)]
        pool = concurrent.futures.ThreadPoolExecutor(self.concurrency, thread_name_prefix="sc-check")
        probes = self.session.probes = concurrent.futures.ThreadPoolExecutor(self.concurrency,
                                                                             thread_name_prefix="sc-probe")
        try:
            futures = [pool.submit(self._call, r, c) for r, c in together]
            pending, shown = set(futures), -1
            while pending:  # with a timeout, so Ctrl-C reaches this thread while the pool works
                _, pending = concurrent.futures.wait(pending, timeout=0.5)
                if self.on_progress is not None and self._done != shown:
                    shown = self._done
                    self.on_progress(shown, len(calls))
            longest = max((f.result() for f in futures), default=0)
            quiet = 0
            for r, c in alone:
                quiet += self._call(r, c)
                if self.on_progress is not None:
                    self.on_progress(self._done, len(calls))
            self.critical_path = longest + quiet
        except BaseException:
            self.session.target.stopping = True
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            self.session.probes = None
            probes.shutdown(wait=True, cancel_futures=True)
        pool.shutdown(wait=True)
        primed = {r.id for r in ahead}
        self._planned = [r for r in self._planned if r.id not in primed]

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
        if self._ahead:
            self._run_ahead()
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

    @staticmethod
    def _key(call: CheckCall) -> str:
        return call.check + json.dumps(dict(call.params), sort_keys=True, ensure_ascii=False)

    def run_check(self, requirement: Requirement, call: CheckCall) -> CheckResult:
        """The result of a check call: run now, or the one run before (or running in another thread) awaited."""
        key = self._key(call)
        with self._lock:
            future = self._cache.get(key)
            mine = future is None
            if future is None:
                future = self._cache[key] = concurrent.futures.Future()
        if mine:
            try:
                future.set_result(self._run(requirement, call))
            except BaseException as exc:  # an interrupt: whoever waits on this call sees it too
                future.set_exception(exc)
                with self._lock:
                    del self._cache[key]
                raise
        return future.result()

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
        self._requests[self._key(call)] = ctx.chain
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
