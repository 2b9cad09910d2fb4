"""The guarantee profile's inputs: roles from a credentials file, manual requirements and attestations."""

import hashlib

from conformance.attestations import Attestation
from conformance.checks import validate_call
from conformance.credentials import Credentials
from conformance.profiles import load_profile
from conformance.runner import Runner
from conformance.session import RunSession
from conformance.target import Target

PROFILE = load_profile("guarantee", validate_check=validate_call)


def run(base_url, token, ids, **session):
    target = Target(base_url, token=token)
    try:
        runner = Runner(RunSession(target, seed=7, **session))
        return {r.id: runner.run_requirement(r, PROFILE.id) for r in PROFILE.requirements if r.id in ids}
    finally:
        target.close()


def test_institutions_are_manual_without_an_attestation(reference):
    with reference() as (base_url, token):
        results = run(base_url, token, {"GUA-INST-001"}, attestations={})
    result = results["GUA-INST-001"]
    assert result.verdict.value == "manual"
    assert "--attestations FILE" in result.checks[0].message


def test_an_attestation_whose_local_document_changed_fails(reference, tmp_path):
    document = tmp_path / "funding.txt"
    document.write_text("funded until 2028")
    stale = hashlib.sha256(b"funded until 2027").hexdigest()
    attestation = Attestation("GUA-INST-001", "Li Na", "funded", "funding.txt", stale, tmp_path)
    with reference() as (base_url, token):
        results = run(base_url, token, {"GUA-INST-001"}, attestations={"GUA-INST-001": attestation})
    assert results["GUA-INST-001"].verdict.value == "fail"
    assert "re-attest" in results["GUA-INST-001"].checks[0].message


def test_an_attested_document_that_matches_passes_with_who_attested(reference, tmp_path):
    document = tmp_path / "charter.txt"
    document.write_bytes(b"joint meeting charter")
    attestation = Attestation("GUA-INST-002", "Wang Fang, residents' committee", "charter in force", "charter.txt",
                              hashlib.sha256(b"joint meeting charter").hexdigest(), tmp_path)
    with reference() as (base_url, token):
        results = run(base_url, token, {"GUA-INST-002"}, attestations={"GUA-INST-002": attestation})
    assert results["GUA-INST-002"].verdict.value == "pass"
    assert "Wang Fang" in results["GUA-INST-002"].checks[0].message


def test_missing_roles_make_their_requirements_inconclusive_and_say_how_to_supply_them(reference):
    with reference() as (base_url, token):
        results = run(base_url, token, {"GUA-AUTHZ-002", "GUA-AUDIT-002"}, credentials=Credentials.single(token))
    for result in results.values():
        assert result.verdict.value == "inconclusive"
        assert "--credentials FILE" in result.checks[0].message


def test_the_embedded_reference_hands_out_every_role_and_no_token_reaches_a_report(reference):
    with reference() as embedded:
        credentials = embedded.credentials
        assert {"admin", "reader", "pii-reader", "auditor", "tenant-a", "tenant-b", "expired"} <= set(credentials.roles)
        assert credentials.get("tenant-a").community != credentials.get("tenant-b").community
        results = run(embedded[0], embedded[1], {"GUA-AUTHN-001", "GUA-AUTHZ-002"})
    text = str([r.to_transport() for r in results.values()])
    assert all(role.token not in text for role in credentials.roles.values())
