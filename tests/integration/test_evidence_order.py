"""The exchange that proves a finding comes first in the evidence, in report.json, the terminal and the HTML."""

import pytest

from conformance.checks import CheckSpec, validate_call
from conformance.profiles import CheckCall, load_profile
from conformance.reports.html import render_report
from conformance.results import fail
from conformance.runner import Runner
from conformance.session import RunSession
from conformance.suite import describe
from conformance.target import Target

CORE = load_profile("core", validate_check=validate_call)


@pytest.fixture
def runner_for(reference):
    """``with runner_for(faults) as runner``: a Runner against a fresh reference platform."""
    import contextlib

    @contextlib.contextmanager
    def start(faults=()):
        with reference(list(faults)) as (base_url, token):
            target = Target(base_url, token=token, run_id="sc-7")
            try:
                yield Runner(RunSession(target, seed=7, max_examples=1))  # one base payload: every violation once
            finally:
                target.close()

    return start


def exchanges(check):
    return [x for x in check.evidence if "request" in x]


def test_the_failing_listing_comes_first_with_its_content_type_in_terminal_and_html(runner_for):
    with runner_for(["content-type-text"]) as runner:
        result = runner.run_requirement(CORE.requirement("CORE-HTTP-001"), "core")
    check = result.checks[0]
    first = exchanges(check)[0]
    assert first["proves"] is True and sum(bool(x.get("proves")) for x in check.evidence) == 1
    assert first["response"]["headers"]["content-type"].startswith("text/plain")
    assert first["request"]["url"].endswith(check.findings[0].message.split()[1])  # "GET /communities is served…"

    text = describe(result)
    shown = text.index("the exchange that shows it:")
    assert shown < text.index("> GET") and shown < text.index("reproduce: curl")
    block = text[shown:].splitlines()
    assert block[1] == f"    > GET {first['request']['url']}"
    assert block[3].startswith("    < content-type: text/plain")  # the header the finding is about
    assert any(line.startswith(f"    reproduce: curl -i -X GET {first['request']['url']}") for line in block)

    report = {"requirements": [result.to_json()]}
    html = render_report(_minimal_report(report["requirements"]), lang="en")
    proof = html.index('class="exchange proof"')
    assert proof < html.index('class="request"') and "content-type: text/plain" in html[proof:proof + 2000]


def test_an_accepted_invalid_record_is_proved_by_its_post_not_the_delete_that_cleaned_up(runner_for):
    requirement = CORE.requirement("CORE-GEN-002")
    with runner_for(["accept-unknown-field"]) as runner:  # CORE-GEN-002's check, on one collection to stay quick
        check = runner.run_check(requirement, CheckCall("generated.rejected", {"collections": ["communities"]}))
    assert check.verdict.value == "fail"
    first = exchanges(check)[0]
    assert first["proves"] is True
    assert first["request"]["method"] == "POST" and first["response"]["status"] == 201
    assert first["curl"].startswith("curl -i -X POST")


def test_the_proof_is_kept_even_when_the_evidence_window_left_it_out(runner_for):
    def walks(ctx):
        for index in range(16):
            exchange = ctx.get(f"/communities?limit={index + 1}")
            if index == 11:  # the 12th of 16: neither among the first ten nor the last two kept
                yield fail("the twelfth listing is wrong", found=exchange.status)

    with runner_for() as runner:
        runner.checks = {**runner.checks, "test.walks": CheckSpec("test.walks", walks, (), ())}
        check = runner.run_check(CORE.requirement("CORE-DISC-001"), CheckCall("test.walks", {}))
    kept = exchanges(check)
    assert kept[0]["proves"] is True and kept[0]["request"]["url"].endswith("limit=12")
    assert len(kept) == 13 and check.evidence[-1] == {"omitted_exchanges": 3}
    assert len({x["request"]["url"] for x in kept}) == 13  # nothing shown twice


def test_a_passing_check_marks_no_proof(runner_for):
    with runner_for() as runner:
        result = runner.run_requirement(CORE.requirement("CORE-HTTP-001"), "core")
    assert result.verdict.value == "pass"
    assert not any(x.get("proves") for c in result.checks for x in c.evidence)


def _minimal_report(requirements):
    """A report.json around some requirement entries, enough for the HTML template."""
    from conformance.reports.build import summarise
    from conformance.results import RequirementResult
    from conformance.verdicts import Verdict

    results = [RequirementResult("core", r, Verdict(r["verdict"]), []) for r in requirements]
    return {"profile": {"id": "core", "version": "1.0.0", "digest": "sha256:" + "0" * 64,
                        "title": {"zh": "核心", "en": "Core"}},
            "suite": {"version": "0"}, "schemas_digest": "sha256:" + "0" * 64,
            "target": {"base_url": "http://127.0.0.1:1"}, "seed": 7, "started_at": "", "finished_at": "",
            "verdict": "not-conformant", "summary": summarise(results), "requirements": requirements}
