"""The CLI and plain pytest run the same items and write the same verdicts (DESIGN.md §6)."""

import json
import os
import re
import shutil
import subprocess
import sys

from conformance.reference import create_app, mint_token, running

CLI = [sys.executable, "-m", "conformance.cli"]


def verdicts(report_path):
    report = json.loads(report_path.read_text(encoding="utf-8"))
    return report["verdict"], {r["id"]: r["verdict"] for r in report["requirements"]}


def test_cli_and_pytest_give_the_same_verdicts(tmp_path):
    secret = "s" * 32
    token = mint_token(secret)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SC_")} | {"SC_TOKEN": token}
    with running(create_app(secret=secret, faults=("page-cursor-overlap",))) as base_url:
        cli = subprocess.run([*CLI, "run", "--base-url", base_url, "--profile", "core", "--report-dir", "cli",
                              "--seed", "5", "-q"],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        plain = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                                "--sc-base-url", base_url, "--sc-profile", "core", "--sc-report-dir", "plain",
                                "--sc-seed", "5"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        # pytest-xdist: the workers run the items, the controller writes the report from what they send as JSON
        spread = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-n", "2",
                                 "--sc-base-url", base_url, "--sc-profile", "core", "--sc-report-dir", "spread",
                                 "--sc-seed", "5"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert cli.returncode == 1, cli.stdout + cli.stderr
    assert plain.returncode == 1, plain.stdout + plain.stderr
    assert spread.returncode == 1, spread.stdout + spread.stderr
    cli_verdict, cli_reqs = verdicts(tmp_path / "cli" / "core" / "report.json")
    plain_verdict, plain_reqs = verdicts(tmp_path / "plain" / "core" / "report.json")
    spread_verdict, spread_reqs = verdicts(tmp_path / "spread" / "core" / "report.json")
    assert cli_verdict == plain_verdict == spread_verdict == "not-conformant"
    assert cli_reqs == plain_reqs == spread_reqs
    serial, parallel = (json.loads((tmp_path / d / "core" / "report.json").read_text(encoding="utf-8"))["target"]
                        for d in ("plain", "spread"))
    assert parallel["base_url"] == serial["base_url"] == base_url  # not "reference"
    assert parallel["declared_profiles"] == serial["declared_profiles"] and serial["declared_profiles"]
    assert cli_reqs["CORE-PAGE-003"] == "fail"
    for output in (cli.stdout + cli.stderr, plain.stdout + plain.stderr):
        assert "CORE-PAGE-003 [SHALL]" in output
        assert token not in output
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert token not in path.read_text(encoding="utf-8", errors="replace"), path


def test_serve_reference_with_a_fault_then_run_names_the_broken_requirement(tmp_path, serve_reference):
    with serve_reference(tmp_path, "--fault", "accept-bad-identity") as exports:
        env = {k: v for k, v in exports["env"].items() if not k.startswith("SC_")} | {"SC_TOKEN": exports["SC_TOKEN"]}
        run = subprocess.run([*CLI, "run", "--base-url", exports["base_url"], "--profile", "core", "-q"],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stdout + run.stderr
    report = json.loads((tmp_path / "reports" / "core" / "report.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "not-conformant"
    failed = [r for r in report["requirements"] if r["verdict"] == "fail"]
    assert [r["id"] for r in failed] == ["CORE-VAL-002"] or "CORE-VAL-002" in [r["id"] for r in failed]
    evidence = failed[0]["checks"][0]["evidence"][0] if failed[0]["id"] == "CORE-VAL-002" else next(
        r for r in failed if r["id"] == "CORE-VAL-002")["checks"][0]["evidence"][0]
    assert evidence["request"]["method"] == "POST"
    assert "110105194912310021" in evidence["request"]["body"]
    assert evidence["response"]["status"] == 201
    assert evidence["curl"].startswith("curl -i -X POST")


def test_list_faults_prints_one_fault_and_its_requirement_per_line(cli):
    result = cli("serve-reference", "--list-faults")
    assert result.returncode == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) >= 42
    assert all(re.match(r"^[a-z0-9-]+\t[A-Z][A-Z0-9-]+-\d{3}\t", line) for line in lines)


def test_a_profile_with_a_typo_gives_one_clear_error_line(cli, tmp_path):
    core = (tmp_path.parent / "core.yaml")
    from conformance.resources import profiles_dir

    text = (profiles_dir() / "core.yaml").read_text(encoding="utf-8").replace("level: SHOULD", "level: SHOLD", 1)
    broken = tmp_path / "core-typo.yaml"
    broken.write_text(text.replace("id: core\n", "id: core-typo\n", 1), encoding="utf-8")
    result = cli("run", "--profile", str(broken))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert re.match(r"^sc-conformance: error: .*core-typo\.yaml:\d+: requirements\[\d+\] \(CORE-[A-Z0-9-]+\)\.level: "
                    r"'SHOLD' is not one of .* \(did you mean 'SHOULD'\?\)$", lines[0])
    del core


def test_keyword_selection_runs_a_subset_and_the_report_says_so(cli, tmp_path):
    result = cli("run", "--profile", "core", "-k", "CORE-PAGE", "-q")
    assert result.returncode == 1, result.stdout + result.stderr  # incomplete is not conformant
    report = json.loads((tmp_path / "reports" / "core" / "report.json").read_text(encoding="utf-8"))
    assert {r["id"] for r in report["requirements"]} == {f"CORE-PAGE-00{i}" for i in range(1, 6)}
    assert report["verdict"] == "incomplete"
    assert "CORE-DISC-001" in report["selection"]["not_run"]


def test_run_without_arguments_certifies_the_reference_platform(cli, tmp_path):
    result = cli("run", "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    from conformance.profiles import profile_ids

    for profile_id in profile_ids():  # no --profile: every bundled profile
        report = json.loads((tmp_path / "reports" / profile_id / "report.json").read_text(encoding="utf-8"))
        assert report["verdict"] == "conformant", profile_id
    assert (tmp_path / "reports" / "core" / "summary.md").read_text(encoding="utf-8").startswith("## ")
    assert json.loads((tmp_path / "reports" / "core" / "badge.json").read_text())["message"] == "conformant"
    assert "core 1.0.0: CONFORMANT" in result.stdout


def _pytest_door(*args, cwd, env=None):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SC_")} | (env or {})
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "--sc-profile", "core", "--sc-seed", "3", *args],
                          cwd=cwd, env=clean, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def test_pytest_lf_merges_into_the_previous_report_as_rerun_failed_does(tmp_path):
    """``--lf`` merges into the earlier report; its verdicts are kept only when a trusted key signed it."""
    from conformance.reports.signing import generate_keys, sign_report

    some = ("-k", "CORE-DISC or CORE-HTTP or CORE-PAGE")
    first = _pytest_door(*some, "--sc-fault", "content-type-text", cwd=tmp_path)
    assert first.returncode == 1, first.stdout + first.stderr
    report_path = tmp_path / "reports" / "core" / "report.json"
    before = json.loads(report_path.read_text(encoding="utf-8"))
    assert {r["id"]: r["verdict"] for r in before["requirements"]}["CORE-HTTP-001"] == "fail"
    generate_keys(tmp_path / "k.key", tmp_path / "k.pub")
    sign_report(report_path, tmp_path / "k.key")
    signed = report_path.read_bytes()
    shutil.copytree(tmp_path / ".pytest_cache", tmp_path / "first-cache")  # what pytest's --lf remembers

    again = _pytest_door("--lf", cwd=tmp_path, env={"SC_TRUSTED_KEYS": str(tmp_path / "k.pub")})
    assert "1 passed" in again.stdout, again.stdout + again.stderr  # the fault is gone: the re-run passes
    after = json.loads(report_path.read_text(encoding="utf-8"))
    assert after["merged_from"]["rerun"] == ["CORE-HTTP-001"]
    assert after["merged_from"]["reports"][-1]["trust"] == "trusted"
    assert [r["id"] for r in after["requirements"]] == [r["id"] for r in before["requirements"]]  # not just 1
    expected = {r["id"]: r["verdict"] for r in before["requirements"]} | {"CORE-HTTP-001": "pass"}
    assert {r["id"]: r["verdict"] for r in after["requirements"]} == expected
    assert after["selection"]["not_run"] == before["selection"]["not_run"]
    # every item passed, yet the profile is incomplete (most of core was never run): exit 1, as the CLI does
    assert after["verdict"] == "incomplete" and "INCOMPLETE" in again.stdout
    assert again.returncode == 1, again.stdout + again.stderr

    report_path.write_bytes(signed)  # the same report and failures, but no key is trusted: it vouches for nothing
    shutil.rmtree(tmp_path / ".pytest_cache")
    shutil.copytree(tmp_path / "first-cache", tmp_path / ".pytest_cache")
    untrusted = _pytest_door("--lf", cwd=tmp_path)
    assert "its verdicts cannot be trusted" in untrusted.stdout, untrusted.stdout + untrusted.stderr
    after = json.loads(report_path.read_text(encoding="utf-8"))
    assert [r["id"] for r in after["requirements"]] == ["CORE-HTTP-001"]
    assert set(after["selection"]["not_run"]) >= {r["id"] for r in before["requirements"]} - {"CORE-HTTP-001"}
    assert after["merged_from"]["reports"][-1]["trust"] != "trusted"
    assert after["verdict"] == "incomplete" and untrusted.returncode == 1
