"""Limits a hostile target cannot talk its way around: a wall clock per request, bounded decompression.

httpx's timeouts are per socket operation, so headers trickled one byte a second never time out;
:class:`WallClockTransport` clamps every connect, read and write to the request's own deadline.
Bodies are read raw and inflated here with a cap on the inflated size, so a gzip bomb stops at the cap.
"""

from __future__ import annotations

import functools
import posixpath
import ssl
import threading
import time
import zlib
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

import httpcore
import httpx

__all__ = ["BoundedDecoder", "WallClockTransport", "outside_base"]


def outside_base(url: str, base_url: str) -> bool:
    """Whether ``url``'s path leaves ``base_url``'s path, as the URL is written or as a server may read it
    (percent-decoded, backslashes taken for slashes, dot segments removed): a platform-supplied record id
    such as ``../../../outside/x`` in a Location or a body must not take the suite's token elsewhere."""
    base = urlsplit(base_url).path.rstrip("/")
    path = urlsplit(url).path
    for seen in (path, unquote(unquote(path)).replace("\\", "/")):
        normal = posixpath.normpath("/" + seen.lstrip("/"))  # normpath keeps a leading "//"
        if base and normal != base and not normal.startswith(base + "/"):
            return True
    return False


class _Clock(threading.local):
    deadline: float | None = None


class _ClampedStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, clock: _Clock) -> None:
        self._stream, self._clock = stream, clock

    def _timeout(self, timeout: float | None, error: type[Exception]) -> float | None:
        if self._clock.deadline is None:
            return timeout
        remaining = self._clock.deadline - time.monotonic()
        if remaining <= 0:
            raise error("the request's wall-clock limit passed")
        return remaining if timeout is None else min(timeout, remaining)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._timeout(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._timeout(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        inner = self._stream.start_tls(ssl_context, server_hostname, self._timeout(timeout, httpcore.ConnectTimeout))
        return _ClampedStream(inner, self._clock)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _ClampedBackend(httpcore.SyncBackend):
    def __init__(self, clock: _Clock) -> None:
        self._clock = clock

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        if self._clock.deadline is not None:
            remaining = self._clock.deadline - time.monotonic()
            if remaining <= 0:
                raise httpcore.ConnectTimeout("the request's wall-clock limit passed")
            timeout = remaining if timeout is None else min(timeout, remaining)
        stream = super().connect_tcp(host, port, timeout, local_address, socket_options)
        return _ClampedStream(stream, self._clock)


@functools.lru_cache(maxsize=8)
def _ssl_context(verify: str | bool) -> ssl.SSLContext:
    """One context per verify setting for the process: loading the CA bundle was a tenth of a second per target."""
    return httpx.create_ssl_context(verify=verify, trust_env=False)


class WallClockTransport(httpx.HTTPTransport):
    """An httpx transport whose every socket operation respects :meth:`limit`'s deadline."""

    def __init__(self, *, verify: ssl.SSLContext | str | bool = True, limits: httpx.Limits) -> None:
        context = verify if isinstance(verify, ssl.SSLContext) else _ssl_context(verify)
        super().__init__(verify=context, limits=limits, trust_env=False)
        self.clock = _Clock()
        # Rebuilt with our network backend; httpx has no parameter for it (checked by tests/test_target.py).
        self._pool = httpcore.ConnectionPool(
            ssl_context=context, max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            network_backend=_ClampedBackend(self.clock),
        )

    def limit(self, deadline: float | None) -> None:
        """Set the monotonic instant after which this thread's socket operations time out."""
        self.clock.deadline = deadline


class BoundedDecoder:
    """Inflates gzip/deflate bodies without ever producing more than ``cap`` bytes."""

    SUPPORTED = ("", "identity", "gzip", "x-gzip", "deflate")

    def __init__(self, encoding: str, cap: int) -> None:
        encoding = encoding.strip().lower()
        if encoding not in self.SUPPORTED:
            raise ValueError(f"unsupported Content-Encoding {encoding!r} (the suite asked for identity)")
        wbits = {"gzip": 31, "x-gzip": 31, "deflate": 47}.get(encoding)
        self._inflater = zlib.decompressobj(wbits) if wbits else None
        self._cap = cap
        self.size = 0
        self.exceeded = False

    def feed(self, data: bytes) -> bytes:
        """Inflate one raw chunk; sets ``exceeded`` past the cap; raises ``zlib.error`` on bad data."""
        if self._inflater is None:
            out = data
        else:
            out = self._inflater.decompress(data, self._cap - self.size + 1)
            if self._inflater.unconsumed_tail:
                self.exceeded = True
        self.size += len(out)
        if self.size > self._cap:
            self.exceeded = True
        return out
