"""The vendor's platform as the suite sees it: one httpx client, capped reads, recorded exchanges.

Every request becomes an :class:`Exchange` that carries what a vendor needs to reproduce it
(method, URL, headers, body, curl line) with credentials redacted before anything is stored.
Transport trouble never escapes as an httpx exception: it becomes :class:`TargetError`,
which the runner turns into an ``inconclusive`` verdict.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from . import __version__

__all__ = ["Exchange", "Target", "TargetError"]

REDACTED = "***REDACTED***"
_EVIDENCE_BODY_LIMIT = 4096
_SENSITIVE_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}


class TargetError(Exception):
    """The target could not be asked or did not answer usably (timeout, reset, oversize, foreign host)."""


@dataclass
class Exchange:
    """One request and its response, as evidence."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes | None
    status: int
    headers: httpx.Headers
    body: bytes
    elapsed: float
    truncated: bool = False
    _json: Any = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; raises ``ValueError`` if it is not JSON."""
        if not self._parsed:
            if self.truncated:
                raise ValueError("the body was larger than the suite's read limit and was cut")
            self._json = json.loads(self.body.decode("utf-8"))
            self._parsed = True
        return self._json

    def curl(self) -> str:
        parts = ["curl", "-i", "-X", self.method, shlex.quote(self.url)]
        for name, value in self.request_headers.items():
            if name.lower() in ("host", "content-length", "accept-encoding", "connection", "user-agent"):
                continue
            if name.lower() == "authorization":
                value = 'Bearer "$SC_TOKEN"'
                parts += ["-H", f'"Authorization: {value}"']
                continue
            parts += ["-H", shlex.quote(f"{name}: {value}")]
        if self.request_body is not None:
            parts += ["--data-binary", shlex.quote(self.request_body.decode("utf-8", errors="replace"))]
        return " ".join(parts)

    def to_evidence(self, redact: Callable[[str], str]) -> dict[str, Any]:
        request_text = self.request_body.decode("utf-8", errors="replace") if self.request_body is not None else None
        response_text = self.body.decode("utf-8", errors="replace")
        return {
            "request": {
                "method": self.method,
                "url": redact(self.url),
                "headers": {k: redact(v) for k, v in self.request_headers.items()},
                "body": _cut(redact(request_text)) if request_text is not None else None,
                "sha256": _digest(self.request_body or b""),
            },
            "response": {
                "status": self.status,
                "headers": {k: (REDACTED if k.lower() in _SENSITIVE_HEADERS else redact(v))
                            for k, v in self.headers.items()},
                "body": _cut(redact(response_text)),
                "body_bytes": len(self.body),
                "truncated": self.truncated or len(response_text) > _EVIDENCE_BODY_LIMIT,
                "sha256": _digest(self.body),
                "elapsed_ms": round(self.elapsed * 1000, 1),
            },
            "curl": redact(self.curl()),
        }


def _cut(text: str) -> str:
    return text if len(text) <= _EVIDENCE_BODY_LIMIT else text[:_EVIDENCE_BODY_LIMIT] + "…[truncated]"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Target:
    """The platform under test at ``base_url``; one connection pool for the whole run."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 10.0,
        max_body_bytes: int = 8 * 1024 * 1024,
        run_id: str = "",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base URL must be http(s)://host[:port][/path], got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.token = token
        self.timeout = timeout
        self.max_body_bytes = max_body_bytes
        self.run_id = run_id
        self.secrets: list[str] = [token] if token else []
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=8),
            headers={
                "User-Agent": f"sc-conformance/{__version__}",
                "Accept": "application/json, application/problem+json",
                "X-Conformance-Run": run_id,
            },
            transport=transport,
            trust_env=False,
        )

    def close(self) -> None:
        self._client.close()

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, REDACTED)
        return text

    def url(self, path: str) -> str:
        """Resolve a path (or an absolute URL on the same origin) against the base URL."""
        if "://" in path:
            url = path
        else:
            url = self.base_url + (path if path.startswith("/") else "/" + path)
        joined = urljoin(self.base_url + "/", url)
        parts = urlsplit(joined)
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            raise TargetError(f"refusing to send a request to {parts.scheme}://{parts.netloc}: "
                              f"only the target's origin {self.origin} is probed")
        return joined

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        token: str | None | bool = True,
    ) -> Exchange:
        """Send one request. ``token=True`` uses the run's token, ``False``/``None`` sends none."""
        url = self.url(path)
        send_headers = dict(headers or {})
        body = content
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            send_headers.setdefault("Content-Type", "application/json")
        bearer = self.token if token is True else (token or None)
        if bearer:
            send_headers["Authorization"] = f"Bearer {bearer}"
            if bearer not in self.secrets:
                self.secrets.append(bearer)
        request = self._client.build_request(method, url, headers=send_headers, content=body, params=params)
        started = time.monotonic()
        try:
            response = self._client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise TargetError(f"{method} {request.url.path}: no answer within {self.timeout:g} s ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise TargetError(f"{method} {request.url.path}: {type(exc).__name__}: {self.redact(str(exc))}") from None
        try:
            chunks: list[bytes] = []
            size = 0
            truncated = False
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > self.max_body_bytes:
                    truncated = True
                    break
                if time.monotonic() - started > self.timeout:
                    raise TargetError(f"{method} {request.url.path}: body still arriving after {self.timeout:g} s")
        except httpx.HTTPError as exc:
            raise TargetError(f"{method} {request.url.path}: reading the body failed: {type(exc).__name__}") from None
        finally:
            response.close()
        data = b"".join(chunks)[: self.max_body_bytes]
        return Exchange(
            method=method,
            url=str(request.url),
            request_headers=dict(request.headers),
            request_body=body,
            status=response.status_code,
            headers=response.headers,
            body=data,
            elapsed=time.monotonic() - started,
            truncated=truncated,
        )
