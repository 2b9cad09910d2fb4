"""What the body does with platforms, runs and certificates: issue, suspend, reinstate, expire, supersede, revoke,
and the signed registry document that publishes them (FIDO Metadata Service shape)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from .errors import RegistryError
from .models import Certificate, Platform, RegistryState, Report, Run, StatusReport
from .settings import Settings
from .signing import key_id, sign_document
from .suite import RunOutcome
from .vault import Vault

__all__ = ["LIVE", "Context", "apply_outcome", "claim", "expire_due", "fail_run", "queue_run", "register",
           "registry_document", "revoke", "sweep"]

LIVE = ("valid", "suspended")  # statuses a run can still change
LEGAL_HEADER = ("Each entry is a certificate issued by this body after it ran the Smart Community Conformance Suite "
                "itself against the platform named; rely on an entry only after verifying this document's signature "
                "with the body's public key obtained out of band, and only while its status is `valid`.")


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def stamp(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6).upper()}"


@dataclass(frozen=True)
class Context:
    """Everything a run or a request needs: settings, the database, the body's key, the vault of vendors' tokens."""

    settings: Settings
    sessions: sessionmaker[Session]
    key: Ed25519PrivateKey
    vault: Vault
    body_name: str = "Smart Community Certification Body"


def register(session: Session, vault: Vault, *, name: str, vendor: str, base_url: str, profile: str,
             token: str, credentials: str | None) -> Platform:
    """The platform named ``name`` at ``base_url`` (registered now if new), holding the given secrets from now on."""
    sealed = vault.seal({"token": token, "credentials": credentials})
    platform = session.scalars(select(Platform).where(Platform.name == name, Platform.base_url == base_url)).first()
    if platform is None:
        platform = Platform(id=new_id("PLAT"), name=name, vendor=vendor, base_url=base_url, profiles=[profile],
                            sealed_secrets=sealed, created_at=now())
        session.add(platform)
    else:
        platform.sealed_secrets = sealed
        platform.vendor = vendor or platform.vendor
        if profile not in platform.profiles:
            platform.profiles = [*platform.profiles, profile]
    return platform


def queue_run(session: Session, platform: Platform, profile: str, trigger: str,
              certificate_id: str | None = None) -> Run:
    run = Run(id=new_id("RUN"), platform_id=platform.id, profile_id=profile, certificate_id=certificate_id,
              trigger=trigger, state="queued", attempts=0, queued_at=now())
    session.add(run)
    return run


def claim(session: Session, run_id: str) -> Run | None:
    """The run, now ``running``, if it was queued; None when another worker took it or it is done."""
    run = session.scalars(select(Run).where(Run.id == run_id).with_for_update()).first()
    if run is None or run.state != "queued":
        return None
    run.state, run.started_at, run.attempts = "running", now(), run.attempts + 1
    return run


def _history(session: Session, certificate: Certificate, status: str, reason: str, run: Run | None,
             when: datetime) -> None:
    certificate.status, certificate.status_changed_at = status, when
    session.add(StatusReport(certificate_id=certificate.id, status=status, effective_at=when, reason=reason[:2000],
                             run_id=run.id if run else None, report_digest=run.report_digest if run else None))


def _binding(target: dict[str, Any]) -> dict[str, Any]:
    """The target binding the report declares (base URL, and identity and TLS fingerprint when it carries them)."""
    return {name: target[name] for name in ("base_url", "identity", "platform", "tls_fingerprint", "reference_platform")
            if name in target}


def _issue(ctx: Context, session: Session, platform: Platform, run: Run, report: dict[str, Any],
           when: datetime) -> Certificate:
    profile = report["profile"]
    certificate_id = new_id("SCC")
    valid_until = when + timedelta(seconds=ctx.settings.validity)
    document = {
        "certificate_id": certificate_id,
        "issuer": {"name": ctx.body_name, "key_id": key_id(ctx.key.public_key())},
        "platform": {"id": platform.id, "name": platform.name, "vendor": platform.vendor},
        "target": _binding(report["target"]),
        "suite": {k: report["suite"][k] for k in ("name", "version", "digest") if k in report["suite"]},
        "profile": {k: profile[k] for k in ("id", "version", "digest", "title") if k in profile},
        "schemas_digest": report["schemas_digest"],
        "issued_at": stamp(when), "valid_from": stamp(when), "valid_until": stamp(valid_until),
        "report": {"digest": run.report_digest, "url": f"{ctx.settings.public_url}/reports/{run.report_digest}.json",
                   "verdict": report["verdict"], "seed": report.get("seed"), "started_at": report["started_at"],
                   "finished_at": report["finished_at"]},
    }
    certificate = Certificate(id=certificate_id, platform_id=platform.id, profile_id=profile["id"],
                              profile_version=profile["version"], document=sign_document(document, ctx.key),
                              status="valid", issued_at=when, valid_until=valid_until, last_run_at=when,
                              status_changed_at=when)
    session.add(certificate)
    session.flush()
    _history(session, certificate, "valid", f"issued on a conformant run ({run.id})", run, when)
    return certificate


def _live(session: Session, platform_id: str, profile_id: str) -> list[Certificate]:
    return list(session.scalars(select(Certificate).where(
        Certificate.platform_id == platform_id, Certificate.profile_id == profile_id,
        Certificate.status.in_(LIVE)).order_by(Certificate.issued_at)))


def apply_outcome(ctx: Context, session: Session, run: Run, outcome: RunOutcome) -> None:
    """Record the run and change the certificates of its platform and profile as the outcome says."""
    when = now()
    run.exit_code, run.finished_at, run.error = outcome.exit_code, when, outcome.error
    if outcome.report is not None and outcome.report_text is not None and outcome.digest is not None:
        run.verdict, run.report_digest = str(outcome.report.get("verdict")), outcome.digest
        if session.get(Report, outcome.digest) is None:
            session.add(Report.of(outcome.digest, outcome.report_text, when))
    run.state = "finished" if outcome.report is not None else "failed"
    platform = session.get(Platform, run.platform_id)
    assert platform is not None  # a run is only queued for a registered platform (foreign key)
    live = _live(session, platform.id, run.profile_id)
    for certificate in live:
        certificate.last_run_at = when
    if outcome.conformant and outcome.report is not None:
        version = str(outcome.report["profile"]["version"])
        binding = _binding(outcome.report["target"])
        # a certificate vouches for one profile version and one target binding: a conformant run of another version,
        # or of the same URL now declaring another identity or TLS certificate, earns a new one that supersedes it
        same = [c for c in live if c.profile_version == version and c.document.get("target") == binding]
        for certificate in same:
            if certificate.status == "suspended":
                _history(session, certificate, "valid", f"conformant again ({run.id})", run, when)
        if same:
            run.outcome_certificate_id = same[-1].id
            return
        issued = _issue(ctx, session, platform, run, outcome.report, when)
        for certificate in live:
            _history(session, certificate, "superseded",
                     f"superseded by {issued.id} (profile {run.profile_id} version {version}"
                     + (")" if certificate.profile_version != version else ", another target binding)"), run, when)
        run.outcome_certificate_id = issued.id
        return
    reason = (f"re-run not conformant: verdict {run.verdict} ({run.id})" if run.verdict
              else f"re-run failed: {outcome.error} ({run.id})")
    for certificate in live:
        if certificate.status == "valid":
            _history(session, certificate, "suspended", reason, run, when)
    # the certificate this run speaks for: the one re-certified, else the newest of the platform's profile
    run.outcome_certificate_id = run.certificate_id or (live[-1].id if live else None)


def fail_run(session: Session, run: Run, error: str) -> None:
    run.state, run.error, run.finished_at = "failed", error[:2000], now()


def revoke(session: Session, certificate: Certificate, reason: str) -> None:
    if certificate.status == "revoked":
        raise RegistryError(f"certificate {certificate.id} is already revoked")
    _history(session, certificate, "revoked", reason, None, now())


def expire_due(session: Session) -> int:
    """Mark expired every live certificate whose validity has passed; how many."""
    when = now()
    due = list(session.scalars(select(Certificate).where(Certificate.status.in_(LIVE),
                                                         Certificate.valid_until <= when)))
    for certificate in due:
        _history(session, certificate, "expired", f"validity ended {stamp(certificate.valid_until)}", None, when)
    return len(due)


def sweep(ctx: Context) -> list[str]:
    """Expire what is due, fail runs whose worker vanished, and queue a scheduled re-run of every live certificate
    not run for a period; the ids of the runs queued."""
    queued = []
    with ctx.sessions.begin() as session:
        expire_due(session)
        lost = now() - timedelta(seconds=ctx.settings.run_timeout + 600)  # past its own time limit and then some
        for run in session.scalars(select(Run).where(Run.state == "running", Run.started_at <= lost)):
            fail_run(session, run, "the worker stopped during the run (no result past its time limit)")
        cutoff = now() - timedelta(seconds=ctx.settings.recertify_every)
        pending = set(session.scalars(select(Run.certificate_id).where(Run.state.in_(("queued", "running")))))
        for certificate in session.scalars(select(Certificate).where(Certificate.status.in_(LIVE),
                                                                     Certificate.last_run_at <= cutoff)):
            if certificate.id not in pending:
                queued.append(queue_run(session, certificate.platform, certificate.profile_id, "schedule",
                                        certificate.id).id)
    return queued


def _entry(ctx: Context, certificate: Certificate) -> dict[str, Any]:
    base = ctx.settings.public_url
    return {
        "certificateId": certificate.id,
        "platform": {"id": certificate.platform.id, "name": certificate.platform.name,
                     "vendor": certificate.platform.vendor, "base_url": certificate.platform.base_url},
        "profile": {"id": certificate.profile_id, "version": certificate.profile_version},
        "status": certificate.status,
        "timeOfLastStatusChange": stamp(certificate.status_changed_at),
        "lastRun": stamp(certificate.last_run_at),
        "certificate": certificate.document,
        "statusReports": [{"status": item.status, "effectiveDate": stamp(item.effective_at), "reason": item.reason,
                           **({"run": item.run_id} if item.run_id else {}),
                           **({"report": {"digest": item.report_digest,
                                          "url": f"{base}/reports/{item.report_digest}.json"}}
                              if item.report_digest else {})}
                          for item in certificate.history],
    }


def registry_document(ctx: Context) -> dict[str, Any]:
    """The signed registry: ``no`` (raised whenever the entries change), ``nextUpdate`` and every certificate."""
    for attempt in range(3):
        try:
            with ctx.sessions.begin() as session:
                expire_due(session)
                certificates = session.scalars(select(Certificate).order_by(Certificate.issued_at, Certificate.id))
                entries = [_entry(ctx, c) for c in certificates]
                digest = "sha256:" + hashlib.sha256(rfc8785.dumps(entries)).hexdigest()
                state = session.scalars(select(RegistryState).where(RegistryState.id == 1).with_for_update()).first()
                if state is None:
                    state = RegistryState(id=1, serial=1, content_digest=digest, updated_at=now())
                    session.add(state)
                elif state.content_digest != digest:
                    state.serial, state.content_digest, state.updated_at = state.serial + 1, digest, now()
                serial, updated = state.serial, state.updated_at
            break
        except IntegrityError:  # two first requests raced to create the serial's row
            if attempt == 2:
                raise
    next_update = (now() + timedelta(seconds=max(ctx.settings.recertify_every, 86400))).date()
    document = {"legalHeader": LEGAL_HEADER, "no": serial, "nextUpdate": next_update.isoformat(),
                "updatedAt": stamp(updated),
                "issuer": {"name": ctx.body_name, "key_id": key_id(ctx.key.public_key())}, "entries": entries}
    return sign_document(document, ctx.key)
