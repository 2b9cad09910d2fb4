"""RFC 9457 problem responses, the JSON response class, and the handlers that keep every error a problem."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from ..schemas import BASE_URI, schema_store
from .tracing import HEADER, request_id

__all__ = ["JsonResponse", "ProblemError", "install_handlers", "problem_response", "registered_titles"]

PROBLEM_BASE = "https://smart-community.example/problems/"
_CODE_BY_STATUS = {400: "invalid-parameter", 404: "not-found", 405: "method-not-allowed", 413: "payload-too-large",
                   415: "unsupported-media-type"}


# Faults that answer one error status as plain JSON (issue 10: the problem format checked at every status).
_PLAIN_BY_FAULT = {415: "unsupported-media-type-plain", 405: "method-not-allowed-plain"}


@functools.cache
def registered_titles() -> dict[str, dict[str, str]]:
    """The standard's problem registry (interface/problem.json, ``code`` with ``x-titles``): code → {zh, en}."""
    code = schema_store().documents[BASE_URI + "interface/problem.json"]["properties"]["code"]
    return {name: dict(code["x-titles"][name]) for name in code["enum"]}


class JsonResponse(Response):
    """JSON in UTF-8 with characters as they are (no ``\\u`` escapes)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


class ProblemError(Exception):
    """Raised by handlers; rendered as a problem by :func:`install_handlers`."""

    def __init__(self, status: int, code: str, detail: str, *,
                 errors: Sequence[Mapping[str, str]] = (), headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.errors, self.headers = list(errors), dict(headers or {})


def problem_response(request: Request, error: ProblemError) -> Response:
    faults: frozenset[str] = request.app.state.platform.faults
    code = error.code
    if "problem-wrong-code" in faults and error.status == 404:
        code = "internal-error"
    titles = registered_titles().get(error.code)  # every code it answers is registered (tests/test_problem_registry.py)
    title = titles["en"] if titles else HTTPStatus(error.status).phrase
    headers = dict(error.headers)
    rid = request_id(request)
    if "no-request-id" not in faults:
        headers[HEADER] = rid
    if "problem-plain-json" in faults or _PLAIN_BY_FAULT.get(error.status) in faults:
        return JsonResponse({"error": title}, status_code=error.status, headers=headers)
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + error.code,
        "title": title,
        "status": error.status,
        "detail": error.detail,
        "code": code,
        "request_id": rid,
    }
    if error.errors:
        body["errors"] = error.errors
    return JsonResponse(body, status_code=error.status, headers=headers, media_type="application/problem+json")


async def _on_problem(request: Request, exc: ProblemError) -> Response:
    return problem_response(request, exc)


async def _on_http(request: Request, exc: StarletteHTTPException) -> Response:
    faults: frozenset[str] = request.app.state.platform.faults
    if exc.status_code == 404:
        if "unknown-path-200" in faults:
            return JsonResponse({"code": "not-found"})
        return problem_response(request, ProblemError(404, "not-found", f"no resource at {request.url.path}"))
    code = _CODE_BY_STATUS.get(exc.status_code, "internal-error" if exc.status_code >= 500 else "invalid-parameter")
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
        return problem_response(request, ProblemError(405, code, detail, headers={"Allow": _allowed(request)}))
    return problem_response(request, ProblemError(exc.status_code, code, str(exc.detail), headers=exc.headers))


def _allowed(request: Request) -> str:
    # Starlette names only the first route matching the path; a path has one route per method here.
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


async def _on_request_validation(request: Request, exc: Exception) -> Response:
    return problem_response(request, ProblemError(400, "invalid-parameter", str(exc)))


async def _on_crash(request: Request, exc: Exception) -> Response:
    # Starlette re-raises after this response is sent, so the server logs the traceback.
    return problem_response(request, ProblemError(500, "internal-error", "the platform failed; see its log"))


def install_handlers(app: FastAPI) -> None:
    """Route every error, FastAPI's own included, to a problem response."""
    app.add_exception_handler(ProblemError, _on_problem)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(Exception, _on_crash)
