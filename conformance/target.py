"""The vendor's platform as the suite sees it: one httpx client, capped reads, recorded exchanges.

Every request becomes an :class:`Exchange` that carries what a vendor needs to reproduce it
(method, URL, headers, body, curl line) with credentials redacted before anything is stored.
Transport trouble never escapes as an httpx exception: it becomes :class:`TargetError`,
which the runner turns into an ``inconclusive`` verdict.
"""

from __future__ import annotations

import email.utils
import hashlib
import itertools
import json
import shlex
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from . import __version__, redaction
from .redaction import REDACTED
from .transport import BoundedDecoder, WallClockTransport, outside_base

__all__ = ["Exchange", "RateLimits", "Target", "TargetError", "retry_after"]

RETRY_STATUSES = (429, 503)  # S5: answered with Retry-After, the request is sent again after the wait
MAX_RETRIES = 3  # per request
DEFAULT_RETRY_BUDGET = 60.0  # seconds of waiting per run
_EVIDENCE_BODY_LIMIT = 4096
_SENSITIVE_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}


class TargetError(Exception):
    """The target could not be asked or did not answer usably (timeout, reset, oversize, foreign host)."""


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait for a ``Retry-After`` header (delta-seconds or an HTTP-date), or None if unusable."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None or moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


@dataclass
class RateLimits:
    """How often the platform asked the suite to wait (429/503 with Retry-After), for the report."""

    budget: float = DEFAULT_RETRY_BUDGET
    waits: int = 0
    waited_seconds: float = 0.0
    gave_up: int = 0  # requests past the budget (their requirements are inconclusive)

    def to_json(self) -> dict[str, Any]:
        return {"waits": self.waits, "waited_seconds": round(self.waited_seconds, 2), "gave_up": self.gave_up,
                "budget_seconds": self.budget}


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
    # Places in the run's one sequence of events: when the request was sent and when its answer was complete.
    # Under --concurrency exchanges overlap: a write with ``done`` before a read's ``begun`` happened before it.
    begun: int = 0
    done: int = 0
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
            try:
                self._json = json.loads(self.body.decode("utf-8"))
            except RecursionError:
                raise ValueError("the JSON is nested too deeply to parse") from None
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
        verify: bool | str = True,
        deadline: float | None = None,
        secrets: list[str] | None = None,
        retry_budget: float = DEFAULT_RETRY_BUDGET,
        sleep: Callable[[float], None] = time.sleep,
        connections: int = 8,
    ) -> None:
        """``timeout`` bounds each request's whole wall clock; ``deadline`` (monotonic) bounds the run;
        ``retry_budget`` bounds the seconds spent waiting on ``Retry-After`` over the whole run.

        ``verify`` is True (system CAs), a CA bundle path, or False (insecure: recorded by the caller).
        """
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base URL must be http(s)://host[:port][/path], got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.token = token
        self.timeout = timeout
        self.max_body_bytes = max_body_bytes
        self.run_id = run_id
        self.deadline = deadline
        self.verify = verify
        self.secrets: list[str] = [s for s in [token, *(secrets or [])] if s]
        self.rate_limits = RateLimits(budget=retry_budget)
        self._sleep = sleep
        # Called with every exchange as it completes (after any Retry-After waits): the run's oracles.
        self.observers: list[Callable[[Exchange], None]] = []
        # One sequence of send and completion events for the run (itertools.count is atomic under the GIL),
        # and one pause for every thread: a 429/503 with Retry-After holds back the whole run, not one request.
        self._events = itertools.count(1)
        self._pause = threading.Condition()
        self._paused_until = 0.0
        self._pause_owner: int | None = None
        self.requests = 0
        self.in_flight: dict[int, tuple[str, str]] = {}  # begun → (method, URL) of every request under way
        self.stopping = False  # set when the run is interrupted: no further request is sent
        redaction.register_secrets(self.secrets)
        # At most ``connections`` requests are under way at once (the run's --concurrency), and the pool holds as
        # many connections: no request ever queues for a connection inside httpcore, whose pool can close one it has
        # just handed to a queued request (encode/httpcore#1110: a read that hangs to its timeout, or EBADF).
        self._slots = threading.BoundedSemaphore(connections)
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self._clamp = WallClockTransport(verify=verify, limits=limits) if transport is None else None
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            limits=limits,
            headers={
                "User-Agent": f"sc-conformance/{__version__}",
                "Accept": "application/json, application/problem+json",
                "Accept-Encoding": "identity",
                "X-Conformance-Run": run_id,
            },
            transport=transport or self._clamp,
            trust_env=False,
        )

    def add_secrets(self, values: list[str]) -> None:
        """Register more credentials to redact from everything recorded."""
        self.secrets.extend(v for v in values if v and v not in self.secrets)
        redaction.register_secrets(values)

    def _wall_clock(self, method: str, path: str) -> float:
        """The instant this request must be done by: its own timeout, or the run's deadline if sooner."""
        limit = time.monotonic() + self.timeout
        if self.deadline is not None:
            if time.monotonic() >= self.deadline:
                raise TargetError(f"{method} {path}: not sent, the run's deadline has passed")
            limit = min(limit, self.deadline)
        return limit

    def close(self) -> None:
        self._client.close()

    def redact(self, text: str) -> str:
        return redaction.redact(text)  # every encoded form and 12-character fragment of every credential

    def url(self, path: str) -> str:
        """A suite path (``/communities``: relative to the base URL, S4) or an absolute URL on the same origin."""
        if "://" in path:
            url = path
        else:
            url = self.base_url + (path if path.startswith("/") else "/" + path)
        return self._under_base(self._same_origin(urljoin(self.base_url + "/", url)), path)

    def resolve(self, reference: str, against: str) -> str:
        """A URI reference the platform gave (a discovery href, a Location) resolved against the URL of
        the document or request it came with (RFC 3986 section 5)."""
        return self._under_base(self._same_origin(urljoin(against, reference)), reference)

    def _under_base(self, url: str, given: str) -> str:
        """``url``, unless its path leaves the base URL's (a platform's id or Location climbing out with ``..``)."""
        if outside_base(url, self.base_url):
            raise TargetError(f"refusing to send a request to {given!r}: it leaves the base URL's path "
                              f"{urlsplit(self.base_url).path or '/'} (only the platform under test is probed)")
        return url

    def _same_origin(self, url: str) -> str:
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            raise TargetError(f"refusing to send a request to {parts.scheme}://{parts.netloc}: "
                              f"only the target's origin {self.origin} is probed")
        return url

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
        """Send one request. ``token=True`` uses the run's token, ``False``/``None`` sends none.

        A 429 or 503 with ``Retry-After`` is waited out and sent again (S5), at most :data:`MAX_RETRIES`
        times and within the run's retry budget; past either it is a :class:`TargetError` (inconclusive).
        """
        for attempt in range(MAX_RETRIES + 1):
            exchange = self._request_once(method, path, json_body=json_body, content=content, headers=headers,
                                          params=params, token=token)
            wait = retry_after(exchange.headers.get("retry-after")) if exchange.status in RETRY_STATUSES else None
            try:
                if wait is None:
                    exchange.done = next(self._events)
                    for observe in self.observers:
                        observe(exchange)
                    return exchange
            finally:
                self.in_flight.pop(exchange.begun, None)
            self._wait(exchange, wait, attempt)
        raise AssertionError("unreachable: the last attempt either returns or raises")

    def _wait(self, exchange: Exchange, seconds: float, attempt: int) -> None:
        """Wait as the platform asked, or give up when a bound would be crossed."""
        limits = self.rate_limits
        where = f"{exchange.method} {self.redact(urlsplit(exchange.url).path)}"
        reason = None
        if attempt >= MAX_RETRIES:
            reason = f"still {exchange.status} after {MAX_RETRIES} waits"
        elif limits.waited_seconds + seconds > limits.budget:
            reason = (f"waiting {seconds:g} s more would pass the run's retry budget of {limits.budget:g} s "
                      "(--retry-budget)")
        elif self.deadline is not None and time.monotonic() + seconds >= self.deadline:
            reason = "waiting would pass the run's deadline"
        with self._pause:
            if reason:
                limits.gave_up += 1
                raise TargetError(f"{where}: the platform answered {exchange.status} with Retry-After; {reason}")
            # Another thread may already hold the run back past this wait: the run waits once, not once per thread.
            extra = max(0.0, time.monotonic() + seconds - max(self._paused_until, time.monotonic()))
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)
            self._pause_owner = threading.get_ident()
            limits.waits += 1
            limits.waited_seconds += extra
        self._sleep(seconds)

    def _hold(self) -> None:
        """Wait while the platform asked the whole run to (Retry-After seen by any thread)."""
        with self._pause:
            if self._pause_owner == threading.get_ident():  # this thread asked, and has waited already
                return
            remaining = self._paused_until - time.monotonic()
        if remaining > 0:
            self._sleep(remaining)

    def _request_once(
        self,
        method: str,
        path: str,
        *,
        json_body: Any,
        content: bytes | None,
        headers: Mapping[str, str] | None,
        params: Mapping[str, Any] | None,
        token: str | None | bool,
    ) -> Exchange:
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
                self.add_secrets([bearer])
        request = self._client.build_request(method, url, headers=send_headers, content=body, params=params)
        path = self.redact(request.url.path)
        if self.stopping:
            raise TargetError(f"{method} {path}: not sent, the run was interrupted")
        self._hold()
        with self._slots:  # sent once a slot is free: ``begun`` is when it really left
            begun = next(self._events)
            self.requests += 1
            started = time.monotonic()
            limit = self._wall_clock(method, path)
            if self._clamp is not None:
                self._clamp.limit(limit)
            # under way until the oracles have seen its answer (Target.request): a read judged meanwhile must not
            # take the model's older state for settled
            self.in_flight[begun] = (method, str(request.url))
            try:
                data, response, truncated = self._send(request, method, path, limit)
            except BaseException:
                self.in_flight.pop(begun, None)
                raise
            finally:
                if self._clamp is not None:
                    self._clamp.limit(None)
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
            begun=begun,
        )

    def _send(self, request: httpx.Request, method: str, path: str, limit: float
              ) -> tuple[bytes, httpx.Response, bool]:
        """Send, then read the raw body under the size cap and the wall clock, inflating it boundedly."""
        seconds = f"{round(min(self.timeout, max(limit - time.monotonic(), 0)), 2):g}"
        # which bound cut the request: its own --timeout, or the run's --deadline coming sooner
        bound = ("the run's deadline (--deadline) came first" if self.deadline is not None and limit >= self.deadline
                 else "each request may take at most --timeout seconds in all")
        try:
            response = self._client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise TargetError(f"{method} {path}: no answer within {seconds} s ({type(exc).__name__}); "
                              f"{bound}") from None
        except httpx.HTTPError as exc:
            raise TargetError(f"{method} {path}: {type(exc).__name__}: {self.redact(str(exc))[:300]}") from None
        try:
            decoder = BoundedDecoder(response.headers.get("content-encoding", ""), self.max_body_bytes)
            chunks: list[bytes] = []
            for raw in response.iter_raw(64 * 1024):
                chunks.append(decoder.feed(raw))
                if decoder.exceeded:
                    break
                if time.monotonic() > limit:
                    raise TargetError(f"{method} {path}: body still arriving after {seconds} s; {bound}")
        except httpx.TimeoutException:
            raise TargetError(f"{method} {path}: body still arriving after {seconds} s; {bound}") from None
        except httpx.HTTPError as exc:
            raise TargetError(f"{method} {path}: reading the body failed: {type(exc).__name__}") from None
        except (ValueError, zlib.error) as exc:
            raise TargetError(f"{method} {path}: the body cannot be decoded: {exc}") from None
        finally:
            response.close()
        return self._scrub(b"".join(chunks)[: self.max_body_bytes]), response, decoder.exceeded

    def _scrub(self, body: bytes) -> bytes:
        """A target that echoes a credential, in any encoding, must not get it into any check, message or report."""
        return redaction.redact_bytes(body)
