"""``registry verify``, the buyer's check: exit 0 only when the certificate's signature holds under the key the buyer
gives, the signed registry document verifies, is current, lists it, and its status is ``valid``; else one line."""

import copy
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conformance_registry.cli import main
from conformance_registry.signing import sign_document

URL = "http://registry.test"
ID = "SCC-0123456789AB"


def certificate(key, **changes):
    until = (datetime.now(UTC) + timedelta(days=300)).isoformat()
    return sign_document({"certificate_id": ID, "valid_until": until, "target": {"base_url": "http://p.test"}}
                         | changes, key)


def registry(key, cert, status="valid", next_update=None, reason="issued"):
    next_update = next_update or (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    entry = {"certificateId": cert["certificate_id"], "status": status, "certificate": cert,
             "statusReports": [{"status": status, "reason": reason}]}
    return sign_document({"no": 3, "nextUpdate": next_update, "entries": [entry]}, key)


@pytest.fixture
def body(tmp_path):
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "body.pub"
    path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo))
    return key, str(path)


def verify(capsys, public, document, published):
    with respx.mock(assert_all_called=False) as mock:
        mock.get(f"{URL}/registry.json").mock(return_value=httpx.Response(200, json=document))
        mock.get(f"{URL}/api/certificates/{ID}").mock(return_value=httpx.Response(200, json={"certificate": published}))
        code = main(["verify", ID, "--registry", URL, "--public-key", public])
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 1, out
    return code, out.strip()


def test_a_valid_listed_certificate_signed_by_the_body_verifies(body, capsys):
    key, public = body
    cert = certificate(key)
    assert verify(capsys, public, registry(key, cert), cert) == (0, f"certificate {ID} valid: signed by the body's "
                                                                     "key, listed in the signed registry")


def test_every_way_it_can_fail_is_one_line_exit_1(body, capsys):
    key, public = body
    other = Ed25519PrivateKey.generate()
    cert = certificate(key)
    edited = copy.deepcopy(registry(key, cert, status="suspended"))
    edited["entries"][0]["status"] = "valid"  # a man in the middle turns suspended into valid
    foreign = certificate(other)  # a certificate the body never signed, in a registry it did sign
    cases = [
        (registry(other, certificate(other)), certificate(other), "the registry document is not trustworthy: its "
                                                                  "signature does not hold under the given public key"),
        (edited, cert, "the registry document is not trustworthy"),
        ({**registry(key, cert), "signature": None}, cert, "the registry document is not trustworthy: it carries no "
                                                           "signature"),
        (registry(key, cert, next_update="2020-01-01"), cert, "the registry document is stale: its nextUpdate "
                                                             "2020-01-01 has passed"),
        (sign_document({"no": 1, "nextUpdate": "2999-01-01", "entries": []}, key), cert,
         f"certificate {ID} is not listed in the registry (no 1)"),
        (registry(key, foreign), foreign, f"certificate {ID} is not the body's: its signature does not hold"),
        (registry(key, cert), certificate(key, target={"base_url": "http://other.test"}),
         f"certificate {ID} as published differs from the one the signed registry lists"),
        (registry(key, cert, status="suspended", reason="re-run not conformant\x1b[31m"), cert,
         f"certificate {ID} is suspended: re-run not conformant\\x1b[31m"),
        (registry(key, expired := certificate(key, valid_until="2021-01-01T00:00:00+00:00")), expired,
         f"certificate {ID} expired at 2021-01-01T00:00:00+00:00"),
    ]
    for document, published, expected in cases:
        code, line = verify(capsys, public, document, published)
        assert code == 1 and line.startswith(expected), (expected, line)


def test_an_unreachable_registry_is_exit_1_and_a_missing_key_file_exit_2(body, capsys, tmp_path):
    _, public = body
    with respx.mock() as mock:
        mock.get(f"{URL}/registry.json").mock(side_effect=httpx.ConnectError("refused"))
        assert main(["verify", ID, "--registry", URL, "--public-key", public]) == 1
    assert capsys.readouterr().out.startswith(f"cannot reach the registry at {URL}/registry.json")
    assert main(["verify", ID, "--registry", URL, "--public-key", str(tmp_path / "none.pub")]) == 2
    assert "none.pub" in capsys.readouterr().err
