"""Request ids: echo the client's ``X-Request-Id`` or make one, and put it on every response."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RequestIdMiddleware", "request_id"]

HEADER = "X-Request-Id"
_ACCEPTABLE = re.compile(r"[\x21-\x7e]{1,200}")


def request_id(connection: HTTPConnection) -> str:
    state = connection.scope.setdefault("state", {})
    if "request_id" not in state:
        given = connection.headers.get(HEADER)
        # Echo only what is safe to put back into a header and a log line.
        state["request_id"] = given if given and _ACCEPTABLE.fullmatch(given) else uuid.uuid4().hex
    rid: str = state["request_id"]
    return rid


class RequestIdMiddleware:
    """Adds ``X-Request-Id`` to responses that do not carry one yet (problems set it themselves)."""

    def __init__(self, app: ASGIApp, *, enabled: bool = True) -> None:
        self.app, self.enabled = app, enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.enabled:
            await self.app(scope, receive, send)
            return
        rid = request_id(HTTPConnection(scope))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if HEADER not in headers:
                    headers.append(HEADER, rid)
            await send(message)

        await self.app(scope, receive, send_with_id)
