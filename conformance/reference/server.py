"""Serving the reference platform: on loopback in a thread for tests, or blocking for the CLI."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI

from ..errors import UsageError
from .app import create_app
from .tokens import InvalidToken, verify_token

__all__ = ["running", "running_apart", "serve"]

START_TIMEOUT = 10.0


def _config(app: FastAPI) -> uvicorn.Config:
    return uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and without
    # it every keep-alive response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def _base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@contextlib.contextmanager
def running(app: FastAPI, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` on a free port of ``host`` in a daemon thread; yield its base URL."""
    sock = _bind(host, 0)
    server = uvicorn.Server(_config(app))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name="reference-platform")
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the reference platform did not start within {START_TIMEOUT:.0f} s")
            time.sleep(0.01)
        yield _base_url(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT)
        sock.close()


class _ChildServer(uvicorn.Server):
    """uvicorn in a process of its own that its parent stops: Ctrl-C at the terminal is the parent's to handle
    (it may still write reports and clean up through this server), SIGTERM ends it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _serve_child(app: FastAPI, sock: socket.socket) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _ChildServer(_config(app)).run(sockets=[sock])
    finally:
        os._exit(0)  # never the parent's atexit handlers or its buffered output, copied by the fork


@contextlib.contextmanager
def running_apart(app: FastAPI, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` from a forked child process on a free port of ``host``; yield its base URL.

    The suite and the platform then run on two cores instead of taking turns for one interpreter, and the
    suite's threads (--concurrency) never share a process with the platform's sockets. The socket listens before
    the fork, so connections wait in the kernel's queue until the child serves them. Where fork is not
    available, the platform is served from a thread (:func:`running`)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        with running(app, host) as url:
            yield url
        return
    sock = _bind(host, 0)
    sock.listen(128)
    url = _base_url(sock)
    child = multiprocessing.get_context("fork").Process(target=_serve_child, args=(app, sock), daemon=True,
                                                         name="reference-platform")
    child.start()
    sock.close()  # the child's copy listens
    try:
        yield url
    finally:
        child.terminate()
        child.join(START_TIMEOUT)
        if child.is_alive():
            child.kill()
            child.join(START_TIMEOUT)


def serve(
    host: str,
    port: int,
    faults: Iterable[str],
    secret: str,
    token: str | None = None,
    *,
    db_path: str = ":memory:",
    variants: Iterable[str] = (),
    on_ready: Callable[[str], None] | None = None,
    prepare: Callable[[Any], None] | None = None,
) -> None:
    """Serve until interrupted (Ctrl-C returns normally). ``token``, when given, must verify with
    ``secret`` (checked before listening, so a mismatched pair fails at start); ``prepare`` receives
    the platform before it listens (to provision tenants and issue tokens); ``on_ready`` receives the
    base URL (with the path-prefix variant's prefix) once the server accepts connections."""
    if not secret:
        raise UsageError("the reference platform needs a secret to verify bearer tokens")
    if token is not None:
        try:
            verify_token(secret, token)
        except InvalidToken as exc:
            raise UsageError(f"the token does not verify with the given secret: {exc}") from None
    app = create_app(faults=faults, variants=variants, secret=secret, db_path=db_path)
    if prepare is not None:
        prepare(app.state.platform)
    sock = _bind(host, port)
    server = uvicorn.Server(_config(app))
    if on_ready is not None:
        # uvicorn has no start hook; a thread watching ``started`` is the smallest dependable one.
        threading.Thread(target=_announce, args=(server, on_ready, _base_url(sock) + app.state.platform.prefix),
                         daemon=True).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn has already shut down gracefully and re-raises Ctrl-C; that is a normal end here
    finally:
        sock.close()


def _announce(server: uvicorn.Server, on_ready: Callable[[str], None], base_url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    if server.started:
        on_ready(base_url)
