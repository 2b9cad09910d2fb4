"""JUnit XML and Allure results read the way CI tools read them: one test per (profile, requirement).

The same requirement runs in every profile that extends core; junitparser and Allure's own result files must
still tell the profiles apart (classname, name; uuid, historyId, testCaseId, fullName).
"""

import json
from collections import Counter

import junitparser
import pytest
from report_runs import run_cli

PROFILES = ("core", "example-city")  # example-city extends core: both hold CORE-DISC-001 and CORE-HTTP-001
SHARED = ("CORE-DISC-001", "CORE-HTTP-001", "CORE-PAGE-001")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("consumers")
    done = run_cli("run", *[a for p in PROFILES for a in ("--profile", p)], "-k", " or ".join(SHARED),
                   "--seed", "4", "--fault", "content-type-text", "--junitxml", "junit.xml", "--alluredir", "allure",
                   cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr  # CORE-HTTP-001 fails in both profiles
    return root, done


def test_junit_classname_is_profile_and_subsystem_and_pairs_are_unique(outputs):
    root, _ = outputs
    cases = [case for suite in junitparser.JUnitXml.fromfile(str(root / "junit.xml")) for case in suite]
    assert len(cases) == len(PROFILES) * len(SHARED)
    pairs = Counter((case.classname, case.name) for case in cases)
    assert max(pairs.values()) == 1
    assert set(pairs) == {(f"{p}.infrastructure", r) for p in PROFILES for r in SHARED}
    failed = {(case.classname, case.name) for case in cases if not case.is_passed}
    assert failed == {(f"{p}.infrastructure", "CORE-HTTP-001") for p in PROFILES}


def test_allure_has_one_test_per_profile_and_requirement(outputs):
    root, _ = outputs
    results = [json.loads(p.read_text(encoding="utf-8")) for p in (root / "allure").glob("*-result.json")]
    assert len(results) == len(PROFILES) * len(SHARED)
    for key in ("uuid", "historyId", "testCaseId", "fullName"):  # what Allure groups retries and history by
        assert len({r[key] for r in results}) == len(results), key
    labels = [{label["name"]: label["value"] for label in r["labels"]} for r in results]
    assert {(lab["parentSuite"], lab["requirement"]) for lab in labels} == {(p, r) for p in PROFILES for r in SHARED}
    by_name = {r["fullName"]: r["status"] for r in results}
    assert by_name == {f"{p}#{r}": "failed" if r == "CORE-HTTP-001" else "passed" for p in PROFILES for r in SHARED}


def test_node_ids_carry_the_profile_outside_the_rootdir(outputs):
    _, done = outputs
    failed = [line for line in done.stdout.splitlines() if line.startswith("FAILED ")]
    assert sorted(line.split(" - ")[0] for line in failed) == [f"FAILED {p}::CORE-HTTP-001" for p in PROFILES]
