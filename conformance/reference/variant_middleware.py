"""The two variants that sit in front of every route: a path prefix, and rate limiting."""

from __future__ import annotations

import email.utils
import itertools
import json
import threading
import time

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["PathPrefixMiddleware", "RateLimitMiddleware"]

EVERY = 40  # rate-limit: every 40th request is refused ...
REFUSALS = 4  # ... this many times per start, so a run waits a few seconds in all
_PROBLEM = "https://smart-community.example/problems/"


async def _problem(send: Send, status: int, code: str, detail: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"type": _PROBLEM + code, "title": detail, "status": status, "detail": detail,
                       "code": code}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


class PathPrefixMiddleware:
    """Serve the app under ``prefix``: the prefix is cut from the path; anything outside it is a 404."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app, self.prefix = app, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path != self.prefix and not path.startswith(self.prefix + "/"):
            await _problem(send, 404, "not-found", f"no resource at {path}; the API is served under {self.prefix}", [])
            return
        inner = path[len(self.prefix):] or "/"
        raw = scope.get("raw_path")
        # Only the path changes: with root_path set too, Starlette would strip the prefix a second time.
        scope = {**scope, "path": inner, "raw_path": raw[len(self.prefix):] if isinstance(raw, bytes) else raw}
        await self.app(scope, receive, send)


class RateLimitMiddleware:
    """Refuse every ``EVERY``-th request, at most ``REFUSALS`` times: 429 with ``Retry-After: 1``, and
    (the second refusal) 503 with an HTTP-date, so both forms of the header are met."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._count = itertools.count(1)
        self._refused = 0
        self._lock = threading.Lock()

    def _refuse(self) -> int:
        with self._lock:
            if next(self._count) % EVERY or self._refused >= REFUSALS:
                return 0
            self._refused += 1
            return self._refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = self._refuse() if scope["type"] == "http" else 0
        if not refusal:
            await self.app(scope, receive, send)
        elif refusal == 2:
            when = email.utils.formatdate(time.time() + 1, usegmt=True).encode()
            await _problem(send, 503, "unavailable", "the platform is busy; retry later", [(b"retry-after", when)])
        else:
            await _problem(send, 429, "rate-limited", "too many requests; retry later", [(b"retry-after", b"1")])
