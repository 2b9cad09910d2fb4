"""W3C EARL export of a real report."""

import json
from pathlib import Path

from conformance.reports.earl import OUTCOMES, to_earl


def test_each_requirement_is_an_earl_assertion(runs):
    report = json.loads(Path(runs["faulty"]).read_text(encoding="utf-8"))
    earl = to_earl(report)
    assert earl["@context"]["earl"] == "http://www.w3.org/ns/earl#"
    assertions = [node for node in earl["@graph"] if node.get("@type") == "earl:Assertion"]
    assert len(assertions) == len(report["requirements"])
    outcome = {a["earl:test"]["@id"].split("#")[1]: a["earl:result"]["earl:outcome"]["@id"] for a in assertions}
    assert outcome["CORE-HTTP-001"] == "earl:failed" and outcome["CORE-DISC-001"] == "earl:passed"
    assert all(a["earl:mode"]["@id"] == "earl:automatic" for a in assertions)
    tests = {n["@id"] for n in earl["@graph"] if n.get("@type") == "earl:TestCase"}
    assert {a["earl:test"]["@id"] for a in assertions} == tests


def test_every_verdict_has_an_earl_outcome():
    from conformance.verdicts import Verdict

    assert set(OUTCOMES) == {v.value for v in Verdict}
    assert set(OUTCOMES.values()) <= {"earl:passed", "earl:failed", "earl:cantTell", "earl:inapplicable",
                                      "earl:untested"}


def test_run_writes_earl_beside_the_report(runs):
    earl = json.loads((runs["clean"].parent / "report.earl.jsonld").read_text(encoding="utf-8"))
    assert earl["sc:verdict"] == "conformant"
