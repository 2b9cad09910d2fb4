"""Issue 19's "Done when", end to end against reference platforms served by hand (``sc-conformance
serve-reference``): a conformant platform gets a valid certificate that verifies, a faulty one gets none, a re-run
after a fault appears suspends the certificate (verify then exits 1), registry.json shows the history and its
signature verifies, a revoked one stays revoked — on SQLite and PostgreSQL, with the in-process worker and with a
Celery worker subprocess against a real redis-server."""

import json
import re
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from conformance_registry.signing import load_public_key, signature_problem
from conformance_registry.testing import celery_worker, free_port, reference_platform, registry_server

FAULT = "content-type-text"  # breaks CORE-HTTP-001, a SHALL of core
NAME = 'Good <script>alert("x")</script> 平台 & Co'


def _certify(registry, platform, name=NAME):
    return registry.command("certify", "--registry", registry.url, "--name", name, "--vendor", "ACME <i>&</i>",
                            "--base-url", platform.base_url, "--profile", "core", "--credentials",
                            platform.credentials, "--wait", token=platform.token)


def _registry_document(registry):
    document = httpx.get(f"{registry.url}/registry.json", timeout=30).json()
    assert signature_problem(document, load_public_key(Path(registry.public_key))) is None
    return document


def _entry(document, certificate):
    return next(e for e in document["entries"] if e["certificateId"] == certificate)


def _secrets_nowhere(registry, tokens, db_files):
    public = [httpx.get(f"{registry.url}{path}", timeout=30).text
              for path in ("/registry.json", "/api/platforms", "/api/certificates", "/", "/?lang=zh")]
    stored = b"".join(path.read_bytes() for path in db_files)
    for token in tokens:
        assert all(token not in text for text in public)
        assert token.encode() not in stored  # sealed at rest


def certification_flow(tmp_path, registry, full=True, db_files=()):
    tokens = []
    port = free_port()
    with reference_platform(tmp_path / "good", port) as good:
        tokens.append(good.token)
        done = _certify(registry, good)
        assert done.returncode == 0, done.stdout + done.stderr
        certificate = re.fullmatch(r"certificate (SCC-[0-9A-F]+) valid", done.stdout.strip()).group(1)
        verified = registry.command("verify", certificate, "--registry", registry.url, "--public-key",
                                    registry.public_key)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    first = _registry_document(registry)
    assert _entry(first, certificate)["status"] == "valid"
    signed = _entry(first, certificate)["certificate"]
    assert signed["target"]["base_url"] == good.base_url and signed["profile"]["id"] == "core"
    assert signed["suite"]["name"] == "sc-conformance" and signed["profile"]["digest"].startswith("sha256:")
    report = httpx.get(signed["report"]["url"], timeout=30)
    assert report.status_code == 200 and report.json()["verdict"] == "conformant"

    with reference_platform(tmp_path / "faulty", faults=(FAULT,)) as faulty:
        tokens.append(faulty.token)
        refused = _certify(registry, faulty, name="Faulty platform")
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert refused.stdout.startswith("no certificate: run RUN-") and "not-conformant" in refused.stdout
    listed = {p["name"]: p for p in httpx.get(f"{registry.url}/api/platforms", timeout=30).json()}
    assert "Faulty platform" in listed  # registered, without a certificate
    faulty_page = httpx.get(f"{registry.url}/api/platforms/{listed['Faulty platform']['id']}", timeout=30).json()
    assert faulty_page["certificates"] == []

    with reference_platform(tmp_path / "broken", port, faults=(FAULT,)) as broken:  # the same platform, now faulty
        tokens.append(broken.token)
        rerun = _certify(registry, broken)
        assert rerun.returncode == 1 and rerun.stdout.strip() == f"certificate {certificate} suspended", rerun.stdout
        if full:
            again = registry.command("recertify", certificate, "--registry", registry.url, "--wait")
            assert again.returncode == 1 and again.stdout.strip() == f"certificate {certificate} suspended"
    verified = registry.command("verify", certificate, "--registry", registry.url, "--public-key", registry.public_key)
    assert verified.returncode == 1 and len(verified.stdout.splitlines()) == 1
    assert f"certificate {certificate} is suspended: re-run not conformant: verdict not-conformant" in verified.stdout
    suspended = _registry_document(registry)
    assert suspended["no"] > first["no"]
    history = _entry(suspended, certificate)["statusReports"]
    assert [h["status"] for h in history] == ["valid", "suspended"]
    assert all(h["report"]["digest"].startswith("sha256:") for h in history)
    assert httpx.get(history[-1]["report"]["url"], timeout=30).json()["verdict"] == "not-conformant"

    if full:
        with reference_platform(tmp_path / "fixed", port) as fixed:
            tokens.append(fixed.token)
            back = _certify(registry, fixed)
            assert back.returncode == 0 and back.stdout.strip() == f"certificate {certificate} valid", back.stdout
        statuses = [h["status"] for h in _entry(_registry_document(registry), certificate)["statusReports"]]
        assert statuses == ["valid", "suspended", "valid"]

    revoked = registry.command("revoke", certificate, "--registry", registry.url, "--reason", "vendor <b>withdrew</b>")
    assert revoked.returncode == 0 and revoked.stdout.strip() == f"certificate {certificate} revoked"
    refused = registry.command("recertify", certificate, "--registry", registry.url, "--wait")
    assert refused.returncode == 2 and "revocation is final" in refused.stderr
    verified = registry.command("verify", certificate, "--registry", registry.url, "--public-key", registry.public_key)
    assert verified.returncode == 1 and verified.stdout.startswith(f"certificate {certificate} is revoked: vendor")
    final = _registry_document(registry)
    assert _entry(final, certificate)["status"] == "revoked" and final["no"] > suspended["no"]
    page = httpx.get(f"{registry.url}/certificates/{certificate}", timeout=30).text
    assert "&lt;script&gt;" in page and "<script>" not in page and "vendor &lt;b&gt;withdrew&lt;/b&gt;" in page
    _secrets_nowhere(registry, tokens, db_files)
    return certificate


def _sqlite(tmp_path):
    path = tmp_path / "registry.sqlite"
    return str(path), lambda: sorted(tmp_path.glob("registry.sqlite*"))


def test_sqlite_in_process_worker(tmp_path):
    db, files = _sqlite(tmp_path)
    with registry_server(tmp_path / "service", db) as registry:
        assert registry.lines[0] == registry.url.join(["registry on ", ""])
        assert json.loads(httpx.get(f"{registry.url}/registry.json", timeout=30).text)["entries"] == []
        certification_flow(tmp_path, registry, full=True, db_files=files())


def test_postgresql_celery_worker(tmp_path, postgres, redis):
    db = postgres()
    with ExitStack() as stack:
        registry = stack.enter_context(registry_server(tmp_path / "service", db, broker=redis))
        assert "jobs: celery on redis://127.0.0.1:" in registry.lines[-1]
        stack.enter_context(celery_worker(tmp_path, registry.env))
        certification_flow(tmp_path, registry, full=False)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite+celery", "postgresql+in-process", "postgresql+celery"])
def test_whole_flow_on_every_backend(tmp_path, backend, request):
    with ExitStack() as stack:
        if backend.startswith("sqlite"):
            db, _ = _sqlite(tmp_path)
        else:
            db = request.getfixturevalue("postgres")()
        broker = request.getfixturevalue("redis") if backend.endswith("celery") else None
        registry = stack.enter_context(registry_server(tmp_path / "service", db, broker=broker))
        if broker:
            stack.enter_context(celery_worker(tmp_path, registry.env))
        certification_flow(tmp_path, registry, full=True)
