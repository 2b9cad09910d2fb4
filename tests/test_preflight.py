"""Preflight: a wrong token or an unreachable URL is one line and exit 2, never a report (both doors)."""

import os
import socket
import subprocess
import sys

import pytest

from conformance.catalogue import catalogue
from conformance.credentials import Credentials, Role
from conformance.embedded import embedded_reference
from conformance.preflight import PreflightError, preflight
from conformance.reference import create_app, mint_token, running
from conformance.target import Target

SECRET = "p" * 32
CLI = [sys.executable, "-m", "conformance.cli"]


@pytest.fixture(scope="module")
def platform():
    with running(create_app(secret=SECRET)) as base_url:
        yield base_url


def closed_port_url():
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def check(base_url, credentials=None, token=None):
    target = Target(base_url, token=token or (credentials.token if credentials else None))
    try:
        preflight(target, credentials, catalogue(), run_token=token)
    finally:
        target.close()


def roles(**tokens):
    scopes = {"admin": "registry:read registry:write pii sensitive audit:read", "reader": "registry:read",
              "auditor": "audit:read", "expired": "registry:read"}
    return Credentials({name: Role(name, token, frozenset(scopes[name].split())) for name, token in tokens.items()})


def test_the_bundled_platform_passes_silently():
    with embedded_reference() as embedded:
        check(embedded[0], embedded.credentials)
        check(embedded[0], embedded.credentials, token=embedded[1])


def test_good_tokens_pass_and_the_expired_role_is_not_asked(platform):
    check(platform, token=mint_token(SECRET))
    check(platform, roles(admin=mint_token(SECRET), reader=mint_token(SECRET, scopes=["registry:read"]),
                          auditor=mint_token(SECRET, scopes=["audit:read"]),
                          expired=mint_token(SECRET, expires_in=-60)))


@pytest.mark.parametrize("token, says", [
    ("not-a-token", "the run's token (--token / SC_TOKEN) was not accepted: GET /communities answered 401"),
    (mint_token("another secret" * 3), "answered 401 (unauthenticated: the bearer token is not valid"),
    (mint_token(SECRET, scopes=["audit:read"]), "cannot read what every run reads: GET /communities answered 403"),
])
def test_a_refused_run_token_is_one_line(platform, token, says):
    with pytest.raises(PreflightError) as caught:
        check(platform, token=token)
    assert says in str(caught.value)
    assert "\n" not in str(caught.value)
    assert token not in str(caught.value)


def test_a_role_whose_token_lacks_its_scope_is_named(platform):
    credentials = roles(admin=mint_token(SECRET), auditor=mint_token(SECRET, scopes=["registry:read"]))
    with pytest.raises(PreflightError, match=r"the token of role 'auditor' does not hold what the role needs: "
                                             r"GET /audit-records answered 403"):
        check(platform, credentials)


def test_a_role_whose_token_is_refused_is_named(platform):
    with pytest.raises(PreflightError, match=r"the token of role 'reader' was not accepted: .* answered 401"):
        check(platform, roles(admin=mint_token(SECRET), reader="garbage"))


def test_an_unreachable_url_says_why():
    with pytest.raises(PreflightError, match=r"^cannot reach http://127\.0\.0\.1:\d+: connection refused$"):
        check(closed_port_url(), token=mint_token(SECRET))


def _env(**extra):
    return {k: v for k, v in os.environ.items() if not k.startswith("SC_")} | extra


def _no_report(cwd):
    reports = cwd / "reports"
    return not reports.exists() or not any(reports.rglob("*"))


@pytest.mark.parametrize("case", ["wrong token", "unreachable"])
def test_both_doors_stop_with_one_line_exit_2_and_no_report(platform, tmp_path, case):
    base_url, token = (platform, "wrong") if case == "wrong token" else (closed_port_url(), mint_token(SECRET))
    says = "was not accepted" if case == "wrong token" else "connection refused"
    run = subprocess.run([*CLI, "run", "--base-url", base_url, "--profile", "core"], cwd=tmp_path,
                         env=_env(SC_TOKEN=token), capture_output=True, text=True, timeout=300)
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stdout == ""
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith("sc-conformance: error: ") and says in line
    plain = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--sc-base-url", base_url,
                            "--sc-profile", "core"], cwd=tmp_path, env=_env(SC_TOKEN=token), capture_output=True,
                           text=True, timeout=300)
    assert plain.returncode == pytest.ExitCode.USAGE_ERROR, plain.stdout + plain.stderr
    errors = [line for line in plain.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("ERROR: ") and says in errors[0], plain.stderr
    assert "Traceback" not in plain.stdout + plain.stderr
    assert _no_report(tmp_path)
