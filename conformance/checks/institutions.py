"""Institutional mechanisms no API can show: manual unless attested, and an attestation's document must match."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from ..attestations import Attestation
from ..results import Finding, fail
from ..session import CheckContext
from ..verdicts import Verdict
from . import check

_HOW = ("supply --attestations FILE with an entry {requirement: %s, attested_by, statement, "
        "document: {reference: <file, or a path on the platform>, sha256}}")


def _document(ctx: CheckContext, attestation: Attestation) -> bytes | Finding:
    if attestation.on_target:
        exchange = ctx.get(attestation.reference)
        if exchange.status != 200 or exchange.truncated:
            return fail(f"the attested document {attestation.reference} answered {exchange.status}",
                        expected=200, found=exchange.status)
        return exchange.body
    try:
        return attestation.read_local()  # inside the attestation file's folder, a regular file, size-capped
    except OSError as exc:
        return fail(f"the attested document {attestation.reference} cannot be read: {exc.strerror}")


@check("institutions.attested")
def attested(ctx: CheckContext, *, topic: str) -> Iterator[Finding]:
    """Manual until attested; an attestation passes when its document still has the attested digest."""
    attestation = ctx.session.attestations.get(ctx.requirement.id)
    if attestation is None:
        yield Finding(Verdict.MANUAL, f"{topic} cannot be shown through the API and needs a human attestation: "
                                      + _HOW % ctx.requirement.id)
        return
    document = _document(ctx, attestation)
    if isinstance(document, Finding):
        yield document
        return
    digest = hashlib.sha256(document).hexdigest()
    if digest != attestation.sha256:
        yield fail(f"the document {attestation.reference} no longer matches the attestation by "
                   f"{attestation.attested_by}: it changed after it was attested; re-attest the current version",
                   expected=f"sha256:{attestation.sha256}", found=f"sha256:{digest}")
        return
    yield Finding(Verdict.PASS, f"attested by {attestation.attested_by}: {attestation.statement} "
                                f"(document {attestation.reference}, sha256:{digest[:16]}… verified)")
