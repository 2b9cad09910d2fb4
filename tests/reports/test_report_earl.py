"""W3C EARL export of a real report, read back the way RDF tools read it (rdflib's default graph)."""

import json
from pathlib import Path

import rdflib
from rdflib.namespace import DCTERMS, RDF

from conformance.reports.earl import OUTCOMES, to_earl

EARL = rdflib.Namespace("http://www.w3.org/ns/earl#")
SC = rdflib.Namespace("https://smart-community.example/ns/conformance#")


def parsed(path):
    """The file as rdflib reads it: ``Graph().parse`` holds the default graph only."""
    return rdflib.Graph().parse(path, format="json-ld")


def test_rdflib_reads_every_assertion_from_the_default_graph(runs):
    path = runs["faulty"].parent / "report.earl.jsonld"
    report = json.loads(runs["faulty"].read_text(encoding="utf-8"))
    graph = parsed(path)
    assertions = list(graph.subjects(RDF.type, EARL.Assertion))
    assert len(assertions) == len(report["requirements"])
    outcome = {}
    for assertion in assertions:
        test = graph.value(assertion, EARL.test)
        result = graph.value(assertion, EARL.result)
        assert graph.value(assertion, EARL.mode) == EARL.automatic
        assert (test, RDF.type, EARL.TestCase) in graph
        outcome[str(graph.value(test, DCTERMS.identifier))] = graph.value(result, EARL.outcome)
    assert len(list(graph.objects(None, EARL.outcome))) == len(report["requirements"])
    assert outcome["CORE-HTTP-001"] == EARL.failed and outcome["CORE-PAGE-002"] == EARL.failed
    assert outcome["CORE-DISC-001"] == EARL.passed
    expected = {r["id"]: EARL[OUTCOMES[r["verdict"]].split(":")[1]] for r in report["requirements"]}
    assert outcome == expected


def test_the_report_node_carries_the_profile_verdict(runs):
    graph = parsed(runs["clean"].parent / "report.earl.jsonld")
    (node,) = graph.subjects(RDF.type, SC.Report)
    assert str(graph.value(node, SC.verdict)) == "conformant"
    assert str(graph.value(node, SC.profileDigest)).startswith("sha256:")


def test_no_named_graph_hides_the_assertions(runs):
    earl = to_earl(json.loads(Path(runs["faulty"]).read_text(encoding="utf-8")))
    assert set(earl) == {"@context", "@graph"}  # any other top-level member would make @graph a named graph
    dataset = rdflib.Dataset().parse(data=json.dumps(earl), format="json-ld")
    assert {str(g.identifier) for g in dataset.graphs() if len(g)} <= {str(rdflib.graph.DATASET_DEFAULT_GRAPH_ID)}


def test_every_verdict_has_an_earl_outcome():
    from conformance.verdicts import Verdict

    assert set(OUTCOMES) == {v.value for v in Verdict}
    assert set(OUTCOMES.values()) <= {"earl:passed", "earl:failed", "earl:cantTell", "earl:inapplicable",
                                      "earl:untested"}
