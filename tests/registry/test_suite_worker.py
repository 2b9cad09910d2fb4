"""One certification run in its own process, against suites that misbehave: the time limit kills the whole process
group, output is capped, a missing, huge, foreign or broken report is a failed run (never an exception), and the
token travels only through the environment and is scrubbed from what is kept."""

import json
import os
import sys
import textwrap
import time

from registry_helpers import make_report

from conformance_registry.suite import run_suite

TOKEN = "tok-" + "s3cr3t" * 4
BASE = "http://platform.test"


def fake_suite(tmp_path, body):
    """A stand-in for ``sc-conformance`` whose ``run`` executes ``body`` (argv parsed into ``args``)."""
    script = tmp_path / "fake_suite.py"
    script.write_text(textwrap.dedent("""\
        import json, os, sys, time, pathlib
        argv = sys.argv[1:]
        args = {argv[i]: argv[i + 1] for i in range(1, len(argv) - 1) if argv[i].startswith("--")}
        out = pathlib.Path(args["--report-dir"]) / args["--profile"]
        def report(value, code=0):
            out.mkdir(parents=True, exist_ok=True)
            (out / "report.json").write_text(value if isinstance(value, str) else json.dumps(value))
            sys.exit(code)
        """) + textwrap.dedent(body), encoding="utf-8")
    return [sys.executable, str(script)]


def run(tmp_path, body, secrets=None, timeout=30.0, output_cap=4096, report_cap=1 << 20):
    return run_suite(fake_suite(tmp_path, body), BASE, "core", secrets or {"token": TOKEN}, timeout, output_cap,
                     report_cap)


def test_a_conformant_report_is_read_with_its_digest(tmp_path):
    report = make_report(BASE)
    result = run(tmp_path, f"report({json.dumps(report)!r})")
    assert result.error is None and result.conformant and result.report == report
    assert result.digest.startswith("sha256:") and len(result.digest) == 71


def test_the_token_goes_through_the_environment_and_credentials_through_a_private_file_removed_after(tmp_path):
    seen = tmp_path / "seen.json"
    body = f"""
        cred = pathlib.Path(args["--credentials"])
        json.dump({{"argv": sys.argv, "token": os.environ.get("SC_TOKEN"), "mode": oct(cred.stat().st_mode & 0o777),
                   "folder": oct(cred.parent.stat().st_mode & 0o777), "path": str(cred), "text": cred.read_text(),
                   "leaked": [k for k in os.environ if k.startswith("SC_") and k != "SC_TOKEN"]}},
                  open({str(seen)!r}, "w"))
        print("echoing", os.environ["SC_TOKEN"])
        report({json.dumps(make_report(BASE))!r})
    """
    os.environ["SC_REGISTRY_TOKEN"] = "operator-token-not-for-the-suite"
    try:
        result = run(tmp_path, body, {"token": TOKEN, "credentials": "roles: {reader: {token: reader-tok-123456}}"})
    finally:
        del os.environ["SC_REGISTRY_TOKEN"]
    facts = json.loads(seen.read_text())
    assert result.conformant
    assert facts["token"] == TOKEN and TOKEN not in " ".join(facts["argv"])
    assert facts["mode"] == "0o600" and facts["folder"] == "0o700" and "reader-tok" in facts["text"]
    assert facts["leaked"] == []
    assert not os.path.exists(facts["path"]) and not os.path.exists(os.path.dirname(facts["path"]))


def test_past_the_time_limit_the_process_group_is_killed(tmp_path):
    started = time.monotonic()
    body = """
        import subprocess
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        time.sleep(60)
    """
    result = run(tmp_path, body, timeout=1.5)
    assert time.monotonic() - started < 15
    assert result.report is None and result.error == "the run passed its time limit of 1.5 s and was stopped"


def test_hostile_outcomes_become_errors(tmp_path):
    cases = {
        'print("x" * 100000 + "' + TOKEN + '"); sys.exit(2)': "the suite exited 2 without a report: ",
        'report("{not json")': "report.json is not JSON",
        'report("[1, 2]")': "report.json is not a JSON object",
        f'report({json.dumps(make_report("http://elsewhere.test"))!r})': "report.json is of another target",
        f'report({json.dumps(make_report(BASE, profile="guarantee"))!r})': "report.json is of profile 'guarantee'",
        f'report({json.dumps(make_report(BASE) | {"interrupted": True})!r})': "the run was interrupted",
        'report("[" * 100000 + "]" * 100000)': "report.json is not JSON",
        'report(" " * 2_000_000)': "report.json is larger than 1048576 bytes",
        "os.kill(os.getpid(), 9)": "the suite exited -9 without a report",
    }
    for index, (body, expected) in enumerate(cases.items()):
        folder = tmp_path / str(index)
        folder.mkdir()
        result = run(folder, body)
        assert result.report is None and result.error.startswith(expected), (body[:60], result.error)
        assert len(result.error) < 700 and TOKEN not in result.error


def test_a_token_the_platform_echoed_into_the_report_is_scrubbed(tmp_path):
    report = make_report(BASE) | {"note": f"echo {TOKEN}"}
    result = run(tmp_path, f"report({json.dumps(report)!r})")
    assert TOKEN not in result.report_text and result.report["note"] == "echo $SC_TOKEN"


def test_stopping_the_service_kills_runs_under_way_and_removes_their_private_folder(tmp_path):
    import threading

    from conformance_registry.suite import stop_all

    seen = tmp_path / "folder.txt"
    results = []
    body = f"""
        open({str(seen)!r}, "w").write(str(pathlib.Path(args["--credentials"]).parent))
        time.sleep(60)
    """
    worker = threading.Thread(target=lambda: results.append(run(tmp_path, body, {"token": TOKEN,
                                                                               "credentials": "roles: {}"})))
    worker.start()
    deadline = time.monotonic() + 20
    while not seen.exists() or not seen.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert stop_all() == 1
    worker.join(timeout=20)
    (result,) = results
    assert result.aborted and result.error == "the service stopped during the run" and result.report is None
    assert not os.path.exists(seen.read_text())
