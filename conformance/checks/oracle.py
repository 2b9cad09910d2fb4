"""Oracles as checks: ``oracle.<name>`` reports, against the requirement that names it, what the oracle
concluded over every exchange of the run (conformance/oracles). Requirements naming an oracle run after the
others (:func:`conformance.runner.oracles_last`), so they judge the whole run's traffic."""

from __future__ import annotations

from collections.abc import Iterator

from ..oracles import ORACLES, OracleSpec
from ..oracles import model as _model  # noqa: F401  (registers the model's oracles)
from ..oracles import rules as _rules  # noqa: F401  (registers the rules)
from ..results import Finding, fail
from ..session import CheckContext
from ..verdicts import Verdict
from . import CheckFunction, check

__all__ = ["ORACLE_PREFIX"]

ORACLE_PREFIX = "oracle."


def _as_check(spec: OracleSpec) -> CheckFunction:
    def judged(ctx: CheckContext, *, collections: list[str] | None = None) -> Iterator[Finding]:
        ledger = ctx.session.traffic.judged(spec.name, collections)
        where = f" of {', '.join(collections)}" if collections else ""
        if ledger.count == 0:
            yield Finding(Verdict.INCONCLUSIVE, f"no exchange of the run could show a violation: the rule applies "
                                                f"to {spec.scope}{where}, and the run made none")
            return
        for violation, exchange, origin in ledger.violations:
            ctx.cite(exchange)
            yield fail(f"{violation.message} (in a request of {origin})", expected=violation.expected,
                       found=violation.found, location=violation.location)
        if ledger.more:
            yield fail(f"{ledger.more} more exchange(s) broke the same rule")
        if not ledger.violations:
            yield Finding(Verdict.PASS, f"judged {ledger.count} exchange(s) of the run{where}: none broke the rule")

    judged.__name__ = spec.name
    judged.__doc__ = (f"{spec.doc}\n\nAn oracle over the whole run: judges {spec.scope}, whichever check made the "
                      "request; `collections` narrows it to those collections.")
    return judged


for _spec in ORACLES.values():
    check(ORACLE_PREFIX + _spec.name)(_as_check(_spec))
