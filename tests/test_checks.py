"""Checks against mocked platforms: each check must be able to fail, and must fail for the right reason."""

import httpx
import pytest
import respx

from conformance.profiles import CheckCall, Requirement
from conformance.runner import Runner
from conformance.session import RunSession
from conformance.target import Target
from conformance.verdicts import Verdict

BASE = "http://platform.test"
PROBLEM = {"type": "about:blank", "title": "Not found", "status": 404, "code": "not-found"}


def requirement(check, **params):
    return Requirement(id="T-X-001", level="SHALL", subsystem="infrastructure", title={"zh": "测", "en": "T"},
                       statement={"zh": "测", "en": "T"}, source=("test",), checks=(CheckCall(check, params),),
                       capability=None, profile="test", file="test.yaml", line=1)


@pytest.fixture
def run():
    target = Target(BASE, token="secret-token", timeout=2)

    def run_one(check, **params):
        return Runner(RunSession(target, seed=1)).run_requirement(requirement(check, **params), "test")

    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        run_one.mock = mock
        yield run_one
    target.close()


def test_discovery_document_fails_when_invalid(run):
    run.mock.get("/.well-known/smart-community").mock(return_value=httpx.Response(200, json={"platform": {}}))
    result = run("discovery.document")
    assert result.verdict is Verdict.FAIL
    assert "does not conform to interface/discovery.json" in result.checks[0].message
    assert result.checks[0].evidence[0]["response"]["status"] == 200


def test_discovery_document_fails_when_not_json(run):
    run.mock.get("/.well-known/smart-community").mock(return_value=httpx.Response(200, text="<html>login</html>"))
    result = run("discovery.document")
    assert result.verdict is Verdict.FAIL
    assert "not JSON" in result.checks[0].message


def test_unreachable_target_is_inconclusive(run):
    run.mock.get("/.well-known/smart-community").mock(side_effect=httpx.ConnectError("refused"))
    result = run("discovery.document")
    assert result.verdict is Verdict.INCONCLUSIVE
    assert "ConnectError" in result.checks[0].message


def test_invalid_limit_accepted_fails(run):
    run.mock.get("/.well-known/smart-community").mock(return_value=httpx.Response(200, json={"max_page_size": 100}))
    run.mock.get("/communities").mock(return_value=httpx.Response(200, json={"items": [], "next_cursor": None}))
    result = run("paging.invalid_limit", collection="communities")
    assert result.verdict is Verdict.FAIL
    assert [f.found for f in result.checks[0].findings] == [200] * 5  # 0, -1, abc, 2.5 and max_page_size + 1


def test_200_with_an_error_code_fails(run):
    run.mock.get(url__regex=r"/no-such-collection-.*").mock(return_value=httpx.Response(200, json={"code": "not-found"}))
    assert run("problems.http_status").verdict is Verdict.FAIL


def test_unknown_id_passes_only_with_404(run):
    run.mock.get(url__regex=r"/grids/no-such-id-.*").mock(return_value=httpx.Response(404, json=PROBLEM))
    run.mock.get(url__regex=r"/residents/no-such-id-.*").mock(return_value=httpx.Response(500, json=PROBLEM))
    assert run("entities.unknown_id", collections=["grids"]).verdict is Verdict.PASS
    result = run("entities.unknown_id", collections=["grids", "residents"])
    assert result.verdict is Verdict.FAIL
    assert len(result.checks[0].findings) == 1


def test_missing_bearer_challenge_fails(run):
    run.mock.get("/.well-known/smart-community").mock(return_value=httpx.Response(200, json={"capabilities": []}))
    run.mock.route(url__regex=r"/communities(/.*)?$").mock(return_value=httpx.Response(401, json=PROBLEM))
    result = run("http.bearer_required", collections=["communities"])
    assert result.verdict is Verdict.FAIL
    assert "WWW-Authenticate" in result.checks[0].message


def test_bearer_challenge_is_checked_on_item_paths_and_every_offered_method(run):
    """A platform that challenges on the collection path but not on item paths fails, method by method;
    DELETE is tried only when the `delete` capability is declared (S2)."""
    challenge = {"WWW-Authenticate": 'Bearer realm="x"'}
    run.mock.get("/.well-known/smart-community").mock(return_value=httpx.Response(200, json={"capabilities": []}))
    run.mock.route(url__regex=r"/communities$").mock(return_value=httpx.Response(401, json=PROBLEM, headers=challenge))
    run.mock.route(url__regex=r"/communities/.+").mock(return_value=httpx.Response(401, json=PROBLEM))
    result = run("http.bearer_required", collections=["communities"])
    assert result.verdict is Verdict.FAIL
    failed = sorted(f.message.split(" ")[0] for f in result.checks[0].findings if f.verdict is Verdict.FAIL)
    assert failed == ["GET", "PATCH"]


def test_validation_is_checked_on_patch_too(run):
    """An invalid fixture refused on POST but accepted as the merge patch that makes a valid record invalid fails."""
    refused = httpx.Response(422, json={**PROBLEM, "status": 422, "code": "validation-failed"})
    created = {"id": "c1", "name": "东方社区", "division_code": "340202"}
    run.mock.get("/.well-known/smart-community").mock(return_value=httpx.Response(200, json={"capabilities": []}))
    run.mock.post("/communities").mock(side_effect=[refused, httpx.Response(201, json=created)])
    patched = run.mock.patch("/communities/c1").mock(return_value=httpx.Response(200, json=created))
    result = run("validation.rejects", collection="communities", fixture="communities/invalid/bad-division-code",
                 because="990101 is no division")
    assert result.verdict is Verdict.FAIL
    assert result.checks[0].message.startswith("PATCH of an invalid community was accepted")
    assert patched.calls.last.request.headers["content-type"] == "application/merge-patch+json"
    assert b"990101" in patched.calls.last.request.content


def test_merge_patch_between_and_apply_are_inverse():
    from conformance.checks._expect import apply_merge_patch, merge_patch_between

    before = {"name": "a", "contact": {"name": "b", "phone": "1", "email": "e"}, "tags": ["x"], "gone": 1}
    after = {"name": "a", "contact": {"name": "b", "phone": "2"}, "tags": ["x", "y"], "new": {"k": None or 0}}
    patch = merge_patch_between(before, after)
    assert patch == {"gone": None, "contact": {"phone": "2", "email": None}, "tags": ["x", "y"], "new": {"k": 0}}
    assert apply_merge_patch(before, patch) == after


def test_instants_are_equal_to_the_millisecond_whatever_the_offset():
    from conformance.checks._expect import equal_values

    assert equal_values("2019-04-01T09:30:00.125+08:00", "2019-04-01T01:30:00.1254Z")
    assert not equal_values("2019-04-01T09:30:00.125+08:00", "2019-04-01T01:30:00.127Z")
    assert not equal_values("2019-04-01T09:30:00+08:00", "2019-04-01T09:30:00Z")


def test_server_times_far_from_the_date_header_fail(run):
    entity = {"id": "r1", "created_at": "2026-11-25T18:00:00Z", "updated_at": "2026-11-25T10:00:00.5+00:00"}
    date = {"Date": "Wed, 25 Nov 2026 10:00:30 GMT"}
    run.mock.get(url__regex=r"/communities/c.*").mock(return_value=httpx.Response(200, json={"id": "c1"}))
    run.mock.post("/communities").mock(return_value=httpx.Response(201, json={"id": "c1"}))
    run.mock.post("/residents").mock(return_value=httpx.Response(201, json=entity, headers=date))
    run.mock.get("/residents/r1").mock(return_value=httpx.Response(200, json=entity, headers=date))
    result = run("entities.server_instants", collection="residents")
    assert result.verdict is Verdict.FAIL
    messages = [f.message for f in result.checks[0].findings if f.verdict is Verdict.FAIL]
    assert len(messages) == 2 and all("created_at" in m and "Date" in m for m in messages)


def test_read_back_without_the_sensitive_scope_passes_without_sensitive_tags(run):
    """S12: a token that does not hold `sensitive` sees the sensitive tags removed; that is not a change."""
    stored = {"id": "r1", "name": "李秀英", "tags": ["elderly"]}
    run.mock.post("/residents").mock(return_value=httpx.Response(201, json=stored))
    run.mock.get("/residents/r1").mock(return_value=httpx.Response(200, json=stored))
    run.mock.post("/communities").mock(return_value=httpx.Response(201, json={"id": "c1"}))
    run.mock.patch("/residents/r1").mock(return_value=httpx.Response(200, json=stored))
    assert run("entities.round_trip", collection="residents", fixture="residents/valid/x-check-digit").verdict \
        is Verdict.FAIL  # other members are missing from the stub: still compared
    full = {"id": "r1", "community_id": "c1", "name": "李秀英",
            "identity": {"type": "resident-identity-card", "number": "34020219900315018X"}, "gender": "female",
            "birth_date": "1990-03-15", "phone": "15955331234", "tags": ["elderly"],
            "moved_in_at": "2021-07-15T00:05:30.25Z"}
    run.mock.post("/residents").mock(return_value=httpx.Response(201, json=full))
    run.mock.get("/residents/r1").mock(return_value=httpx.Response(200, json=full))
    assert run("entities.round_trip", collection="residents", fixture="residents/valid/x-check-digit").verdict \
        is Verdict.PASS
    shown = {**full, "tags": ["elderly", "disability", "low-income"]}
    run.mock.get("/residents/r1").mock(return_value=httpx.Response(200, json={**shown, "tags": ["disability"]}))
    assert run("entities.round_trip", collection="residents", fixture="residents/valid/x-check-digit").verdict \
        is Verdict.FAIL  # a sensitive tag shown but the ordinary one lost


def test_a_crashing_check_is_inconclusive_not_a_crash(run, monkeypatch):
    from conformance.checks import CHECKS, load_builtin_checks

    load_builtin_checks()
    spec = CHECKS["problems.http_status"]

    def boom(ctx):
        raise RuntimeError("secret-token leaked?")
        yield

    monkeypatch.setitem(CHECKS, "problems.http_status", type(spec)(spec.name, boom, (), ()))
    result = run("problems.http_status")
    assert result.verdict is Verdict.INCONCLUSIVE
    assert "internal error" in result.checks[0].message
    assert "secret-token" not in result.checks[0].message


def test_a_capability_the_platform_does_not_declare_is_not_applicable():
    target = Target(BASE, token="t", timeout=2)
    req = requirement("entities.delete", collection="grids")
    req = Requirement(**{**req.__dict__, "capability": "delete"})
    with respx.mock(base_url=BASE) as mock:
        mock.get("/.well-known/smart-community").mock(return_value=httpx.Response(200, json={"capabilities": []}))
        result = Runner(RunSession(target, seed=1)).run_requirement(req, "test")
    assert result.verdict is Verdict.NOT_APPLICABLE


# --- Chinese where the reader chose Chinese (issue 18): every check and code has its zh text in codes.yaml ---

_CJK = r"[\u4e00-\u9fff]"
_ENGLISH_SENTENCE = r"[A-Za-z][A-Za-z'-]*(?:[\s,.;:()/+–—-]+[A-Za-z][A-Za-z'-]*){5,}"  # six or more Latin words


def _without_code(text):
    import re

    return re.sub(r"`[^`]*`", " ", text)


def test_every_registered_check_has_a_chinese_description_paragraph_for_paragraph():
    import re

    from conformance.checks import load_builtin_checks

    checks = load_builtin_checks()
    missing = [name for name, spec in checks.items() if not re.search(_CJK, spec.doc_zh)]
    assert not missing, f"no doc_zh (Chinese) in checks/codes.yaml for: {missing}"
    for name, spec in checks.items():
        english = re.search(_ENGLISH_SENTENCE, _without_code(spec.doc_zh))
        assert english is None, f"{name}: doc_zh holds an English sentence: {english.group(0)!r}"
        assert spec.doc_zh.count("\n\n") == spec.doc.count("\n\n"), f"{name}: doc_zh and the docstring differ in paragraphs"


def test_every_finding_code_has_a_chinese_title_and_fix():
    import re

    from conformance.checks import finding_codes

    codes = finding_codes()
    assert len(codes) > 100
    for code in codes.values():
        for field in ("title_zh", "fix_zh"):
            text = getattr(code, field)
            assert re.search(_CJK, text), f"{code.code}: {field} missing or not Chinese in checks/codes.yaml"
            english = re.search(_ENGLISH_SENTENCE, _without_code(text))
            assert english is None, f"{code.code}: {field} holds an English sentence: {english.group(0)!r}"
