"""The suite against hostile targets: every behaviour ends in reports (or, when no HTTP answer or no token is
accepted at all, in the preflight's one line and no report), never `conformant`, no secret leaks."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conformance.target import Target, TargetError

from .server import BEHAVIOURS, HostileServer

CLI = [sys.executable, "-m", "conformance.cli"]
TIMEOUT, DEADLINE = "1", "3"
# The generated-data requirements (conformance/checks/generated.py) spend CPU in hypothesis without
# requests and overrun --deadline against a target that fails every request (reported to the lead);
# they are deselected here so each hostile run stays a few seconds.
DESELECT = ["-k", "not CORE-GEN"]
# Targets the preflight may stop before any requirement (one line, exit 2, no report): nothing answers HTTP
# within --timeout, or every token is refused (gzip-bomb builds its bomb per request and may start answering
# later than --timeout). On a busy machine the run's short --deadline can pass before the preflight is sent;
# the preflight then decides nothing and the run ends in reports like the other behaviours.
MAY_BE_STOPPED_BY_PREFLIGHT = {"silent", "trickle-headers", "reset", "not-http", "huge-headers",
                               "unauthorised-everything", "gzip-bomb", "refuses-with-escapes"}


def _jwt_like(role: str) -> str:
    return f"eyJ{secrets.token_urlsafe(12)}.eyJ{role}{secrets.token_urlsafe(24)}.{secrets.token_urlsafe(32)}"


def _credentials(path: Path) -> list[str]:
    roles = {name: {"token": _jwt_like(name), "scopes": ["registry:read"], "community": f"com-{name}"}
             for name in ("admin", "reader", "pii-reader", "auditor", "tenant-a", "tenant-b", "expired")}
    path.write_text(yaml.safe_dump({"roles": roles}), encoding="utf-8")
    tokens = [r["token"] for r in roles.values()]
    return tokens + [t.rsplit(".", 1)[1] for t in tokens]  # whole tokens and their signatures


def _leaks(root: Path, secrets_: list[str], *texts: str) -> list[str]:
    found = [f"output: {s[:6]}…" for s in secrets_ for text in texts if s in text]
    for file in root.rglob("*"):
        if file.is_file() and file.name != "credentials.yaml":
            data = file.read_bytes()
            found += [f"{file.relative_to(root)}: {s[:6]}…" for s in secrets_ if s.encode() in data]
    return found


def _options(base_url: str, credentials: Path) -> list[str]:
    return ["--base-url", base_url, "--profile", "guarantee", "--credentials", str(credentials),
            "--timeout", TIMEOUT, "--deadline", DEADLINE, "--seed", "5", "--report-dir", "reports",
            "--alluredir", "allure", *DESELECT]


def _check_reports(root: Path, tokens: list[str], output: str) -> dict:
    report_file = root / "reports" / "guarantee" / "report.json"
    assert report_file.is_file(), output[-2000:]
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["verdict"] != "conformant"
    unsettled = [r for r in report["requirements"] if r["verdict"] in ("fail", "inconclusive")]
    assert unsettled, "a hostile target cannot pass everything"
    assert all(c["message"] for r in unsettled for c in r["checks"] if c["verdict"] != "pass")
    assert {"summary.md", "badge.json"} <= {p.name for p in report_file.parent.iterdir()}
    assert any((root / "allure").iterdir())
    assert _leaks(root, tokens, output) == []
    return report


@pytest.mark.parametrize("behaviour", sorted(BEHAVIOURS))
def test_a_run_against_a_hostile_target_reports_and_never_certifies(hostile, pytester, behaviour):
    credentials = pytester.path / "credentials.yaml"
    tokens = _credentials(credentials)
    other = HostileServer("accepts-everything")
    with other as other_url, hostile(behaviour, other_origin=other_url.replace("127.0.0.1", "localhost")) as base_url:
        options = [o.replace("--", "--sc-", 1) if o.startswith("--") and o != "--alluredir" else o
                   for o in _options(base_url, credentials)]
        result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:randomly", *options)
    output = result.stdout.str() + result.stderr.str()
    if behaviour in MAY_BE_STOPPED_BY_PREFLIGHT and result.ret == pytest.ExitCode.USAGE_ERROR:
        errors = [line for line in result.stderr.str().splitlines() if line.strip()]
        assert len(errors) == 1 and re.match(r"ERROR: (cannot reach http|the token of role '\w+' was not accepted)",
                                             errors[0]), output[-2000:]
        assert not (pytester.path / "reports").exists()
        assert _leaks(pytester.path, tokens, output) == []
        return
    assert result.ret == pytest.ExitCode.TESTS_FAILED, output[-2000:]
    report = _check_reports(pytester.path, tokens, output)
    print(behaviour, report["verdict"], report["summary"]["by_verdict"])
    assert other.requests == [], "the suite sent a request to an origin other than the target's"


@pytest.mark.parametrize("behaviour", ["echo-credentials"])
def test_the_cli_door_survives_and_keeps_credentials_out_of_every_file_and_output(hostile, tmp_path, behaviour):
    credentials = tmp_path / "credentials.yaml"
    tokens = _credentials(credentials)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SC_")}
    with hostile(behaviour) as base_url:
        # The subprocess timeout only guards the test run; the suite's own deadline ends the run.
        done = subprocess.run([*CLI, "run", *_options(base_url, credentials)], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert done.returncode != 0
    _check_reports(tmp_path, tokens, done.stdout + done.stderr)


def test_a_redirect_to_another_origin_is_not_followed_with_the_token(hostile):
    other = HostileServer("accepts-everything")
    with other as other_url, hostile("redirect-other-host", other_origin=other_url.replace("127.0.0.1", "localhost")
                                     ) as base_url:
        target = Target(base_url, token="a-token-that-must-stay-home", timeout=1)
        exchange = target.request("GET", "/communities")
        with pytest.raises(TargetError, match="refusing to send"):
            target.request("GET", exchange.headers["location"])
        target.close()
    assert exchange.status == 307
    assert other.requests == []
