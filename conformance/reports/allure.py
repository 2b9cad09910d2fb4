"""Allure labels and attachments for a requirement item (no-ops unless pytest runs with ``--alluredir``)."""

from __future__ import annotations

import json
import sys

from ..results import RequirementResult

__all__ = ["describe_for_allure"]


def describe_for_allure(result: RequirementResult) -> None:
    """Label the running Allure test with the requirement and attach each check's evidence."""
    if "allure_pytest.listener" not in sys.modules:
        return  # the allure-pytest plugin is not loaded in this run (the CLI without --alluredir, a trimmed install)
    import allure
    import allure_commons
    from allure_pytest.listener import AllureListener

    if not any(isinstance(p, AllureListener) for p in allure_commons.plugin_manager.get_plugins()):
        return  # no --alluredir: skip serialising the evidence for nobody
    req = result.requirement
    allure.dynamic.title(f"{req['id']} {req['title']['en']}")
    allure.dynamic.description(f"{req['statement']['en']}\n\n{req['statement']['zh']}")
    allure.dynamic.id(req["id"])
    allure.dynamic.label("requirement", req["id"])
    allure.dynamic.label("level", req["level"])
    allure.dynamic.label("subsystem", req["subsystem"])
    allure.dynamic.label("verdict", result.verdict.value)
    allure.dynamic.suite(req["subsystem"])
    allure.dynamic.parent_suite(result.profile)
    allure.dynamic.severity({"SHALL": "critical", "SHOULD": "normal", "MAY": "minor"}[req["level"]])
    for source in req.get("source", []):
        allure.dynamic.label("source", source)
    for check in result.checks:
        if check.evidence or check.findings:
            body = {"verdict": check.verdict.value, "message": check.message,
                    "findings": [f.to_json() for f in check.findings], "evidence": check.evidence}
            allure.attach(json.dumps(body, ensure_ascii=False, indent=2), name=f"{check.name} ({check.verdict.value})",
                          attachment_type=allure.attachment_type.JSON)
