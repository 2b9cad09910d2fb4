"""Finding codes are stable, cover every check, reach every finding, and `explain`/`checks` read them."""

import json
import re
from pathlib import Path

import yaml

import conformance.checks
from conformance.checks import finding_codes, load_builtin_checks
from conformance.cli import main
from conformance.reports.build import unique_failures
from conformance.schemas import schema_store

# Every code released so far and what it names. A released code never changes meaning and is never
# reused: add new codes here when a release ships them, never edit or delete a line.
RELEASED = {
    "SC001": "suite", "SC002": "suite", "SC003": "suite", "SC004": "suite", "SC101": "discovery.document",
    "SC102": "discovery.collections", "SC103": "discovery.public", "SC111": "conformance.declaration",
    "SC112": "conformance.declares_profile", "SC201": "http.json_media_type", "SC202": "http.bearer_required",
    "SC203": "http.request_id", "SC211": "problems.format", "SC212": "problems.codes",
    "SC213": "problems.http_status", "SC301": "paging.envelope", "SC302": "paging.limit", "SC303": "paging.walk",
    "SC304": "paging.invalid_limit", "SC305": "paging.empty_result", "SC311": "sync.updated_since",
    "SC401": "entities.create", "SC402": "entities.round_trip", "SC403": "entities.schema",
    "SC404": "entities.merge_patch", "SC405": "entities.delete", "SC406": "entities.unknown_id",
    "SC407": "entities.unknown_id_write", "SC408": "entities.string_ids", "SC409": "entities.server_instants",
    "SC410": "entities.instant_preserved", "SC421": "validation.rejects", "SC422": "validation.malformed_json",
    "SC431": "generated.accepted", "SC432": "generated.rejected", "SC441": "stateful.sequences",
    "SC451": "local.conforms", "SC501": "lifecycle.initial_state", "SC502": "lifecycle.walk",
    "SC503": "lifecycle.forbidden", "SC504": "lifecycle.roles", "SC505": "lifecycle.final",
    "SC506": "lifecycle.unknown_state", "SC507": "lifecycle.state_read_only", "SC508": "lifecycle.field_gate",
    "SC521": "events.published", "SC522": "events.resume", "SC601": "security.rejects_bad_tokens",
    "SC602": "security.scope_required", "SC603": "security.tenant_isolation", "SC604": "security.tenant_listing",
    "SC621": "privacy.masking", "SC622": "privacy.not_in_errors", "SC623": "privacy.sensitive_tags",
    "SC641": "audit.trail", "SC642": "audit.scope_required", "SC643": "audit.immutable",
    "SC701": "institutions.attested", "SC312": "sync.future_window", "SC864": "oracle.transition_from_final",
    "SC860": "oracle.transition_listed", "SC861": "oracle.transition_role", "SC862": "oracle.transition_unknown_state",
    "SC863": "oracle.field_gate",
    # released with issue 22: the oracles over all traffic, the input classes, writes during walks
    "SC005": "suite", "SC306": "paging.walk_while_writing", "SC411": "entities.patch_references",
    "SC461": "inputs.classes", "SC462": "inputs.malformed", "SC801": "oracle.success_media_type",
    "SC802": "oracle.bearer_challenge", "SC803": "oracle.token_required", "SC804": "oracle.bad_token_refused",
    "SC805": "oracle.request_id", "SC806": "oracle.problem_document", "SC807": "oracle.errors_by_status",
    "SC808": "oracle.page_envelope", "SC809": "oracle.page_limit", "SC810": "oracle.sync_window",
    "SC811": "oracle.entity_schema", "SC812": "oracle.server_instants", "SC813": "oracle.string_ids",
    "SC814": "oracle.created_location", "SC815": "oracle.lifecycle_history", "SC816": "oracle.write_scope",
    "SC817": "oracle.read_scope", "SC818": "oracle.read_only_collection", "SC819": "oracle.tenant_listing",
    "SC820": "oracle.tenant_records", "SC821": "oracle.masking", "SC822": "oracle.sensitive_tags",
    "SC823": "oracle.personal_data_in_errors", "SC824": "oracle.accepts_only_valid",
    "SC825": "oracle.malformed_json", "SC826": "oracle.problem_code", "SC827": "oracle.indicator_arithmetic",
    "SC828": "oracle.invalid_limit", "SC851": "oracle.model_read", "SC852": "oracle.deleted_gone",
    "SC853": "oracle.walk_complete", "SC854": "oracle.sync_complete", "SC855": "oracle.server_times_kept",
    "SC856": "oracle.status_by_transition", "SC857": "oracle.transition_applied",
    "SC858": "oracle.merge_patch_applied", "SC859": "oracle.audit_complete",
    # released with issue 22's second round: the feed predicted from the model, walks in two page sizes
    "SC865": "oracle.feed_complete", "SC307": "paging.walks_agree",
}


def test_released_codes_keep_their_meaning():
    codes = finding_codes()
    for code, meaning in RELEASED.items():
        assert code in codes, f"{code} was released; it may be retired (kept) but never removed"
        assert (codes[code].check or "suite") == meaning, f"{code} changed meaning"


def test_every_check_has_one_well_formed_code_and_codes_are_unique():
    checks = load_builtin_checks()
    codes = finding_codes()
    assert all(re.fullmatch(r"SC[0-9]{3}", code) for code in codes)
    named = [c.check for c in codes.values() if c.check]
    assert sorted(named) == sorted(checks), "codes.yaml must list every registered check, once"
    assert all(c.title.strip() and c.fix.strip() for c in codes.values())
    raw = yaml.safe_load(Path(conformance.checks.__file__).with_name("codes.yaml").read_text(encoding="utf-8"))
    assert len({row["code"] for row in raw["checks"].values()} | set(raw["suite"])) == len(raw["checks"]) + len(
        raw["suite"]), "a code is given twice"


def test_every_finding_of_a_report_carries_a_code_and_unique_failures_are_counted(runs):
    report = json.loads(runs["faulty"].read_text(encoding="utf-8"))
    findings = [f for r in report["requirements"] for c in r["checks"] for f in c["findings"]]
    assert findings and all(re.fullmatch(r"SC[0-9]{3}", f["code"]) for f in findings)
    assert schema_store().errors("suite/report.json", report) == []
    unique = report["summary"]["unique_failures"]
    assert unique == unique_failures(report["requirements"])
    # content-type-text, page-ignores-limit: each found by its check and by the oracle that judges every response
    assert set(unique["by_code"]) == {"SC201", "SC302", "SC801", "SC809"}
    doubled = report["requirements"] + report["requirements"]  # the same finding reached twice counts once
    assert unique_failures(doubled)["count"] == unique["count"]
    summary = runs["faulty"].with_name("summary.md").read_text(encoding="utf-8")
    assert f"Unique failures: {unique['count']}" in summary


def test_explain_says_what_a_code_means_which_requirements_use_it_and_how_to_fix(capsys):
    assert main(["explain", "sc303"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("SC303: following next_cursor repeats or skips records")
    assert "check: paging.walk" in out and "how to fix: make cursors stable" in out
    assert "core:CORE-PAGE-003  [SHALL]" in out
    assert main(["explain", "SC001"]) == 0
    assert "a conclusion of the suite itself" in capsys.readouterr().out


def test_checks_list_and_show_come_from_the_registry(capsys):
    assert main(["checks", "list"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()
    assert len(rows) == len(load_builtin_checks())
    assert any(row.startswith("paging.walk\tSC303\t") for row in rows)
    assert main(["checks", "show", "validation.rejects"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("validation.rejects  (SC421)")
    assert "An invalid payload answers 400/422" in out
    assert re.search(r"^  collection: str  \(required\)$", out, flags=re.M)
    assert re.search(r"^  core:CORE-VAL-00\d$", out, flags=re.M)


def test_one_root_cause_on_many_records_is_one_unique_failure():
    """The same code and message on other records, collections, values and counts is one thing to fix (issue 18:
    one root cause counted 83 times); another status or another statement stays apart."""
    def requirement(*messages):
        return {"checks": [{"findings": [{"verdict": "fail", "code": "SC851", "message": m} for m in messages]}]}

    same = [requirement(f"GET /residents/res-{n:04x}a (200): `name` reads back other than written (expected "
                        f"'v{n}', found 'w{n}')") for n in range(83)]
    assert unique_failures(same)["count"] == 1
    # the same rule broken on another collection, or judged in another check's request, is the same root cause;
    # another status or another statement is not
    apart = [requirement("GET /residents/res-1a (500): failed", "GET /residents/res-2a (404): failed",
                         "GET /grids/grd-3a (500): failed (in a request of CORE-PAGE-001 (paging.envelope))",
                         "GET /grids/grd-3a: a page of limit=1 holds 2 items")]
    assert unique_failures(apart)["count"] == 3
