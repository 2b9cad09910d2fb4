"""Issue 18: hardening, round 2. One section per class of attack, each through the CLI (or the pytest door) as
an operator runs it, against real files, real symbolic links and the hostile HTTP server of ``server.py``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
import stat
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml

from .test_attacks import CLI, DANGEROUS, FAULTS, SMALL, _mini_profile, cli, one_line_usage_error

OWNED = "import pathlib\npathlib.Path({marker!r}).write_text('owned')\n"


# ---------------------------------------------------------------------------- 1. no code from the working directory

def _plant(folder: Path, marker: Path) -> None:
    """What a delivered bid folder could hold to run code on the buyer's machine."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "conftest.py").write_text(OWNED.format(marker=str(marker)), encoding="utf-8")
    (folder / "evil_plugin.py").write_text(OWNED.format(marker=str(marker)), encoding="utf-8")
    (folder / "pytest.ini").write_text("[pytest]\naddopts = -p evil_plugin\n", encoding="utf-8")
    (folder / "pyproject.toml").write_text('[tool.pytest.ini_options]\naddopts = "-p evil_plugin"\npythonpath = ["."]\n',
                                           encoding="utf-8")


def test_a_cli_run_imports_no_conftest_from_the_working_directory(tmp_path):
    marker = tmp_path / "owned"
    _plant(tmp_path, marker)
    done = cli("run", "-q", *SMALL, "--report-dir", "reports", cwd=tmp_path)
    assert done.returncode == 1, (done.stdout + done.stderr)[-3000:]  # -k: incomplete, but a real run
    assert (tmp_path / "reports/core/report.json").is_file()
    assert not marker.exists()


def test_a_cli_run_imports_no_conftest_from_a_local_profiles_folder(tmp_path):
    marker = tmp_path / "owned"
    bid = tmp_path / "bid"
    bid.mkdir()
    _mini_profile(bid)
    _plant(bid, marker)
    work = tmp_path / "work"
    work.mkdir()
    done = cli("run", "-q", "--profile", str(bid / "mini.yaml"), "--report-dir", "reports", cwd=work)
    assert done.returncode in (0, 1), (done.stdout + done.stderr)[-3000:]
    assert (work / "reports/mini/report.json").is_file()
    assert not marker.exists()


def test_a_cli_run_ignores_pytest_plugins_named_by_the_environment(tmp_path):
    marker = tmp_path / "owned"
    _plant(tmp_path, marker)
    done = cli("run", "-q", *SMALL, "--report-dir", "reports", cwd=tmp_path,
               env={"PYTEST_PLUGINS": "evil_plugin", "PYTEST_ADDOPTS": "-p evil_plugin"})
    assert done.returncode == 1, (done.stdout + done.stderr)[-3000:]
    assert not marker.exists()


# ---------------------------------------------------------------------------- 2. a bare name is a bundled profile

def _one_requirement_core(path: Path) -> None:
    from conformance.resources import profiles_dir

    core = yaml.safe_load((profiles_dir() / "core.yaml").read_text(encoding="utf-8"))
    core["requirements"] = [r for r in core["requirements"] if r["id"] == "CORE-DISC-001"]
    path.write_text(yaml.safe_dump(core, allow_unicode=True), encoding="utf-8")


def test_a_file_named_like_a_bundled_profile_does_not_replace_it(tmp_path):
    from conformance.profiles import load_profile

    _one_requirement_core(tmp_path / "core")
    done = cli("run", "-q", "--profile", "core", "-k", "CORE-DISC-001", "--report-dir", "reports", cwd=tmp_path)
    assert done.returncode == 1, (done.stdout + done.stderr)[-3000:]  # the bundled core: 44 requirements not run
    report = json.loads((tmp_path / "reports/core/report.json").read_text(encoding="utf-8"))
    assert report["profile"]["digest"] == load_profile("core").digest
    assert "CONFORMANT" not in done.stdout.replace("NOT-CONFORMANT", "")
    explicit = cli("run", "-q", "--profile", "./core", "--report-dir", "explicit", cwd=tmp_path)
    assert explicit.returncode == 0, (explicit.stdout + explicit.stderr)[-3000:]  # an explicit path is that file
    mine = json.loads((tmp_path / "explicit/core/report.json").read_text(encoding="utf-8"))
    assert len(mine["requirements"]) == 1


@pytest.fixture(scope="module")
def earlier(tmp_path_factory) -> dict:
    """A real report of a small run (made once per module)."""
    root = tmp_path_factory.mktemp("earlier")
    done = cli("run", "-q", *SMALL, "--seed", "7", "--report-dir", "reports", cwd=root)
    assert done.returncode == 1, (done.stdout + done.stderr)[-3000:]  # -k makes it incomplete
    return json.loads((root / "reports/core/report.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("profile_id", ["./mine", "mine.yaml", "../mine", "{tmp}/mine.yaml", "sub/mine", "mine"])
def test_a_reports_profile_id_is_never_loaded_as_a_path_by_rerun_failed(tmp_path, earlier, profile_id):
    from conformance.profiles import load_profile

    for name in ("mine.yaml", "mine", "sub/mine"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        _one_requirement_core(tmp_path / name)
    report = json.loads(json.dumps(earlier))
    report["profile"]["id"] = profile_id.format(tmp=tmp_path)
    report["profile"]["digest"] = load_profile(tmp_path / "mine.yaml").digest  # what the planted file loads as
    (tmp_path / "earlier.json").write_text(json.dumps(report), encoding="utf-8")
    line = one_line_usage_error(cli("run", "--rerun-failed", "earlier.json", "--report-dir", "reports", cwd=tmp_path))
    assert "earlier.json" in line or "mine" in line
    assert not (tmp_path / "reports").exists()


# ---------------------------------------------------------------------------- 3. a credential in any encoding

def _unescape(text: str) -> str:
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def _token_pieces(token: str, width: int = 12) -> set[str]:
    """Every ``width``-character window of the token and of its base32, UTF-16 base64 and hex spellings
    (case-folded)."""
    raw, utf16 = token.encode(), token.encode("utf-16-le")
    forms = [token, utf16.hex()]
    for shift in range(5):  # base32 at every alignment, without the groups a neighbour changes
        encoded = base64.b32encode(bytes(shift) + raw).decode()
        forms.append(encoded[8 if shift else 0: 8 * ((shift + len(raw)) // 5)])
    for shift in range(3):
        encoded = base64.b64encode(bytes(shift) + utf16).decode().rstrip("=")
        forms.append(encoded[4:-4] if shift else encoded[:-4])
    return {form[i:i + width].lower() for form in forms for i in range(len(form) - width + 1)}


_INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad\x00]")


def _split_leaks(tokens: dict[str, str], name: str, text: str) -> list[str]:
    """The text, unescaped and percent-decoded twice, with everything but the tokens' own alphabet dropped
    (so pieces, zero-width characters and UTF-16's NULs fall away), must hold no 12 characters of a token."""
    views = [text, _unescape(text), unquote(unquote(text)), unquote(unquote(_unescape(text)))]
    found = []
    for role, token in tokens.items():
        pieces = _token_pieces(token)
        long_pieces = _token_pieces(token, 16) | pieces
        for view in views:
            # 12 characters where only the invisible characters an attacker interleaves (zero-width, format, NUL)
            # fall away; 16 where everything but the token's alphabet does (pieces cut by syntax glued again): a
            # 12-window there glued an 11-character piece to the last letter of a key ("id") or an entity ("&#34;")
            # that happened to equal the token's preceding character, and failed one run in five with no leak
            glued = re.sub(r"[^a-z0-9_.-]", "", view.lower())
            for folded, width in ((view.lower(), 12), (_INVISIBLE.sub("", view.lower()), 12), (glued, 16)):
                hit = next((folded[i:i + width] for i in range(len(folded) - width + 1)
                            if folded[i:i + 12] in pieces and folded[i + width - 12:i + width] in pieces
                            and folded[i:i + width] in long_pieces), None)
                if hit:
                    found.append(f"{name}: {role}: …{hit}…")
                    break
            else:
                continue
            break
    return found


def test_a_token_echoed_cut_interleaved_double_encoded_utf16_or_base32_reaches_no_output(hostile, tmp_path):
    tokens = {role: f"eyJ{secrets.token_urlsafe(12)}.eyJ{secrets.token_urlsafe(24)}.{secrets.token_urlsafe(32)}"
              for role in ("admin", "reader", "auditor")}
    credentials = tmp_path / "credentials.yaml"
    credentials.write_text(yaml.safe_dump({"roles": {r: {"token": t, "scopes": ["registry:read"]}
                                                     for r, t in tokens.items()}}), encoding="utf-8")
    with hostile("echo-split") as base_url:
        done = cli("run", "--base-url", base_url, *SMALL, "--credentials", str(credentials), "--timeout", "2",
                   "--seed", "5", "--report-dir", "reports", "--junitxml", "junit.xml", cwd=tmp_path)
    assert done.returncode in (1, 2), (done.stdout + done.stderr)[-3000:]
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p != credentials]
    if done.returncode == 1:
        assert any(p.name == "report.json" for p in files)
        report = (tmp_path / "reports/core/report.json").read_text(encoding="utf-8")
        assert "***REDACTED***" in report
    leaks = _split_leaks(tokens, "terminal", done.stdout + done.stderr)
    for file in files:
        leaks += _split_leaks(tokens, str(file.relative_to(tmp_path)), file.read_bytes().decode("utf-8", "replace"))
    assert leaks == []


@pytest.mark.parametrize("token", ["wrong", "admin", "Bearer"])
def test_a_short_token_is_redacted_only_where_it_is_the_token(token):
    from conformance.redaction import REDACTED, Redactor

    redactor = Redactor([token])
    prose = "the bearer token of the administrator was wrongly refused by a web server"
    assert redactor.redact(prose) == prose.replace(" bearer ", f" {REDACTED} ") if token == "Bearer" else prose
    assert redactor.redact(f"Authorization: Bearer {token}") == (
        f"Authorization: {REDACTED} {REDACTED}" if token == "Bearer" else f"Authorization: Bearer {REDACTED}")
    assert redactor.redact(f'{{"token": "{token}"}}') == f'{{"token": "{REDACTED}"}}'


def test_a_short_token_does_not_cut_words_out_of_what_the_platform_says(hostile, tmp_path):
    """The platform says "owned title"; a token "wned" must not turn it into "o***REDACTED*** title"."""
    with hostile("terminal-escapes") as base_url:
        done = cli("run", "--base-url", base_url, *SMALL, "--timeout", "1", "--report-dir", "reports", cwd=tmp_path,
                   env={"SC_TOKEN": "wned"})
    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-3000:]
    summary = (tmp_path / "reports/core/summary.md").read_text(encoding="utf-8")
    for shown in (output, summary):
        assert "owned title" in shown and "REDACTED" not in shown.replace('"$SC_TOKEN"', "")


# ---------------------------------------------------------------------------- 4. no write or delete through a link

def _victims(tmp_path: Path) -> tuple[Path, Path]:
    """A precious file and a precious directory outside every output."""
    outside = tmp_path / "outside"
    outside.mkdir()
    precious = outside / "precious.txt"
    precious.write_text("precious", encoding="utf-8")
    (outside / "report.json").write_text("precious", encoding="utf-8")
    return outside, precious


def _untouched(outside: Path) -> None:
    assert sorted(p.name for p in outside.iterdir()) == ["precious.txt", "report.json"]
    assert {p.read_text(encoding="utf-8") for p in outside.iterdir()} == {"precious"}


def _no_tmp_outside(tmp_path: Path, inside: Path) -> None:
    stray = [p for p in tmp_path.rglob("*.tmp") if inside not in p.parents]
    assert stray == []


def test_standard_build_replaces_a_planted_file_link_and_refuses_a_planted_directory_link(tmp_path):
    outside, precious = _victims(tmp_path)
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").symlink_to(precious)
    (site / "req").mkdir()
    (site / "req" / "CORE-DISC-001.html").symlink_to(precious)
    done = cli("standard", "build", "-o", "site", cwd=tmp_path)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert not (site / "index.html").is_symlink() and "<html" in (site / "index.html").read_text(encoding="utf-8")
    _untouched(outside)
    for planted in ("zh", "schemas"):
        again = tmp_path / f"site-{planted}"
        again.mkdir()
        (again / planted).symlink_to(outside, target_is_directory=True)
        line = one_line_usage_error(cli("standard", "build", "-o", again.name, cwd=tmp_path))
        assert "symbolic link" in line
        _untouched(outside)
    _no_tmp_outside(tmp_path, site)


def test_junitxml_replaces_a_planted_link(tmp_path):
    outside, precious = _victims(tmp_path)
    (tmp_path / "junit.xml").symlink_to(precious)
    done = cli("run", "-q", *SMALL, "--report-dir", "reports", "--junitxml", "junit.xml", cwd=tmp_path)
    assert done.returncode == 1, (done.stdout + done.stderr)[-3000:]
    junit = tmp_path / "junit.xml"
    assert not junit.is_symlink() and "<testsuite" in junit.read_text(encoding="utf-8")
    _untouched(outside)
    _no_tmp_outside(tmp_path, tmp_path / "reports")


def test_the_stale_report_clean_up_deletes_nothing_through_a_planted_directory_link(tmp_path):
    outside, _precious = _victims(tmp_path)
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "core").symlink_to(outside, target_is_directory=True)
    line = one_line_usage_error(cli("run", "-q", *SMALL, "--report-dir", "reports", cwd=tmp_path))
    assert "symbolic link" in line and "reports/core" in line
    _untouched(outside)


def test_serve_reference_writes_no_credentials_through_planted_links(tmp_path):
    outside, precious = _victims(tmp_path)
    for name in ("reference-credentials.yaml", "reference-attestations.yaml"):
        (tmp_path / name).symlink_to(precious)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SC_")}
    server = subprocess.Popen([*CLI, "serve-reference", "--port", "0"], cwd=tmp_path, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        lines = [server.stdout.readline() for _ in range(3)]
    finally:
        server.terminate()
        server.wait(20)
    assert any("SC_CREDENTIALS=" in line for line in lines), lines
    _untouched(outside)
    credentials = tmp_path / "reference-credentials.yaml"
    assert not credentials.is_symlink() and "roles" in credentials.read_text(encoding="utf-8")
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert not (tmp_path / "reference-attestations.yaml").is_symlink()


def test_a_report_directory_swapped_for_a_link_while_reports_are_written_never_redirects_a_write(tmp_path, earlier):
    """A second process swaps reports/core for a link to another directory and back, as fast as it can,
    while the suite writes the report files again and again: nothing may land outside (nor a .tmp file)."""
    from conformance.errors import UsageError
    from conformance.loading import write_file
    from conformance.reports import write_reports

    outside, _precious = _victims(tmp_path)
    reports = tmp_path / "reports"
    (reports / "core").mkdir(parents=True)
    stop = threading.Event()

    def swap() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                os.rename(reports / "core", reports / "core-real")
                os.symlink(outside, reports / "core")
                os.unlink(reports / "core")
                os.rename(reports / "core-real", reports / "core")

    swapper = threading.Thread(target=swap)
    swapper.start()
    try:
        for _ in range(40):
            with contextlib.suppress(UsageError, OSError):  # refused while the link is there: that is fine
                write_reports(earlier, reports)
        for _ in range(3000):  # the one function every output passes through, without the rendering between
            with contextlib.suppress(UsageError, OSError):
                write_file(reports / "core" / "report.json", "{}")
    finally:
        stop.set()
        swapper.join()
    _untouched(outside)
    _no_tmp_outside(tmp_path, reports)


# ---------------------------------------------------------------------------- 5. the validation cache vouches for nothing

def _forge_cache_entry(cache: Path, profile: Path) -> None:
    """What a poisoned CI cache holds: the entry that says these exact bytes passed validation."""
    from conformance import validated
    from conformance.resources import schemas_dir

    key = validated.digest("profile", (schemas_dir() / "suite/profile.json").read_bytes(), profile.read_bytes())
    (cache / "sc-conformance" / "validated").mkdir(parents=True, exist_ok=True)
    (cache / "sc-conformance" / "validated" / key).touch()


@pytest.mark.parametrize("change, says", [
    ({"id": "../../escaped"}, "id"),
    ({"id": "escaped", "kind": "regional", "extends": ["../outside/evil"]}, "kind"),
    ({"id": "escaped", "requirements": [{"id": "X-Y-001", "level": "MUST"}]}, "requirements"),
])
def test_a_forged_validation_cache_entry_lets_no_invalid_profile_through(tmp_path, change, says):
    work = tmp_path / "work"
    work.mkdir()
    bad = _mini_profile(work)
    profile = yaml.safe_load(bad.read_text(encoding="utf-8"))
    profile.update(change)
    bad.write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    cache = tmp_path / "cache"
    _forge_cache_entry(cache, bad)
    done = cli("run", "-q", "--profile", "mini.yaml", "--report-dir", "reports/deep", cwd=work,
               env={"XDG_CACHE_HOME": str(cache)})
    line = one_line_usage_error(done)
    assert "mini.yaml" in line and says in line
    assert [p for p in tmp_path.rglob("*") if p.is_file() and "cache" not in p.parts
            and p.name not in ("mini.yaml",)] == []


# ---------------------------------------------------------------------------- 6. terminal controls, everywhere

ATTACK = "core\x1b[2J\x1b]52;c;cHduZWQ=\x07\x9b31m\u202e\x08"


def _clean(text: str) -> list[str]:
    return [c for c in DANGEROUS if c in text]


def test_the_preflights_refusal_shows_the_platforms_controls_escaped_in_both_doors(hostile, tmp_path):
    with hostile("refuses-with-escapes") as base_url:
        line = one_line_usage_error(cli("run", "--base-url", base_url, *SMALL, "--timeout", "2",
                                        "--token", "a-token-the-platform-refuses", cwd=tmp_path))
        env = {k: v for k, v in os.environ.items() if not k.startswith("SC_")}
        door = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--sc-base-url", base_url,
                               "--sc-profile", "core", "-k", "CORE-DISC-001", "--sc-report-dir", "reports"],
                              cwd=tmp_path, env={**env, "SC_TOKEN": "a-token-the-platform-refuses"},
                              capture_output=True, text=True, timeout=240, errors="surrogateescape")
    assert "not accepted" in line and "owned title" in line and _clean(line) == []
    output = door.stdout + door.stderr
    assert door.returncode != 0 and "not accepted" in output, output[-3000:]
    assert _clean(output) == []


def _profile_with(tmp_path: Path, where: str) -> Path:
    path = _mini_profile(tmp_path)
    profile = yaml.safe_load(path.read_text(encoding="utf-8"))
    if where == "key":
        profile["requirements"][0][ATTACK] = "x"
    elif where == "title":
        profile["title"]["en"] = ATTACK
    else:
        profile["requirements"][0]["title"]["en"] = ATTACK
    path.write_text(yaml.safe_dump(profile, allow_unicode=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("where", ["key", "title", "requirement-title"])
def test_a_profiles_controls_reach_no_terminal(tmp_path, where):
    _profile_with(tmp_path, where)
    outputs = []
    run = cli("run", "-q", "--profile", "mini.yaml", "--fault", "content-type-text", "--report-dir", "reports",
              cwd=tmp_path)
    outputs.append(run.stdout + run.stderr)
    for command in (["profiles", "lint", "mini.yaml"], ["profiles", "matrix", "mini.yaml"],
                    ["profiles", "matrix", "mini.yaml", "--format", "csv"]):
        done = cli(*command, cwd=tmp_path)
        assert "Traceback" not in done.stderr
        outputs.append(done.stdout + done.stderr)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SC_")}
    door = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--sc-profile", "mini.yaml",
                           "--sc-fault", "content-type-text", "--sc-report-dir", "door"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
                          errors="surrogateescape")
    outputs.append(door.stdout + door.stderr)
    assert [(i, _clean(text)) for i, text in enumerate(outputs) if _clean(text)] == []
    assert "mini.yaml" in outputs[0]


@pytest.mark.parametrize("export", ["html", "earl"])
def test_report_html_and_earl_to_standard_output_carry_no_controls(tmp_path, earlier, export):
    report = json.loads(json.dumps(earlier))
    report["profile"]["title"]["en"] = report["profile"]["title"]["zh"] = ATTACK
    report["target"]["base_url"] = "http://x.example/" + ATTACK
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    done = cli("report", export, str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "cHduZWQ=" in done.stdout and _clean(done.stdout) == []


# ---------------------------------------------------------------------------- 7. every URL stays under the base URL

def test_record_ids_that_climb_out_of_the_base_url_take_no_request_there(hostile, tmp_path):
    """Every create answers Location ../../../outside/evil-id and every record has that id; with --cleanup."""
    with hostile("escaping-ids") as base_url:
        done = cli("run", "-q", "--base-url", base_url + "/api/v1", "--profile", "core", "-k", "not CORE-GEN",
                   "--cleanup", "--timeout", "2", "--seed", "3", "--report-dir", "reports", cwd=tmp_path,
                   env={"SC_TOKEN": "t0ken-that-is-long-enough"})
        requests = hostile.last.requests
    assert done.returncode == 1, (done.stdout + done.stderr)[-3000:]
    assert any(method in ("POST", "PATCH") for method, _path, _headers in requests)  # the checks did write
    outside = sorted({(method, path) for method, path, _headers in requests if not path.startswith("/api/v1/")})
    assert outside == []
    report = json.loads((tmp_path / "reports/core/report.json").read_text(encoding="utf-8"))
    assert "leaves the base URL" in json.dumps(report)


def test_a_target_builds_no_url_outside_its_base_path():
    from conformance.target import Target, TargetError

    target = Target("http://127.0.0.1:9/api/v1", token="t0ken-that-is-long-enough")
    try:
        assert target.url("/communities/c-1") == "http://127.0.0.1:9/api/v1/communities/c-1"
        assert target.resolve("c-2", "http://127.0.0.1:9/api/v1/communities/") == \
            "http://127.0.0.1:9/api/v1/communities/c-2"
        for climbing in ("/communities/../../x", "/communities/..%2F..%2Fx", "/communities/..%252f..%252fx",
                         "/communities/..\\..\\x", "http://127.0.0.1:9/api/v1x/c", "http://127.0.0.1:9/outside"):
            with pytest.raises(TargetError, match="leaves the base URL"):
                target.url(climbing)
        with pytest.raises(TargetError, match="leaves the base URL"):
            target.resolve("../../../outside/evil-id", "http://127.0.0.1:9/api/v1/communities")
    finally:
        target.close()


# ---------------------------------------------------------------------------- 8. platform numbers

def _strict(text: str):
    def refuse(name: str):
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_surrogates_infinities_nan_deep_arrays_and_huge_integers_make_a_report_every_command_takes(hostile, tmp_path):
    with hostile("awkward-numbers") as base_url:
        done = cli("run", "-q", "--base-url", base_url, "--profile", "core", "-k", "not CORE-GEN", "--timeout", "2",
                   "--seed", "3", "--report-dir", "reports", cwd=tmp_path, env={"SC_TOKEN": "t0ken-that-is-long-enough"})
    assert done.returncode == 1, (done.stdout + done.stderr)[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    report = tmp_path / "reports/core/report.json"
    _strict(report.read_text(encoding="utf-8"))
    _strict((tmp_path / "reports/core/report.earl.jsonld").read_text(encoding="utf-8"))
    assert cli("report", "keygen", "--out", "keys", cwd=tmp_path).returncode == 0
    signed = cli("report", "sign", str(report), "--key", "keys/report-signing.key", cwd=tmp_path)
    assert signed.returncode == 0, signed.stderr
    verified = cli("report", "verify", str(report), "--public-key", "keys/report-signing.pub", cwd=tmp_path)
    assert verified.returncode == 0, verified.stderr
    for export in ("html", "earl"):
        shown = cli("report", export, str(report), cwd=tmp_path)
        assert shown.returncode == 0 and shown.stdout, shown.stderr


def test_a_report_with_a_400_digit_integer_is_a_one_line_error_for_sign_and_a_reason_for_verify(tmp_path, earlier):
    report = json.loads(json.dumps(earlier))
    report["seed"] = int("9" * 400)
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert cli("report", "keygen", "--out", "keys", cwd=tmp_path).returncode == 0
    line = one_line_usage_error(cli("report", "sign", str(path), "--key", "keys/report-signing.key", cwd=tmp_path))
    assert "RFC 8785" in line
    path.write_text(json.dumps(earlier, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert cli("report", "sign", str(path), "--key", "keys/report-signing.key", cwd=tmp_path).returncode == 0
    report = json.loads(path.read_text(encoding="utf-8"))
    report["seed"] = int("9" * 400)  # then edited: a signed report whose seed became a 400-digit integer
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    done = cli("report", "verify", str(path), "--public-key", "keys/report-signing.pub", cwd=tmp_path)
    assert done.returncode == 1 and "NOT VERIFIED" in done.stderr and "Traceback" not in done.stderr


# ---------------------------------------------------------------------------- 9. suite integrity, trust, reads

def _signed_copy(tmp_path: Path, report: dict, key: str = "keys") -> Path:
    path = tmp_path / "vendor" / "core" / "report.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    report.pop("signature", None)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if not (tmp_path / key).exists():
        assert cli("report", "keygen", "--out", key, cwd=tmp_path).returncode == 0
    assert cli("report", "sign", str(path), "--key", f"{key}/report-signing.key", cwd=tmp_path).returncode == 0
    return path


@pytest.mark.parametrize("edit", ["no-digest", "other-version"])
def test_a_re_signed_report_whose_suite_cannot_be_checked_is_not_verified(tmp_path, earlier, edit):
    report = json.loads(json.dumps(earlier))
    if edit == "no-digest":
        report["suite"].pop("digest")
    else:
        report["suite"]["version"] = "0.0.9"
    path = _signed_copy(tmp_path, report)
    done = cli("report", "verify", str(path), "--public-key", "keys/report-signing.pub", cwd=tmp_path)
    assert done.returncode == 1 and "NOT VERIFIED" in done.stderr, done.stdout + done.stderr
    assert ("no suite digest" if edit == "no-digest" else "0.0.9") in done.stderr


def test_verify_with_a_public_key_trusts_only_that_key(tmp_path, earlier):
    path = _signed_copy(tmp_path, json.loads(json.dumps(earlier)), key="mallory")
    assert cli("report", "keygen", "--out", "alice", cwd=tmp_path).returncode == 0
    env = {"SC_TRUSTED_KEYS": str(tmp_path / "mallory/report-signing.pub")}
    assert cli("report", "verify", str(path), cwd=tmp_path, env=env).returncode == 0  # the trust file alone
    only_alice = cli("report", "verify", str(path), "--public-key", "alice/report-signing.pub", cwd=tmp_path, env=env)
    assert only_alice.returncode == 1 and "not by the trusted key" in only_alice.stderr


def test_a_tampered_pyc_of_the_suite_changes_the_suite_digest(tmp_path):
    """A copy of the suite whose cached bytecode of conformance/verdicts.py makes every profile conformant,
    the source (and its recorded mtime and size) left as they were: the report must not carry the genuine digest."""
    import compileall
    import importlib.util
    import shutil
    from importlib._bootstrap_external import _code_to_timestamp_pyc

    from conformance.resources import data_dir, fixtures_dir, profiles_dir, schemas_dir

    copy = tmp_path / "suite"
    shutil.copytree(Path(__file__).resolve().parents[2] / "conformance", copy / "conformance",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for data in (schemas_dir(), profiles_dir(), fixtures_dir(), data_dir("evaluation")):  # every folder it digests
        shutil.copytree(data, copy / data.name)
    assert compileall.compile_dir(str(copy / "conformance"), quiet=1, force=True)
    env = {"PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    probe = "from conformance.reports.build import suite_digest; import conformance.verdicts; print(suite_digest())"
    genuine = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env={**os.environ, **env},
                             capture_output=True, text=True, timeout=120)
    assert genuine.returncode == 0, genuine.stderr
    source = copy / "conformance" / "verdicts.py"
    text = source.read_text(encoding="utf-8")
    tampered = text + "\n\ndef profile_verdict(shall_verdicts, *, complete=True):\n    return ProfileVerdict.CONFORMANT\n"
    status = source.stat()
    code = compile(tampered, str(source), "exec", dont_inherit=True)
    Path(importlib.util.cache_from_source(str(source))).write_bytes(
        bytes(_code_to_timestamp_pyc(code, int(status.st_mtime), status.st_size)))
    run = cli("run", "-q", "--profile", "core", "-k", "CORE-DISC-001", "--report-dir", "reports", cwd=tmp_path,
              env=env)
    assert run.returncode in (0, 1), (run.stdout + run.stderr)[-3000:]
    report = json.loads((tmp_path / "reports/core/report.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "conformant"  # the tampered bytecode ran: one requirement of 45 certified
    assert report["suite"]["digest"] != genuine.stdout.strip()


def test_rerun_failed_refuses_a_trusted_report_of_another_platform(hostile, tmp_path, earlier):
    report = json.loads(json.dumps(earlier))
    report["target"].update({"base_url": "https://platform-a.example/api", "reference_platform": False})
    path = _signed_copy(tmp_path, report)
    env = {"SC_TRUSTED_KEYS": str(tmp_path / "keys/report-signing.pub"), "SC_TOKEN": "t0ken-that-is-long-enough"}
    with hostile("accepts-everything") as base_url:
        line = one_line_usage_error(cli("run", "--base-url", base_url, "--rerun-failed", str(path),
                                        "--report-dir", "reports", cwd=tmp_path, env=env))
        assert hostile.last.requests == []
    assert "platform-a.example" in line and base_url in line
    bundled = one_line_usage_error(cli("run", "--rerun-failed", str(path), "--report-dir", "reports",
                                       cwd=tmp_path, env=env))
    assert "bundled reference platform" in bundled
    assert not (tmp_path / "reports").exists()


def _limited(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The CLI with its address space capped at 4 GiB: a read without end fails fast instead of eating the machine."""
    import resource

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    clean = {k: v for k, v in os.environ.items() if not k.startswith("SC_")}
    return subprocess.run([*CLI, *args], cwd=cwd, env={**clean, **(env or {})}, capture_output=True, text=True,
                          timeout=240, stdin=subprocess.DEVNULL, preexec_fn=cap, errors="replace")


def _attestation(folder: Path, reference: str, document: bytes = b"") -> Path:
    import hashlib

    path = folder / "attestations.yaml"
    path.write_text(yaml.safe_dump({"attestations": [{
        "requirement": "GUA-INST-003", "attested_by": "someone", "statement": "in force",
        "document": {"reference": reference, "sha256": hashlib.sha256(document).hexdigest()}}]}), encoding="utf-8")
    return path


@pytest.mark.parametrize("planted", ["link-out", "dev-zero"])
def test_an_attested_document_is_a_bounded_file_inside_the_attestation_folder(tmp_path, planted):
    bid = tmp_path / "bid"
    bid.mkdir()
    secret = tmp_path / "elsewhere.txt"  # a file of the buyer's outside the delivered folder
    secret.write_bytes(b"the buyer's private notes")
    (bid / "policy.pdf").symlink_to(secret if planted == "link-out" else Path("/dev/zero"))
    _attestation(bid, "policy.pdf", secret.read_bytes())
    done = _limited("run", "-q", "--profile", "guarantee", "-k", "GUA-INST-003", "--attestations",
                    str(bid / "attestations.yaml"), "--report-dir", "reports", cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 1 and "Traceback" not in output and "MemoryError" not in output, output[-3000:]
    report = json.loads((tmp_path / "reports/guarantee/report.json").read_text(encoding="utf-8"))
    (entry,) = [r for r in report["requirements"] if r["id"] == "GUA-INST-003"]
    assert entry["verdict"] == "fail" and "cannot be read" in json.dumps(entry)


def test_an_attestation_reference_out_of_its_folder_is_a_one_line_error(tmp_path):
    _attestation(tmp_path, "../elsewhere.txt")
    line = one_line_usage_error(cli("run", *SMALL, "--attestations", "attestations.yaml", cwd=tmp_path))
    assert "attestations.yaml" in line and "inside the attestation file's folder" in line


@pytest.mark.parametrize("planted", ["deep", "dev-zero"])
def test_profiles_diff_reads_a_hostile_schema_tree_with_bounds(tmp_path, planted):
    from conformance.resources import profiles_dir, schemas_dir

    tree = tmp_path / "tree"
    (tree / "profiles").mkdir(parents=True)
    (tree / "profiles" / "core.yaml").write_bytes((profiles_dir() / "core.yaml").read_bytes())
    (tree / "schemas").mkdir()
    (tree / "schemas" / "common.json").write_bytes((schemas_dir() / "common.json").read_bytes())
    if planted == "deep":
        (tree / "schemas" / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    else:
        (tree / "schemas" / "zero.json").symlink_to("/dev/zero")
    line = one_line_usage_error(_limited("profiles", "diff", "core", "tree/profiles/core.yaml", cwd=tmp_path))
    assert ("deep.json" if planted == "deep" else "zero.json") in line


def test_profile_text_is_neither_a_formula_in_csv_nor_markup_in_markdown(tmp_path):
    from markdown_it import MarkdownIt

    path = _mini_profile(tmp_path)
    profile = yaml.safe_load(path.read_text(encoding="utf-8"))
    profile["requirements"][0]["title"]["en"] = '=HYPERLINK("https://evil.example/x","click")'
    profile["requirements"][1]["title"]["en"] = "-2+3+cmd|' /C calc'!A0"
    profile["requirements"][2]["title"]["en"] = ("![pixel](https://evil.example/p.png) [login](https://evil.example)"
                                                 " <img src=https://evil.example/x.png> <b>bold</b>")
    profile["requirements"][2]["level"] = "SHOULD"
    path.write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    table = cli("profiles", "matrix", "mini.yaml", "--format", "csv", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    import csv
    import io

    cells = [cell for row in csv.reader(io.StringIO(table.stdout)) for cell in row]
    assert [c for c in cells if c.lstrip().startswith(("=", "+", "-", "@"))] == []
    assert any("HYPERLINK" in c for c in cells)
    renderer = MarkdownIt("commonmark").enable("table")
    matrix = cli("profiles", "matrix", "mini.yaml", cwd=tmp_path)
    diff = cli("profiles", "diff", "core", "mini.yaml", cwd=tmp_path)
    for done in (matrix, diff):
        assert done.returncode == 0, done.stderr
        rendered = renderer.render(done.stdout)
        assert "evil.example" in rendered and not re.search(r"<(a|img|b)\b", rendered), rendered


def test_a_plain_http_base_url_on_the_network_is_marked_insecure(hostile, tmp_path):
    with hostile("accepts-everything") as base_url:
        cli("run", "--base-url", base_url, *SMALL, "--report-dir", "loopback", "--timeout", "2", cwd=tmp_path,
                   env={"SC_TOKEN": "t0ken-that-is-long-enough"})
    report = json.loads((tmp_path / "loopback/core/report.json").read_text(encoding="utf-8"))
    assert report["target"]["transport"]["insecure"] is False  # http on the loopback never leaves the machine
    from conformance.inputs import RunInputs

    options = {"sc_base_url": "http://platform.example/api"}
    remote = RunInputs.from_options(lambda name: options.get(name))
    record = remote.transport_record()
    assert record["insecure"] is True and record["certificate_verification"] != "system" and "http://" in record["warning"]
    assert RunInputs.from_options(lambda name: {"sc_base_url": "https://platform.example/api"}.get(name)
                                  ).transport_record() == {"certificate_verification": "system", "insecure": False}


# ---------------------------------------------------------------------------- a new user's mistakes: one line, no report

@pytest.fixture(scope="module")
def prefixed():
    """The reference platform serving everything under /api, and a token it accepts."""
    from conformance.reference import create_app, mint_token, running

    secret = "q" * 32
    with running(create_app(secret=secret, variants=["path-prefix"])) as base_url:
        yield base_url, mint_token(secret)


@pytest.mark.parametrize("mistake", ["prefix-missing", "prefix-doubled", "no-token"])
def test_a_configuration_mistake_is_one_line_and_no_report_in_both_doors(prefixed, tmp_path, mistake):
    base_url, token = prefixed
    url = {"prefix-missing": base_url, "prefix-doubled": base_url + "/api/api"}.get(mistake, base_url + "/api")
    env = {} if mistake == "no-token" else {"SC_TOKEN": token}
    line = one_line_usage_error(cli("run", "--base-url", url, *SMALL, "--report-dir", "reports", cwd=tmp_path,
                                    env=env))
    assert ("no token" if mistake == "no-token" else "no discovery document") in line
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SC_")}
    door = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--sc-base-url", url,
                           "--sc-profile", "core", "-k", "CORE-DISC-001", "--sc-report-dir", "door"],
                          cwd=tmp_path, env={**clean, **env}, capture_output=True, text=True, timeout=240)
    assert door.returncode == 4 and ("no token" if mistake == "no-token" else "no discovery document") in door.stderr
    assert not (tmp_path / "reports").exists() and not (tmp_path / "door").exists()


def test_the_right_base_url_and_token_still_run(prefixed, tmp_path):
    base_url, token = prefixed
    done = cli("run", "-q", "--base-url", base_url + "/api", *SMALL, "--report-dir", "reports", cwd=tmp_path,
               env={"SC_TOKEN": token})
    assert done.returncode == 1, (done.stdout + done.stderr)[-3000:]  # -k: incomplete, but certified as far as run
    assert (tmp_path / "reports/core/report.json").is_file()


@pytest.mark.parametrize("option", ["--report-dir", "--junitxml"])
def test_an_output_that_cannot_be_written_is_a_usage_error_before_the_run(tmp_path, option):
    (tmp_path / "a-file").write_text("not a directory", encoding="utf-8")
    done = cli("run", *SMALL, option, "a-file/reports" if option == "--report-dir" else "a-file/junit.xml",
               cwd=tmp_path)
    line = one_line_usage_error(done)
    assert option in line and "not a directory" in line
    assert "requirements to check" not in done.stdout  # refused before any requirement ran


def test_an_inconclusive_requirement_is_not_a_failure_in_the_progress_lines(hostile, tmp_path):
    with hostile("accepts-everything") as base_url:
        done = cli("run", "--base-url", base_url, "--profile", "core", "-k", "CORE-PAGE-002", "--timeout", "2",
                   "--report-dir", "reports", cwd=tmp_path, env={"SC_TOKEN": "t0ken-that-is-long-enough"})
    report = json.loads((tmp_path / "reports/core/report.json").read_text(encoding="utf-8"))
    assert [r["verdict"] for r in report["requirements"] if r["verdict"] != "not-run"] == ["inconclusive"]
    progress = [line for line in done.stdout.splitlines() if line.startswith("[  1/1]")]
    assert progress and "INCONCLUSIVE" in progress[0] and "failures so far: 0" in progress[0], done.stdout


def test_a_keyword_that_selects_nothing_is_one_line_and_exit_2(tmp_path):
    line = one_line_usage_error(cli("run", "--profile", "core", "-k", "NOPE", "--report-dir", "reports", cwd=tmp_path))
    assert "NOPE" in line and "selects no requirement" in line
    assert not (tmp_path / "reports").exists()


def test_python_dash_m_imports_no_module_planted_in_the_working_directory(tmp_path):
    marker = tmp_path / "owned"
    for name in ("yaml", "httpx", "jinja2", "pytest"):  # imported once the run starts, not by `import conformance`
        (tmp_path / f"{name}.py").write_text(OWNED.format(marker=str(marker)) + "raise ImportError('planted')\n",
                                             encoding="utf-8")
    done = cli("run", "-q", *SMALL, "--report-dir", "reports", cwd=tmp_path)
    assert done.returncode == 1, (done.stdout + done.stderr)[-3000:]
    assert not marker.exists()


def test_the_pytest_doors_lf_refuses_a_trusted_report_of_another_platform(tmp_path, earlier):
    report = json.loads(json.dumps(earlier))
    report["target"].update({"base_url": "https://platform-a.example/api", "reference_platform": False})
    for entry in report["requirements"]:
        entry["verdict"] = "pass"  # platform A passed these; this platform has not been asked
    signed = _signed_copy(tmp_path, report)
    (tmp_path / "reports" / "core").mkdir(parents=True)
    (tmp_path / "reports" / "core" / "report.json").write_bytes(signed.read_bytes())
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SC_")}
    door = subprocess.run([sys.executable, "-m", "pytest", "--lf", "--sc-profile", "core", "-k", "CORE-DISC-001",
                           "--sc-report-dir", "reports", "--sc-seed", "7"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=240, env={**clean, "SC_TRUSTED_KEYS": str(tmp_path / "keys/report-signing.pub")})
    # refused before any requirement runs, with one line (issue 19: a report binds its target), and the earlier
    # report is left as it was: nothing of platform A's passes stands for this platform
    assert door.returncode == 4, door.stdout[-3000:] + door.stderr[-3000:]
    assert "platform-a.example" in door.stderr and "Traceback" not in door.stderr, door.stderr[-3000:]
    assert (tmp_path / "reports/core/report.json").read_bytes() == signed.read_bytes()


def test_report_html_shows_each_findings_code_expected_found_and_where_to_read_the_fix(tmp_path):
    done = cli("run", "-q", *SMALL, *FAULTS, "--seed", "3", "--report-dir", "reports", cwd=tmp_path)
    assert done.returncode == 1, (done.stdout + done.stderr)[-3000:]
    report = json.loads((tmp_path / "reports/core/report.json").read_text(encoding="utf-8"))
    findings = [f for r in report["requirements"] for c in r["checks"] for f in c.get("findings", [])
                if f.get("verdict") == "fail" and f.get("code") and f.get("expected") is not None]
    assert findings
    import html as html_module

    page = html_module.unescape((tmp_path / "reports/core/report.html").read_text(encoding="utf-8"))
    for finding in findings[:3]:
        assert finding["code"] in page and f"sc-conformance explain {finding['code']}" in page
        assert str(finding["expected"])[:60] in page and str(finding.get("found"))[:60] in page
