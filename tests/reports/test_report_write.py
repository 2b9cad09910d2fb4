"""write_reports refuses a report that breaks its published contract, wherever the break is."""

import copy
import json

import pytest

from conformance.errors import SchemaError
from conformance.reports import write_reports


def test_a_broken_entry_is_refused_even_after_the_same_requirement_passed_in_another_report(runs, tmp_path):
    report = json.loads(runs["clean"].read_text(encoding="utf-8"))
    write_reports(report, tmp_path / "first")  # every entry validated, and remembered as conforming
    again = copy.deepcopy(report)
    write_reports(again, tmp_path / "second")  # the same entries: accepted again
    again["requirements"][2]["checks"][0]["verdict"] = "passed-ish"
    with pytest.raises(SchemaError, match=r"at /requirements/2/checks/0/verdict: 'passed-ish' is not one of"):
        write_reports(again, tmp_path / "third")
    assert not (tmp_path / "third").exists()
    skeleton = copy.deepcopy(report)
    skeleton["verdict"] = "mostly-conformant"
    with pytest.raises(SchemaError, match=r"at /verdict: "):
        write_reports(skeleton, tmp_path / "fourth")
    skeleton = copy.deepcopy(report)
    skeleton["requirements"] = {"CORE-DISC-001": "pass"}
    with pytest.raises(SchemaError, match=r"at /requirements: .* is not of type 'array'"):
        write_reports(skeleton, tmp_path / "fifth")
