"""A report is bound to the platform it measured: --rerun-failed, --lf and --baseline refuse a report of another
target (before any requirement runs), --allow-moved-target accepts a moved URL of the same platform, and on https the
report records the certificate's fingerprint."""

import datetime
import hashlib
import http.server
import json
import os
import ssl
import subprocess
import sys
import threading
from pathlib import Path
from typing import NamedTuple

import pytest
from report_runs import CLI, FAULTS

from conformance.embedded import embedded_reference
from conformance.preflight import TargetBinding, tls_fingerprint
from conformance.reports.binding import Allowance, describe, mismatch
from conformance.reports.signing import generate_keys, serialise, sign_report
from conformance.target import Target

IDENTITY = {"name": "Reference platform", "vendor": "Smart Community Conformance Suite", "version": "1.0.0",
            "standard_version": "1.0"}
SELECTED = ("-k", "CORE-DISC-001 or CORE-HTTP-001")


def load(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


class Platform(NamedTuple):
    base_url: str
    token: str


def cli(*args, cwd, token, timeout=300, env=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SC_")} | {"SC_TOKEN": token} | (env or {})
    return subprocess.run([*CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def platforms(tmp_path_factory):
    """Platform A (faulty) with its report of two requirements, and platform B (a second instance, another port)."""
    root = tmp_path_factory.mktemp("binding")
    with embedded_reference(FAULTS) as (a_url, a_token), embedded_reference() as (b_url, b_token):
        a, b = Platform(a_url, a_token), Platform(b_url, b_token)
        done = cli("run", "-q", "--base-url", a.base_url, "--profile", "core", *SELECTED, "--report-dir", "a",
                   cwd=root, token=a.token)
        assert done.returncode == 1, done.stdout + done.stderr
        yield {"a": a, "b": b, "report": root / "a" / "core" / "report.json"}


def test_the_report_records_the_platforms_declared_identity(platforms):
    target = load(platforms["report"])["target"]
    assert target["base_url"] == platforms["a"].base_url and target["reference_platform"] is False
    assert target["platform"] == IDENTITY
    assert "tls_fingerprint" not in target  # plain http: there is no certificate to bind


def test_rerun_failed_against_another_platform_is_refused_before_any_requirement(platforms, tmp_path):
    a, b = platforms["a"], platforms["b"]
    done = cli("run", "--base-url", b.base_url, "--rerun-failed", str(platforms["report"]), "--report-dir", "out",
               cwd=tmp_path, token=b.token)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert (f"report was made against {a.base_url} (Reference platform 1.0.0, Smart Community Conformance Suite), "
            f"not {b.base_url}") in lines[0]
    assert "--allow-moved-target" in lines[0]
    assert "passed" not in done.stdout and "failed" not in done.stdout and not (tmp_path / "out/core").exists()


def test_a_trusted_all_pass_report_of_another_platform_no_longer_certifies_it(platforms, tmp_path):
    """The issue's finding: with an all-pass trusted report of one platform, --rerun-failed against another
    re-ran nothing and exited 0. Now the preflight's binding refuses it first."""
    a, b = platforms["a"], platforms["b"]
    done = cli("run", "-q", "--base-url", b.base_url, "--profile", "core", "--report-dir", "b", cwd=tmp_path,
               token=b.token)
    assert done.returncode == 0, done.stdout + done.stderr
    generate_keys(tmp_path / "k.key", tmp_path / "k.pub")
    sign_report(tmp_path / "b/core/report.json", tmp_path / "k.key")
    env_keys = {"SC_TRUSTED_KEYS": str(tmp_path / "k.pub")}
    done = cli("run", "--base-url", a.base_url, "--rerun-failed", "b/core/report.json", "--report-dir", "out",
               cwd=tmp_path, token=a.token, env=env_keys)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"report was made against {b.base_url}" in done.stderr and "nothing to re-run" not in done.stdout
    same = cli("run", "--base-url", b.base_url, "--rerun-failed", "b/core/report.json", "--report-dir", "out",
               cwd=tmp_path, token=b.token, env=env_keys)  # against its own platform: nothing to re-run, exit 0
    assert same.returncode == 0 and "nothing to re-run" in same.stdout, same.stdout + same.stderr


def test_baseline_of_another_platform_is_refused(platforms, tmp_path):
    b = platforms["b"]
    done = cli("run", "-q", "--base-url", b.base_url, "--profile", "core", *SELECTED, "--baseline",
               str(platforms["report"]), "--report-dir", "out", cwd=tmp_path, token=b.token)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"--baseline {platforms['report']}: report was made against {platforms['a'].base_url}" in done.stderr
    assert not (tmp_path / "out/core/report.json").exists()


def test_lf_in_the_pytest_door_refuses_the_report_of_another_platform(platforms, tmp_path):
    b = platforms["b"]
    (tmp_path / "reports/core").mkdir(parents=True)
    (tmp_path / "reports/core/report.json").write_bytes(platforms["report"].read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("SC_")} | {"SC_TOKEN": b.token}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "--sc-base-url", b.base_url,
                           "--sc-profile", "core", "--lf", "--sc-report-dir", "reports", *SELECTED],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 4, done.stdout + done.stderr  # pytest's usage error
    assert f"report was made against {platforms['a'].base_url}" in done.stderr + done.stdout
    assert load(tmp_path / "reports/core/report.json") == load(platforms["report"])  # nothing ran, nothing merged


def test_a_moved_platform_is_accepted_when_asked_and_its_identity_matches(platforms, tmp_path):
    b = platforms["b"]
    done = cli("run", "-q", "--base-url", b.base_url, "--rerun-failed", str(platforms["report"]),
               "--allow-moved-target", "--report-dir", "out", *SELECTED, cwd=tmp_path, token=b.token)
    assert done.returncode in (0, 1), done.stdout + done.stderr  # incomplete: only two requirements ran
    merged = load(tmp_path / "out/core/report.json")
    assert merged["target"]["base_url"] == b.base_url and merged["target"]["platform"] == IDENTITY
    assert {r["id"]: r["verdict"] for r in merged["requirements"]}["CORE-HTTP-001"] == "pass"  # B has no fault


def test_a_platform_declaring_another_identity_is_refused_even_when_moving_is_allowed(platforms, tmp_path):
    report = load(platforms["report"])
    report["target"]["platform"]["name"] = "Another platform"  # what a platform of another identity recorded
    other = tmp_path / "other.json"
    other.write_text(serialise(report), encoding="utf-8")
    b = platforms["b"]
    for extra in ((), ("--allow-moved-target",)):
        done = cli("run", "-q", "--base-url", b.base_url, "--rerun-failed", str(other), *extra, "--report-dir",
                   "out", cwd=tmp_path, token=b.token)
        assert done.returncode == 2, done.stdout + done.stderr
    assert "(Another platform 1.0.0, Smart Community Conformance Suite)" in done.stderr
    assert "another platform identity" in done.stderr
    a = platforms["a"]  # the same URL now declaring another identity: refused too
    done = cli("run", "-q", "--base-url", a.base_url, "--rerun-failed", str(other), "--report-dir", "out",
               cwd=tmp_path, token=a.token)
    assert done.returncode == 2 and "another platform identity" in done.stderr, done.stdout + done.stderr


HTTPS_A = {"base_url": "https://a.example/api", "platform": IDENTITY, "tls_fingerprint": "sha256:" + "a" * 64}


@pytest.mark.parametrize("now, allow, refused", [
    (HTTPS_A, Allowance(), None),
    ({**HTTPS_A, "base_url": "https://a.example/api/"}, Allowance(), None),  # a trailing slash is the same URL
    ({**HTTPS_A, "tls_fingerprint": "sha256:" + "b" * 64}, Allowance(), "another TLS certificate"),
    ({**HTTPS_A, "tls_fingerprint": "sha256:" + "b" * 64}, Allowance(new_certificate=True), None),
    ({**HTTPS_A, "base_url": "https://b.example/api"}, Allowance(), "another base URL"),
    ({**HTTPS_A, "base_url": "https://b.example/api"}, Allowance(moved=True), None),
    ({**HTTPS_A, "base_url": "https://b.example/api", "tls_fingerprint": "sha256:" + "b" * 64},
     Allowance(moved=True), "another TLS certificate"),
    ({**HTTPS_A, "base_url": "https://b.example/api", "tls_fingerprint": "sha256:" + "b" * 64},
     Allowance(moved=True, new_certificate=True), None),
    ({**HTTPS_A, "platform": {**IDENTITY, "version": "1.0.1"}}, Allowance(moved=True), "another platform identity"),
    ({"base_url": "https://b.example/api"}, Allowance(moved=True), "cannot be compared"),
    ({"base_url": "http://127.0.0.1:9", "reference_platform": True, "platform": IDENTITY}, Allowance(moved=True),
     "another platform"),
])
def test_one_rule_decides_whether_a_report_stands_for_a_platform(now, allow, refused):
    found = mismatch(HTTPS_A, now, allow)
    if refused is None:
        assert found is None
    else:
        assert found is not None and refused in found and found.startswith(
            "report was made against https://a.example/api (Reference platform 1.0.0, Smart Community")


def test_two_runs_of_the_bundled_platform_are_one_platform_and_a_report_without_identity_binds_by_url():
    assert mismatch({"reference_platform": True, "base_url": "http://127.0.0.1:1"},
                    {"reference_platform": True, "base_url": "http://127.0.0.1:2"}) is None
    assert mismatch({"base_url": "https://a.example"}, HTTPS_A | {"base_url": "https://a.example"},
                    Allowance(new_certificate=True)) is None
    assert describe({"reference_platform": True}).startswith("the bundled reference platform")


def _self_signed(folder: Path) -> tuple[Path, Path, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress

    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file, certificate.public_bytes(serialization.Encoding.DER)


@pytest.fixture
def https_server(tmp_path):
    cert_file, key_file, der = _self_signed(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/api", cert_file, der
    finally:
        server.shutdown()
        server.server_close()


def test_the_certificate_fingerprint_is_the_sha256_of_the_leaf_der(https_server):
    base_url, cert_file, der = https_server
    expected = "sha256:" + hashlib.sha256(der).hexdigest()
    for verify in (str(cert_file), False):  # checked against the CA bundle, or not at all (--insecure)
        target = Target(base_url, verify=verify, timeout=5)
        try:
            assert tls_fingerprint(target) == expected
        finally:
            target.close()
    untrusted = Target(base_url, verify=True, timeout=5)  # the system store does not know this certificate
    try:
        assert tls_fingerprint(untrusted) is None
    finally:
        untrusted.close()
    plain = Target("http://127.0.0.1:9/api")
    assert tls_fingerprint(plain) is None
    plain.close()
    record = TargetBinding({"name": "x"}, expected).to_json()
    assert record == {"platform": {"name": "x"}, "tls_fingerprint": expected}
