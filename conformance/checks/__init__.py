"""The check registry: small named functions that yield findings, referred to by name from profiles.

A check is ``def name(ctx: CheckContext, *, param: type = default) -> Iterator[Finding]``,
registered with ``@check("family.name")``. It passes when it yields no failing finding; it
stops early by raising :class:`~conformance.results.Halt`, ``NotApplicable`` or ``Manual``.
Every check has a stable finding code (``codes.yaml`` beside this file) that its findings carry.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..codes import Code, finding_codes
from ..errors import UsageError, did_you_mean

if TYPE_CHECKING:
    from ..results import Finding

__all__ = ["CHECKS", "CheckSpec", "Code", "Parameter", "check", "finding_code", "finding_codes",
           "load_builtin_checks", "lookup_code", "validate_call"]

CheckFunction = Callable[..., Iterator["Finding"]]

# One module per family of checks; the family is the first part of a check's name.
_BUILTIN_MODULES = ("discovery", "http", "paging", "problems", "entities", "validation", "sync",
                    "security", "privacy", "audit", "institutions", "lifecycle", "events", "local",
                    "generated", "stateful", "oracle", "inputs")


def finding_code(check_name: str) -> str | None:
    """The code of a check's findings, or None for a check codes.yaml does not list."""
    return next((c.code for c in finding_codes().values() if c.check == check_name), None)


def lookup_code(code: str) -> Code:
    """A code as a user typed it (any case); a :class:`UsageError` naming the closest ones otherwise."""
    codes = finding_codes()
    key = code.strip().upper()
    if key not in codes:
        raise UsageError(f"unknown finding code {code!r}{did_you_mean(key, codes)}; "
                         "`sc-conformance checks list` lists every check with its code")
    return codes[key]


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str  # the annotation as written in the check's signature
    default: Any = inspect.Parameter.empty

    @property
    def required(self) -> bool:
        return self.default is inspect.Parameter.empty


@dataclass(frozen=True)
class CheckSpec:
    name: str
    function: CheckFunction
    required: tuple[str, ...]
    optional: tuple[str, ...]
    # Judges a global state of the platform (a feed's order, a window of updated_since) that another check's
    # writes would change: under --concurrency it runs alone, with nothing else in flight.
    quiet: bool = False

    @property
    def doc(self) -> str:
        return inspect.getdoc(self.function) or ""

    @property
    def code(self) -> str | None:
        return finding_code(self.name)

    @property
    def doc_zh(self) -> str:
        """The Chinese description (``doc_zh`` in codes.yaml); the English one is the docstring."""
        return next((c.doc_zh for c in finding_codes().values() if c.check == self.name), "")

    @property
    def parameters(self) -> list[Parameter]:
        """The parameters a profile may give, from the function's signature (after the context)."""
        signature = list(inspect.signature(self.function).parameters.values())[1:]
        return [Parameter(p.name, str(p.annotation) if p.annotation is not inspect.Parameter.empty else "any",
                          p.default) for p in signature]


CHECKS: dict[str, CheckSpec] = {}


def check(name: str, *, quiet: bool = False) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check under ``name``, the name profiles use; ``quiet``: it runs with nothing else in flight."""

    def register(function: CheckFunction) -> CheckFunction:
        if name in CHECKS and CHECKS[name].function is not function:
            raise ValueError(f"check {name!r} registered twice")
        parameters = list(inspect.signature(function).parameters.values())[1:]
        required = tuple(p.name for p in parameters if p.default is inspect.Parameter.empty)
        optional = tuple(p.name for p in parameters if p.default is not inspect.Parameter.empty)
        CHECKS[name] = CheckSpec(name, function, required, optional, quiet)
        return function

    return register


def load_builtin_checks() -> dict[str, CheckSpec]:
    for module in _BUILTIN_MODULES:
        importlib.import_module(f"{__name__}.{module}")
    return CHECKS


def validate_call(name: str, params: Mapping[str, Any]) -> list[tuple[str | None, str]]:
    """Problems with one check call in a profile: unknown check, unknown or missing parameters, missing fixtures."""
    from ..fixtures import fixture_problem

    checks = load_builtin_checks()
    spec = checks.get(name)
    if spec is None:
        return [(None, f"unknown check {name!r}{did_you_mean(name, checks)}")]
    problems: list[tuple[str | None, str]] = []
    known = spec.required + spec.optional
    for param in params:
        if param not in known:
            problems.append((param, f"check {name!r} has no parameter {param!r}{did_you_mean(param, known)}; "
                                    f"it takes {', '.join(known) or 'none'}"))
    for param in spec.required:
        if param not in params:
            problems.append((None, f"check {name!r} needs parameter {param!r}"))
    for param, value in params.items():
        if param.endswith("fixture") and isinstance(value, str):
            problem = fixture_problem(value)
            if problem:
                problems.append((param, problem))
    return problems
