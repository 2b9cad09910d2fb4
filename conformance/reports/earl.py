"""W3C EARL 1.0 (Evaluation and Report Language) export of a report, as JSON-LD."""

from __future__ import annotations

from typing import Any

__all__ = ["OUTCOMES", "to_earl"]

CONTEXT = {
    "earl": "http://www.w3.org/ns/earl#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "doap": "http://usefulinc.com/ns/doap#",
    "sc": "https://smart-community.example/ns/conformance#",
}
# EARL has no "waived": a waived requirement failed, so it is earl:failed with the waiver in its description.
OUTCOMES = {
    "pass": "earl:passed",
    "fail": "earl:failed",
    "waived": "earl:failed",
    "inconclusive": "earl:cantTell",
    "not-applicable": "earl:inapplicable",
    "manual": "earl:untested",
}
PROFILE_BASE = "https://smart-community.example/profiles/"


def _description(req: dict[str, Any]) -> str:
    messages = [f"{c['name']}: {c['message']}" for c in req["checks"] if c["verdict"] != "pass"]
    if req.get("waiver"):
        w = req["waiver"]
        messages.insert(0, f"waived ({w['original_verdict']}) by {w['approver']} until {w['expires']}: {w['reason']}")
    return "; ".join(messages) or req["checks"][0]["message"]


def to_earl(report: dict[str, Any]) -> dict[str, Any]:
    """The report as an EARL default graph: one assertor, one subject, one test case and assertion per requirement,
    and the report itself (profile verdict and digest)."""
    profile = report["profile"]
    base = f"{PROFILE_BASE}{profile['id']}/{profile['version']}"
    assertor = {"@id": f"urn:sc-conformance:{report['suite']['version']}", "@type": ["earl:Assertor", "earl:Software"],
                "doap:name": report["suite"]["name"], "doap:release": {"doap:revision": report["suite"]["version"]}}
    subject = {"@id": report["target"]["base_url"], "@type": "earl:TestSubject",
               "dct:description": f"platform certified against {profile['id']} {profile['version']}"}
    graph: list[dict[str, Any]] = [assertor, subject]
    for req in report["requirements"]:
        test_id = f"{base}#{req['id']}"
        graph.append({"@id": test_id, "@type": "earl:TestCase", "dct:identifier": req["id"],
                      "dct:title": [{"@value": req["title"]["en"], "@language": "en"},
                                    {"@value": req["title"]["zh"], "@language": "zh"}],
                      "dct:source": req.get("source", []), "sc:level": req["level"], "sc:subsystem": req["subsystem"]})
        graph.append({"@type": "earl:Assertion", "earl:assertedBy": {"@id": assertor["@id"]},
                      "earl:subject": {"@id": subject["@id"]}, "earl:test": {"@id": test_id},
                      "earl:mode": {"@id": "earl:automatic"},
                      "earl:result": {"@type": "earl:TestResult", "earl:outcome": {"@id": OUTCOMES[req["verdict"]]},
                                      "sc:verdict": req["verdict"], "dct:date": report["finished_at"],
                                      "dct:description": _description(req)}})
    graph.append({"@id": f"{base}/report/{report['seed']}", "@type": "sc:Report", "dct:title": profile["title"]["en"],
                  "sc:verdict": report["verdict"], "sc:profileDigest": profile["digest"],
                  "dct:date": report["finished_at"]})
    # Only @context and @graph at the top: with any other member (an @id) JSON-LD makes @graph a *named*
    # graph, and RDF tools that read the default graph (rdflib's Graph.parse) would see no assertion at all.
    return {"@context": CONTEXT, "@graph": graph}
