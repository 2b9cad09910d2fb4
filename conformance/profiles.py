"""Profiles as data: load YAML with line numbers, validate, resolve ``extends`` and ``overrides``.

Every error names the file, the line and the field (``core.yaml:42: requirements[3].level: …``)
so a standards body can fix a profile without reading Python.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import validated
from .errors import ProfileError, SchemaError, did_you_mean
from .escaping import CONTROLS
from .fixtures import fixture_problem
from .loading import LoadError, StrictLoader, read_text
from .resources import profile_dirs, profiles_dir, schemas_dir
from .schemas import national_store, schema_store

__all__ = [
    "CheckCall",
    "ID",
    "LEVELS",
    "Override",
    "Profile",
    "Requirement",
    "find_profile",
    "is_path",
    "load_profile",
    "locate",
    "profile_ids",
]

LEVELS = ("MAY", "SHOULD", "SHALL")  # in order of strength
ID = re.compile(r"[a-z][a-z0-9-]*")  # a profile id (suite/profile.json): also a directory name in --report-dir
_PROFILE_SCHEMA = "suite/profile.json"

JsonPath = tuple[str | int, ...]
# Validates one check call's parameters; returns the problems found as (param, message).
ParamValidator = Callable[[str, Mapping[str, Any]], list[tuple[str | None, str]]]


@dataclass(frozen=True)
class CheckCall:
    """One named check with its parameters, as a requirement lists it."""

    check: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "params": dict(self.params)}


@dataclass(frozen=True)
class Override:
    """How a profile changed an inherited requirement: the level before, the reason it gives, where it says so."""

    profile: str
    level: str  # the level before the override
    reason: str
    file: str
    line: int


@dataclass(frozen=True)
class Requirement:
    id: str
    level: str
    subsystem: str
    title: Mapping[str, str]
    statement: Mapping[str, str]
    source: tuple[str, ...]
    checks: tuple[CheckCall, ...]
    capability: str | None
    profile: str  # the profile that defined it
    file: str
    line: int
    override: Override | None = None  # the last override of an inherited requirement (not part of the digest)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "level": self.level,
            "subsystem": self.subsystem,
            "title": dict(self.title),
            "statement": dict(self.statement),
            "source": list(self.source),
            "capability": self.capability,
            "defined_in": self.profile,
            "checks": [c.to_json() for c in self.checks],
        }


@dataclass(frozen=True)
class Profile:
    """A resolved profile: its own requirements after those it extends."""

    id: str
    version: str
    kind: str
    title: Mapping[str, str]
    extends: tuple[str, ...]
    requirements: tuple[Requirement, ...]
    path: Path

    def requirement(self, requirement_id: str) -> Requirement:
        for req in self.requirements:
            if req.id == requirement_id:
                return req
        ids = [r.id for r in self.requirements]
        raise KeyError(f"{requirement_id!r} is not in profile {self.id!r}{did_you_mean(requirement_id, ids)}")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "kind": self.kind,
            "title": dict(self.title),
            "extends": list(self.extends),
            "requirements": [r.to_json() for r in self.requirements],
        }

    @property
    def digest(self) -> str:
        """SHA-256 of the resolved profile in canonical JSON: what a report was run against. For a profile of a
        local standard it also covers every file of the standard's folder (its fixtures, schemas, evaluation
        schemes and standard.yaml), so an edited city fixture is another profile version for ``--rerun-failed``."""
        canonical = json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        sha = hashlib.sha256(canonical.encode())
        folder = self.path.resolve().parent
        if folder.name == "profiles" and (folder.parent / "standard.yaml").is_file():
            sha.update(b"\0" + _folder_digest(folder.parent).encode())
        return "sha256:" + sha.hexdigest()


@functools.cache
def _folder_digest(root: Path) -> str:
    """SHA-256 over the names and bytes of the files of a local standard's folder (read once a process)."""
    sha = hashlib.sha256()
    for name in ("standard.yaml", "profiles", "schemas", "fixtures", "evaluation"):
        top = root / name
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file()) if top.is_dir() else []
        for file in files:
            sha.update(file.relative_to(root).as_posix().encode() + b"\0")
            sha.update(hashlib.sha256(file.read_bytes()).digest())
    return sha.hexdigest()


# ---------------------------------------------------------------------------- YAML with lines

def _load_yaml(path: Path) -> tuple[Any, dict[JsonPath, int]]:
    """Parse YAML into plain data and a map from each value's path to its 1-based line."""
    try:
        text = read_text(path, "profile")
    except LoadError as exc:
        raise ProfileError(str(exc).replace(f" {path}", ""), file=str(path)) from None
    loader = StrictLoader(text)
    lines: dict[JsonPath, int] = {}
    try:
        node = loader.get_single_node()
        if node is None:
            raise ProfileError("the file is empty", file=str(path), line=1)

        def build(node: yaml.Node, at: JsonPath) -> Any:
            lines[at] = node.start_mark.line + 1
            if isinstance(node, yaml.MappingNode):
                result: dict[str, Any] = {}
                for key_node, value_node in node.value:
                    key = loader.construct_object(key_node, deep=True)
                    if key in result:
                        raise ProfileError(
                            f"duplicate key {key!r}", file=str(path),
                            line=key_node.start_mark.line + 1, field=_field(at + (str(key),), None),
                        )
                    lines[at + (str(key),)] = key_node.start_mark.line + 1
                    result[str(key)] = build(value_node, at + (str(key),))
                return result
            if isinstance(node, yaml.SequenceNode):
                return [build(child, at + (i,)) for i, child in enumerate(node.value)]
            return loader.construct_object(node, deep=True)

        return build(node, ()), lines
    except LoadError as exc:
        raise ProfileError(str(exc), file=str(path), line=exc.line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ProfileError(f"invalid YAML: {exc.problem or 'syntax error'}", file=str(path), line=line) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise ProfileError(f"invalid YAML ({type(exc).__name__})", file=str(path)) from None
    finally:
        loader.dispose()


def _field(at: JsonPath, data: Any) -> str:
    """Render a path as ``requirements[3] (CORE-PAGE-002).level``."""
    out = ""
    node = data
    for part in at:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                out += f" ({node['id']})"
        else:
            out += ("." if out else "") + part
            node = node.get(part) if isinstance(node, dict) else None
    return out or "(top level)"


def _line(lines: dict[JsonPath, int], at: JsonPath) -> int | None:
    while at not in lines and at:
        at = at[:-1]
    return lines.get(at)


# ---------------------------------------------------------------------------- validation

def _schema_error(path: Path, data: Any, lines: dict[JsonPath, int], schema: str = _PROFILE_SCHEMA
                  ) -> ProfileError | None:
    """The first problem of ``data`` against the suite's ``schema``, naming file, line and field."""
    errors = national_store().errors(schema, data)
    if not errors:
        return None
    # A misspelt key also makes a required key "missing": report the misspelling, which explains both.
    error = next((e for e in errors if e.validator == "additionalProperties"), errors[0])
    at: JsonPath = tuple(error.absolute_path)
    message = error.message
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [k for k in error.validator_value if k not in error.instance]
        if missing:
            message = f"missing required field {missing[0]!r}"
            return ProfileError(message, file=str(path), line=_line(lines, at), field=_field(at + (missing[0],), data))
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {})
        extra = next((k for k in error.instance if k not in allowed), None)
        if extra is not None:
            at = at + (extra,)
            message = f"unknown field {extra!r}{did_you_mean(extra, allowed)}"
    elif error.validator == "enum" and isinstance(error.instance, str):
        message = f"{error.instance!r} is not one of {list(error.validator_value)}" + did_you_mean(
            error.instance, error.validator_value
        )
    elif error.validator == "pattern" and isinstance(error.instance, str):
        message = f"{error.instance!r} does not match {error.validator_value!r}"
    return ProfileError(message, file=str(path), line=_line(lines, at), field=_field(at, data))


@dataclass
class _Raw:
    path: Path
    data: dict[str, Any]
    lines: dict[JsonPath, int]

    def error(self, message: str, at: JsonPath) -> ProfileError:
        return ProfileError(message, file=str(self.path), line=_line(self.lines, at), field=_field(at, self.data))


# Parsing a profile's YAML with line marks and validating it against suite/profile.json is most of a run's
# start-up (core is read again for every profile that extends it). One key names a file's exact text and the
# profile schema's: the parsed value is remembered under it in this process, and, for the bundled profiles only,
# the fact that it validated across processes (conformance.validated). A file that fails is never remembered,
# so every error is reported. A local profile is validated every time: the cache directory is not the suite's
# installation (a poisoned CI cache can forge an entry), so an entry there vouches for nobody's file but ours.
_PARSED: dict[str, tuple[dict[str, Any], dict[JsonPath, int]]] = {}


def _read(path: Path) -> _Raw:
    try:
        text = read_text(path, "profile")
    except (LoadError, OSError):
        text = None  # _load_yaml reports it, naming the file
    key = validated.digest("profile", (schemas_dir() / _PROFILE_SCHEMA).read_bytes(),
                           text.encode("utf-8")) if text is not None else None
    parsed = _PARSED.get(key) if key else None
    if parsed is not None:  # a copy: the requirements built from it must not share mutable params
        return _Raw(path, copy.deepcopy(parsed[0]), parsed[1])
    data, lines = _load_yaml(path)
    if not isinstance(data, dict) or not {"id", "requirements"} & set(data):
        # not a profile at all (say `--profile /etc/shadow`): name the file, never quote what it holds
        raise ProfileError("not a profile: expected a YAML mapping with id, version, kind, title and requirements",
                           file=str(path), line=1)
    controlled = _controls(data)
    if controlled is not None:  # titles and keys reach terminals, pytest's headers, Markdown and CSV
        raise ProfileError("holds a control character (a terminal escape, a bidi override…); a profile is plain "
                           "text", file=str(path), line=_line(lines, controlled), field=_field(controlled, data))
    bundled = path.resolve().parent == profiles_dir().resolve()
    if not (key and bundled and validated.passed(key)):
        problem = _schema_error(path, data, lines)
        if problem:
            raise problem
        if key and bundled:
            validated.remember(key)
    if key:
        _PARSED[key] = (copy.deepcopy(data), lines)
    return _Raw(path, data, lines)


def _controls(data: Any, at: JsonPath = ()) -> JsonPath | None:
    """Where the first string (or key) holding a control character is, or None."""
    stack: list[tuple[Any, JsonPath]] = [(data, at)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            if CONTROLS.search(value):
                return where
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and CONTROLS.search(key):
                    return (*where, key)
                stack.append((item, (*where, str(key))))
        elif isinstance(value, list):
            stack += [(item, (*where, index)) for index, item in enumerate(value)]
    return None


def locate(path: Path, at: JsonPath) -> tuple[int | None, str]:
    """The line and the field (``requirements[0] (X-001).checks[0].params.fixtures[1]``) of a value of a file."""
    raw = _read(path)
    return _line(raw.lines, at), _field(at, raw.data)


# ---------------------------------------------------------------------------- finding and resolving

def profile_ids(search: tuple[Path, ...] = ()) -> list[str]:
    """Ids of the profiles found in the search directories, the local standards and the bundled ones."""
    seen: list[str] = []
    for directory in (*search, *profile_dirs()):
        for path in sorted(directory.glob("*.yaml")):
            if path.stem not in seen:
                seen.append(path.stem)
    return seen


def is_path(name: str | Path) -> bool:
    """Whether ``name`` names a file: it has a directory separator (``./core``) or a .yaml/.yml suffix.

    Anything else is an id, so a file named ``core`` in the working directory never stands in for the
    bundled profile ``core``.
    """
    text = str(name)
    return isinstance(name, Path) or "/" in text or os.sep in text or text.endswith((".yaml", ".yml"))


def find_profile(name: str | Path, search: tuple[Path, ...] = ()) -> Path:
    """A profile by file path (``./core``, ``dir/core``, ``core.yaml``) or by id (``core`` → ``profiles/core.yaml``)."""
    if is_path(name):
        candidate = Path(name)
        if candidate.is_file():
            return candidate
        raise ProfileError(f"no profile file at {str(name)!r}")
    name = str(name)
    for directory in (*search, *profile_dirs()):
        path = directory / f"{name}.yaml"
        if path.is_file():
            return path
    raise ProfileError(f"unknown profile {name!r}{did_you_mean(name, profile_ids(search))}; "
                       f"known: {', '.join(profile_ids(search))}")


def _requirements(raw: _Raw, profile_id: str) -> Iterator[Requirement]:
    for index, item in enumerate(raw.data["requirements"]):
        at: JsonPath = ("requirements", index)
        yield Requirement(
            id=item["id"],
            level=item["level"],
            subsystem=item["subsystem"],
            title=item["title"],
            statement=item["statement"],
            source=tuple(item["source"]),
            checks=tuple(
                CheckCall(c["check"], c.get("params") or {}) for c in item["checks"]
            ),
            capability=item.get("capability"),
            profile=profile_id,
            file=str(raw.path),
            line=_line(raw.lines, at) or 1,
        )


def _check_problems(raw: _Raw, calls: tuple[CheckCall, ...], at: JsonPath,
                    validate_check: ParamValidator | None) -> None:
    """Raise for the first unknown check or parameter among ``calls`` found at ``at`` in the file."""
    if validate_check is None:
        return
    for index, call in enumerate(calls):
        for param, problem in validate_check(call.check, call.params):
            raise raw.error(problem, at + (index,) + (("params", param) if param else ("check",)))
        for where, problem in _missing_inputs(call):  # what the check would find missing only when it runs
            raise raw.error(problem, at + (index, "params", *where))


def _missing_inputs(call: CheckCall) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Fixtures named in a list (``fixtures: […]``) and schemas (``schema``) that resolve nowhere: in the local
    standards first, then the national base."""
    for param, value in call.params.items():
        if param.endswith("fixtures") and isinstance(value, list):
            for position, name in enumerate(value):
                problem = fixture_problem(str(name))
                if problem:
                    yield (param, position), problem
        elif param.endswith("schema") and isinstance(value, str):
            try:
                schema_store().validator(value)
            except SchemaError as exc:
                if "no schema at" not in str(exc):
                    raise  # the store itself is broken (a local schema that is not JSON): its own one-line error
                yield (param,), (f"no schema {value!r}: not a file of a local standard's schemas/ nor of the national "
                                 "base, and no schema has that $id")


def load_profile(
    name: str | Path,
    *,
    search: tuple[Path, ...] = (),
    validate_check: ParamValidator | None = None,
    _stack: tuple[str, ...] = (),
) -> Profile:
    """Load a profile by id or path and resolve what it extends.

    ``validate_check(check_name, params)`` lets the caller (the check registry) reject unknown
    checks and parameters; the loader itself knows no checks.
    """
    path = find_profile(name, search)
    raw = _read(path)
    profile_id = raw.data["id"]
    if not isinstance(profile_id, str) or not ID.fullmatch(profile_id):  # it names a directory of --report-dir
        raise raw.error(f"the id must match {ID.pattern}", ("id",))
    if path.stem != profile_id and path.parent in profile_dirs():
        raise raw.error(f"the id must match the file name {path.stem!r}", ("id",))
    if profile_id in _stack:
        chain = " → ".join((*_stack, profile_id))
        raise raw.error(f"extends forms a cycle: {chain}", ("extends",))

    inherited: list[Requirement] = []
    for index, parent_id in enumerate(raw.data.get("extends", [])):
        if not isinstance(parent_id, str) or not ID.fullmatch(parent_id):
            raise raw.error(f"extends names profiles by id ({ID.pattern}), never by path", ("extends", index))
        try:
            parent = load_profile(parent_id, search=(path.parent, *search),
                                  validate_check=validate_check, _stack=(*_stack, profile_id))
        except ProfileError as exc:
            if exc.file is None:  # the parent was not found: point at the line naming it
                raise raw.error(exc.reason, ("extends", index)) from exc
            raise
        for req in parent.requirements:
            if all(req.id != have.id for have in inherited):
                inherited.append(req)

    own = list(_requirements(raw, profile_id))
    seen = {req.id: req for req in inherited}
    for index, req in enumerate(own):
        if req.id in seen:
            first = seen[req.id]
            raise raw.error(
                f"duplicate requirement id {req.id!r} (first defined in {Path(first.file).name}:{first.line})",
                ("requirements", index, "id"),
            )
        seen[req.id] = req
    for index, req in enumerate(own):
        _check_problems(raw, req.checks, ("requirements", index, "checks"), validate_check)

    resolved = inherited + own
    for req_id, change in raw.data.get("overrides", {}).items():
        at: JsonPath = ("overrides", req_id)
        position = next((i for i, r in enumerate(inherited) if r.id == req_id), None)
        if position is None:
            raise raw.error(
                f"overrides {req_id!r}, which no extended profile defines{did_you_mean(req_id, [r.id for r in inherited])}",
                at,
            )
        old = resolved[position]
        level = change.get("level", old.level)
        if LEVELS.index(level) < LEVELS.index(old.level):
            raise raw.error(f"a profile may only tighten a level; {old.level} → {level} loosens it", at + ("level",))
        checks = tuple(CheckCall(c["check"], c.get("params") or {}) for c in change.get("checks", [])) or old.checks
        if "checks" in change:
            _check_problems(raw, checks, at + ("checks",), validate_check)
        override = Override(profile_id, old.level, str(change.get("reason", "")), str(raw.path),
                            _line(raw.lines, at) or 1)
        resolved[position] = Requirement(
            **{**old.__dict__, "level": level, "checks": checks, "override": override}
        )

    return Profile(
        id=profile_id,
        version=raw.data["version"],
        kind=raw.data["kind"],
        title=raw.data["title"],
        extends=tuple(raw.data.get("extends", [])),
        requirements=tuple(resolved),
        path=path,
    )
