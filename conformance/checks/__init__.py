"""The check registry: small named functions that yield findings, referred to by name from profiles.

A check is ``def name(ctx: CheckContext, *, param: type = default) -> Iterator[Finding]``,
registered with ``@check("family.name")``. It passes when it yields no failing finding; it
stops early by raising :class:`~conformance.results.Halt`, ``NotApplicable`` or ``Manual``.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import did_you_mean

if TYPE_CHECKING:
    from ..results import Finding
    from ..session import CheckContext

__all__ = ["CHECKS", "CheckSpec", "check", "load_builtin_checks", "validate_call"]

CheckFunction = Callable[..., Iterator["Finding"]]

# One module per family of checks; the family is the first part of a check's name.
_BUILTIN_MODULES = ("discovery", "http", "paging", "problems", "entities", "validation", "sync",
                    "security", "privacy", "audit", "institutions", "lifecycle", "events", "local",
                    "generated", "stateful")


@dataclass(frozen=True)
class CheckSpec:
    name: str
    function: CheckFunction
    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def doc(self) -> str:
        return inspect.getdoc(self.function) or ""


CHECKS: dict[str, CheckSpec] = {}


def check(name: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check under ``name``, the name profiles use."""

    def register(function: CheckFunction) -> CheckFunction:
        if name in CHECKS and CHECKS[name].function is not function:
            raise ValueError(f"check {name!r} registered twice")
        parameters = list(inspect.signature(function).parameters.values())[1:]
        required = tuple(p.name for p in parameters if p.default is inspect.Parameter.empty)
        optional = tuple(p.name for p in parameters if p.default is not inspect.Parameter.empty)
        CHECKS[name] = CheckSpec(name, function, required, optional)
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
