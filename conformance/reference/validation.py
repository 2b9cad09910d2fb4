"""Validation of submitted entities against the catalogue's create schemas, with the faults that weaken it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError, relevance

from ..catalogue import Collection
from ..schemas import SchemaStore, format_checker

__all__ = ["READ_ONLY", "EntityValidator", "pointer"]

# Assigned by the platform in every entity of the standard; ignored when a client sends them.
READ_ONLY = ("id", "created_at", "updated_at")
_NAIVE_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?$")
_DIVISION_FIELDS = ("division_code", "statistical_code")
Problem = dict[str, str]


def pointer(path: Iterable[Any]) -> str:
    """RFC 6901 pointer of a path of keys and indexes."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _utf16_max_length(validator: Any, limit: int, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and len(instance.encode("utf-16-le")) // 2 > limit:
        yield ValidationError(f"{instance!r} is longer than {limit} characters")


class EntityValidator:
    """Validators built once per schema and fault set; errors come back as ``{pointer, message}``."""

    def __init__(self, schemas: SchemaStore, faults: frozenset[str]) -> None:
        self.schemas, self.faults = schemas, faults
        self._cache: dict[str, Draft202012Validator] = {}

    def _checker(self) -> FormatChecker:
        checker = FormatChecker(formats=())
        checker.checkers = dict(format_checker().checkers)
        if "accept-bad-identity" in self.faults:
            checker.checkers["gb11643"] = (lambda _value: True, ())
        if "accept-bad-credit-code" in self.faults:
            checker.checkers["gb32100"] = (lambda _value: True, ())
        return checker

    def validator(self, uri: str) -> Draft202012Validator:
        cached = self._cache.get(uri)
        if cached is None:
            base = self.schemas.validator(uri)
            cls: Any = type(base)
            if "length-utf16" in self.faults:
                cls = validators.extend(cls, {"maxLength": _utf16_max_length})
            cached = cls(base.schema, registry=self.schemas.registry, format_checker=self._checker())
            self._cache[uri] = cached
        return cached

    def _ignored(self, error: ValidationError) -> bool:
        """Errors a fault switches off; formats are switched off in the checker instead."""
        faults, path = self.faults, list(error.absolute_path)
        if "accept-missing-required" in faults and error.validator == "required":
            return True
        if "accept-below-min-length" in faults and error.validator == "minLength":
            return True
        if "work-order-rating-unbounded" in faults and error.validator == "maximum" and path[-2:] == ["satisfaction",
                                                                                                  "rating"]:
            return True
        if ("accept-naive-time" in faults and error.validator in ("format", "pattern")
                and isinstance(error.schema, dict) and error.schema.get("format") == "date-time"
                and isinstance(error.instance, str) and _NAIVE_TIME.match(error.instance)):
            return True
        if "accept-bad-division" in faults and error.validator == "pattern" and path and path[-1] in _DIVISION_FIELDS:
            return True
        if ("accept-swapped-coordinates" in faults and error.validator in ("minimum", "maximum")
                and "coordinates" in path):
            return True
        return False

    def check(self, collection: Collection, body: Any) -> tuple[Any, list[Problem]]:
        """Return the body to store (read-only members removed) and its errors, best first."""
        if isinstance(body, dict):
            body = {key: value for key, value in body.items() if key not in READ_ONLY}
        errors = [e for e in self._errors(collection.create_schema, body) if not self._ignored(e)]
        if "accept-unknown-field" in self.faults:
            for error in [e for e in errors if e.validator == "additionalProperties"]:
                for member in _extra_members(error):
                    error.instance.pop(member, None)
            errors = [e for e in errors if e.validator != "additionalProperties"]
        quote = "pii-in-errors" in self.faults  # else a rejected value is never echoed: it may be personal data
        return body, [problem for error in errors for problem in _problems(error, quote=quote)]

    def _errors(self, uri: str, instance: Any) -> list[ValidationError]:
        return sorted(self.validator(uri).iter_errors(instance), key=relevance, reverse=True)


def _extra_members(error: ValidationError) -> list[str]:
    known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
    return [member for member in error.instance if member not in known]


def _problems(error: ValidationError, *, quote: bool = False) -> Iterator[Problem]:
    """One ``{pointer, message}`` per member at fault: the missing or unknown member itself. The rejected value
    is not quoted (a phone sent as a number or in an array is personal data too) unless ``quote``."""
    where = pointer(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [m for m in error.validator_value if m not in error.instance and error.message.startswith(repr(m))]
        yield {"pointer": where + pointer(missing[:1]), "message": error.message}
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        for member in _extra_members(error):
            yield {"pointer": where + pointer([member]), "message": f"unknown member {member!r}"}
    elif quote or isinstance(error.instance, dict):
        yield {"pointer": where, "message": error.message}
    else:
        yield {"pointer": where, "message": error.message.replace(repr(error.instance), "the value")}
