"""--cleanup deletes what the run created where the platform declares delete, and says what stays."""

import json
import os
import subprocess
import sys

import httpx

from conformance.cleanup import clean_up
from conformance.reference import create_app, mint_token, running
from conformance.session import RunSession
from conformance.target import Target

SECRET = "c" * 32
CLI = [sys.executable, "-m", "conformance.cli"]


def test_a_run_with_cleanup_removes_what_it_created_and_says_so(tmp_path):
    token = mint_token(SECRET)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SC_")} | {"SC_TOKEN": token}
    with running(create_app(secret=SECRET)) as base_url:
        run = subprocess.run([*CLI, "run", "--base-url", base_url, "--profile", "core", "-k", "CORE-CRUD-00",
                              "--cleanup"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        report = json.loads((tmp_path / "reports" / "core" / "report.json").read_text(encoding="utf-8"))
        left = [path for path in report["created_records"]
                if httpx.get(base_url + path, headers={"Authorization": f"Bearer {token}"}).status_code != 404]
    assert report["created_records"], run.stdout + run.stderr
    cleanup = report["cleanup"]
    assert sorted(cleanup["removed"] + cleanup["already_gone"]) == sorted(set(report["created_records"]))
    assert cleanup["kept"] == [] and left == []
    assert cleanup["already_gone"]  # CORE-CRUD-007 deletes a record of its own
    assert f"cleanup: removed {len(cleanup['removed'])} records the run created" in run.stdout


def test_a_run_without_cleanup_says_what_stays(tmp_path):
    token = mint_token(SECRET)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SC_")} | {"SC_TOKEN": token}
    with running(create_app(secret=SECRET)) as base_url:
        run = subprocess.run([*CLI, "run", "--base-url", base_url, "--profile", "core", "-k", "CORE-CRUD-00"],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    report = json.loads((tmp_path / "reports" / "core" / "report.json").read_text(encoding="utf-8"))
    assert "cleanup" not in report and report["created_records"]
    assert (f"{len(report['created_records'])} records the run created stay on the platform" in run.stdout
            and "--cleanup deletes them" in run.stdout), run.stdout


def test_without_the_delete_capability_everything_stays_and_nothing_is_deleted(monkeypatch):
    with running(create_app(secret=SECRET)) as base_url:
        target = Target(base_url, token=mint_token(SECRET))
        session = RunSession(target, seed=1)
        session.created = ["/communities/com-1", "/residents/res-2"]
        monkeypatch.setattr(session, "capabilities", lambda: {"updated-since"})
        sent = []
        monkeypatch.setattr(target, "request", lambda *a, **k: sent.append(a))
        outcome = clean_up(session)
        target.close()
    assert outcome["removed"] == [] and sent == []
    assert [k["path"] for k in outcome["kept"]] == session.created
    assert {k["reason"] for k in outcome["kept"]} == {"the platform does not declare the delete capability"}


def test_records_of_a_collection_that_is_not_deletable_are_not_asked():
    with running(create_app(secret=SECRET)) as base_url:
        target = Target(base_url, token=mint_token(SECRET))
        session = RunSession(target, seed=1)
        session.created = ["/audit-records/aud-1"]
        outcome = clean_up(session)
        target.close()
    assert outcome == {"removed": [], "already_gone": [],
                       "kept": [{"path": "/audit-records/aud-1", "reason": "audit-records records are not deletable"}]}
