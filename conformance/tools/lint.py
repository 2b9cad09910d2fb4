"""``profiles lint``: what a standards body must fix in a profile before publishing it.

Errors make ``profiles lint`` exit 1; warnings are printed but pass (``--strict`` makes them fail). That no
reference fault breaks a requirement is an error for the bundled profiles (the suite's own discipline) and a
warning for a local profile, whose author cannot add faults to the reference platform.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..catalogue import catalogue
from ..checks import validate_call
from ..errors import ProfileError
from ..fixtures import fixture_names, load_fixture
from ..generation import KINDS, kinds_of_error
from ..profiles import Profile, Requirement, load_profile
from ..resources import profiles_dir
from ..schemas import schema_store

__all__ = ["NO_FAULT", "Problem", "is_bundled", "lint_profile", "requirement_inputs"]

REQUIREMENT_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*-[0-9]{3}$")  # as schemas/suite/profile.json
_LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    requirement: str | None
    message: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        kind = "warning: " if self.severity == "warning" else ""
        return f"{where}: {kind}{self.requirement + ': ' if self.requirement else ''}{self.message}"


def requirement_inputs(req: Requirement) -> tuple[list[str], list[str]]:
    """The fixtures a requirement's checks name, and the collections they exercise."""
    fixtures, collections = [], []
    for call in req.checks:
        for param, value in call.params.items():
            if param.endswith("fixture") and isinstance(value, str):
                fixtures.append(value)
            elif param == "collection" and isinstance(value, str):
                collections.append(value)
            elif param == "collections" and isinstance(value, list):
                collections.extend(str(v) for v in value)
    return fixtures, list(dict.fromkeys(collections))


def _text_problems(req: Requirement) -> Iterator[str]:
    if not REQUIREMENT_ID.match(req.id):
        yield f"id {req.id!r} is not well-formed; expected upper-case parts joined by '-', such as GOV-WO-001"
    for name in ("title", "statement"):
        missing = [lang for lang in _LANGUAGES if not str(getattr(req, name).get(lang, "")).strip()]
        if missing:
            yield f"{name} lacks its {' and '.join(missing)} text; every {name} is bilingual (zh and en)"
    if not req.source:
        yield "source is empty; name the section of the standard or the external standard it comes from"


NO_FAULT = ("no fault in the reference platform breaks this requirement, so nothing proves its check can "
            "fail; add a row to conformance/reference/faults.py")


def _coverage_problems(req: Requirement, fixtures: set[str]) -> Iterator[str]:
    for call in req.checks:
        for param, problem in validate_call(call.check, call.params):
            yield f"check {call.check}{' parameter ' + param if param else ''}: {problem}"
    _, collections = requirement_inputs(req)
    standard = catalogue().collections
    for collection in collections:
        known = standard.get(collection)
        if known is not None and not known.writable:
            continue  # the platform writes it (audit records): checks only read it, so no payloads are needed
        if not any(name.startswith(f"{collection}/") for name in fixtures):
            yield (f"collection {collection!r} has no fixtures; add fixtures/{collection}/valid/*.json so the "
                   "checks have data to send or to generate from")


def _stated_kinds(req: Requirement) -> set[str]:
    """The mutation kinds a requirement states, read from what its invalid fixtures break in the schema."""
    kinds: set[str] = set()
    fixtures, _ = requirement_inputs(req)
    for name in (f for f in fixtures if "/invalid/" in f):
        collection = catalogue().collections.get(name.split("/", 1)[0])
        if collection is None or name not in set(fixture_names()):
            continue
        for error in schema_store().validator(collection.create_schema).iter_errors(load_fixture(name)):
            schema = error.schema if isinstance(error.schema, dict) else {}
            kinds |= kinds_of_error(str(error.validator), schema.get("format"))
    return kinds


def _level_problems(req: Requirement, profile: Profile) -> Iterator[str]:
    """A SHALL whose generated mutants enforce a rule that only a SHOULD or MAY requirement states (S13)."""
    if req.level != "SHALL":
        return
    enforced = {kind for call in req.checks if call.check == "generated.rejected"
                for kind in KINDS if kind not in (call.params.get("skip_kinds") or ())}
    if not enforced:
        return
    by_level: dict[str, dict[str, str]] = {}  # kind -> level -> first requirement stating it
    for other in profile.requirements:
        for kind in _stated_kinds(other) & enforced:
            by_level.setdefault(kind, {}).setdefault(other.level, other.id)
    for kind, levels in sorted(by_level.items()):
        if "SHALL" not in levels:
            weaker = next(iter(levels.items()))
            yield (f"check generated.rejected enforces {kind} mutants as a SHALL, but {weaker[1]} states that rule "
                   f"as a {weaker[0]}; add skip_kinds: [{kind}] or raise {weaker[1]} to SHALL")


def is_bundled(profile: Profile) -> bool:
    return profile.path.resolve().parent == profiles_dir().resolve()


def lint_profile(name: str | Path, faults: Mapping[str, list[str]], *, require_faults: bool | None = None
                 ) -> list[Problem]:
    """Every problem of one profile; ``faults`` maps requirement ids to the reference faults that break them.

    ``require_faults``: whether a requirement no fault breaks is an error (default: for bundled profiles only).
    """
    try:
        profile: Profile = load_profile(name)
    except ProfileError as exc:  # broken YAML, schema, duplicate ids, extends cycles or missing parents
        return [Problem(exc.file or str(name), exc.line, None, f"{exc.field + ': ' if exc.field else ''}{exc.reason}")]
    fixtures = set(fixture_names())
    fault_severity = "error" if (is_bundled(profile) if require_faults is None else require_faults) else "warning"
    problems: list[Problem] = []
    seen: dict[str, Requirement] = {}
    for req in profile.requirements:
        if req.id in seen:
            problems.append(Problem(req.file, req.line, req.id, f"duplicate id (first at line {seen[req.id].line})"))
        seen[req.id] = req
        if req.profile != profile.id:
            continue  # inherited: linted with the profile that defines it
        messages: Iterable[str] = [*_text_problems(req), *_coverage_problems(req, fixtures),
                                   *_level_problems(req, profile)]
        problems.extend(Problem(req.file, req.line, req.id, message) for message in messages)
        if not faults.get(req.id):
            problems.append(Problem(req.file, req.line, req.id, NO_FAULT, fault_severity))
    for lang in _LANGUAGES:
        if not str(profile.title.get(lang, "")).strip():
            problems.append(Problem(str(profile.path), 1, None, f"the profile title lacks its {lang} text"))
    return problems
