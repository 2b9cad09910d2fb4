"""Expectations shared by the checks: statuses, JSON bodies, schemas, problems, instants."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from ..results import Finding, Halt, fail
from ..session import CheckContext, inconclusive
from ..target import Exchange
from ..verdicts import Verdict

__all__ = [
    "JSON_TYPES",
    "SERVER_TIME_TOLERANCE",
    "describe_difference",
    "equal_values",
    "instant",
    "off_the_clock",
    "require_json",
    "require_status",
    "response_time",
    "schema_findings",
]

JSON_TYPES = ("application/json", "application/problem+json", "application/merge-patch+json")


def _what(exchange: Exchange) -> str:
    return f"{exchange.method} {exchange.url}"


def require_status(exchange: Exchange, *expected: int, why: str = "", precondition: bool = False) -> None:
    """Halt unless the status is one of ``expected``: a failure, or inconclusive for a precondition."""
    if exchange.status in expected:
        return
    wanted = " or ".join(map(str, expected))
    message = f"{_what(exchange)} answered {exchange.status}, expected {wanted}"
    if why:
        message += f": {why}"
    if precondition:
        raise inconclusive("precondition failed: " + message)
    raise Halt(fail(message, expected=list(expected), found=exchange.status))


def require_json(exchange: Exchange, *, precondition: bool = False) -> Any:
    try:
        return exchange.json()
    except ValueError as exc:
        message = f"{_what(exchange)}: the body is not JSON ({exc})"
        if precondition:
            raise inconclusive("precondition failed: " + message) from None
        raise Halt(fail(message, found=exchange.text[:200])) from None


def schema_findings(ctx: CheckContext, ref: str, instance: Any, *, what: str, limit: int = 5) -> Iterator[Finding]:
    """One failing finding per validation error (best first), located by JSON pointer."""
    errors = ctx.schemas.errors(ref, instance)
    for error in errors[:limit]:
        pointer = "/" + "/".join(str(p) for p in error.absolute_path)
        schema_path = "/".join(str(p) for p in error.absolute_schema_path)
        yield Finding(
            Verdict.FAIL,
            f"{what} does not conform to {ref.rsplit('/v1/', 1)[-1]}: {error.message}",
            expected=f"{error.validator}: {error.validator_value!r}"[:200] if error.validator != "$ref" else None,
            found=error.instance if not isinstance(error.instance, dict | list) else None,
            location=f"{pointer} (schema: {schema_path})",
        )
    if len(errors) > limit:
        yield fail(f"{what}: {len(errors) - limit} more schema errors not shown")


def instant(value: Any) -> datetime | None:
    """An RFC 3339 string with an offset as an aware datetime; None for anything else."""
    if not isinstance(value, str) or len(value) < 20:
        return None
    text = value.replace("z", "Z").replace("t", "T")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def equal_values(sent: Any, got: Any) -> bool:
    """Equal as the standard means it: date-times as instants, everything else exactly."""
    if isinstance(sent, dict) and isinstance(got, dict):
        return sent.keys() <= got.keys() and all(equal_values(v, got[k]) for k, v in sent.items())
    if isinstance(sent, list) and isinstance(got, list):
        return len(sent) == len(got) and all(equal_values(a, b) for a, b in zip(sent, got, strict=True))
    if isinstance(sent, str) and isinstance(got, str) and sent != got:
        a, b = instant(sent), instant(got)
        return a is not None and b is not None and a == b
    return type(sent) is type(got) and sent == got


def describe_difference(sent: Any, got: Any) -> str:
    """Say how two strings differ by code point, which is how rare characters get lost."""
    if isinstance(sent, str) and isinstance(got, str):
        for index, (a, b) in enumerate(zip(sent, got)):
            if a != b:
                return f"code point {index} changed from U+{ord(a):04X} to U+{ord(b):04X}"
        if len(sent) != len(got):
            return f"length changed from {len(sent)} to {len(got)} code points"
    return "values differ"


SERVER_TIME_TOLERANCE = 300.0  # seconds a server-set time may lie from the response's Date (S9)


def response_time(exchange: Exchange) -> datetime:
    """When the platform answered: its ``Date`` header, else the suite's clock now (S9)."""
    try:
        moment = parsedate_to_datetime(exchange.headers.get("date", ""))
    except (TypeError, ValueError):
        moment = None
    if moment is None or moment.tzinfo is None:
        return datetime.now(timezone.utc)
    return moment


def off_the_clock(moment: datetime, exchange: Exchange) -> float | None:
    """Seconds a server-set time lies from the response's ``Date`` beyond the tolerance; None when within it."""
    gap = abs((moment - response_time(exchange)).total_seconds())
    return gap if gap > SERVER_TIME_TOLERANCE else None
