"""The status model: issue, suspend, reinstate, expire, supersede, revoke — each change recorded with its run and
report — and the registry document's serial, on SQLite without a server (outcomes made by hand)."""

import json
from datetime import timedelta

import pytest
from registry_helpers import make_report
from sqlalchemy import select

from conformance_registry.errors import RegistryError
from conformance_registry.models import Certificate, Platform, Run
from conformance_registry.service import (
    apply_outcome,
    claim,
    now,
    queue_run,
    register,
    registry_document,
    revoke,
    sweep,
)
from conformance_registry.signing import signature_problem
from conformance_registry.suite import RunOutcome

BASE = "http://platform.test"


def outcome(verdict="conformant", version="1.0.0", exit_code=None, error=None):
    if error:
        return RunOutcome(exit_code, None, None, error)
    report = make_report(BASE, verdict, version)
    return RunOutcome(0 if verdict == "conformant" else 1 if exit_code is None else exit_code,
                      json.dumps(report), report, None)


def run_with(ctx, result, certificate_id=None, trigger="certify"):
    """Queue, claim and finish one run of the platform with ``result``; the run's outcome certificate."""
    with ctx.sessions.begin() as session:
        platform = register(session, ctx.vault, name="P <b>", vendor="V", base_url=BASE, profile="core",
                            token="secret-token-123456", credentials=None)
        session.flush()
        run_id = queue_run(session, platform, "core", trigger, certificate_id).id
    with ctx.sessions.begin() as session:
        run = claim(session, run_id)
        assert run is not None and claim(session, run_id) is None  # a second worker cannot take it
        apply_outcome(ctx, session, run, result)
        return run.outcome_certificate_id, run.state


def history(ctx, certificate_id):
    with ctx.sessions() as session:
        certificate = session.get_one(Certificate, certificate_id)
        return certificate.status, [(h.status, h.report_digest is not None, h.run_id is not None)
                                    for h in certificate.history]


def test_conformant_run_issues_a_signed_certificate_binding_target_profile_suite_and_report(ctx):
    certificate_id, state = run_with(ctx, outcome())
    assert state == "finished"
    with ctx.sessions() as session:
        document = session.get_one(Certificate, certificate_id).document
    assert signature_problem(document, ctx.key.public_key()) is None
    assert document["target"] == {"base_url": BASE} and document["profile"]["version"] == "1.0.0"
    assert document["suite"]["digest"] == "sha256:" + "1" * 64 and document["schemas_digest"].startswith("sha256:")
    assert document["report"]["digest"].startswith("sha256:") and document["report"]["url"].startswith(
        "http://registry.test/reports/sha256:")
    forged = {**document, "valid_until": "2099-01-01T00:00:00Z"}
    assert signature_problem(forged, ctx.key.public_key()) == "its signature does not hold under the given public key"


def test_not_conformant_first_run_issues_nothing(ctx):
    assert run_with(ctx, outcome("not-conformant")) == (None, "finished")
    assert run_with(ctx, outcome(error="the suite exited 2 without a report: cannot reach"))[1] == "failed"
    with ctx.sessions() as session:
        assert session.scalars(select(Certificate)).all() == []
        assert len(session.scalars(select(Platform)).all()) == 1  # registered once, by name and base URL


def test_suspended_by_a_failing_rerun_valid_again_after_a_conformant_one(ctx):
    certificate_id, _ = run_with(ctx, outcome())
    assert run_with(ctx, outcome("not-conformant"), certificate_id, "recertify")[0] == certificate_id
    assert history(ctx, certificate_id)[0] == "suspended"
    run_with(ctx, outcome(error="the run passed its time limit of 5 s and was stopped"), certificate_id)
    assert run_with(ctx, outcome(), certificate_id, "recertify")[0] == certificate_id
    status, changes = history(ctx, certificate_id)
    assert status == "valid"
    assert changes == [("valid", True, True), ("suspended", True, True), ("valid", True, True)]


def test_incomplete_or_a_disagreeing_exit_status_is_not_conformant(ctx):
    certificate_id, _ = run_with(ctx, outcome())
    run_with(ctx, outcome("incomplete"), certificate_id)
    assert history(ctx, certificate_id)[0] == "suspended"
    run_with(ctx, outcome(), certificate_id)
    lying = make_report(BASE, "conformant")
    run_with(ctx, RunOutcome(1, json.dumps(lying), lying, None), certificate_id)  # exit 1 with "conformant"
    assert history(ctx, certificate_id)[0] == "suspended"


def test_a_new_profile_version_supersedes_and_revocation_is_final(ctx):
    old, _ = run_with(ctx, outcome())
    new, _ = run_with(ctx, outcome(version="1.1.0"))
    assert new != old and history(ctx, old)[0] == "superseded" and history(ctx, new)[0] == "valid"
    with ctx.sessions.begin() as session:
        revoke(session, session.get_one(Certificate, new), "key compromise <script>")
    run_with(ctx, outcome("not-conformant", version="1.1.0"))
    run_with(ctx, outcome(version="1.1.0"))  # a later conformant run issues a new certificate, never un-revokes
    assert history(ctx, new)[0] == "revoked"
    with ctx.sessions.begin() as session, pytest.raises(RegistryError, match="already revoked"):
        revoke(session, session.get_one(Certificate, new), "again")


def test_the_same_url_declaring_another_identity_earns_a_new_certificate(ctx):
    old, _ = run_with(ctx, outcome())
    moved = make_report(BASE) | {"target": {"base_url": BASE, "platform": {"name": "Another", "version": "2"}}}
    new, _ = run_with(ctx, RunOutcome(0, json.dumps(moved), moved, None))
    assert new != old and history(ctx, old)[0] == "superseded"
    with ctx.sessions() as session:
        assert session.get_one(Certificate, new).document["target"]["platform"]["name"] == "Another"
        reason = session.get_one(Certificate, old).history[-1].reason
    assert reason.endswith("version 1.0.0, another target binding)")


def test_validity_passing_expires_and_the_schedule_queues_reruns_once(ctx):
    certificate_id, _ = run_with(ctx, outcome())
    with ctx.sessions.begin() as session:
        certificate = session.get_one(Certificate, certificate_id)
        certificate.last_run_at = now() - timedelta(days=2)
    queued = sweep(ctx)
    assert len(queued) == 1 and sweep(ctx) == []  # not twice while one is queued
    with ctx.sessions() as session:
        run = session.get_one(Run, queued[0])
        assert (run.trigger, run.certificate_id, run.state) == ("schedule", certificate_id, "queued")
    with ctx.sessions.begin() as session:  # its worker died: the run was claimed long ago and never finished
        session.get_one(Run, queued[0]).state = "running"
        session.get_one(Run, queued[0]).started_at = now() - timedelta(seconds=ctx.settings.run_timeout + 601)
    requeued = sweep(ctx)  # the lost run is failed and another queued in its place
    assert len(requeued) == 1 and requeued != queued
    with ctx.sessions() as session:
        assert session.get_one(Run, queued[0]).state == "failed"
    with ctx.sessions.begin() as session:
        session.get_one(Certificate, certificate_id).valid_until = now() - timedelta(seconds=1)
    document = registry_document(ctx)
    entry = document["entries"][0]
    assert entry["status"] == "expired" and [h["status"] for h in entry["statusReports"]] == ["valid", "expired"]


def test_the_registry_serial_rises_only_when_what_it_lists_changes(ctx):
    first = registry_document(ctx)
    assert first["no"] == registry_document(ctx)["no"] and first["entries"] == []
    certificate_id, _ = run_with(ctx, outcome())
    second = registry_document(ctx)
    assert second["no"] == first["no"] + 1 and registry_document(ctx)["no"] == second["no"]
    assert signature_problem(second, ctx.key.public_key()) is None
    assert second["nextUpdate"] > now().date().isoformat()
    entry = second["entries"][0]
    assert entry["certificateId"] == certificate_id and entry["platform"]["name"] == "P <b>"
    assert set(entry) >= {"certificate", "status", "statusReports", "timeOfLastStatusChange"}
    assert "secret-token-123456" not in json.dumps(second)
