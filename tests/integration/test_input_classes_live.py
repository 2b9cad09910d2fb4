"""Input classes against a live reference platform: it passes them, and each fault only they find is named with
its member, class and method, the failing exchange filed first as the proof."""

import json

import pytest

from conformance.checks import validate_call
from conformance.profiles import load_profile
from conformance.runner import Runner
from conformance.session import RunSession
from conformance.target import Target
from conformance.verdicts import Verdict

PROFILES = {p: load_profile(p, validate_check=validate_call) for p in ("core", "governance-service", "infrastructure")}


def run(reference, profile, requirement, faults=(), variants=()):
    with reference(list(faults), variants=list(variants)) as (base_url, token):
        target = Target(base_url, token=token)
        try:
            runner = Runner(RunSession(target, seed=20261125))
            return runner.run_requirement(PROFILES[profile].requirement(requirement), profile)
        finally:
            target.close()


def inputs_check(result, name="inputs.classes"):
    return next(c for c in result.checks if c.name == name)


@pytest.mark.parametrize(("profile", "requirement"), [
    ("core", "CORE-GEN-001"), ("core", "CORE-VAL-006"), ("governance-service", "GOV-VAL-005"),
    ("infrastructure", "INF-TIME-001")])
def test_the_reference_platform_passes_every_class(reference, profile, requirement):
    result = run(reference, profile, requirement)
    assert [(c.name, c.verdict) for c in result.checks if c.verdict is not Verdict.PASS] == []


def test_a_bound_enforced_on_create_but_not_on_patch_is_named_with_member_class_and_method(reference):
    result = run(reference, "governance-service", "GOV-VAL-005", faults=["work-order-rating-unbounded"])
    check = inputs_check(result)
    assert check.verdict is Verdict.FAIL
    messages = [f.message for f in check.findings]
    assert any(m.startswith("PATCH /satisfaction/rating maximum/above-maximum") and "accepted (200)" in m
               for m in messages), messages
    assert not any(m.startswith("POST") for m in messages)  # on create the gate refuses it first (409)
    proof = check.evidence[0]
    assert proof["request"]["method"] == "PATCH" and '"rating": 6' in proof["request"]["body"]
    assert proof["response"]["status"] == 200


def test_a_malformed_merge_patch_answered_500_is_found(reference):
    result = run(reference, "core", "CORE-VAL-006", faults=["malformed-json-patch-500"])
    check = inputs_check(result, "inputs.malformed")
    assert check.verdict is Verdict.FAIL
    assert all(f.message.startswith("PATCH ") and f.found == 500 for f in check.findings if f.verdict is Verdict.FAIL)
    assert check.evidence[0]["request"]["method"] == "PATCH" and check.evidence[0]["response"]["status"] == 500
    assert next(c for c in result.checks if c.name == "validation.malformed_json").verdict is Verdict.PASS


def test_fractional_seconds_truncated_are_found_for_each_digit_count(reference):
    result = run(reference, "infrastructure", "INF-TIME-001", faults=["observed-at-fraction-truncated"])
    check = inputs_check(result)
    assert check.verdict is Verdict.FAIL
    messages = [f.message for f in check.findings]
    # one digit (.9) to nine all lose 900 ms or more, on POST and on PATCH alike; past eight per method they are counted
    for method in ("POST", "PATCH"):
        for digits in (1, 3, 8):
            assert any(m.startswith(f"{method} /observed_at format:date-time/fraction-{digits} ") for m in messages)
    assert any("more POST classes failed" in m for m in messages)
    assert not any("offset-" in m or "zulu" in m for m in messages)  # whole seconds in any offset are kept
    assert next(c for c in result.checks if c.name == "entities.instant_preserved").verdict is Verdict.PASS


def test_text_normalised_to_nfc_and_short_strings_accepted_are_found(reference):
    kept = inputs_check(run(reference, "core", "CORE-GEN-001", faults=["name-nfc-normalised"]))
    assert kept.verdict is Verdict.FAIL
    assert any("string/nfd" in f.message and "U+0301" not in str(f.found) for f in kept.findings)
    refused = inputs_check(run(reference, "core", "CORE-GEN-002", faults=["accept-below-min-length"]))
    assert refused.verdict is Verdict.FAIL
    labels = [f.message for f in refused.findings]
    assert any(m.startswith("POST /name minLength/below-min-length") for m in labels)
    assert any(m.startswith("PATCH /name minLength/below-min-length") for m in labels)


def test_choices_the_standard_leaves_open_are_not_failed(reference):
    """Refusing unknown members is a SHOULD, 5.0 is an integer, 400 or 422: variants pass every class."""
    for variant in ("drop-unknown-members", "second-precision", "numeric-string-ids", "no-delete"):
        result = run(reference, "core", "CORE-GEN-002", variants=[variant])
        assert inputs_check(result).verdict is Verdict.PASS, variant


REFUSED_FLOATS: list[bytes] = []


def _strict_and_400(app):
    """A platform making two choices the standard leaves open: every refusal is a 400 (never 422), and an integer
    written 5.0 is refused (JSON Schema 2020-12 counts it an integer; a typed platform may not)."""

    async def wrapped(scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PATCH"):
            await app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            floats = []
            json.loads(body, parse_float=lambda text: floats.append(float(text)) or float(text))
        except ValueError:
            floats = []
        if any(f.is_integer() for f in floats):
            REFUSED_FLOATS.append(body)
            problem = json.dumps({"type": "about:blank", "title": "Bad request", "status": 400,
                                  "code": "validation-failed"}).encode()
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"application/problem+json")]})
            await send({"type": "http.response.body", "body": problem})
            return
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def as_400(message):
            if message["type"] == "http.response.start" and message["status"] == 422:
                message = {**message, "status": 400}
            await send(message)

        await app(scope, replay, as_400)

    return wrapped


def test_refusing_an_integral_float_and_answering_400_instead_of_422_conform(reference):
    REFUSED_FLOATS.clear()
    with reference([], wrap=_strict_and_400) as (base_url, token):
        target = Target(base_url, token=token)
        try:
            runner = Runner(RunSession(target, seed=20261125))
            results = {rid: runner.run_requirement(PROFILES[p].requirement(rid), p)
                       for p, rid in (("core", "CORE-GEN-002"), ("governance-service", "GOV-VAL-005"))}
        finally:
            target.close()
    for rid, result in results.items():
        check = inputs_check(result)
        assert check.verdict is Verdict.PASS, (rid, check.message)
    # the integral-float classes were sent (5.0 for a rating on POST and PATCH) and refused, and that is no failure
    assert any(b'"rating": 1.0' in body or b'"rating": 5.0' in body for body in REFUSED_FLOATS)
