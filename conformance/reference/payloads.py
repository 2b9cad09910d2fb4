"""Request bodies: media type, size and JSON checks, JSON Merge Patch, and what the store keeps."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request

from .problems import ProblemError

__all__ = ["JSON_TYPES", "MAX_BODY", "MERGE_PATCH_TYPES", "merge_patch", "read_json", "stored_form"]

MAX_BODY = 1024 * 1024
MAX_DEPTH = 32
JSON_TYPES = ("application/json",)
MERGE_PATCH_TYPES = ("application/merge-patch+json", "application/json")
_CLIENT_TIME = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?)(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_STORAGE_FAULTS = frozenset({"name-bmp-only", "time-offset-dropped"})
_NON_BMP = re.compile("[\U00010000-\U0010ffff]")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise ProblemError(413, "payload-too-large", f"the body may hold at most {MAX_BODY} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise ProblemError(413, "payload-too-large", f"the body may hold at most {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, media_types: tuple[str, ...]) -> Any:
    """The parsed body, or a 415, 413 or 400 problem."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in media_types:
        raise ProblemError(415, "unsupported-media-type",
                           f"send the body as {' or '.join(media_types)}, not {media_type or 'without a type'}")
    raw = await _read_body(request)
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        # Lone surrogates and numbers beyond a double (1e400) parse, but cannot be stored or sent.
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (ValueError, RecursionError) as exc:
        faults = request.app.state.platform.faults
        if "malformed-json-500" in faults or (request.method == "PATCH" and "malformed-json-patch-500" in faults):
            raise ProblemError(500, "internal-error", "the platform failed") from None
        raise ProblemError(400, "malformed-json", f"the body is not UTF-8 JSON: {exc}") from None
    if _depth(value) > MAX_DEPTH:
        raise ProblemError(422, "validation-failed", f"the body is nested deeper than {MAX_DEPTH} levels",
                           errors=[{"pointer": "", "message": f"nested deeper than {MAX_DEPTH} levels"}])
    return value


def _depth(value: Any) -> int:
    """Nesting depth, counted without recursion so a hostile body cannot exhaust the stack."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def merge_patch(target: Any, patch: Any, *, ignore_nulls: bool = False) -> Any:
    """RFC 7396: objects merge member by member, null removes a member, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for member, value in patch.items():
        if value is None:
            if not ignore_nulls:
                result.pop(member, None)
        else:
            result[member] = merge_patch(result.get(member), value, ignore_nulls=ignore_nulls)
    return result


def stored_form(value: Any, faults: frozenset[str]) -> Any:
    """What the store keeps of a valid body: the body itself, unless a storage fault mangles strings."""
    if not faults & _STORAGE_FAULTS:
        return value
    if isinstance(value, dict):
        return {key: stored_form(item, faults) for key, item in value.items()}
    if isinstance(value, list):
        return [stored_form(item, faults) for item in value]
    if isinstance(value, str):
        if "name-bmp-only" in faults:
            value = _NON_BMP.sub("?", value)
        if "time-offset-dropped" in faults:
            value = _CLIENT_TIME.sub(r"\1+08:00", value) if _CLIENT_TIME.fullmatch(value) else value
    return value
