"""The standard's JSON Schemas: one registry, validators compiled once, formats checked for real.

jsonschema only checks a format when a ``FormatChecker`` is given, and a format whose helper
package is missing passes silently. For a certification suite a silent pass is a false pass,
so :func:`format_checker` probes every format our schemas use and refuses to start when one
does not reject a known-bad value.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from collections.abc import Iterator, Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

# rfc3987-syntax (part of jsonschema[format-nongpl]) compiles a Lark grammar when imported: 1.4 s of
# every process's start, for the iri formats no schema of ours uses. The probes below refuse any format
# whose checker is missing, so leaving it out cannot cause a silent pass.
if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]

import referencing  # noqa: E402
import referencing.jsonschema  # noqa: E402
from jsonschema import Draft202012Validator, FormatChecker  # noqa: E402
from jsonschema.exceptions import ValidationError, relevance  # noqa: E402

from . import validated  # noqa: E402
from .errors import SchemaError  # noqa: E402
from .formats import is_credit_code, is_identity_number  # noqa: E402
from .resources import local_dirs, schemas_dir  # noqa: E402

__all__ = [
    "BASE_URI",
    "SchemaStore",
    "format_checker",
    "national_store",
    "schema_store",
]

BASE_URI = "https://smart-community.example/schemas/v1/"

# A value each format must reject; a checker that accepts it is missing or broken.
_FORMAT_PROBES: dict[str, object] = {
    "date-time": "2020-12-31 18:06:40",
    "date": "2020-13-45",
    "email": "not-an-email",
    "uri-reference": "http://[invalid",
    "json-pointer": "no-leading-slash",
    "gb11643": "110101199003071234",
    "gb32100": "91350100M000100Y44",
}


@functools.cache
def format_checker() -> FormatChecker:
    """Return the one format checker: jsonschema's own plus GB 11643 and GB 32100."""
    checker = FormatChecker()
    checker.checks("gb11643")(is_identity_number)
    checker.checks("gb32100")(is_credit_code)
    return checker


def _used_formats(node: object) -> Iterator[str]:
    if isinstance(node, Mapping):
        if isinstance(node.get("format"), str):
            yield node["format"]
        for value in node.values():
            yield from _used_formats(value)
    elif isinstance(node, list):
        for value in node:
            yield from _used_formats(value)


class SchemaStore:
    """Every schema of a directory by ``$id``, with compiled validators cached per URI.

    ``local`` are the ``schemas`` folders of local standards: their documents join the one registry, so a local
    schema refers to a national one by its ``$id``, and a short reference (``local/city.json#/$defs/x``) names a
    file of a local folder first, then the national base. A local document never replaces a national ``$id``.
    """

    def __init__(self, root: Path, local: tuple[Path, ...] = ()) -> None:
        self.root = root
        self.local = local
        self.documents: dict[str, dict[str, Any]] = {}
        self.paths: dict[str, Path] = {}
        for folder in (root, *local):
            for path in sorted(folder.rglob("*.json")):
                document = _read_document(path, local=folder != root)
                if "$id" not in document:
                    continue
                uri = document["$id"]
                if uri in self.paths:
                    raise SchemaError(f"{path}: $id {uri!r} is already the $id of {self.paths[uri]}; a local schema "
                                      "extends a national one by referring to its $id (allOf), it never redefines it")
                self.documents[uri] = document
                self.paths[uri] = path
        resources = [
            (uri, referencing.jsonschema.DRAFT202012.create_resource(doc))
            for uri, doc in self.documents.items()
        ]
        self.registry: referencing.Registry = referencing.Registry().with_resources(resources).crawl()
        self._validators: dict[str, Draft202012Validator] = {}
        self._check_documents()

    def _check_documents(self) -> None:
        # the meta-validation depends only on the bytes (remembered); the format probes on what is installed
        # A local standard's schemas are checked every time: the cache directory vouches for nobody's files but ours.
        national = sorted(uri for uri in self.documents if self.paths[uri].is_relative_to(self.root))
        key = validated.digest("schemas", version("jsonschema").encode(),
                               *(self.paths[uri].read_bytes() for uri in national))
        valid = validated.passed(key)
        checker = format_checker()
        for uri, document in self.documents.items():
            try:
                if not (valid and self.paths[uri].is_relative_to(self.root)):
                    Draft202012Validator.check_schema(document)
            except Exception as exc:  # jsonschema.SchemaError, with its message
                raise SchemaError(f"{self.paths[uri]}: not a valid 2020-12 schema: {exc}") from exc
            for name in set(_used_formats(document)):
                probe = _FORMAT_PROBES.get(name)
                if probe is None:
                    raise SchemaError(
                        f"{self.paths[uri]}: format {name!r} has no probe; add one to "
                        "conformance.schemas._FORMAT_PROBES so a missing checker cannot pass silently"
                    )
                if checker.conforms(probe, name):
                    raise SchemaError(
                        f"format {name!r} (used by {self.paths[uri].name}) has no working checker: "
                        f"it accepted {probe!r}. Install jsonschema[format-nongpl]."
                    )
        if not valid:
            validated.remember(key)

    @property
    def digest(self) -> str:
        """SHA-256 over every schema document in canonical form, for reports."""
        sha = hashlib.sha256()
        for uri in sorted(self.documents):
            sha.update(uri.encode())
            sha.update(json.dumps(self.documents[uri], sort_keys=True, ensure_ascii=False).encode())
        return "sha256:" + sha.hexdigest()

    def uri(self, ref: str) -> str:
        """Expand a short reference such as ``entities/resident.json#/$defs/create``: a file of a local standard's
        ``schemas`` folder first (its ``$id``), then the national base."""
        if "://" in ref:
            return ref
        relative, hash_, fragment = ref.partition("#")
        for folder in self.local:
            path = folder / relative
            for uri, known in self.paths.items():
                if known == path:
                    return uri + hash_ + fragment
        return BASE_URI + ref

    def is_local(self, ref: str) -> bool:
        """Whether a reference names a schema of a local standard."""
        path = self.paths.get(self.uri(ref).partition("#")[0])
        return path is not None and any(path.is_relative_to(folder) for folder in self.local)

    def validator(self, ref: str) -> Draft202012Validator:
        """Return the compiled validator for a schema URI (or a short reference), built once."""
        uri = self.uri(ref)
        cached = self._validators.get(uri)
        if cached is None:
            try:
                resolved = self.registry.resolver().lookup(uri).contents
            except referencing.exceptions.Unresolvable as exc:
                raise SchemaError(f"no schema at {uri!r}") from exc
            base = urldefrag(uri).url
            schema = _inline(dict(resolved), self.registry.resolver(base), base, (uri,))
            cached = Draft202012Validator(schema, registry=self.registry, format_checker=format_checker())
            self._validators[uri] = cached
        return cached

    def errors(self, ref: str, instance: object) -> list[ValidationError]:
        """All validation errors of ``instance``, best first."""
        return sorted(self.validator(ref).iter_errors(instance), key=relevance, reverse=True)


_ANNOTATIONS = {"$id", "$schema", "$defs", "$comment"}
_DATA_KEYWORDS = {"enum", "const", "required", "examples", "default"}


def _inline(node: Any, resolver: referencing.Resolver[Any], base: str, stack: tuple[str, ...]) -> Any:
    """A copy of ``node`` with every ``$ref`` replaced by what it points to (``allOf`` keeps 2020-12 semantics).

    Resolving references is 40 % of validating an entity with python-jsonschema (measured by
    benchmarks/validation.py); a self-contained schema skips it. A cyclic reference stays a ``$ref``.
    """
    if isinstance(node, list):
        return [_inline(item, resolver, base, stack) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: value for key, value in node.items() if key not in _ANNOTATIONS and key != "$ref"}
    for key, value in out.items():
        if key in ("properties", "patternProperties"):
            out[key] = {name: _inline(sub, resolver, base, stack) for name, sub in value.items()}
        elif key not in _DATA_KEYWORDS:
            out[key] = _inline(value, resolver, base, stack)
    ref = node.get("$ref")
    if isinstance(ref, str):
        target = urljoin(base, ref)
        if target in stack:
            out["$ref"] = target
        else:
            resolved = resolver.lookup(ref)
            inlined = _inline(resolved.contents, resolved.resolver, urldefrag(target).url, (*stack, target))
            out["allOf"] = [inlined, *out.get("allOf", [])]
    return out


def _read_document(path: Path, *, local: bool) -> dict[str, Any]:
    """A schema document; a local standard's file is read by the bounded loader (a broken file is one line naming it)."""
    if not local:
        return json.loads(path.read_text(encoding="utf-8"))
    from .loading import LoadError, json_file

    try:
        document = json_file(path, "schema")
    except LoadError as exc:
        raise SchemaError(str(exc)) from None
    if not isinstance(document, dict):
        raise SchemaError(f"{path}: a schema is a JSON object")
    return document


@functools.cache
def national_store() -> SchemaStore:
    """The store of the national base's schemas alone (the suite's own formats: profile, standard, report…)."""
    return SchemaStore(schemas_dir())


@functools.cache
def _store(local: tuple[Path, ...]) -> SchemaStore:
    return SchemaStore(schemas_dir(), local) if local else national_store()


def schema_store() -> SchemaStore:
    """The store of the national schemas and those of the local standards in use, loaded once per set of folders."""
    return _store(local_dirs("schemas"))
