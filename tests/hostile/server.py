"""A hostile HTTP server for the suite's own tests: each behaviour is something a real target might do.

Raw asyncio on 127.0.0.1, one behaviour per server, run in a thread; ``requests`` records what arrived
(method, path, headers) so a test can tell, for instance, whether a token followed a redirect.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import threading
import zlib
from collections.abc import Awaitable, Callable
from functools import cache

Writer = asyncio.StreamWriter
Handler = Callable[["HostileServer", Writer, str], Awaitable[None]]
BEHAVIOURS: dict[str, Handler] = {}
DISCOVERY = "/.well-known/smart-community"


def behaviour(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        BEHAVIOURS[name] = handler
        return handler
    return register


def head(status: str, headers: dict[str, str] | None = None, length: int | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status}"] + [f"{k}: {v}" for k, v in (headers or {}).items()]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def answer(writer: Writer, status: str, body: bytes, content_type: str = "application/json",
                 **extra: str) -> None:
    writer.write(head(status, {"Content-Type": content_type, **extra}, len(body)) + body)
    await writer.drain()


@cache
def gzip_bomb() -> bytes:
    """256 MiB of zeros gzipped to about 1.2 MB (level 1: built in under a second)."""
    block, compressor = bytes(1 << 20), zlib.compressobj(1, zlib.DEFLATED, 31)
    return b"".join(compressor.compress(block) for _ in range(256)) + compressor.flush()


@behaviour("silent")
async def _silent(server: HostileServer, writer: Writer, path: str) -> None:
    await asyncio.sleep(3600)


@behaviour("trickle-headers")
async def _trickle(server: HostileServer, writer: Writer, path: str) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 3600:
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(1)


@behaviour("slow-body")
async def _slow_body(server: HostileServer, writer: Writer, path: str) -> None:
    writer.write(head("200 OK", {"Content-Type": "application/json"}, 3600))
    for _ in range(3600):
        writer.write(b" ")
        await writer.drain()
        await asyncio.sleep(1)


@behaviour("endless-chunked")
async def _endless(server: HostileServer, writer: Writer, path: str) -> None:
    writer.write(head("200 OK", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}))
    chunk = b"[" + b"0," * 8000
    while True:
        writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        await writer.drain()


@behaviour("huge-body")
async def _huge(server: HostileServer, writer: Writer, path: str) -> None:
    size, block = 100 * 1024 * 1024, b"[" + b"1," * (1 << 19)
    writer.write(head("200 OK", {"Content-Type": "application/json"}, size))
    sent = 0
    while sent < size:
        piece = block[: size - sent]
        writer.write(piece)
        await writer.drain()
        sent += len(piece)


@behaviour("gzip-bomb")
async def _bomb(server: HostileServer, writer: Writer, path: str) -> None:
    await answer(writer, "200 OK", gzip_bomb(), **{"Content-Encoding": "gzip"})


@behaviour("invalid-json")
async def _invalid_json(server: HostileServer, writer: Writer, path: str) -> None:
    await answer(writer, "200 OK", b'{"items": [1, 2,, "next_cursor": nul')


@behaviour("wrong-content-type")
async def _wrong_type(server: HostileServer, writer: Writer, path: str) -> None:
    await answer(writer, "200 OK", json.dumps({"items": [], "next_cursor": None}).encode(), "text/html")


@behaviour("html-login")
async def _login(server: HostileServer, writer: Writer, path: str) -> None:
    page = b"<!doctype html><html><body><form action=/login><input name=password type=password></form></body></html>"
    await answer(writer, "200 OK", page, "text/html; charset=utf-8")


@behaviour("redirect-loop")
async def _loop(server: HostileServer, writer: Writer, path: str) -> None:
    await answer(writer, "302 Found", b"", Location=path)


@behaviour("redirect-other-host")
async def _elsewhere(server: HostileServer, writer: Writer, path: str) -> None:
    await answer(writer, "307 Temporary Redirect", b"", Location=f"{server.other_origin}{path}")


@behaviour("reset")
async def _reset(server: HostileServer, writer: Writer, path: str) -> None:
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@behaviour("short-body")
async def _short(server: HostileServer, writer: Writer, path: str) -> None:
    writer.write(head("200 OK", {"Content-Type": "application/json"}, 1000) + b'{"items": [')
    await writer.drain()
    writer.close()


@behaviour("server-error")
async def _error(server: HostileServer, writer: Writer, path: str) -> None:
    await answer(writer, "500 Internal Server Error", b'{"error": "NullPointerException"}')


@behaviour("huge-headers")
async def _huge_headers(server: HostileServer, writer: Writer, path: str) -> None:
    headers = {f"X-Padding-{i}": "p" * 1000 for i in range(1024)}
    await answer(writer, "200 OK", b"{}", **headers)


@behaviour("nul-body")
async def _nul(server: HostileServer, writer: Writer, path: str) -> None:
    await answer(writer, "200 OK", bytes(1 << 20))


@behaviour("discovery-elsewhere")
async def _foreign_discovery(server: HostileServer, writer: Writer, path: str) -> None:
    if path.startswith(DISCOVERY):
        names = ("communities", "grids", "buildings", "residents", "organisations")
        document = {"platform": {"name": "x", "vendor": "x", "version": "1.0.0"}, "standard_version": "1.0",
                    "conformance": f"{server.other_origin}/conformance", "max_page_size": 100,
                    "collections": [{"name": n, "href": f"{server.other_origin}/{n}", "entity": n[:-1]} for n in names]}
        await answer(writer, "200 OK", json.dumps(document).encode())
    else:
        await answer(writer, "404 Not Found", b'{"code": "not-found"}', "application/problem+json")


@behaviour("not-http")
async def _not_http(server: HostileServer, writer: Writer, path: str) -> None:
    writer.write(b"SSH-2.0-OpenSSH_9.6\r\n" + bytes(range(256)))
    await writer.drain()
    writer.close()


@behaviour("unauthorised-everything")
async def _unauthorised(server: HostileServer, writer: Writer, path: str) -> None:
    await answer(writer, "401 Unauthorized", b'{"msg": "login required"}')


@behaviour("deep-json")
async def _deep(server: HostileServer, writer: Writer, path: str) -> None:
    await answer(writer, "200 OK", b"[" * 200_000 + b"]" * 200_000)


@behaviour("echo-credentials")
async def _echo(server: HostileServer, writer: Writer, path: str) -> None:
    seen = server.requests[-1][2] if server.requests else {}
    token = seen.get("authorization", "")
    body = json.dumps({"you_sent": token, "items": [{"id": token}], "next_cursor": token}).encode()
    await answer(writer, "400 Bad Request", body, "application/problem+json", **{"X-Echo": token, "Set-Cookie": token})


@behaviour("retry-after-hour")
async def _busy(server: HostileServer, writer: Writer, path: str) -> None:
    await answer(writer, "429 Too Many Requests", b"{}", "application/problem+json", **{"Retry-After": "3600"})


@behaviour("accepts-everything")
async def _yes(server: HostileServer, writer: Writer, path: str) -> None:
    await answer(writer, "200 OK", b"{}")


class HostileServer:
    """``with HostileServer("silent") as base_url:`` serves one behaviour on a free loopback port."""

    def __init__(self, behaviour: str, *, other_origin: str = "http://localhost:9") -> None:
        self.handler = BEHAVIOURS[behaviour]
        self.other_origin = other_origin
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> str:
        self._thread.start()
        self._ready.wait(10)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _shutdown(self) -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0, limit=1 << 20))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                method, path, headers = _parse(request)
                self.requests.append((method, path, headers))
                if int(headers.get("content-length", "0") or 0):
                    await reader.readexactly(int(headers["content-length"]))
                await self.handler(self, writer, path)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, OSError,
                asyncio.CancelledError):
            pass  # the client gave up, or the server is shutting down
        finally:
            writer.close()


def _parse(request: bytes) -> tuple[str, str, dict[str, str]]:
    lines = request.decode("latin-1").split("\r\n")
    method, path, _ = (lines[0].split(" ") + ["", ""])[:3]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    return method, path, headers


# ---------------------------------------------------------------------------- attacks on the suite's outputs

def encodings(token: str) -> dict[str, str]:
    """The forms a platform may echo a credential in, each of which must stay out of every output."""
    import base64
    from urllib.parse import quote

    raw = token.encode()
    return {
        "json-escaped": "".join(f"\\u{ord(c):04x}" for c in token),
        "percent": quote(token, safe=""),
        "percent-every-byte": "".join(f"%{b:02X}" for b in raw),
        "base64": base64.b64encode(raw).decode(),
        "base64url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "base64-shifted": base64.b64encode(b"Bearer " + raw).decode(),
        "hex": raw.hex(),
        "upper": token.upper(),
        "lower": token.lower(),
        "reversed": token[::-1],
        "fragment-16": token[3:19],
        "html-entities": "".join(f"&#{ord(c)};" for c in token),
    }


def _bearer(server: HostileServer) -> str:
    seen = server.requests[-1][2] if server.requests else {}
    return seen.get("authorization", "").removeprefix("Bearer ")


@behaviour("echo-encoded")
async def _echo_encoded(server: HostileServer, writer: Writer, path: str) -> None:
    """Every request gets back its token in every encoding: in a list, as an id, in /conformance, in headers."""
    forms = encodings(_bearer(server)) if _bearer(server) else {}
    # JSON-escaped forms are written raw so the body carries `\u0073…`, which json.loads turns back into the token
    items = ", ".join(f'{{"id": "{value}", "name": "{name}"}}' for name, value in forms.items())
    declared = ", ".join(f'{{"id": "{value}", "version": "{value}"}}' for value in forms.values())
    body = (f'{{"items": [{items}], "next_cursor": "{forms.get("json-escaped", "")}", '
            f'"profiles": [{declared}], "detail": "{forms.get("json-escaped", "")}"}}').encode()
    await answer(writer, "200 OK" if path.startswith(("/conformance", DISCOVERY)) else "400 Bad Request", body,
                 "application/json", **{f"X-Echo-{name}": value for name, value in forms.items()
                                        if name not in ("html-entities",)})


# What a platform would send to take over the operator's terminal or a CI page.
TERMINAL_ATTACK = ("\x1b[2J\x1b[H\x1b[1A\x1b[32mCONFORMANT\x1b[0m \x1b]0;owned title\x07 "
                   "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\ \x1b]52;c;ZWNobyBwd25lZA==\x07 "
                   "\x9b31m C1 \u202e.exe\u202c \x08\x08")
MARKDOWN_ATTACK = ("![tracker](https://evil.example/pixel.png) [click me](https://evil.example/login) "
                   "<img src=https://evil.example/x.png> <a href='https://evil.example'>a</a> <script>x()</script> "
                   "| broken | table |")


@behaviour("terminal-escapes")
async def _terminal_escapes(server: HostileServer, writer: Writer, path: str) -> None:
    """Raw control bytes in the body (JSON would escape them), Markdown and HTML in a header the checks quote."""
    body = ('{"code": "' + TERMINAL_ATTACK + '", "detail": "' + MARKDOWN_ATTACK + '"}').encode()
    status = "200 OK" if server.requests and server.requests[-1][0] == "GET" else "400 Bad Request"
    await answer(writer, status, body, "text/x-" + MARKDOWN_ATTACK.replace(" ", "-")[:180])


def split_encodings(token: str) -> dict[str, str]:
    """Issue 18: the forms that cut, interleave or re-encode a credential (JSON-escaped as a body writes them)."""
    import base64
    from urllib.parse import quote

    raw, utf16 = token.encode(), token.encode("utf-16-le")
    return {
        "chunks-11": " ".join(token[i:i + 11] for i in range(0, len(token), 11)),
        "zero-width": "\\u200b".join(token),
        "word-joiner": "\\u2060\\u00ad".join(token),
        "double-percent": quote(quote(token, safe=""), safe=""),
        "double-percent-every-byte": "".join(f"%25{b:02X}" for b in raw),
        "utf-16le-escaped": "".join(f"\\u{b:04x}" for b in utf16),
        "utf-16le-base64": base64.b64encode(utf16).decode(),
        "utf-16le-hex": utf16.hex(),
        "base32": base64.b32encode(raw).decode(),
        "base32-shifted": base64.b32encode(b"Bearer " + raw).decode(),
    }


@behaviour("echo-split")
async def _echo_split(server: HostileServer, writer: Writer, path: str) -> None:
    """Every request gets back its token cut into 11-character pieces (a list), interleaved with zero-width
    characters, double percent-encoded, as UTF-16LE and as base32: in a list, as ids, as the declared profiles."""
    token = _bearer(server)
    forms = split_encodings(token) if token else {}
    pieces = json.dumps([token[i:i + 11] for i in range(0, len(token), 11)])
    items = ", ".join(f'{{"id": "{value}", "name": "{name}"}}' for name, value in forms.items())
    declared = ", ".join([f'{{"id": "{value}", "version": "{value}"}}' for value in forms.values()]
                         + [f'{{"id": {json.dumps(piece)}, "version": "1.0.0"}}' for piece in json.loads(pieces)])
    body = (f'{{"items": [{items}], "next_cursor": "{forms.get("zero-width", "")}", '
            f'"profiles": [{declared}], "detail": "{forms.get("chunks-11", "")}", "pieces": {pieces}}}').encode()
    headers = {f"X-Echo-{name}": value for name, value in forms.items() if "\\" not in value}
    await answer(writer, "200 OK" if path.startswith(("/conformance", DISCOVERY)) else "400 Bad Request", body,
                 "application/json", **headers)


@behaviour("refuses-with-escapes")
async def _refuses_with_escapes(server: HostileServer, writer: Writer, path: str) -> None:
    """A discovery document, then 401 to every token, the problem's code and detail full of terminal controls."""
    if path.startswith(DISCOVERY):
        await answer(writer, "200 OK", b"{}")
        return
    body = json.dumps({"code": TERMINAL_ATTACK, "detail": TERMINAL_ATTACK}, ensure_ascii=False).encode()
    await answer(writer, "401 Unauthorized", body, "application/problem+json")


ESCAPING_ID = "../../../outside/evil-id"


@behaviour("escaping-ids")
async def _escaping_ids(server: HostileServer, writer: Writer, path: str) -> None:
    """Ids that climb out of the base URL's path: in the Location of every create, as every record's id, in a list."""
    method = server.requests[-1][0] if server.requests else "GET"
    record = {"id": ESCAPING_ID, "name": "x", "status": "active", "created_at": "2026-01-01T00:00:00Z",
              "updated_at": "2026-01-01T00:00:00Z"}
    if DISCOVERY in path:
        await answer(writer, "200 OK", json.dumps({"capabilities": ["delete"]}).encode())
    elif method == "POST":
        await answer(writer, "201 Created", json.dumps(record).encode(), Location=ESCAPING_ID)
    elif method == "GET" and path.rstrip("/").split("?")[0].count("/") <= 3:
        await answer(writer, "200 OK", json.dumps({"items": [record], "next_cursor": None}).encode())
    elif method == "DELETE":
        await answer(writer, "204 No Content", b"")
    else:
        await answer(writer, "200 OK", json.dumps(record).encode())


# Numbers and strings JSON allows to be written but Python and RFC 8785 cannot all take back.
DEEP = "[" * 100 + "1" + "]" * 100
BIG = "9" * 400
AWKWARD = (f'{{"id": "x\\ud800y", "code": "bad-\\udfff", "huge": 1e999999, "tiny": -1e999999, "nan": NaN, '
           f'"inf": Infinity, "deep": {DEEP}, "big": {BIG}, "negative": -{BIG}}}')


@behaviour("awkward-numbers")
async def _awkward(server: HostileServer, writer: Writer, path: str) -> None:
    """Lone surrogates, 1e999999, NaN, 100-deep arrays and 400-digit integers in every answer."""
    method = server.requests[-1][0] if server.requests else "GET"
    if DISCOVERY in path:
        body = f'{{"max_page_size": 1e999999, "capabilities": ["delete"], "extra": {AWKWARD}}}'
        await answer(writer, "200 OK", body.encode())
    elif method == "GET":
        body = f'{{"items": [{AWKWARD}, {AWKWARD}], "next_cursor": null, "limit": {BIG}}}'
        await answer(writer, "200 OK", body.encode())
    else:
        body = (f'{{"type": "about:blank", "code": "bad-\\ud800", "status": 1e999999, "detail": NaN, '
                f'"title": {DEEP}, "record": {AWKWARD}}}')
        await answer(writer, "400 Bad Request", body.encode(), "application/problem+json")
