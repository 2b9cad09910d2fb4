"""Checks against mocked platforms: each check must be able to fail, and must fail for the right reason."""

import httpx
import pytest
import respx

from conformance.profiles import CheckCall, Requirement
from conformance.runner import Runner
from conformance.session import RunSession
from conformance.target import Target
from conformance.verdicts import Verdict

BASE = "http://platform.test"
PROBLEM = {"type": "about:blank", "title": "Not found", "status": 404, "code": "not-found"}


def requirement(check, **params):
    return Requirement(id="T-X-001", level="SHALL", subsystem="infrastructure", title={"zh": "测", "en": "T"},
                       statement={"zh": "测", "en": "T"}, source=("test",), checks=(CheckCall(check, params),),
                       capability=None, profile="test", file="test.yaml", line=1)


@pytest.fixture
def run():
    target = Target(BASE, token="secret-token", timeout=2)

    def run_one(check, **params):
        return Runner(RunSession(target, seed=1)).run_requirement(requirement(check, **params), "test")

    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        run_one.mock = mock
        yield run_one
    target.close()


def test_discovery_document_fails_when_invalid(run):
    run.mock.get("/.well-known/smart-community").mock(return_value=httpx.Response(200, json={"platform": {}}))
    result = run("discovery.document")
    assert result.verdict is Verdict.FAIL
    assert "does not conform to interface/discovery.json" in result.checks[0].message
    assert result.checks[0].evidence[0]["response"]["status"] == 200


def test_discovery_document_fails_when_not_json(run):
    run.mock.get("/.well-known/smart-community").mock(return_value=httpx.Response(200, text="<html>login</html>"))
    result = run("discovery.document")
    assert result.verdict is Verdict.FAIL
    assert "not JSON" in result.checks[0].message


def test_unreachable_target_is_inconclusive(run):
    run.mock.get("/.well-known/smart-community").mock(side_effect=httpx.ConnectError("refused"))
    result = run("discovery.document")
    assert result.verdict is Verdict.INCONCLUSIVE
    assert "ConnectError" in result.checks[0].message


def test_invalid_limit_accepted_fails(run):
    run.mock.get("/.well-known/smart-community").mock(return_value=httpx.Response(200, json={"max_page_size": 100}))
    run.mock.get("/communities").mock(return_value=httpx.Response(200, json={"items": [], "next_cursor": None}))
    result = run("paging.invalid_limit", collection="communities")
    assert result.verdict is Verdict.FAIL
    assert [f.found for f in result.checks[0].findings] == [200, 200, 200, 200]


def test_200_with_an_error_code_fails(run):
    run.mock.get(url__regex=r"/no-such-collection-.*").mock(return_value=httpx.Response(200, json={"code": "not-found"}))
    assert run("problems.http_status").verdict is Verdict.FAIL


def test_unknown_id_passes_only_with_404(run):
    run.mock.get(url__regex=r"/grids/no-such-id-.*").mock(return_value=httpx.Response(404, json=PROBLEM))
    run.mock.get(url__regex=r"/residents/no-such-id-.*").mock(return_value=httpx.Response(500, json=PROBLEM))
    assert run("entities.unknown_id", collections=["grids"]).verdict is Verdict.PASS
    result = run("entities.unknown_id", collections=["grids", "residents"])
    assert result.verdict is Verdict.FAIL
    assert len(result.checks[0].findings) == 1


def test_missing_bearer_challenge_fails(run):
    run.mock.route(url__regex=r"/communities$").mock(return_value=httpx.Response(401, json=PROBLEM))
    result = run("http.bearer_required", collections=["communities"])
    assert result.verdict is Verdict.FAIL
    assert "WWW-Authenticate" in result.checks[0].message


def test_a_crashing_check_is_inconclusive_not_a_crash(run, monkeypatch):
    from conformance.checks import CHECKS, load_builtin_checks

    load_builtin_checks()
    spec = CHECKS["problems.http_status"]

    def boom(ctx):
        raise RuntimeError("secret-token leaked?")
        yield

    monkeypatch.setitem(CHECKS, "problems.http_status", type(spec)(spec.name, boom, (), ()))
    result = run("problems.http_status")
    assert result.verdict is Verdict.INCONCLUSIVE
    assert "internal error" in result.checks[0].message
    assert "secret-token" not in result.checks[0].message


def test_a_capability_the_platform_does_not_declare_is_not_applicable():
    target = Target(BASE, token="t", timeout=2)
    req = requirement("entities.delete", collection="grids")
    req = Requirement(**{**req.__dict__, "capability": "delete"})
    with respx.mock(base_url=BASE) as mock:
        mock.get("/.well-known/smart-community").mock(return_value=httpx.Response(200, json={"capabilities": []}))
        result = Runner(RunSession(target, seed=1)).run_requirement(req, "test")
    assert result.verdict is Verdict.NOT_APPLICABLE
