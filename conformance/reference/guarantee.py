"""The guarantee side of the reference platform: the audit trail every write leaves, and the
institutional documents its attestations point at."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from fastapi import FastAPI, Request
from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import authenticate
from .context import Platform
from .problems import ProblemError
from .store import format_instant
from .tokens import InvalidToken, verify_token
from .tracing import request_id

__all__ = ["AUDIT_COLLECTION", "DOCUMENTS", "document_digest", "install_guarantee"]

AUDIT_COLLECTION = "audit-records"
DOCUMENTS_PATH = "/institutional-documents"
_ACTIONS = {"POST": "create", "PATCH": "update", "PUT": "update", "DELETE": "delete"}

# Institutional arrangements no API can show; an attestation names each document and its digest.
DOCUMENTS: dict[str, tuple[str, str]] = {
    "funding": ("GUA-INST-001", "Funding: the district finance bureau funds platform operation for 2026-2028 "
                                "(budget line 2130-07), reviewed each year by the street office."),
    "cooperation": ("GUA-INST-002", "Multi-party cooperation: residents' committee, owners' committee and property "
                                    "company meet monthly; a joint-meeting charter assigns who answers which request."),
    "accountability": ("GUA-INST-003", "Accountability: the street office names a data-protection officer; breaches "
                                       "are reported within 72 hours and reviewed by the district."),
}
_CHANGED_BY_FAULT = {"funding": "funding-document-changed", "cooperation": "cooperation-document-changed",
                     "accountability": "accountability-document-changed"}


def document_text(name: str, faults: frozenset[str] = frozenset()) -> str:
    text = DOCUMENTS[name][1]
    return text + " (amended after attestation)" if _CHANGED_BY_FAULT[name] in faults else text


def document_digest(name: str) -> str:
    return hashlib.sha256(document_text(name).encode("utf-8")).hexdigest()


def _outcome(status: int) -> str:
    return "success" if status < 400 else ("denied" if status in (401, 403) else "failed")


def _actor(platform: Platform, connection: HTTPConnection) -> str:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    try:
        if scheme.lower() != "bearer":
            return "anonymous"
        return str(verify_token(platform.secret, token.strip(), book=platform.token_book)["sub"])
    except InvalidToken:
        return "unauthenticated"


class AuditMiddleware:
    """Writes one audit record per write attempt on a collection, whatever its outcome."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _ACTIONS:
            await self.app(scope, receive, send)
            return
        seen: dict[str, Any] = {"status": 500, "location": None}

        async def watching(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"location":
                        seen["location"] = value.decode("latin-1")
            await send(message)

        try:
            await self.app(scope, receive, watching)
        finally:
            _record(scope, seen["status"], seen["location"])


def _record(scope: Scope, status: int, location: str | None) -> None:
    platform: Platform = scope["app"].state.platform
    if scope["method"] == "DELETE" and "audit-skips-deletes" in platform.faults:
        return
    if scope["method"] == "PATCH" and status == 403 and "audit-skips-refused-patch" in platform.faults:
        return
    path: str = scope["path"]
    transition = path.endswith("/transitions")
    if transition and "audit-skips-transitions" in platform.faults:
        return
    if transition and "audit-refused-transition-success" in platform.faults:
        status = 200  # the refusal is recorded as if the transition had been made
    collection = next((c for c in platform.catalogue.collections.values()
                       if path == c.path or path.startswith(c.path + "/")), None)
    if collection is None:
        return
    connection = HTTPConnection(scope)
    body = {
        "actor": _actor(platform, connection),
        "action": _ACTIONS[scope["method"]],
        # A relative Location (the relative-location variant) is resolved against the request path.
        "resource": urljoin(path, location) if status == 201 and location else path,
        "collection": collection.name,
        "time": format_instant(datetime.now(UTC)),
        "outcome": _outcome(status),
        "status": status,
        "request_id": request_id(connection),
    }
    platform.store.insert(AUDIT_COLLECTION, f"aud-{uuid.uuid4().hex}", body, None)


async def _document(request: Request) -> Response:
    platform: Platform = request.app.state.platform
    authenticate(request)
    name = request.path_params["name"]
    if name not in DOCUMENTS:
        raise ProblemError(404, "not-found", f"no institutional document {name!r}; known: {', '.join(DOCUMENTS)}")
    return PlainTextResponse(document_text(name, platform.faults))


async def _delete_audit_record(request: Request) -> Response:
    """Only under the ``audit-deletable`` fault: the audit trail can be erased through the API."""
    platform: Platform = request.app.state.platform
    authenticate(request)
    platform.store.delete(AUDIT_COLLECTION, request.path_params["item_id"])
    return Response(status_code=204)


def install_guarantee(app: FastAPI, platform: Platform) -> None:
    """Add the audit middleware, the documents route and the audit faults to the reference app."""
    app.add_middleware(AuditMiddleware)
    app.add_api_route(DOCUMENTS_PATH + "/{name}", _document, methods=["GET"], include_in_schema=False)
    if "audit-deletable" in platform.faults:
        path = platform.catalogue.collections[AUDIT_COLLECTION].path + "/{item_id}"
        app.add_api_route(path, _delete_audit_record, methods=["DELETE"], include_in_schema=False)
