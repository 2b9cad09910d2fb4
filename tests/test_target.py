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


# -- S4: URI references the platform gives are resolved per RFC 3986 section 5

@pytest.mark.parametrize("reference, against, resolved", [
    ("/api/communities", "http://platform.test/api/.well-known/smart-community",
     "http://platform.test/api/communities"),
    ("../communities", "http://platform.test/api/.well-known/smart-community", "http://platform.test/api/communities"),
    ("communities/c1", "http://platform.test/api/communities", "http://platform.test/api/communities/c1"),
    ("./c1", "http://platform.test/api/communities/", "http://platform.test/api/communities/c1"),
    ("http://platform.test/api/communities/c1", "http://platform.test/api/communities",
     "http://platform.test/api/communities/c1"),
])
def test_references_are_resolved_against_the_url_they_came_with(target, reference, against, resolved):
    assert target.resolve(reference, against) == resolved


def test_suite_paths_stay_relative_to_the_base_url_with_its_prefix(target):
    assert target.url("/communities") == "http://platform.test/api/communities"


def test_a_reference_to_another_origin_is_refused(target):
    with pytest.raises(TargetError, match="only the target's origin"):
        target.resolve("//elsewhere.test/communities", "http://platform.test/api/communities")


# -- S5: 429/503 with Retry-After are waited out within a bounded budget

def _waiting_target(budget=60.0):
    slept = []
    return Target("http://platform.test/api", token=TOKEN, timeout=2, retry_budget=budget, sleep=slept.append), slept


@respx.mock
def test_a_429_with_retry_after_is_waited_out_and_recorded():
    target, slept = _waiting_target()
    respx.get("http://platform.test/api/residents").mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200, json={"items": []})])
    assert target.request("GET", "/residents").status == 200
    assert slept == [2.0]
    assert target.rate_limits.to_json() == {"waits": 1, "waited_seconds": 2.0, "gave_up": 0, "budget_seconds": 60.0}


@respx.mock
def test_a_503_with_an_http_date_waits_until_then():
    import email.utils
    import time

    target, slept = _waiting_target()
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    respx.get("http://platform.test/api/residents").mock(side_effect=[
        httpx.Response(503, headers={"Retry-After": when}), httpx.Response(200, json={"items": []})])
    assert target.request("GET", "/residents").status == 200
    assert len(slept) == 1 and 28 <= slept[0] <= 31


@respx.mock
def test_past_the_run_budget_the_request_is_a_target_error_never_a_failure():
    target, slept = _waiting_target(budget=5)
    respx.get("http://platform.test/api/residents").mock(return_value=httpx.Response(429, headers={"Retry-After": "3"}))
    with pytest.raises(TargetError, match="retry budget of 5 s"):
        target.request("GET", "/residents")
    assert slept == [3.0]
    assert target.rate_limits.gave_up == 1


@respx.mock
def test_at_most_three_retries_per_request():
    target, slept = _waiting_target()
    route = respx.get("http://platform.test/api/residents").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "0"}))
    with pytest.raises(TargetError, match="still 429 after 3 waits"):
        target.request("GET", "/residents")
    assert route.call_count == 4 and slept == [0.0, 0.0, 0.0]


@respx.mock
def test_a_429_without_retry_after_is_the_platform_answer():
    target, slept = _waiting_target()
    respx.get("http://platform.test/api/residents").mock(return_value=httpx.Response(429))
    assert target.request("GET", "/residents").status == 429
    assert slept == []


@pytest.mark.parametrize("header, seconds", [("7", 7.0), ("0", 0.0), ("soon", None), ("-1", None), (None, None)])
def test_retry_after_values(header, seconds):
    from conformance.target import retry_after

    assert retry_after(header) == seconds


def _silent_server():
    """A loopback server that accepts connections and never answers."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    return server, f"http://127.0.0.1:{server.getsockname()[1]}"


@pytest.mark.parametrize("cut_by", ["deadline", "timeout"])
def test_a_request_cut_short_names_the_bound_that_cut_it(cut_by):
    """A run cut by --deadline must not blame --timeout (issue 18), and the other way round."""
    import time

    server, base = _silent_server()
    try:
        if cut_by == "deadline":
            target = Target(base, timeout=30, deadline=time.monotonic() + 0.3)
        else:
            target = Target(base, timeout=0.3)
        with pytest.raises(TargetError) as caught:
            target.request("GET", "/x")
        target.close()
    finally:
        server.close()
    message = str(caught.value)
    assert ("--deadline" in message) == (cut_by == "deadline")
    assert ("--timeout" in message) == (cut_by == "timeout")
