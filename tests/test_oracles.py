"""Oracles judge every exchange of a run: each must be able to fail, for the right reason, and leave alone what
the standard allows. Exchanges are built by hand and fed to a run's Traffic as Target would."""

import json

import httpx
import pytest

from conformance import resources
from conformance.catalogue import catalogue
from conformance.checks import load_builtin_checks
from conformance.credentials import Credentials, Role
from conformance.oracles import ORACLES, Traffic
from conformance.oracles.rules import bearer_challenge
from conformance.profiles import CheckCall, Requirement
from conformance.runner import Runner, judges_traffic, oracles_last
from conformance.session import RunSession
from conformance.target import Exchange, Target
from conformance.verdicts import Verdict

BASE = "http://platform.test/api"
ROLES = Credentials({
    "admin": Role("admin", "tok-admin", frozenset({"registry:read", "registry:write", "pii", "sensitive",
                                                   "audit:read"})),
    "reader": Role("reader", "tok-reader", frozenset({"registry:read"})),
    "tenant-a": Role("tenant-a", "tok-a", frozenset({"registry:read", "registry:write"}), "com-a"),
})
ID_NUMBER = "11010519491231002X"  # a valid GB 11643 number


def exchange(method, path, status, body=None, *, sent=None, token="tok-admin", headers=None, query=""):
    request_headers = {"accept": "application/json"}
    if token:
        request_headers["authorization"] = f"Bearer {token}"
    if sent is not None:
        request_headers["content-type"] = "application/json"
    payload = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    response_headers = {"content-type": "application/json", "x-request-id": "r1", **(headers or {})}
    return Exchange(method, f"{BASE}{path}{'?' + query if query else ''}", request_headers,
                    None if sent is None else (sent if isinstance(sent, bytes) else json.dumps(sent).encode()),
                    status, httpx.Headers(response_headers), payload, 0.01)


@pytest.fixture
def traffic():
    return Traffic(catalogue(), ROLES, BASE)


def violations(traffic, name):
    return [v for v, _, _ in traffic.judged(name).violations]


def community(record_id="com-1", **extra):
    return {"id": record_id, "name": "Sunrise", "division_code": "110105", "created_at": "2026-12-06T01:00:00Z",
            "updated_at": "2026-12-06T01:00:00Z", **extra}


def test_classification_from_the_catalogue(traffic):
    view = traffic.classify(exchange("POST", "/work-orders/wo-1/transitions", 200, {}, token="tok-reader"))
    assert (view.kind, view.collection.name, view.item_id, view.role.name) == ("transition", "work-orders",
                                                                              "wo-1", "reader")
    assert traffic.classify(exchange("GET", "/residents", 200, token="made-up")).token == "unknown"
    assert traffic.classify(exchange("GET", "/.well-known/smart-community", 200, token=None)).kind == "discovery"


@pytest.mark.parametrize(("value", "holds"), [
    ('Bearer realm="x"', True), ('Basic realm="legacy", Bearer realm="x"', True),
    ('Bearer realm="x", error="invalid_token"', True), ('Basic realm="bearer"', False),
    ('Basic realm="x", charset="UTF-8"', False), ("", False), ("bearer", True),
])
def test_bearer_challenge_among_several(value, holds):
    assert bearer_challenge(value) is holds


def test_problem_document_judges_every_error(traffic):
    traffic.observe(exchange("GET", "/residents/x", 404, {"type": "about:blank", "title": "Not found", "status": 404,
                                                           "code": "not-found"},
                             headers={"content-type": "application/problem+json"}))
    assert violations(traffic, "problem_document") == []
    traffic.observe(exchange("PATCH", "/residents/x", 422, {"error": "bad"}))
    found = violations(traffic, "problem_document")
    assert len(found) == 1 and found[0].expected == "application/problem+json"
    assert traffic.judged("problem_document").count == 2


def test_page_limit_and_envelope_on_any_page(traffic):
    traffic.observe(exchange("GET", "/grids", 200, {"items": [{}, {}, {}], "next_cursor": None}, query="limit=2"))
    assert [v.found for v in violations(traffic, "page_limit")] == [3]
    traffic.observe(exchange("GET", "/grids", 200, {"items": []}, query="limit=2&cursor=abc"))
    assert violations(traffic, "page_envelope")[0].location == "/next_cursor"


def test_masking_on_the_second_page_and_in_error_bodies(traffic):
    resident = {"id": "res-1", "identity": {"type": "resident-identity-card", "number": ID_NUMBER}}
    traffic.observe(exchange("GET", "/residents", 200, {"items": [resident], "next_cursor": None},
                             token="tok-reader", query="cursor=c2"))
    assert len(violations(traffic, "masking")) == 1
    traffic.observe(exchange("GET", "/residents/res-9", 404, {"title": f"no resident {ID_NUMBER}"}, token="tok-admin"))
    assert len(violations(traffic, "personal_data_in_errors")) == 1


def test_tenant_listing_on_every_page(traffic):
    page = {"items": [{"id": "res-1", "community_id": "com-a"}, {"id": "res-2", "community_id": "com-b"}],
            "next_cursor": None}
    traffic.observe(exchange("GET", "/residents", 200, page, token="tok-a", query="cursor=page-3"))
    found = violations(traffic, "tenant_listing")
    assert [v.found for v in found] == ["com-b"]


def test_model_predicts_reads_after_a_merge_patch(traffic):
    sent = {"community_id": "com-1", "name": "李雷", "gender": "male", "phone": "13812345678"}
    created = {"id": "res-1", **sent, "created_at": "2026-12-06T01:00:00Z", "updated_at": "2026-12-06T01:00:00Z"}
    traffic.observe(exchange("POST", "/residents", 201, created, sent=sent, headers={"location": f"{BASE}/residents/res-1"}))
    patched = {**created, "name": "韩梅梅", "updated_at": "2026-12-06T01:00:01Z"}
    del patched["gender"]
    traffic.observe(exchange("PATCH", "/residents/res-1", 200, patched, sent={"name": "韩梅梅", "gender": None}))
    assert violations(traffic, "model_read") == []
    # a read that lost a member the create wrote and the patch kept (a merge patch treated as a replacement)
    lost = {k: v for k, v in patched.items() if k != "phone"}
    traffic.observe(exchange("GET", "/residents/res-1", 200, lost))
    found = violations(traffic, "model_read")
    assert [v.location for v in found] == ["/phone"]
    # the reader without pii is not compared on the masked member
    traffic.observe(exchange("GET", "/residents/res-1", 200, {**patched, "phone": "138****5678"}, token="tok-reader"))
    assert len(violations(traffic, "model_read")) == 1


def test_instants_compare_as_instants(traffic):
    sent = {"community_id": "com-1", "name": "a", "moved_in_at": "2020-01-01T08:00:00.250+08:00"}
    traffic.observe(exchange("POST", "/residents", 201, {"id": "res-2", **sent}, sent=sent))
    traffic.observe(exchange("GET", "/residents/res-2", 200, {"id": "res-2", **sent,
                                                              "moved_in_at": "2020-01-01T00:00:00.25Z"}))
    assert violations(traffic, "model_read") == []
    traffic.observe(exchange("GET", "/residents/res-2", 200, {"id": "res-2", **sent,
                                                              "moved_in_at": "2020-01-01T00:00:00Z"}))
    assert [v.location for v in violations(traffic, "model_read")] == ["/moved_in_at"]


def test_walk_complete_finds_a_gap_and_a_repeat(traffic):
    for n in range(3):
        sent = {"name": f"c{n}", "division_code": "110105"}
        traffic.observe(exchange("POST", "/communities", 201, {"id": f"com-{n}", **sent}, sent=sent))
    traffic.observe(exchange("GET", "/communities", 200, {"items": [{"id": "com-0"}, {"id": "com-1"}],
                                                           "next_cursor": "c2"}, query="limit=2"))
    traffic.observe(exchange("GET", "/communities", 200, {"items": [{"id": "com-1"}], "next_cursor": None},
                             query="limit=2&cursor=c2"))
    messages = [v.message for v in violations(traffic, "walk_complete")]
    assert any("twice" in m for m in messages) and any("left out 1" in m for m in messages)


def test_deleted_record_stays_gone(traffic):
    sent = {"name": "c", "division_code": "110105"}
    traffic.observe(exchange("POST", "/communities", 201, {"id": "com-9", **sent}, sent=sent))
    traffic.observe(exchange("DELETE", "/communities/com-9", 204))
    traffic.observe(exchange("GET", "/communities/com-9", 404, None))
    assert violations(traffic, "deleted_gone") == []
    traffic.observe(exchange("GET", "/communities/com-9", 200, {"id": "com-9", **sent}))
    assert len(violations(traffic, "deleted_gone")) == 1


def test_write_scope_and_token_rules(traffic):
    traffic.observe(exchange("POST", "/grids", 403, {"status": 403}, sent={}, token="tok-reader"))
    assert violations(traffic, "write_scope") == []
    traffic.observe(exchange("PATCH", "/grids/g-1", 200, {"id": "g-1"}, sent={}, token="tok-reader"))
    assert len(violations(traffic, "write_scope")) == 1
    traffic.observe(exchange("GET", "/grids", 200, {"items": [], "next_cursor": None}, token=None))
    assert len(violations(traffic, "token_required")) == 1


def test_accepts_only_valid_leaves_unknown_members_to_s3(traffic):
    good = json.loads((resources.fixtures_dir() / "communities/valid/minimal.json").read_text(encoding="utf-8"))
    traffic.observe(exchange("POST", "/communities", 201, {"id": "com-5", **good}, sent={**good, "colour": "red"}))
    assert violations(traffic, "accepts_only_valid") == []
    traffic.observe(exchange("POST", "/communities", 201, {"id": "com-6"}, sent={**good, "division_code": "12"}))
    assert [v.location for v in violations(traffic, "accepts_only_valid")] == ["/division_code"]


def test_an_oracle_error_is_a_violation_not_a_crash(traffic, monkeypatch):
    spec = ORACLES["page_envelope"]

    def broken(view, traffic):
        raise RuntimeError("boom")
        yield

    monkeypatch.setitem(ORACLES, "page_envelope", spec.__class__(spec.name, broken, spec.applies, spec.scope))
    traffic.observe(exchange("GET", "/grids", 200, {"items": [], "next_cursor": None}))
    assert "internal error" in violations(traffic, "page_envelope")[0].message


def requirement(rid, *checks):
    return Requirement(id=rid, level="SHALL", subsystem="infrastructure", title={"zh": "测", "en": "T"},
                       statement={"zh": "测", "en": "T"}, source=("test",),
                       checks=tuple(CheckCall(c, {}) for c in checks), capability=None, profile="test",
                       file="test.yaml", line=1)


def test_oracle_requirements_run_last_and_a_vacuous_one_is_inconclusive():
    load_builtin_checks()
    plain, judged = requirement("T-A-001", "paging.envelope"), requirement("T-B-001", "oracle.page_limit")
    assert judges_traffic(judged) and not judges_traffic(plain)
    assert [r.id for r in oracles_last([judged, plain])] == ["T-A-001", "T-B-001"]
    target = Target(BASE, token="tok-admin", timeout=1)
    try:
        result = Runner(RunSession(target, seed=1, credentials=ROLES)).run_requirement(judged, "test")
    finally:
        target.close()
    assert result.verdict is Verdict.INCONCLUSIVE
    assert "no exchange of the run could show a violation" in result.checks[0].message


def test_every_oracle_is_a_check_with_a_code():
    checks = load_builtin_checks()
    for name in ORACLES:
        assert checks[f"oracle.{name}"].code is not None, name
        assert checks[f"oracle.{name}"].doc
