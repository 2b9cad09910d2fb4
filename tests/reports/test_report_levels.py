"""S13 in the report: a MAY under a capability the platform declares binds the profile verdict."""

import pytest

from conformance.profiles import load_profile
from conformance.reports import build_report
from conformance.results import RequirementResult
from conformance.verdicts import Verdict

PROFILE = load_profile("governance-service")
FEED = "GOV-EVT-001"  # a MAY under the capability event-feed


def _report(feed_verdict):
    results = {r.id: RequirementResult(PROFILE.id, r.to_json(), feed_verdict if r.id == FEED else Verdict.PASS, [])
               for r in PROFILE.requirements}
    return build_report(PROFILE, results, schemas_digest="sha256:0",
                        target={"base_url": "x", "declared_profiles": None}, seed=1, started_at="2026-12-01T00:00:00Z", finished_at="2026-12-01T00:00:01Z")


@pytest.mark.parametrize("feed, verdict, binding", [
    (Verdict.FAIL, "not-conformant", True),  # the feed is declared (its checks ran) and broken
    (Verdict.INCONCLUSIVE, "incomplete", True),
    (Verdict.NOT_APPLICABLE, "conformant", False),  # not declared: the capability gate
])
def test_a_declared_capability_makes_its_may_binding(feed, verdict, binding):
    report = _report(feed)
    assert PROFILE.requirement(FEED).level == "MAY"
    assert report["verdict"] == verdict
    entry = next(r for r in report["requirements"] if r["id"] == FEED)
    assert entry["level"] == "MAY" and entry["binding"] is binding
