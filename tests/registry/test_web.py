"""The service over HTTP: writes need the operator token, bad input is a one-line 422, vendors' tokens appear in no
answer, every platform string is escaped on the pages and in the badge, both languages render."""

import hashlib
import json

import pytest
from fastapi.testclient import TestClient
from registry_helpers import make_report

from conformance_registry.service import apply_outcome, claim
from conformance_registry.suite import RunOutcome
from conformance_registry.web import create_app

OPERATOR = "operator-token-abcdef"
TOKEN = "vendor-token-0123456789"
HOSTILE = '<script>alert(1)</script>"\'&<svg onload=x>'


class Recorder:
    def __init__(self):
        self.submitted = []

    def submit(self, run_id):
        self.submitted.append(run_id)

    def close(self):
        pass


@pytest.fixture
def client(ctx):
    jobs = Recorder()
    with TestClient(create_app(ctx, jobs, OPERATOR)) as test_client:
        test_client.jobs = jobs
        yield test_client


def certify(client, **changes):
    body = {"name": HOSTILE, "vendor": HOSTILE, "base_url": "http://platform.test", "profile": "core",
            "token": TOKEN, "credentials": f"roles: {{admin: {{token: {TOKEN}}}}}"} | changes
    return client.post("/api/certifications", content=json.dumps(body),  # ASCII JSON: a lone surrogate travels
                       headers={"Authorization": f"Bearer {OPERATOR}", "Content-Type": "application/json"})


def finish(ctx, run_id, verdict="conformant"):
    report = make_report(verdict=verdict)
    with ctx.sessions.begin() as session:
        run = claim(session, run_id)
        apply_outcome(ctx, session, run, RunOutcome(0 if verdict == "conformant" else 1, json.dumps(report), report,
                                                    None))


def test_writes_need_the_operator_token(client):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": OPERATOR}):
        for path, body in (("/api/certifications", {}), ("/api/certificates/SCC-X/recertify", None),
                           ("/api/certificates/SCC-X/revoke", {"reason": "r"})):
            answer = client.post(path, json=body, headers=headers)
            assert answer.status_code in (401, 422), (path, answer.status_code)
            if body is None or body.get("reason"):
                assert answer.status_code == 401
                assert answer.headers["content-type"] == "application/problem+json"
    assert client.jobs.submitted == []


def test_bad_input_is_one_line(client):
    for changes, field in (({"base_url": "ftp://x"}, "base_url"), ({"profile": "../core"}, "profile"),
                           ({"name": ""}, "name"), ({"name": "\ud800"}, "name")):
        answer = certify(client, **changes)
        assert answer.status_code == 422
        title = answer.json()["title"]
        assert title.startswith(f"{field}: ") and "\n" not in title


def test_a_certification_is_queued_and_the_token_never_comes_back(client, ctx, tmp_path):
    answer = certify(client)
    assert answer.status_code == 202 and client.jobs.submitted == [answer.json()["run"]]
    run_id = answer.json()["run"]
    finish(ctx, run_id)
    state = client.get(f"/api/runs/{run_id}").json()
    assert state["state"] == "finished" and state["certificate"]["status"] == "valid"
    certificate = state["certificate"]["id"]
    pages = [client.get(path) for path in (
        "/", "/?lang=zh", f"/?q={certificate}", f"/platforms/{state['platform']}", f"/certificates/{certificate}",
        f"/certificates/{certificate}?lang=zh", f"/badges/{certificate}.svg", "/api/platforms",
        f"/api/platforms/{state['platform']}", "/api/certificates", f"/api/certificates/{certificate}",
        f"/api/runs/{run_id}", "/registry.json", state["report"])]
    assert all(page.status_code == 200 for page in pages), [p.status_code for p in pages]
    for page in pages:
        assert TOKEN not in page.text
    report = pages[-1]  # served as stored (gzipped at rest): its bytes are what the certificate's digest covers
    document = client.get(f"/api/certificates/{certificate}").json()["certificate"]
    assert "sha256:" + hashlib.sha256(report.content).hexdigest() == document["report"]["digest"]
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("unit.sqlite*"))
    assert b"vendor-token" not in stored and b"platform.test" in stored  # sealed at rest, the rest in clear


def test_every_platform_string_is_escaped(client, ctx):
    run_id = certify(client).json()["run"]
    finish(ctx, run_id)
    certificate = client.get(f"/api/runs/{run_id}").json()["certificate"]["id"]
    for path in ("/", f"/certificates/{certificate}", f"/platforms/{client.get('/api/platforms').json()[0]['id']}"):
        page = client.get(path)
        assert "<script>" not in page.text and "<svg onload" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"]
    badge = client.get(f"/badges/{certificate}.svg")
    assert badge.headers["content-type"] == "image/svg+xml" and "<script>" not in badge.text
    search = client.get("/", params={"q": '"><script>x</script>'})
    assert '"><script>' not in search.text and "&#34;&gt;&lt;script&gt;" in search.text


def test_search_and_languages(client, ctx):
    finish(ctx, certify(client, name="Alpha 平台").json()["run"])
    assert "Alpha 平台" in client.get("/", params={"q": "alpha"}).text
    assert 'id="none"' in client.get("/", params={"q": "nothing-like-it"}).text
    chinese = client.get("/", params={"lang": "zh"}).text
    assert '<html lang="zh-CN">' in chinese and "有效" in chinese and "已认证的智慧社区平台" in chinese
    assert client.get("/", params={"lang": "fr"}).status_code == 422


def test_revocation_over_the_api_is_final(client, ctx):
    run_id = certify(client).json()["run"]
    finish(ctx, run_id)
    certificate = client.get(f"/api/runs/{run_id}").json()["certificate"]["id"]
    operator = {"Authorization": f"Bearer {OPERATOR}"}
    answer = client.post(f"/api/certificates/{certificate}/revoke", json={"reason": "fraud"}, headers=operator)
    assert answer.json() == {"id": certificate, "status": "revoked"}
    again = client.post(f"/api/certificates/{certificate}/revoke", json={"reason": "x"}, headers=operator)
    assert again.status_code == 409 and "already revoked" in again.json()["title"]
    rerun = client.post(f"/api/certificates/{certificate}/recertify", headers=operator)
    assert rerun.status_code == 409 and "final" in rerun.json()["title"]
    assert client.get("/api/certificates/SCC-NONE").status_code == 404


def test_every_status_has_its_words_and_colour():
    from conformance_registry import STATUSES
    from conformance_registry.web import BADGE_COLOURS, LABELS

    assert set(BADGE_COLOURS) == set(STATUSES)
    for labels in LABELS.values():
        assert set(STATUSES) <= set(labels) and set(labels) == set(LABELS["en"])
