"""Shared by the registry's unit tests: a report.json as the suite writes one (the fields the worker reads)."""


def make_report(base_url="http://platform.test", verdict="conformant", version="1.0.0", profile="core"):
    """A report.json with the fields schemas/suite/report.json requires (what the worker reads)."""
    return {"report_version": "1", "suite": {"name": "sc-conformance", "version": "0.1.0",
                                             "digest": "sha256:" + "1" * 64},
            "profile": {"id": profile, "version": version, "digest": "sha256:" + "2" * 64,
                        "title": {"zh": "核心", "en": "Core"}},
            "schemas_digest": "sha256:" + "3" * 64, "target": {"base_url": base_url, "declared_profiles": None},
            "seed": 7, "started_at": "2026-12-06T00:00:00Z", "finished_at": "2026-12-06T00:01:00Z",
            "verdict": verdict, "summary": {}, "requirements": []}
