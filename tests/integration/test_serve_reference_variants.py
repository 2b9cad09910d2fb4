"""``serve-reference`` with tolerated variants, then ``run --base-url``: conformant on every profile,
with the role credentials and attestations serve-reference wrote (what a vendor would hand over)."""

import json
import os
import re
import subprocess
import sys

import yaml

from conformance.credentials import load_credentials
from conformance.profiles import profile_ids

CLI = [sys.executable, "-m", "conformance.cli"]


def _announced(server):
    """The exports serve-reference prints once it listens: {"base_url": …, "SC_TOKEN": …, …}."""
    seen = {}
    for line in server.stdout:
        if match := re.search(r"reference platform on (http://\S+)", line):
            seen["base_url"] = match.group(1)
        if match := re.match(r"export (SC_[A-Z]+)=(\S+)", line):
            seen[match.group(1)] = match.group(2)
        if "SC_ATTESTATIONS" in seen:
            return seen
    raise AssertionError(f"serve-reference stopped before announcing its exports: {seen}")


def test_two_variants_then_run_is_conformant_on_every_profile(tmp_path):
    server = subprocess.Popen([*CLI, "serve-reference", "--port", "0", "--variant", "max-page-50",
                               "--variant", "no-delete"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, cwd=tmp_path)
    try:
        exports = _announced(server)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SC_")}
        env |= {k: v for k, v in exports.items() if k.startswith("SC_")}
        run = subprocess.run([*CLI, "run", "--base-url", exports["base_url"], "-q"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=600)
    finally:
        server.terminate()
        server.wait(timeout=10)
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
