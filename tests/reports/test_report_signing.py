"""Signed reports: keygen, sign, verify; any edited byte fails verification with a reason."""

import base64
import json

import pytest

from conformance.cli import main
from conformance.errors import UsageError
from conformance.reports.signing import generate_keys, serialise, sign_report, verify_report


@pytest.fixture
def keys(tmp_path):
    generate_keys(tmp_path / "k.key", tmp_path / "k.pub")
    return tmp_path / "k.key", tmp_path / "k.pub"


def test_cli_keygen_sign_verify_on_a_real_report(report_copy, tmp_path, capsys):
    report, keys = report_copy("faulty"), tmp_path / "keys"
    assert main(["report", "keygen", "--out", str(keys)]) == 0
    assert main(["report", "sign", str(report), "--key", str(keys / "report-signing.key")]) == 0
    assert main(["report", "verify", str(report), "--public-key", str(keys / "report-signing.pub")]) == 0
    assert "verified" in capsys.readouterr().out

    text = report.read_text(encoding="utf-8")
    report.write_text(text.replace('"verdict": "not-conformant"', '"verdict": "conformant"', 1), encoding="utf-8")
    assert main(["report", "verify", str(report)]) == 1
    assert "edited after it was signed" in capsys.readouterr().err


def test_every_sampled_byte_edit_is_detected(report_copy, keys):
    path = report_copy("faulty")
    sign_report(path, keys[0])
    original = path.read_bytes()
    assert verify_report(path, keys[1]) == []
    for position in range(0, len(original), max(1, len(original) // 40)):
        edited = bytearray(original)
        edited[position] = ord("x") if edited[position] != ord("x") else ord("y")
        path.write_bytes(bytes(edited))
        assert verify_report(path, keys[1]), f"an edit at byte {position} went unnoticed"


def test_whitespace_edit_is_detected(report_copy, keys):
    path = report_copy("clean")
    sign_report(path, keys[0])
    path.write_text(path.read_text(encoding="utf-8").replace('\n  "seed"', '\n   "seed"'), encoding="utf-8")
    assert any("whitespace" in problem for problem in verify_report(path))


def test_resigned_evidence_edit_fails_its_digest(report_copy, keys):
    path = report_copy("faulty")
    report = json.loads(path.read_text(encoding="utf-8"))
    exchange = next(x for r in report["requirements"] for c in r["checks"] for x in c["evidence"]
                    if "response" in x and not x["response"]["truncated"])
    exchange["response"]["body"] += " "
    path.write_text(serialise(report), encoding="utf-8")
    sign_report(path, keys[0])  # a forger can sign, but the evidence no longer matches its digest
    problems = verify_report(path, keys[1])
    assert len(problems) == 1 and "does not match its digest" in problems[0]


def test_another_signer_is_not_trusted(report_copy, keys, tmp_path):
    path = report_copy("clean")
    generate_keys(tmp_path / "other.key", tmp_path / "other.pub")
    sign_report(path, tmp_path / "other.key")
    assert verify_report(path, tmp_path / "other.pub") == []
    assert any("not by the trusted key" in p for p in verify_report(path, keys[1]))
    # without a trusted key a valid signature proves nothing: anyone can re-sign an edited report
    assert any("signed by an unknown key" in p for p in verify_report(path))


def test_unsigned_and_malformed_signatures_are_reported(report_copy, keys):
    path = report_copy("clean")
    assert "not signed" in verify_report(path)[0]
    sign_report(path, keys[0])
    report = json.loads(path.read_text(encoding="utf-8"))
    report["signature"]["value"] = base64.b64encode(b"short").decode()
    path.write_text(serialise(report), encoding="utf-8")
    assert verify_report(path)


def test_keygen_never_overwrites_a_key(keys):
    with pytest.raises(UsageError, match="exists"):
        generate_keys(keys[0], keys[1])


def test_an_edit_inside_the_signature_block_is_detected(report_copy, keys):
    path = report_copy("clean")
    sign_report(path, keys[0])
    report = json.loads(path.read_text(encoding="utf-8"))
    report["signature"]["key_id"] = "x" + report["signature"]["key_id"][1:]
    path.write_text(serialise(report), encoding="utf-8")
    assert any("signature block was edited (key_id" in problem for problem in verify_report(path, keys[1]))
