import hashlib

import pytest

from conformance.attestations import load_attestations
from conformance.errors import UsageError


def test_an_attestation_names_who_what_and_the_document_digest(tmp_path):
    document = tmp_path / "funding.pdf"
    document.write_bytes(b"budget line 2130-07")
    digest = hashlib.sha256(document.read_bytes()).hexdigest()
    file = tmp_path / "attest.yaml"
    file.write_text(f"attestations:\n- requirement: GUA-INST-001\n  attested_by: Li Na, street office\n"
                    f"  statement: funded 2026-2028\n  document: {{reference: funding.pdf, sha256: 'sha256:{digest}'}}\n"
                    f"- requirement: GUA-INST-002\n  attested_by: Wang\n  statement: charter\n"
                    f"  document: {{reference: /documents/charter, sha256: {digest}}}\n")
    attestations = load_attestations(file)
    funding = attestations["GUA-INST-001"]
    assert funding.sha256 == digest and not funding.on_target
    assert funding.local_document().read_bytes() == b"budget line 2130-07"
    assert attestations["GUA-INST-002"].on_target


@pytest.mark.parametrize("entry, message", [
    ("- {requirement: X, attested_by: A, statement: S}", "needs `document"),
    ("- {requirement: X, attested_by: A, statement: S, document: {reference: f, sha256: abc}}", "64 hex digits"),
    ("- {requirement: X, statement: S, document: {reference: f, sha256: abc}}", "non-empty `attested_by`"),
])
def test_an_incomplete_attestation_is_a_usage_error(tmp_path, entry, message):
    file = tmp_path / "attest.yaml"
    file.write_text("attestations:\n" + entry + "\n")
    with pytest.raises(UsageError, match=message):
        load_attestations(file)
