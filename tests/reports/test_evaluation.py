"""Evaluation schemes as data: weights, methods, grades; every report carries its evaluation."""

import copy
import json
from pathlib import Path

import pytest

from conformance.errors import UsageError
from conformance.evaluation import evaluate, evaluate_report, is_attested, load_scheme, published_indicators
from conformance.profiles import load_profile

NATIONAL_PROFILES = ("core", "infrastructure", "governance-service", "guarantee")


def entry(rid, verdict="pass", level="SHALL", subsystem="infrastructure", checks=("http.media_type",)):
    return {"id": rid, "level": level, "subsystem": subsystem, "title": {"zh": rid, "en": rid}, "verdict": verdict,
            "checks": [{"name": name, "verdict": verdict, "message": "", "findings": [], "evidence": []}
                       for name in checks]}


def mixed():
    return [entry("CORE-HTTP-001"), entry("CORE-ERR-001", "fail"), entry("CORE-ERR-003", "pass", "SHOULD"),
            entry("CORE-PAGE-001"), entry("CORE-PAGE-005", "inconclusive", "SHOULD"),
            entry("CORE-AUTH-001", subsystem="guarantee"), entry("GUA-PRIV-001", subsystem="guarantee"),
            entry("GUA-PRIV-002", "fail", subsystem="guarantee"),
            entry("GUA-INST-001", subsystem="guarantee", checks=("institutions.attested",)),
            entry("GUA-INST-002", "manual", subsystem="guarantee", checks=("institutions.attested",)),
            entry("GOV-EVT-001", "not-applicable", "MAY", "governance-service")]


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def scores(evaluation):
    """Every indicator's score and inputs: what a weight must not change."""
    return {s["id"]: (s["score"], s["inputs"]) for f in evaluation["indicators"] for s in f["indicators"]} | \
        {f["id"]: f["score"] for f in evaluation["indicators"]}


def test_the_national_scheme_reads_every_national_requirement_exactly_once():
    scheme = load_scheme()
    assert scheme["id"] == "national" and any("T/ZGCSC 003-2023" in s for s in scheme["sources"])
    assert any("DB4206/T 30-2021" in s for s in scheme["sources"])
    assert len(scheme["indicators"]) == 7  # T/ZGCSC 003-2023's first-level indicators
    selectors = [s for f in scheme["indicators"] for s in f["indicators"] if s["method"] != "indicator"]
    for profile in NATIONAL_PROFILES:
        for requirement in load_profile(profile).requirements:
            readers = [s["id"] for s in selectors if any(
                requirement.id.startswith(p[:-1]) if p.endswith("*") else requirement.id == p for p in s["select"]["ids"])]
            assert len(readers) == 1, (requirement.id, readers)


def test_changing_one_weight_changes_the_total_and_nothing_else(tmp_path):
    national = load_scheme()
    before = evaluate(mixed(), [], [], national)
    override = write(tmp_path, "buyer.yaml", "weights: {safety: 60}\n")
    after = evaluate(mixed(), [], [], load_scheme(override))
    assert after["total"] != before["total"]
    assert scores(after) == scores(before)
    assert after["uncounted"] == before["uncounted"] and after["basis"].keys() == before["basis"].keys()
    assert [f["weight"] for f in after["indicators"] if f["id"] == "safety"] == [60]
    # a second-level weight: only the total and its own first-level indicator's score move
    second = write(tmp_path, "second.yaml", "weights: {privacy: 100}\n")
    moved = evaluate(mixed(), [], [], load_scheme(second))
    changed = {k for k, v in scores(moved).items() if scores(before)[k] != v}
    assert changed == {"safety"} and moved["total"] != before["total"]


def test_inconclusive_manual_and_not_run_never_count_as_passes():
    scheme = load_scheme()
    passing = [entry("CORE-HTTP-001"), entry("CORE-ERR-001")]
    full = evaluate(passing, [], [], scheme)
    assert full["total"] == 100.0 and full["grade"]["id"] == "excellent"
    for verdict in ("inconclusive", "manual", "waived", "fail"):
        worse = evaluate([entry("CORE-HTTP-001"), entry("CORE-ERR-001", verdict)], [], [], scheme)
        assert worse["total"] == 50.0, verdict
    not_run = evaluate([entry("CORE-HTTP-001")], ["CORE-ERR-001"], [], scheme)
    assert not_run["total"] == 50.0 and not_run["uncounted"]["not_run"] == ["CORE-ERR-001"]
    rows = not_run["indicators"][1]["indicators"][0]["inputs"]["requirements"]
    assert {"id": "CORE-ERR-001", "level": None, "verdict": "not-run", "weight": 3, "earned": 0} in rows
    listed = evaluate(mixed(), [], [], scheme)["uncounted"]
    assert listed == {"inconclusive": ["CORE-PAGE-005"], "manual": ["GUA-INST-002"], "not_run": []}


def test_attested_requirements_are_counted_apart_from_machine_checked_ones():
    evaluation = evaluate(mixed(), [], [], load_scheme())
    by_id = {s["id"]: s for f in evaluation["indicators"] for s in f["indicators"]}
    mechanisms = by_id["mechanisms"]
    assert mechanisms["basis"] == "attested" and mechanisms["score"] == 50.0  # one attested, one still manual
    assert [r["id"] for r in mechanisms["inputs"]["requirements"]] == ["GUA-INST-001", "GUA-INST-002"]
    assert evaluation["basis"]["attested"] > 0 and evaluation["basis"]["machine"] > 0
    assert is_attested(entry("GUA-INST-001", checks=("institutions.attested",)))
    assert not is_attested(entry("GUA-INST-001", checks=("institutions.attested", "http.media_type")))
    # an attested requirement selected by a machine-checked indicator is left out of it, and says why
    scheme = load_scheme()
    scheme["indicators"][2]["indicators"][1]["select"] = {"ids": ["GUA-*"]}
    privacy = evaluate(mixed(), [], [], scheme)["indicators"][2]["indicators"][1]
    assert privacy["inputs"]["left_out"]["ids"] == ["GUA-INST-001", "GUA-INST-002"]


def test_the_level_weights_are_data_and_not_applicable_is_left_out(tmp_path):
    flat = write(tmp_path, "flat.yaml", "id: flat\nversion: '1'\nextends: national\n"
                                        "level_weights: {SHALL: 1, SHOULD: 1, MAY: 1}\n")
    entries = [entry("CORE-ERR-001", "fail"), entry("CORE-ERR-003", "pass", "SHOULD"),
               entry("CORE-HTTP-001", "not-applicable")]
    assert evaluate(entries, [], [], load_scheme())["total"] == 40.0  # 2 of 3 + 2
    assert evaluate(entries, [], [], load_scheme(flat))["total"] == 50.0


def _exchange(method, path, status, body, location=None):
    headers = {"location": location} if location else {}
    return {"request": {"method": method, "url": f"https://p.example/api{path}"},
            "response": {"status": status, "headers": headers, "body": json.dumps(body), "truncated": False}}


def _indicator(iid, kind, value, end="2026-03-31", community="com-1"):
    return {"id": iid, "community_id": community, "kind": kind, "value": value, "period": {"start": "2026-01-01", "end": end},
            "method": {"zh": "m", "en": "m"}}


def test_published_indicator_values_are_scored_and_the_runs_own_records_are_not():
    mine = _indicator("ind-mine", "satisfaction", 0.2)
    evidence = [
        _exchange("POST", "/indicators", 201, mine, location="/api/indicators/ind-mine"),
        _exchange("GET", "/indicators", 200, {"items": [
            mine, _indicator("ind-1", "satisfaction", 0.9), _indicator("ind-2", "satisfaction", 0.8, community="com-2"),
            _indicator("ind-old", "satisfaction", 0.1, end="2025-12-31"), _indicator("ind-3", "coverage", 2)]}),
    ]
    requirement = entry("GUA-EVAL-001", subsystem="guarantee")
    requirement["checks"][0]["evidence"] = evidence
    report = {"target": {"base_url": "https://p.example/api"}, "requirements": [requirement],
              "selection": {"not_run": []}, "created_records": []}
    published = published_indicators(report)
    assert {p["id"] for p in published} == {"ind-1", "ind-2", "ind-old"}  # coverage 2 is no rate
    evaluation = evaluate_report(report, load_scheme())
    satisfaction = next(s for f in evaluation["indicators"] for s in f["indicators"] if s["id"] == "satisfaction")
    assert satisfaction["inputs"]["mean"] == 0.85 and satisfaction["inputs"]["period_end"] == "2026-03-31"
    assert satisfaction["score"] == round(100 * (0.85 - 0.6) / (0.95 - 0.6), 1) and satisfaction["basis"] == "published"
    coverage = next(s for f in evaluation["indicators"] for s in f["indicators"] if s["id"] == "coverage")
    assert coverage["assessed"] is False and coverage["score"] is None and "no value" in coverage["inputs"]["note"]
    assert 0 < evaluation["coverage"] < 100


def test_a_local_scheme_extends_the_national_one(tmp_path):
    folder = tmp_path / "evaluation"
    folder.mkdir()
    write(folder, "city.yaml", """id: city
version: '2026'
extends: national
title: {zh: 城市方案, en: City scheme}
sources: ['DB4206/T 30-2021']
weights: {innovation: 20}
indicators:
- id: service
  indicators:
  - id: city-work-orders
    title: {zh: 本市工单, en: City work orders}
    weight: 20
    method: requirements
    select: {ids: [EXC-WO-*]}
""")
    scheme = load_scheme(None, folders=[folder])  # the local folder's scheme is the default
    assert scheme["id"] == "city" and scheme["extends"] == "national"
    service = next(f for f in scheme["indicators"] if f["id"] == "service")
    assert [s["id"] for s in service["indicators"]][-1] == "city-work-orders"
    assert next(f for f in scheme["indicators"] if f["id"] == "innovation")["weight"] == 20
    evaluation = evaluate([entry("EXC-WO-001", "fail", subsystem="governance-service")], [], [], scheme)
    assert evaluation["scheme"]["id"] == "city" and evaluation["total"] == 0.0
    assert evaluation["grade"]["title"] == {"zh": "不合格", "en": "Inadequate"}
    assert load_scheme("national", folders=[folder])["id"] == "national"


@pytest.mark.parametrize(("text", "message"), [
    ("weights: {safty: 3}\n", r"buyer.yaml: weights.safty: no indicator 'safty'.*did you mean 'safety'"),
    ("id: b\nversion: '1'\nextends: national\nindicators:\n- id: safety\n  wieght: 3\n",
     r"buyer.yaml:6: indicators\[0\]\.wieght: unknown field 'wieght' \(did you mean 'weight'\?\)"),
    ("id: c\nversion: '1'\nextends: national\ngrades:\n- {id: top, title: {zh: 优, en: top}, min: 50}\n",
     r"the last min 0"),
    ("id: d\nversion: '1'\nextends: nowhere\n", r"no evaluation scheme 'nowhere'"),
    ("- a list\n", r"a mapping"),
])
def test_a_broken_scheme_is_one_line_naming_file_line_and_field(tmp_path, text, message):
    with pytest.raises(UsageError, match=message) as caught:
        load_scheme(write(tmp_path, "buyer.yaml", text), folders=[tmp_path])
    assert "\n" not in str(caught.value)


def test_the_summary_score_is_the_requirements_method_with_the_national_level_weights(runs):
    report = json.loads(Path(runs["faulty"]).read_text(encoding="utf-8"))
    scheme = copy.deepcopy(load_scheme())
    scheme["indicators"] = [{"id": "all", "title": {"zh": "全部", "en": "all"}, "weight": 1, "indicators": [
        {"id": "every", "title": {"zh": "全部", "en": "all"}, "weight": 1, "method": "requirements",
         "select": {"ids": ["C*", "G*", "I*"]}}]}]
    assert evaluate_report(report, scheme)["total"] == report["summary"]["score"] < 100


def test_every_report_carries_its_evaluation(runs):
    clean, faulty = (json.loads(Path(runs[n]).read_text(encoding="utf-8"))["evaluation"] for n in ("clean", "faulty"))
    assert clean["scheme"]["id"] == "national" and clean["scheme"]["digest"].startswith("sha256:")
    assert clean["total"] == 100.0 and clean["grade"]["id"] == "excellent"
    assert faulty["total"] < clean["total"] and faulty["grade"]["title"]["zh"]
    interface = faulty["indicators"][1]["indicators"][0]
    assert interface["id"] == "interface" and {"id": "CORE-HTTP-001", "level": "SHALL", "verdict": "fail",
                                               "weight": 3, "earned": 0} in interface["inputs"]["requirements"]


def test_schemes_extending_each_other_in_a_cycle_are_refused(tmp_path):
    write(tmp_path, "a.yaml", "id: a\nversion: '1'\nextends: b\n")
    write(tmp_path, "b.yaml", "id: b\nversion: '1'\nextends: a\n")
    with pytest.raises(UsageError, match=r"b.yaml: extends: the schemes extend each other in a cycle \(b → a → b\)"):
        load_scheme("b", folders=[tmp_path])
    write(tmp_path, "c.yaml", "id: c\nversion: '1'\nextends: c\n")
    with pytest.raises(UsageError, match="cannot extend itself"):
        load_scheme("c", folders=[tmp_path])


def test_html_and_summary_show_the_evaluation_escaped(runs):
    from conformance.reports.html import render_report
    from conformance.reports.write import markdown_summary

    report = json.loads(Path(runs["faulty"]).read_text(encoding="utf-8"))
    evaluation = report["evaluation"]
    evaluation["scheme"]["title"]["en"] = "<img src=x onerror=alert(1)>"
    evaluation["indicators"][0]["title"]["en"] = "[click](https://evil.example) <b>"
    html = render_report(report, lang="en")
    assert f'<b id="evaluation-total">{evaluation["total"]}</b>' in html
    assert '<b id="evaluation-grade"><span class="zh">' in html and evaluation["grade"]["title"]["zh"] in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'data-indicator="mechanisms"' in html and "机器检验" in html and "not assessed" in html
    summary = markdown_summary(report)
    assert f"total **{evaluation['total']}**, grade **{evaluation['grade']['title']['en']}**" in summary
    assert "[click](https" not in summary and r"\[click\]\(https" in summary


def test_the_specification_publishes_the_scheme_and_every_formula(tmp_path):
    from conformance.tools.standard import build_site

    site = build_site(tmp_path / "site", standards=[])
    assert "zh/evaluation.html" in site.pages and "en/evaluation.html" in site.pages
    en = (tmp_path / "site" / "en" / "evaluation.html").read_text(encoding="utf-8")
    zh = (tmp_path / "site" / "zh" / "evaluation.html").read_text(encoding="utf-8")
    for formula in ("summary.score", "level weights SHALL 3", "(v − zero_at) ÷ (full_at − zero_at)",
                    "total = Σ share × score ÷ Σ share of the assessed indicators", "T/ZGCSC 003-2023"):
        assert formula in en, formula
    assert "应(SHALL)3" in zh and "总分 = Σ 占比 × 得分 ÷ Σ 已评占比" in zh
    for first in load_scheme()["indicators"]:
        assert f'id="{first["id"]}"' in en and all(f'id="{s["id"]}"' in zh for s in first["indicators"])
    assert 'href="../schemas/suite/evaluation.json"' in en and (tmp_path / "site/schemas/suite/evaluation.json").is_file()
    assert 'href="../en/evaluation.html"' in (tmp_path / "site" / "en" / "conventions.html").read_text(encoding="utf-8")


def test_the_suite_digest_covers_the_evaluation_schemes(tmp_path, monkeypatch):
    import shutil

    from conformance.reports import build
    from conformance.resources import data_dir

    copy_dir = tmp_path / "evaluation"
    shutil.copytree(data_dir("evaluation"), copy_dir)
    monkeypatch.setattr(build, "data_dir", lambda name: copy_dir)
    before = build.suite_digest.__wrapped__()
    (copy_dir / "national.yaml").write_text((copy_dir / "national.yaml").read_text(encoding="utf-8")
                                            .replace("weight: 25", "weight: 26", 1), encoding="utf-8")
    assert build.suite_digest.__wrapped__() != before  # a quietly re-weighted scheme shows in every report's digest


def test_a_profile_is_evaluated_on_the_scheme_of_the_standard_holding_it():
    from conformance.evaluation import default_scheme
    from conformance.resources import data_dir

    city = data_dir("examples") / "harbour-city" / "profiles" / "harbour-city.yaml"
    assert default_scheme(city)["id"] == "harbour-city"  # the city's weights, extending the national scheme
    assert default_scheme(load_profile("core").path)["id"] == "national"  # whatever standards a run was given
    assert default_scheme()["id"] == "national"
