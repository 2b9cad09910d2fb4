"""Peer: Schemathesis against the same reference platform, from the OpenAPI document we publish.

Run from an empty folder with its own config file (no cache), seed-stable, counting requests from
its HAR. Our side is the suite's own run with the same budget of generated cases per operation.
Faults detected: a fault counts as detected when the tool reports a failure the clean platform did not
give (Schemathesis: a new failing operation/check pair in its JUnit report; ours: the profile is not
conformant). A sample of faults (ten by default), one per family spread evenly over the families,
keeps the run near fifteen minutes.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from conformance.reference import FAULTS, create_app, mint_token, running

from ._harness import record

MAX_EXAMPLES = int(os.environ.get("SC_BENCH_MAX_EXAMPLES", "10"))
SEED = 20261125


def _schemathesis() -> str | None:
    found = shutil.which("schemathesis") or shutil.which("st")
    candidate = Path(sys.executable).with_name("schemathesis")
    return found or (str(candidate) if candidate.exists() else None)


def run_schemathesis(faults: tuple[str, ...] = ()) -> dict[str, Any]:
    from conformance.tools.openapi import openapi_document, write_schemathesis_config

    secret = secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory() as scratch, running(create_app(secret=secret, faults=faults)) as base_url:
        folder = Path(scratch)
        (folder / "openapi.json").write_text(json.dumps(openapi_document()), encoding="utf-8")
        write_schemathesis_config(folder / "schemathesis.toml")  # the configuration we publish, hooks beside it
        command = [_schemathesis() or "schemathesis", "--config-file", str(folder / "schemathesis.toml"), "run",
                   str(folder / "openapi.json"), "--url", base_url, "--mode", "all",
                   "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED), "--generation-database", "none",
                   "--checks", "all", "--report", "har,junit", "--report-dir", str(folder / "out"),
                   "-H", f"Authorization: Bearer {mint_token(secret)}", "--request-timeout", "10"]
        started = time.perf_counter()
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=1800)
        wall = time.perf_counter() - started
        har = next((folder / "out").glob("har-*"), None)
        requests = len(json.loads(har.read_text())["log"]["entries"]) if har else 0
        junit = next((folder / "out").glob("junit-*"), None)
        failing = _failing_cases(junit.read_text(encoding="utf-8")) if junit else set()
    return {"exit": done.returncode, "wall_s": wall, "requests": requests, "failing": failing,
            "tail": done.stdout[-600:], "failures": _failure_count(done.stdout)}


def _failure_count(output: str) -> int | None:
    """Schemathesis' own count from its summary line (``== 3 failures, 1 warning in 40s ==``); 0 when it says none."""
    import re

    summary = [line for line in output.splitlines() if line.startswith("=") and " in " in line]
    if not summary:
        return None
    found = re.search(r"([0-9]+) failures?", summary[-1])
    return int(found.group(1)) if found else 0


def _failing_cases(junit: str) -> set[str]:
    """(operation, failure title) pairs from Schemathesis' JUnit report."""
    import xml.etree.ElementTree as ET

    failing = set()
    for case in ET.fromstring(junit).iter("testcase"):
        for failure in list(case.findall("failure")) + list(case.findall("error")):
            title = (failure.get("message") or failure.text or "").strip().splitlines()[0:1]
            failing.add(f"{case.get('name')}: {title[0] if title else ''}")
    return failing


def run_ours(faults: tuple[str, ...] = ()) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        args = [sys.executable, "-m", "conformance.cli", "run", "-q", "--seed", str(SEED), "--report-dir", "r"]
        args += [arg for fault in faults for arg in ("--fault", fault)]
        help_text = subprocess.run([sys.executable, "-m", "conformance.cli", "run", "--help"], capture_output=True,
                                   text=True).stdout
        if "--max-examples" in help_text:
            args += ["--max-examples", str(MAX_EXAMPLES)]
        started = time.perf_counter()
        done = subprocess.run(args, cwd=scratch, capture_output=True, text=True, timeout=1800)
        wall = time.perf_counter() - started
        reports = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(Path(scratch, "r").glob("*/report.json"))]
        calls: dict[str, int] = {}  # a check call shared by several profiles ran once: count it once
        for report in reports:
            for requirement in report["requirements"]:
                for check in requirement["checks"]:
                    key = check["name"] + json.dumps(check.get("params", {}), sort_keys=True)
                    calls[key] = sum(1 for e in check["evidence"] if "request" in e) + sum(
                        e.get("omitted_exchanges", 0) for e in check["evidence"])
        requests = sum(calls.values())
        verdict = "conformant" if reports and all(r["verdict"] == "conformant" for r in reports) else "not-conformant"
    return {"exit": done.returncode, "wall_s": wall, "requests": requests, "verdict": verdict}


def main() -> dict[str, Any]:
    if _schemathesis() is None:
        print("peer: schemathesis is not installed (tox -e bench installs it)")
        return {}
    st_clean, ours_clean = run_schemathesis(), run_ours()
    print(f"peer: Schemathesis --mode all --checks all with the published configuration: "
          f"{st_clean['failures']} failures on the clean reference platform "
          f"({len(st_clean['failing'])} failing operation/check pairs in its JUnit report)")
    figures: dict[str, Any] = {
        "max_examples_per_operation": MAX_EXAMPLES,
        "schemathesis_requests": st_clean["requests"], "schemathesis_wall_s": st_clean["wall_s"],
        "schemathesis_requests_per_s": st_clean["requests"] / st_clean["wall_s"],
        "schemathesis_clean_exit": st_clean["exit"],
        "schemathesis_clean_failures": st_clean["failures"],
        "schemathesis_clean_failing_cases": sorted(st_clean["failing"]),
        "ours_requests": ours_clean["requests"], "ours_wall_s": ours_clean["wall_s"],
        "ours_requests_per_s": ours_clean["requests"] / ours_clean["wall_s"],
        "ours_clean_verdict": ours_clean["verdict"],
    }
    families: dict[str, str] = {}
    for name, fault in FAULTS.items():
        family = fault.requirement.rsplit("-", 1)[0]
        families.setdefault(family, name)
    limit = int(os.environ.get("SC_BENCH_PEER_FAULTS", "10"))
    ordered = [families[f] for f in sorted(families)]  # one fault per family, spread evenly over the families
    chosen = sorted({ordered[i * len(ordered) // limit] for i in range(min(limit, len(ordered)))})
    detected: dict[str, list[str]] = {"schemathesis": [], "ours": []}
    for name in chosen:
        if run_schemathesis((name,))["failing"] - st_clean["failing"]:
            detected["schemathesis"].append(name)
        if run_ours((name,))["verdict"] != "conformant":
            detected["ours"].append(name)
    figures["faults_tried"] = len(chosen)
    figures["faults_detected_schemathesis"] = len(detected["schemathesis"])
    figures["faults_detected_ours"] = len(detected["ours"])
    figures["missed_by_schemathesis"] = sorted(set(chosen) - set(detected["schemathesis"]))
    figures["missed_by_ours"] = sorted(set(chosen) - set(detected["ours"]))
    record("peer", figures)
    return figures


if __name__ == "__main__":
    main()
