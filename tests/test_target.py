import httpx
import pytest
import respx

from conformance.target import REDACTED, Target, TargetError

TOKEN = "tok-9f8e7d6c5b4a"


@pytest.fixture
def target():
    t = Target("http://platform.test/api", token=TOKEN, timeout=2, max_body_bytes=1024, run_id="sc-1")
    yield t
    t.close()


@respx.mock
def test_evidence_redacts_the_token_everywhere(target):
    respx.get("http://platform.test/api/residents").mock(
        return_value=httpx.Response(200, json={"echo": f"Bearer {TOKEN}"}, headers={"Set-Cookie": "s=1"}))
    exchange = target.request("GET", "/residents", params={"q": TOKEN})
    evidence = exchange.to_evidence(target.redact)
    text = repr(evidence)
    assert TOKEN not in text
    assert evidence["request"]["headers"]["authorization"] == f"Bearer {REDACTED}"
    assert evidence["response"]["headers"]["set-cookie"] == REDACTED
    assert '"$SC_TOKEN"' in evidence["curl"]
    assert evidence["response"]["sha256"].startswith("sha256:")


@respx.mock
def test_requests_carry_the_run_id_and_json(target):
    route = respx.post("http://platform.test/api/residents").mock(return_value=httpx.Response(201, json={"id": "r1"}))
    exchange = target.request("POST", "/residents", json_body={"name": "𠮷"})
    sent = route.calls.last.request
    assert sent.headers["x-conformance-run"] == "sc-1"
    assert sent.headers["content-type"] == "application/json"
    assert sent.content.decode() == '{"name": "𠮷"}'
    assert exchange.json() == {"id": "r1"}


@respx.mock
def test_a_timeout_is_a_target_error_not_an_httpx_exception(target):
    respx.get("http://platform.test/api/slow").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(TargetError, match="no answer within 2 s"):
        target.request("GET", "/slow")


@respx.mock
def test_a_reset_is_a_target_error(target):
    respx.get("http://platform.test/api/reset").mock(side_effect=httpx.RemoteProtocolError("reset"))
    with pytest.raises(TargetError, match="RemoteProtocolError"):
        target.request("GET", "/reset")


@respx.mock
def test_bodies_are_read_up_to_the_cap(target):
    respx.get("http://platform.test/api/huge").mock(return_value=httpx.Response(200, content=b"x" * 100_000))
    exchange = target.request("GET", "/huge")
    assert exchange.truncated
    assert len(exchange.body) == 1024
    with pytest.raises(ValueError, match="read limit"):
        exchange.json()


def test_requests_to_another_origin_are_refused(target):
    with pytest.raises(TargetError, match="only the target's origin"):
        target.request("GET", "http://elsewhere.test/steal")


def test_the_token_is_sent_only_when_asked(target):
    with respx.mock:
        route = respx.get("http://platform.test/api/.well-known/smart-community").mock(return_value=httpx.Response(200))
        target.request("GET", "/.well-known/smart-community", token=False)
        assert "authorization" not in route.calls.last.request.headers


def test_a_bad_base_url_is_refused():
    with pytest.raises(ValueError, match="base URL must be"):
        Target("ftp://platform.test")
