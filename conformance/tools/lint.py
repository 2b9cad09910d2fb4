"""``profiles lint``: what a standards body must fix in a profile before publishing it.

Errors make ``profiles lint`` exit 1; warnings are printed but pass (``--strict`` makes them fail). Every fixture,
schema and collection a requirement names must exist (in its local standard first, then in the national base); a
missing one is an error naming the file, the line and the field. That no reference fault breaks a requirement is an
error for the bundled profiles (the suite's own discipline) and a warning for a local profile, unless its standard
declares, as data, a fault of the reference platform that breaks it (``faults:`` in ``standard.yaml``); the fault
table comes from the CLI, never from ``conformance.reference``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..catalogue import catalogue
from ..checks import validate_call
from ..errors import ConformanceError, ProfileError, did_you_mean
from ..fixtures import fixture_names, fixture_problem, load_fixture, resolve
from ..generation import KINDS, kinds_of_error
from ..loading import LoadError, json_file
from ..profiles import Profile, Requirement, _load_yaml, _schema_error, load_profile, locate
from ..resources import fixtures_dir, profiles_dir, schemas_dir
from ..schemas import schema_store
from ..standards import Standard, active_standards, searched, standard_of

__all__ = ["NO_FAULT", "NO_LOCAL_FAULT", "Problem", "is_bundled", "lint_profile", "requirement_inputs",
           "requirement_schemas", "standard_problems"]

REQUIREMENT_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*-[0-9]{3}$")  # as schemas/suite/profile.json
_LANGUAGES = ("zh", "en")
_EVALUATION_SCHEMA = "suite/evaluation.json"  # an evaluation scheme's format (conformance.evaluation reads them)


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
    """The fixtures a requirement's checks name (``fixture``, ``invalid_fixture``, ``fixtures: […]``), and the
    collections they exercise."""
    fixtures, collections = [], []
    for call in req.checks:
        for param, value in call.params.items():
            if param.endswith("fixture") and isinstance(value, str):
                fixtures.append(value)
            elif param.endswith("fixtures") and isinstance(value, list):
                fixtures.extend(str(v) for v in value)
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


def requirement_schemas(req: Requirement) -> list[str]:
    """The schemas a requirement's checks name (``schema`` parameters), as written."""
    return [str(value) for call in req.checks for param, value in call.params.items()
            if param.endswith("schema") and isinstance(value, str)]


NO_FAULT = ("no fault in the reference platform breaks this requirement, so nothing proves its check can "
            "fail; add a row to conformance/reference/faults.py")
NO_LOCAL_FAULT = ("no fault in the reference platform breaks this requirement, so nothing proves its check can fail; "
                  "a city proves it by declaring in {where} `faults:` a reference fault whose behaviour breaks it "
                  "(requirement, fault, reason; `sc-conformance serve-reference --list-faults` lists them) and "
                  "checking that `sc-conformance run --standard DIR --profile ID --fault NAME` fails it; where no "
                  "fault of the reference platform can, by running the suite against a platform known to break it")


def _reference_problems(req: Requirement, index: int) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(where in the file, problem) for every fixture, schema and collection a requirement names that does not exist."""
    collections = catalogue().collections
    for position, call in enumerate(req.checks):
        for param, value in call.params.items():
            at: tuple[str | int, ...] = ("requirements", index, "checks", position, "params", param)
            if param.endswith(("fixture", "fixtures")):
                names = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
                for item, name in names:
                    problem = fixture_problem(str(name))
                    if problem:
                        yield (at if item is None else (*at, item)), problem + " (looked for in the local standard, then the national base)"
            elif param.endswith("schema") and isinstance(value, str):
                try:
                    schema_store().validator(value)
                except ConformanceError as exc:
                    yield at, (f"no schema {value!r}: not a file of the local standard's schemas/ nor of the national "
                               "base, and no schema has that $id" if "no schema at" in str(exc) else str(exc))
            elif param in ("collection", "collections"):
                names = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
                for item, name in names:
                    if isinstance(name, str) and name not in collections:
                        yield ((at if item is None else (*at, item)),
                               f"no collection {name!r} in the endpoint catalogue{did_you_mean(name, collections)}")


def _coverage_problems(req: Requirement, fixtures: set[str]) -> Iterator[str]:
    for call in req.checks:
        for param, problem in validate_call(call.check, call.params):
            if param and param.endswith("fixture") and problem.startswith("no fixture"):
                continue  # reported with its line and field by _reference_problems
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


def _relative_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*.json")} if root.is_dir() else set()


def standard_problems(standard: Standard, faults: Mapping[str, list[str]]) -> list[Problem]:
    """What is wrong in a standard itself: declared faults that do not exist or name no requirement of its profiles,
    fixtures and schemas that shadow the national base's or another searched standard's."""
    problems: list[Problem] = []
    if standard.national != catalogue().version:
        problems.append(Problem(str(standard.file), _line_of(standard, "national"), None,
                                f"national: extends national {standard.national}, but the suite holds national "
                                f"{catalogue().version}; check the standard against it and update national",
                                "warning"))
    known = sorted({name for names in faults.values() for name in names})
    own = {req.id for path in standard.profile_paths() for req in _safe_requirements(path)}
    for declared in standard.faults:
        if known and declared.fault not in known:
            problems.append(Problem(str(standard.file), declared.line, declared.requirement,
                                    f"{declared.field}.fault: no reference fault {declared.fault!r}"
                                    f"{did_you_mean(declared.fault, known)}; `sc-conformance serve-reference "
                                    "--list-faults` lists them"))
        if declared.requirement not in own:
            problems.append(Problem(str(standard.file), declared.line, declared.requirement,
                                    f"{declared.field}.requirement: no profile of the standard defines "
                                    f"{declared.requirement!r}{did_you_mean(declared.requirement, own)}"))
    evaluation = standard.evaluation_dir
    if evaluation is not None and (schemas_dir() / _EVALUATION_SCHEMA).is_file():
        for path in sorted(evaluation.glob("*.yaml")):
            try:
                data, lines = _load_yaml(path)
                problem = _schema_error(path, data, lines, _EVALUATION_SCHEMA)
            except ProfileError as exc:
                problem = exc
            if problem is not None:
                problems.append(Problem(problem.file or str(path), problem.line, None,
                                        f"{problem.field + ': ' if problem.field else ''}{problem.reason}"))
    problems += _fixture_file_problems(standard)
    for kind, national in (("fixtures", fixtures_dir()), ("schemas", schemas_dir())):
        mine = _relative_files(standard.root / kind)
        for name in sorted(mine & _relative_files(national)):
            problems.append(Problem(str(standard.root / kind / name), None, None,
                                    f"shadows the national base's {kind}/{name}: every check of every profile would "
                                    "read the local one; give it a name of its own"))
        for other in searched():
            if other.root == standard.root:
                continue
            for name in sorted(mine & _relative_files(other.root / kind)):
                problems.append(Problem(str(standard.root / kind / name), None, None,
                                        f"standard {other.id!r} ({other.root}) has {kind}/{name} too: whichever is "
                                        "searched first wins; give it a name of its own", "warning"))
    return problems


def _fixture_file_problems(standard: Standard) -> Iterator[Problem]:
    """A local fixture that is not JSON, names no collection of the catalogue, or (under ``valid/``) is refused by
    the national create schema: the platform would rightly refuse it, whatever the local schema says."""
    folder = standard.folder("fixtures")
    if folder is None:
        return
    collections = catalogue().collections
    for path in sorted(folder.rglob("*.json")):
        parts = path.relative_to(folder).parts
        try:
            payload = json_file(path, "fixture")
        except LoadError as exc:
            yield Problem(str(path), exc.line, None, str(exc).removeprefix(f"{path}:").lstrip("0123456789: "))
            continue
        if len(parts) != 3 or parts[1] not in ("valid", "invalid") or parts[0] not in collections:
            yield Problem(str(path), None, None, "a fixture lives at fixtures/<collection>/{valid,invalid}/<name>.json"
                          f" with a collection of the catalogue{did_you_mean(parts[0], collections)}")
            continue
        if parts[1] == "valid":
            errors = schema_store().errors(collections[parts[0]].create_schema, resolve(payload, lambda _: "ref-1"))
            if errors:
                where = "/" + "/".join(map(str, errors[0].absolute_path))
                yield Problem(str(path), None, None, f"a valid fixture the national create schema refuses at {where}: "
                                                     f"{errors[0].message}")


def _line_of(standard: Standard, key: str) -> int | None:
    _, lines = _load_yaml(standard.file)
    return lines.get((key,))


def _safe_requirements(path: Path) -> tuple[Requirement, ...]:
    try:
        return load_profile(path).requirements
    except ProfileError:
        return ()  # reported when that profile is linted


def _declared_faults(profile: Profile) -> dict[str, str]:
    """Requirement id → the reference fault a standard of the profile declares for it."""
    standards = active_standards()
    holder = standard_of(profile.path)
    if holder is not None:
        standards.append(holder)
    return {declared.requirement: declared.fault for standard in standards for declared in standard.faults}


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
    bundled = is_bundled(profile)
    fault_severity = "error" if (bundled if require_faults is None else require_faults) else "warning"
    holder = standard_of(profile.path)
    declared = _declared_faults(profile)
    known_faults = {fault for names in faults.values() for fault in names}
    problems: list[Problem] = []
    seen: dict[str, Requirement] = {}
    own = 0
    for req in profile.requirements:
        if req.id in seen:
            problems.append(Problem(req.file, req.line, req.id, f"duplicate id (first at line {seen[req.id].line})"))
        seen[req.id] = req
        if req.profile != profile.id:
            continue  # inherited: linted with the profile that defines it
        for at, message in _reference_problems(req, own):
            line, where = locate(profile.path, at)
            problems.append(Problem(req.file, line or req.line, req.id, f"{where}: {message}"))
        own += 1
        messages: Iterable[str] = [*_text_problems(req), *_coverage_problems(req, fixtures),
                                   *_level_problems(req, profile)]
        problems.extend(Problem(req.file, req.line, req.id, message) for message in messages)
        if faults.get(req.id) or (req.id in declared and (not known_faults or declared[req.id] in known_faults)):
            continue
        text = NO_FAULT if bundled else NO_LOCAL_FAULT.format(
            where=holder.file if holder is not None else "its standard folder's standard.yaml")
        problems.append(Problem(req.file, req.line, req.id, text, fault_severity))
    for lang in _LANGUAGES:
        if not str(profile.title.get(lang, "")).strip():
            problems.append(Problem(str(profile.path), 1, None, f"the profile title lacks its {lang} text"))
    if holder is not None:
        problems.extend(standard_problems(holder, faults))
    return problems
