"""Credentials never leave the process: one redactor for every text and structured value the suite emits.

A platform that wants a token back will echo it encoded, so each credential is searched for in the
forms it can take (as sent, upper/lower case, reversed, percent and JSON ``\\u`` escapes, HTML
character references, base64 and base64url at any byte alignment, hex, Python ``repr`` escapes)
and any fragment of 12 or more characters of any of those forms is replaced. Secrets are
registered once per process (by the target, the credentials loader and the doors); every writer
calls :func:`redact_value` or :func:`redact` on what it is about to emit.
"""

from __future__ import annotations

import base64
import bisect
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = ["FRAGMENT", "REDACTED", "Redactor", "redact", "redact_bytes", "redact_value", "register_secrets", "registered"]

REDACTED = "***REDACTED***"
FRAGMENT = 12  # the shortest piece of a secret that is redacted on its own
_ANCHOR = FRAGMENT // 2  # any 12-character window contains an aligned 6-character block of the form
_LOWER = {c: c + 32 for c in range(65, 91)}  # ASCII-only case folding keeps every index in place
# Escapes a platform may wrap a secret in; each is decoded in a view that maps back to the original text.
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})|%([0-9a-fA-F]{2})|&#[xX]([0-9a-fA-F]{1,6});"
                     r"|&#([0-9]{1,7});|\\([\\/\"'rnt])")
_SIMPLE_ESCAPES = {"r": "\r", "n": "\n", "t": "\t"}
# Texts already redacted are remembered, this many and this many characters at most (a clean text maps to
# itself, so the memo mostly holds references to strings the run holds anyway).
_MEMO_SIZE, _MEMO_CHARS = 65_536, 64 * 1024 * 1024


def _fold(text: str) -> str:
    return text.translate(_LOWER)


def _base64_forms(raw: bytes) -> list[str]:
    """The secret base64-encoded at each of the three byte alignments, without the edges a neighbour changes."""
    forms = []
    for shift in range(3):
        encoded = base64.b64encode(bytes(shift) + raw).decode("ascii").rstrip("=")
        core = encoded[4 if shift else 0: len(encoded) - (0 if shift == 0 else 3)]
        forms += [core, core.replace("+", "-").replace("/", "_")]
    return forms


def forms_of(secret: str) -> list[str]:
    """Every spelling of ``secret`` searched for (before case folding)."""
    raw = secret.encode("utf-8")
    forms = [secret, secret[::-1], quote(secret, safe=""), quote_plus(secret), raw.hex(),
             repr(secret)[1:-1], repr(raw)[2:-1], *_base64_forms(raw)]
    forms += [part for part in re.split(r"[\x00-\x1f\x7f]+", secret) if part != secret and len(part) >= 4]
    return list(dict.fromkeys(f for f in forms if f))


class Redactor:
    """Replaces every registered secret, in any of its forms, by ``***REDACTED***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self.secrets: list[str] = []
        self._known: set[str] = set()
        self._forms: dict[str, None] = {}  # case-folded, in registration order
        self._short: re.Pattern[str] | None = None  # the forms shorter than FRAGMENT, redacted whole
        self._anchors: dict[str, list[tuple[str, int]]] = {}
        self._memo: dict[str, str] = {}  # texts already redacted, forgotten whenever a secret is added
        self._memo_chars = 0
        self.add(secrets)

    def add(self, secrets: Iterable[str | None]) -> None:
        with self._lock:
            short = False
            for secret in secrets:
                if not secret or secret in self._known or len(secret) < 4:
                    continue
                self.secrets.append(secret)
                self._known.add(secret)
                for form in forms_of(secret):
                    folded = _fold(form)
                    if folded in self._forms:
                        continue
                    self._forms[folded] = None
                    short = short or len(folded) < FRAGMENT
                    for start in range(len(folded) - _ANCHOR + 1):
                        self._anchors.setdefault(folded[start:start + _ANCHOR], []).append((folded, start))
            if short:  # one alternation, longest first, instead of a search per short form per text
                forms = sorted((f for f in self._forms if len(f) < FRAGMENT), key=len, reverse=True)
                self._short = re.compile("(?=(" + "|".join(map(re.escape, forms)) + "))")
            self._memo, self._memo_chars = {}, 0  # a new dict: a redaction begun before this add writes to the old

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def _spans(self, folded: str) -> list[tuple[int, int]]:
        """Where in ``folded`` a whole short form, or 12+ characters of a form, occurs.

        A run of 12 matching characters covers a 6-character block of the text that starts at a
        multiple of 6, and that block is one of the forms' 6-grams: only those blocks are looked up.
        """
        # a lookahead finds a short form at every position, overlapping ones included
        spans = [(m.start(), m.start() + len(m.group(1))) for m in self._short.finditer(folded)] if self._short else []
        anchors, size = self._anchors, len(folded)
        reached: dict[tuple[str, int], int] = {}  # (form, where it starts in the text) -> the end of its match
        for at in range(0, size - _ANCHOR + 1, _ANCHOR):
            places = anchors.get(folded[at:at + _ANCHOR])
            if not places:
                continue
            for form, offset in places:
                if reached.get((form, at - offset), -1) >= at + _ANCHOR:
                    continue  # this form, at this alignment, was already followed through this block
                left = 0
                while left < offset and at - left > 0 and folded[at - left - 1] == form[offset - left - 1]:
                    left += 1
                right = _ANCHOR
                while offset + right < len(form) and at + right < size and folded[at + right] == form[offset + right]:
                    right += 1
                reached[(form, at - offset)] = at + right
                if left + right >= FRAGMENT or left + right == len(form):
                    spans.append((at - left, at + right))
        return spans

    def redact(self, text: str) -> str:
        if not self._forms or not text or (len(text) < FRAGMENT and self._short is None):
            return text  # too short to hold 12 characters of a form, decoded or not, and no form is shorter
        memo = self._memo
        done = memo.get(text)
        if done is None:  # a run sends the same header values over and over; a report holds shared evidence
            if len(memo) >= _MEMO_SIZE or self._memo_chars + len(text) > _MEMO_CHARS:
                memo.clear()
                self._memo_chars = 0
            done = memo[text] = self._redact(text)
            self._memo_chars += len(text)
        return done

    def _redact(self, text: str) -> str:
        spans = self._spans(_fold(text))
        view, back = _decoded(text)
        if view is not None:
            spans += [back(start, end) for start, end in self._spans(_fold(view))]
        return _replace(text, spans)

    def redact_value(self, value: Any) -> Any:
        """A copy of a JSON-like value with every string (keys too) redacted; other values kept as they are."""
        if not self._forms:
            return value
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact(k) if isinstance(k, str) else k: self.redact_value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.redact_value(v) for v in value]
        if isinstance(value, bytes):
            return self.redact(value.decode("utf-8", errors="replace")).encode("utf-8")
        return value


def _decoded(text: str) -> tuple[str | None, Callable[[int, int], tuple[int, int]]]:
    """``text`` with its escapes decoded, and a map from a decoded span back to the original text's span."""
    if not _ESCAPE.search(text):
        return None, lambda start, end: (start, end)
    pieces: list[str] = []
    view_at: list[int] = []  # per segment: where it starts in the view, where it starts/ends in the text, literal?
    text_at: list[tuple[int, int, bool]] = []
    length = position = 0

    def literal(start: int, end: int) -> None:
        nonlocal length
        if end > start:
            pieces.append(text[start:end])
            view_at.append(length)
            text_at.append((start, end, True))
            length += end - start

    for match in _ESCAPE.finditer(text):
        literal(position, match.start())
        code = next(g for g in match.groups() if g is not None)
        if match.group(6) is not None:
            char = _SIMPLE_ESCAPES.get(code, code)
        else:
            number = int(code, 10 if match.group(5) is not None else 16)
            char = chr(number) if number < 0x110000 else "\ufffd"
        pieces.append(char)
        view_at.append(length)
        text_at.append((match.start(), match.end(), False))
        length += 1
        position = match.end()
    literal(position, len(text))

    def where(index: int, end: bool) -> int:
        segment = bisect.bisect_right(view_at, index) - 1
        start, stop, is_literal = text_at[segment]
        if is_literal:
            return start + (index - view_at[segment]) + (1 if end else 0)
        return stop if end else start

    return "".join(pieces), lambda start, end: (where(start, False), where(end - 1, True))


def _replace(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces, position = [], 0
    for start, end in merged:
        pieces += [text[position:start], REDACTED]
        position = end
    return "".join(pieces) + text[position:]


# The process's redactor: the target, the credentials loader and the doors register what they hold.
_PROCESS = Redactor()


def register_secrets(secrets: Iterable[str | None]) -> None:
    """Add credentials to redact from everything this process writes or prints."""
    _PROCESS.add(secrets)


def registered() -> Redactor:
    return _PROCESS


def redact(text: str) -> str:
    return _PROCESS.redact(text)


def redact_value(value: Any) -> Any:
    return _PROCESS.redact_value(value)



def redact_bytes(data: bytes) -> bytes:
    """``data`` redacted as text; bytes that are not UTF-8 pass through unchanged."""
    if not _PROCESS or not data:
        return data
    text = data.decode("utf-8", errors="surrogateescape")
    clean = _PROCESS.redact(text)
    return data if clean == text else clean.encode("utf-8", errors="surrogateescape")
