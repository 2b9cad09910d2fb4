"""``serve-reference`` with tolerated variants, then ``run --base-url``: conformant on every profile,
with the role credentials and attestations serve-reference wrote (what a vendor would hand over)."""

import json
import subprocess
import sys

import yaml

from conformance.credentials import load_credentials
from conformance.profiles import profile_ids

CLI = [sys.executable, "-m", "conformance.cli"]


def test_two_variants_then_run_is_conformant_on_every_profile(tmp_path, serve_reference):
    with serve_reference(tmp_path, "--variant", "max-page-50", "--variant", "no-delete") as exports:
        run = subprocess.run([*CLI, "run", "--base-url", exports["base_url"], "-q"], cwd=tmp_path,
                             env=exports["env"], capture_output=True, text=True, timeout=600)
    credentials = load_credentials(exports["SC_CREDENTIALS"])
    assert {"admin", "reader", "pii-reader", "auditor", "tenant-a", "tenant-b", "expired"} <= set(credentials.roles)
    assert credentials.token == exports["SC_TOKEN"]
    assert len(yaml.safe_load(open(exports["SC_ATTESTATIONS"], encoding="utf-8"))["attestations"]) == 3
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    reports = sorted((tmp_path / "reports").glob("*/report.json"))
    assert len(reports) == len(profile_ids())  # every bundled profile, the example cities' included
    for path in reports:
        report = json.loads(path.read_text(encoding="utf-8"))
        assert report["verdict"] == "conformant", path
        levels = {r["id"]: r for r in report["requirements"]}
        if "CORE-CRUD-007" in levels:  # the delete MAY: not declared, so not-applicable and not binding
            assert levels["CORE-CRUD-007"]["verdict"] == "not-applicable"
            assert levels["CORE-CRUD-007"]["binding"] is False
    for path in tmp_path.rglob("report.json"):
        assert exports["SC_TOKEN"] not in path.read_text(encoding="utf-8")
