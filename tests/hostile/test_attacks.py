"""Issue 12: the suite turned against the person running it, or gamed by the one being certified.

One test per attack, each through the CLI as an operator runs it (so the same file can be run
against an older installation to see which attacks held before).
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml

CLI = [sys.executable, "-m", "conformance.cli"]
ROLES = ("admin", "reader", "pii-reader", "auditor", "tenant-a", "tenant-b", "expired")
SMALL = ["--profile", "core", "-k", "CORE-DISC-001 or CORE-HTTP-001 or CORE-PAGE-002"]  # a fast real run
FAULTS = ["--fault", "content-type-text", "--fault", "page-ignores-limit"]  # break CORE-HTTP-001, CORE-PAGE-002
DANGEROUS = ("\x1b", "\x9b", "\x07", "\u202e", "\u202c", "\x08")


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: int = 240) -> subprocess.CompletedProcess:
    """The CLI as an operator runs it; commands that start no run are called in-process (much cheaper)."""
    if args[0] in ("report", "profiles"):
        return _in_process(list(args), cwd, env or {})
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SC_")}
    return subprocess.run([*CLI, *args], cwd=cwd, env={**clean, **(env or {})}, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, errors="surrogateescape")


def _in_process(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    from conformance.cli import main

    out, err, here = io.StringIO(), io.StringIO(), os.getcwd()
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 2
    finally:
        os.chdir(here)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def one_line_usage_error(done: subprocess.CompletedProcess) -> str:
    output = done.stdout + done.stderr
    assert done.returncode == 2, output[-3000:]
    assert "Traceback" not in output and "INTERNALERROR" not in output, output[-3000:]
    errors = [line for line in output.splitlines() if line.strip()]
    assert len(errors) == 1, output[-3000:]
    return errors[0]


# ---------------------------------------------------------------------------- 1. credentials in any encoding

def _token() -> str:
    return f"eyJ{secrets.token_urlsafe(12)}.eyJ{secrets.token_urlsafe(24)}.{secrets.token_urlsafe(32)}"


def _grams(token: str) -> set[str]:
    """Every 12-character window of every form the token can be recognised in (case-folded)."""
    raw = token.encode()
    forms = [token, token[::-1], raw.hex()]
    for shift in range(3):
        encoded = base64.b64encode(bytes(shift) + raw).decode().rstrip("=")
        core = encoded[4:-4] if shift else encoded[:-4]  # the edges depend on what surrounds the token
        forms += [core, core.replace("+", "-").replace("/", "_")]
    return {form[i:i + 12].lower() for form in forms for i in range(len(form) - 11)}


def _views(text: str) -> list[str]:
    """The text, and the text with JSON ``\\u``, percent and HTML escapes decoded."""
    unicode_escapes = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    return [text, unicode_escapes, unquote(text), html.unescape(text)]


def _leaks(grams: set[str], name: str, text: str) -> list[str]:
    found = []
    for view in _views(text):
        folded = view.lower()
        hit = next((folded[i:i + 12] for i in range(len(folded) - 11) if folded[i:i + 12] in grams), None)
        if hit:
            found.append(f"{name}: …{hit}…")
            break
    return found


def test_a_platform_echoing_tokens_in_every_encoding_gets_none_into_any_output(hostile, tmp_path):
    tokens = {role: _token() for role in ROLES}
    credentials = tmp_path / "credentials.yaml"
    credentials.write_text(yaml.safe_dump({"roles": {r: {"token": t, "scopes": ["registry:read"]}
                                                     for r, t in tokens.items()}}), encoding="utf-8")
    with hostile("echo-encoded") as base_url:
        done = cli("run", "--base-url", base_url, "--profile", "guarantee", "--credentials", str(credentials),
                   "--timeout", "2", "--seed", "5", "--report-dir", "reports",
                   "--junitxml", "junit.xml", "--alluredir", "allure", "-k", "not CORE-GEN", cwd=tmp_path)
    assert done.returncode == 1, (done.stdout + done.stderr)[-3000:]
    grams = set().union(*(_grams(t) for t in tokens.values()))
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p != credentials]
    assert any(p.name == "report.json" for p in files) and any(p.suffix == ".jsonld" for p in files)
    leaks = _leaks(grams, "terminal", done.stdout + done.stderr)
    for file in files:
        leaks += _leaks(grams, str(file.relative_to(tmp_path)), file.read_bytes().decode("utf-8", "replace"))
    assert leaks == []
    report = json.loads((tmp_path / "reports/guarantee/report.json").read_text(encoding="utf-8"))
    assert report["target"]["declared_profiles"], "the declared profiles are kept, redacted"
    assert "***REDACTED***" in json.dumps(report["target"]["declared_profiles"])


def test_a_token_with_a_line_break_is_never_quoted_in_an_error(hostile, tmp_path):
    token = "first-half-of-a-secret\r\nsecond-half-of-the-secret"
    credentials = tmp_path / "credentials.yaml"
    credentials.write_text(json.dumps({"roles": {"admin": {"token": token}}}), encoding="utf-8")
    with hostile("accepts-everything") as base_url:
        done = cli("run", "--base-url", base_url, *SMALL, "--credentials", str(credentials), "--timeout", "1",
                   "--report-dir", "reports", cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode in (1, 2) and "Traceback" not in output
    written = "".join(p.read_text(encoding="utf-8", errors="replace") for p in tmp_path.rglob("*")
                      if p.is_file() and p != credentials)
    for part in ("first-half-of-a-secret", "second-half-of-the-secret", "of-a-secret"):
        assert part not in output and part not in written


def test_a_token_with_a_line_break_given_directly_is_not_quoted_by_the_transport_error(hostile):
    from conformance.target import Target, TargetError

    token = "first-half-of-a-secret\r\nsecond-half-of-the-secret"
    with hostile("accepts-everything") as base_url:
        target = Target(base_url, token=token, timeout=1)
        with pytest.raises(TargetError) as error:  # a header cannot carry CR/LF: the request is refused
            target.request("GET", "/communities")
        target.close()
    message = str(error.value)
    assert "first-half" not in message and "second-half" not in message and "of-a-secret" not in message


# ---------------------------------------------------------------------------- 3. and 9. platform text

def test_terminal_escapes_from_the_platform_never_reach_the_terminal_or_the_summary(hostile, tmp_path):
    from markdown_it import MarkdownIt

    with hostile("terminal-escapes") as base_url:
        done = cli("run", "--base-url", base_url, *SMALL, "--timeout", "1", "--report-dir", "reports",
                   "--token", "t0ken-that-is-long-enough", cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 1 and "owned title" in output, output[-3000:]  # the text is shown, escaped
    assert [c for c in DANGEROUS if c in output] == []
    summary = (tmp_path / "reports/core/summary.md").read_text(encoding="utf-8")
    assert "evil.example" in summary and [c for c in DANGEROUS if c in summary] == []
    rendered = MarkdownIt("commonmark").enable("table").render(summary)
    assert not re.search(r"<(a|img|script)\b", rendered), rendered
    assert "&lt;script&gt;" in rendered
    for table in rendered.split("<table>")[1:]:  # the platform's pipes split no cell: every row as wide as its head
        head = len(re.findall(r"<th[ >]", table.split("</thead>", 1)[0]))
        rows = table.split("<tbody>", 1)[-1].split("</tbody>", 1)[0].split("<tr>")[1:]
        assert head and all(len(re.findall(r"<td[ >]", row)) == head for row in rows), table[:500]
    report = json.loads((tmp_path / "reports/core/report.json").read_text(encoding="utf-8"))
    vendor = tmp_path / "vendor" / "core" / "report.json"
    vendor.parent.mkdir(parents=True)
    report["profile"]["title"]["en"] = report["profile"]["id"] = "core\x1b[2J\x1b]52;c;cHduZWQ=\x07\u202e"
    vendor.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    for command in (["report", "compare", str(vendor), str(tmp_path / "reports/core/report.json"), "--force"],
                    ["report", "verify", str(vendor)]):
        shown = cli(*command, cwd=tmp_path)
        assert [c for c in DANGEROUS if c in shown.stdout + shown.stderr] == [], command
        assert "Traceback" not in shown.stderr


# ---------------------------------------------------------------------------- 4. waivers

WAIVER = """\
waivers:
  - requirement: CORE-HTTP-001
    reason: forever and ever
    approver: anyone at all
    expires: 9999-12-31
  - requirement: CORE-PAGE-002
    reason: a waiver that ran out
    approver: Zhang San
    expires: 2020-01-01
  - requirement: CORE-NOPE-001
    reason: names no requirement
    approver: nobody
    expires: 2099-01-01
"""


def _mini_profile(tmp_path: Path) -> Path:
    """A local profile of three core requirements: a complete run in seconds."""
    from conformance.resources import profiles_dir

    core = yaml.safe_load((profiles_dir() / "core.yaml").read_text(encoding="utf-8"))
    wanted = ("CORE-DISC-001", "CORE-HTTP-001", "CORE-PAGE-002")
    profile = {key: core[key] for key in ("version", "title") if key in core}
    profile.update({"id": "mini", "kind": "local",
                    "requirements": [r for r in core["requirements"] if r["id"] in wanted]})
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    return path


def test_a_waiver_changes_the_exit_status_never_the_certificate_and_every_output_says_so(tmp_path):
    (tmp_path / "waivers.yaml").write_text(WAIVER, encoding="utf-8")
    _mini_profile(tmp_path)
    done = cli("run", "--profile", "mini.yaml", "--fault", "content-type-text", "--waivers", "waivers.yaml",
               "--seed", "3", "--report-dir", "reports", cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]  # the only failure is waived: CI may pass
    report = json.loads((tmp_path / "reports/mini/report.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "not-conformant"  # DESIGN §4: a waived SHALL failure still fails the certificate
    badge = json.loads((tmp_path / "reports/mini/badge.json").read_text(encoding="utf-8"))
    assert badge["color"] != "brightgreen" and "waived" in badge["message"]
    summary = (tmp_path / "reports/mini/summary.md").read_text(encoding="utf-8")
    page = (tmp_path / "reports/mini/report.html").read_text(encoding="utf-8")
    for shown in (output, summary, html.unescape(page)):
        assert "anyone at all" in shown and "9999-12-31" in shown  # the waiver used, its approver and expiry
        assert "CORE-PAGE-002" in shown and "expired" in shown  # an expired waiver is reported
        assert "CORE-NOPE-001" in shown  # a waiver for an unknown requirement is reported, not ignored


@pytest.mark.parametrize("expires", ["2026-13-45", "2026-12-31T10:00:00", "2026-02-30"])
def test_a_waiver_date_that_is_not_a_day_is_a_one_line_error(tmp_path, expires):
    (tmp_path / "w.yaml").write_text(WAIVER.replace("9999-12-31", expires), encoding="utf-8")
    line = one_line_usage_error(cli("run", *SMALL, "--waivers", "w.yaml", cwd=tmp_path))
    assert "YYYY-MM-DD" in line


# ---------------------------------------------------------------------------- 5., 6. signatures and the suite

@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    """A real report (made once per module), signed by a key the test trusts."""
    root = tmp_path_factory.mktemp("signed")
    done = cli("run", "-q", *SMALL, "--seed", "11", "--report-dir", "reports", cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr  # -k makes it incomplete
    assert cli("report", "keygen", "--out", "keys", cwd=root).returncode == 0
    report = root / "reports/core/report.json"
    assert cli("report", "sign", str(report), "--key", "keys/report-signing.key", cwd=root).returncode == 0
    return report.read_bytes(), root / "keys"


def _signed_report(tmp_path: Path, signed) -> tuple[Path, Path]:
    data, keys = signed
    report = tmp_path / "reports/core/report.json"
    report.parent.mkdir(parents=True)
    report.write_bytes(data)
    (tmp_path / "keys").mkdir()
    for name in ("report-signing.key", "report-signing.pub"):
        (tmp_path / "keys" / name).write_bytes((keys / name).read_bytes())
    return report, tmp_path / "keys/report-signing.pub"


def test_a_report_re_signed_with_an_attackers_key_is_not_verified_nor_shown_signed(tmp_path, signed):
    report, public = _signed_report(tmp_path, signed)
    assert cli("report", "verify", str(report), "--public-key", str(public), cwd=tmp_path).returncode == 0
    assert cli("report", "keygen", "--out", "attacker", cwd=tmp_path).returncode == 0

    def forge(name, edit):
        data = json.loads(report.read_text(encoding="utf-8"))
        edit(data)
        forged = tmp_path / name / "core" / "report.json"
        forged.parent.mkdir(parents=True)
        forged.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        assert cli("report", "sign", str(forged), "--key", "attacker/report-signing.key", cwd=tmp_path).returncode == 0
        return forged

    # a verdict the checks do not give is refused by every reader, whoever signed it (issue 19)
    lying = forge("lying", lambda data: data.update(verdict="conformant"))
    for command in (("report", "verify", str(lying)), ("report", "compare", str(lying), str(report)),
                    ("report", "html", str(lying), "--lang", "en")):
        refused = cli(*command, cwd=tmp_path)
        assert refused.returncode == 1 and "/verdict" in refused.stdout + refused.stderr, command
    # a report that agrees with itself but was re-signed by another key is shown as such, never as signed
    forged = forge("forged", lambda data: data.update(seed=data["seed"] + 1))
    unverified = cli("report", "verify", str(forged), cwd=tmp_path)
    assert unverified.returncode == 1 and "unknown key" in unverified.stderr
    assert cli("report", "verify", str(forged), "--public-key", str(public), cwd=tmp_path).returncode == 1
    table = cli("report", "compare", str(forged), str(report), cwd=tmp_path).stdout
    assert "✔" not in table and "unknown key" in table
    trusted = cli("report", "compare", str(forged), str(report), cwd=tmp_path, env={"SC_TRUSTED_KEYS": str(public)})
    assert trusted.stdout.count("signed ✔") == 1  # only the report the trusted key signed
    page = cli("report", "html", str(forged), "--lang", "en", cwd=tmp_path).stdout
    assert "unknown key" in page


def test_an_integer_rewritten_as_a_float_breaks_the_signature(tmp_path, signed):
    report, public = _signed_report(tmp_path, signed)
    text = report.read_text(encoding="utf-8")
    assert '"seed": 11,' in text
    report.write_text(text.replace('"seed": 11,', '"seed": 11.0,'), encoding="utf-8")
    done = cli("report", "verify", str(report), "--public-key", str(public), cwd=tmp_path)
    assert done.returncode == 1, done.stdout


def test_a_report_made_by_a_modified_suite_says_so(tmp_path, signed):
    report, public = _signed_report(tmp_path, signed)
    data = json.loads(report.read_text(encoding="utf-8"))
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", data["suite"]["digest"])
    data["suite"]["digest"] = "sha256:" + "0" * 64  # what a patched copy with the same version string records
    data.pop("signature")
    report.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert cli("report", "sign", str(report), "--key", "keys/report-signing.key", cwd=tmp_path).returncode == 0
    done = cli("report", "verify", str(report), "--public-key", str(public), cwd=tmp_path)
    assert done.returncode == 1 and "modified copy" in done.stderr
    other = tmp_path / "other" / "core" / "report.json"  # a second vendor's copy: compare takes whole bids
    other.parent.mkdir(parents=True)
    other.write_bytes(report.read_bytes())
    table = cli("report", "compare", str(report), str(other), cwd=tmp_path).stdout
    assert "sha256:" + "0" * 64 in table and "modified copy" in table


# ---------------------------------------------------------------------------- 7. symlinks

def test_symlinks_planted_in_the_report_directory_are_replaced_never_followed(tmp_path):
    directory = tmp_path / "reports" / "core"
    directory.mkdir(parents=True)
    victims = {}
    for name in ("summary.md", "badge.json", "report.html", "report.earl.jsonld", "report.json"):
        victim = tmp_path / f"victim-{name}"
        victim.write_text("precious", encoding="utf-8")
        (directory / name).symlink_to(victim)
        victims[name] = victim
    done = cli("run", "-q", *SMALL, "--report-dir", "reports", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    for name, victim in victims.items():
        assert victim.read_text(encoding="utf-8") == "precious", name
        assert not (directory / name).is_symlink() and (directory / name).stat().st_size > 0


# ---------------------------------------------------------------------------- 8. and low: hostile input files

ALIAS_BOMB = "\n".join(["a: &a [x, x, x, x, x, x, x, x, x]"] +
                       [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]" for i in range(9)]) + "\n"


@pytest.mark.parametrize("name, content", [
    ("bomb.yaml", ALIAS_BOMB),
    ("deep.yaml", "x: " + "[" * 5000 + "]" * 5000 + "\n"),
    ("nul.yaml", "id: core\x00\nrequirements: []\n"),
    ("huge.yaml", "id: big\nrequirements:\n" + "  - {id: BIG-X-001, level: SHALL}\n" * 60000),
    ("shadow.yaml", "root:$6$SECRETHASHVALUE$abcdef:19000:0:99999:7:::\n"),
])
def test_a_hostile_profile_is_one_line_and_exit_2(tmp_path, name, content):
    (tmp_path / name).write_text(content, encoding="utf-8")
    line = one_line_usage_error(cli("run", "--profile", name, cwd=tmp_path))
    assert "SECRETHASHVALUE" not in line and name in line
    if name not in ("bomb.yaml", "shadow.yaml"):
        return
    linted = cli("profiles", "lint", name, cwd=tmp_path)  # lint's contract: exit 1, file:line: problem
    assert linted.returncode == 1 and linted.stdout.startswith(name) and "Traceback" not in linted.stderr
    assert "SECRETHASHVALUE" not in linted.stdout + linted.stderr


@pytest.mark.parametrize("option", ["--credentials", "--waivers", "--attestations", "--baseline"])
def test_a_file_that_is_not_an_input_file_is_not_echoed(tmp_path, option):
    (tmp_path / "shadow").write_text("root:$6$SECRETHASHVALUE$abcdef:19000:0:99999:7:::\n", encoding="utf-8")
    line = one_line_usage_error(cli("run", *SMALL, option, "shadow", cwd=tmp_path))
    assert "SECRETHASHVALUE" not in line and "shadow" in line


def test_a_credentials_problem_names_file_line_and_field(tmp_path):
    (tmp_path / "c.yaml").write_text("roles:\n  admin:\n    token: abc-def-ghi\n    scopes: 5\n", encoding="utf-8")
    line = one_line_usage_error(cli("run", *SMALL, "--credentials", "c.yaml", cwd=tmp_path))
    assert "c.yaml:4: roles.admin.scopes" in line and "abc-def-ghi" not in line


@pytest.mark.parametrize("content", ["{\"report_version\": \"1\"}", "[" * 100000 + "]" * 100000,
                                     "{\"report_version\": \"1\"}\x00"])
def test_malformed_reports_are_one_line_errors_and_verify_checks_every_file(tmp_path, content):
    (tmp_path / "bad.json").write_text(content, encoding="utf-8")
    commands = [["report", "html", "bad.json"], ["report", "earl", "bad.json"], ["report", "compare", "bad.json",
                                                                                 "bad.json"]]
    if content.startswith("{") and content.endswith("}"):  # the doors that start a run: once is enough
        commands += [["run", *SMALL, "--baseline", "bad.json"], ["run", "--rerun-failed", "bad.json"]]
    for command in commands:
        one_line_usage_error(cli(*command, cwd=tmp_path))
    (tmp_path / "also-bad.json").write_text("[]", encoding="utf-8")
    done = cli("report", "verify", "bad.json", "also-bad.json", cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "bad.json: NOT VERIFIED" in done.stderr and "also-bad.json: NOT VERIFIED" in done.stderr
