"""Build ``report.json`` (DESIGN.md §5) for one profile from requirement results."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import marshal
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .. import __version__
from ..evaluation import default_scheme, evaluate_report
from ..profiles import Profile
from ..resources import data_dir, fixtures_dir, profiles_dir, schemas_dir
from ..results import RequirementResult
from ..verdicts import LEVEL_WEIGHTS, Verdict, is_binding, profile_verdict

__all__ = ["REPORT_VERSION", "build_report", "score", "suite_digest", "summarise", "unique_failures", "verdicts"]

REPORT_VERSION = "1"
SUBSYSTEMS = ("infrastructure", "governance-service", "guarantee")


def score(results: Iterable[RequirementResult]) -> float | None:
    """Weighted share of applicable requirements that pass (SHALL 3, SHOULD 2, MAY 1), in percent.

    The same formula as the evaluation schemes' ``requirements`` method with the national level weights, over every
    requirement that ran (attested ones included; the evaluation counts them apart and counts not-run ones as
    SHALL failures); the specification's evaluation page publishes both formulas."""
    total = earned = 0
    for result in results:
        if result.verdict is Verdict.NOT_APPLICABLE:
            continue
        weight = LEVEL_WEIGHTS[result.level]
        total += weight
        earned += weight if result.verdict is Verdict.PASS else 0
    return round(100 * earned / total, 1) if total else None


def _counts(results: Iterable[RequirementResult]) -> dict[str, int]:
    counts = Counter(r.verdict.value for r in results)
    return {v.value: counts.get(v.value, 0) for v in Verdict}


def summarise(results: list[RequirementResult]) -> dict[str, Any]:
    by_level = {level: _counts(r for r in results if r.level == level) for level in LEVEL_WEIGHTS}
    by_subsystem = {}
    for subsystem in SUBSYSTEMS:
        selected = [r for r in results if r.requirement["subsystem"] == subsystem]
        by_subsystem[subsystem] = {"by_verdict": _counts(selected), "score": score(selected), "requirements": len(selected)}
    return {
        "requirements": len(results),
        "by_verdict": _counts(results),
        "by_level": by_level,
        "by_subsystem": by_subsystem,
        "score": score(results),
    }


# What varies between two findings of one root cause: the records, values and counts the run happened to meet.
_VARYING = (
    (re.compile(r" ?\(in a request of [^()]*(\([^()]*\))?[^()]*\)"), ""),  # which check's request an oracle judged
    (re.compile(r"'[^'\n]{0,200}'|\"[^\"\n]{0,200}\""), "'…'"),  # quoted values
    (re.compile(r"(?<![\w:])/[^\s()]*"), "{path}"),  # paths: the rule broken is the same on every collection
    (re.compile(r"\b(?![1-5]\d\d\b)\d+(\.\d+)?\b"), "N"),  # counts, positions, sizes (not HTTP statuses)
)


def failure_shape(message: str) -> str:
    """A finding's message with the records, paths, values and counts it met replaced, and without the check whose
    request an oracle judged: two failures of one root cause on different records or collections read the same."""
    for pattern, placeholder in _VARYING:
        message = pattern.sub(placeholder, message)
    return message


def unique_failures(requirements: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Failing findings counted once per root cause: the same code and the same message once the records, values
    and counts it met are set aside (:func:`failure_shape`) — reached by several requirements, on several records,
    is one failure to fix. ``by_code`` counts them per finding code."""
    seen: set[tuple[str, str]] = set()
    for requirement in requirements:
        for check in requirement.get("checks", []):
            for finding in check.get("findings", []):
                if finding.get("verdict") == "fail":
                    seen.add((finding.get("code") or "", failure_shape(finding["message"])))
    by_code = Counter(code or "uncoded" for code, _ in seen)
    return {"count": len(seen), "by_code": dict(sorted(by_code.items()))}


def build_report(
    profile: Profile,
    results: Mapping[str, RequirementResult],
    *,
    schemas_digest: str,
    target: Mapping[str, Any],
    seed: int,
    started_at: str,
    finished_at: str,
    created_records: list[str] | None = None,
    interrupted: bool = False,
    scheme: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The report of one profile; requirements not run (deselected) make it incomplete, never conformant.

    ``scheme`` is the evaluation scheme (``conformance.evaluation``) the report is scored on; by default that of
    the local standard given to the run or holding the profile, else the national one.
    """
    ordered = [results[req.id] for req in profile.requirements if req.id in results]
    not_run = [req.id for req in profile.requirements if req.id not in results]
    complete = not any(profile.requirement(i).level == "SHALL" for i in not_run)
    waived = [r.id for r in ordered if r.verdict is Verdict.WAIVED]
    verdict, if_waived = verdicts(ordered, complete=complete)
    requirements = [{**r.to_json(), "binding": is_binding(r.level, r.requirement.get("capability"), r.verdict)}
                    for r in ordered]
    summary = summarise(ordered)
    summary["unique_failures"] = unique_failures(requirements)
    report = {
        "report_version": REPORT_VERSION,
        "suite": {"name": "sc-conformance", "version": __version__, "digest": suite_digest()},
        "profile": {
            "id": profile.id,
            "version": profile.version,
            "kind": profile.kind,
            "title": dict(profile.title),
            "extends": list(profile.extends),
            "digest": profile.digest,
        },
        "schemas_digest": schemas_digest,
        "target": dict(target),
        "seed": seed,
        "started_at": started_at,
        "finished_at": finished_at,
        "verdict": verdict,
        "selection": {"requirements": len(profile.requirements), "run": len(ordered), "not_run": not_run},
        "waivers_used": waived,
        "summary": summary,
        "requirements": requirements,
        "created_records": list(created_records or []),
        "interrupted": interrupted,  # stopped (Ctrl-C) before every selected requirement ran
    }
    if waived:
        report["waivers"] = {"used": [], "expired": [], "unknown": [], "verdict_if_waived": if_waived}
    report["evaluation"] = evaluate_report(report, scheme if scheme is not None else default_scheme(profile.path))
    return report


def verdicts(results: Iterable[RequirementResult], *, complete: bool) -> tuple[str, str]:
    """The profile's verdict, and the verdict it would have if its waived requirements had passed.

    DESIGN §4: a waived failure is still a failure for the certificate (the first); waivers only
    change the exit status, which follows the second.
    """
    # the binding requirements: SHALL, and a MAY under a capability the platform declares (S13)
    shall = [r for r in results if r.requirement.get("binding")
             or is_binding(r.level, r.requirement.get("capability"), r.verdict)]
    actual = [Verdict((r.waiver or {}).get("original_verdict", "fail")) if r.verdict is Verdict.WAIVED else r.verdict
              for r in shall]
    forgiven = [Verdict.PASS if r.verdict is Verdict.WAIVED else r.verdict for r in shall]
    return (profile_verdict(actual, complete=complete).value, profile_verdict(forgiven, complete=complete).value)


@functools.cache
def suite_digest() -> str:
    """SHA-256 over the installed suite's code, templates and data (schemas, profiles, fixtures, evaluation schemes).

    A modified copy with the same version string makes reports with another digest; ``report
    verify`` and ``report compare`` show it.
    """
    package = Path(__file__).resolve().parent.parent
    roots = [package, schemas_dir(), profiles_dir(), fixtures_dir(), data_dir("evaluation")]  # the scheme scores it
    digest = hashlib.sha256()
    for root in roots:
        for file in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in _DIGESTED
                           and "__pycache__" not in p.parts and "_data" not in p.relative_to(root).parts[:1]):
            digest.update(f"{root.name}/{file.relative_to(root).as_posix()}\0".encode())
            digest.update(hashlib.sha256(file.read_bytes()).digest())
    for name, compiled in _foreign_bytecode(package):  # what ran was not compiled from what was digested
        digest.update(f"bytecode/{name}\0".encode() + hashlib.sha256(compiled).digest())
    return "sha256:" + digest.hexdigest()


def _foreign_bytecode(package: Path) -> Iterator[tuple[str, bytes]]:
    """Each module of the suite this process loaded from bytecode that its source does not compile to.

    The digest covers sources; Python runs the cached ``.pyc`` beside a source whenever the source's recorded
    modification time and size match, so a tampered ``__pycache__`` file would run under a genuine digest.
    Each loaded module's cached code is compared with its source compiled afresh (as code objects: the bytes
    of two compilations may differ), and a module loaded from bytecode alone counts as foreign.
    """
    for name, module in sorted(sys.modules.items()):
        if name != "conformance" and not name.startswith("conformance."):
            continue
        spec = getattr(module, "__spec__", None)
        origin = getattr(spec, "origin", None)
        if not origin or not origin.endswith((".py", ".pyc")) or package not in Path(origin).resolve().parents:
            continue
        if origin.endswith(".pyc"):
            yield name, Path(origin).read_bytes()
            continue
        cached = getattr(spec, "cached", None)
        try:
            data = Path(cached).read_bytes() if cached else b""
            source = Path(origin).read_bytes()
            status = Path(origin).stat()
        except OSError:
            continue
        if not _would_run(data, status.st_mtime, status.st_size):
            continue
        try:
            same = marshal.loads(data[16:]) == compile(source, origin, "exec", dont_inherit=True)
        except (ValueError, EOFError, TypeError, SyntaxError):
            same = False
        if not same:
            yield name, data


def _would_run(pyc: bytes, mtime: float, size: int) -> bool:
    """Whether the import system runs this cached bytecode instead of compiling the source (PEP 552 header)."""
    if len(pyc) < 16 or pyc[:4] != importlib.util.MAGIC_NUMBER:
        return False
    if int.from_bytes(pyc[4:8], "little") & 1:  # hash-based: an unchecked one always runs, a checked one may
        return True
    return (int.from_bytes(pyc[8:12], "little") == int(mtime) & 0xFFFFFFFF
            and int.from_bytes(pyc[12:16], "little") == size & 0xFFFFFFFF)


_DIGESTED = {".py", ".j2", ".css", ".json", ".yaml", ".yml", ".typed"}
