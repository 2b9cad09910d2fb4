"""Credentials never leave the process: one redactor for every text and structured value the suite emits.

A platform that wants a token back will echo it encoded, so each credential is searched for in the
forms it can take: as sent, reversed, percent and Python ``repr`` escapes, and its UTF-8, UTF-16LE and
UTF-16BE bytes in hex, base64 and base64url (each byte alignment) and base32 (each alignment). Before
matching, a text is normalised, so what wraps or splits a form does not hide it:

- ASCII case is folded;
- escapes are decoded (JSON ``\\u``, ``\\x``, percent, HTML character references, backslash escapes),
  again and again while any remain (double percent-encoding), each view mapping back to the original text;
- everything that is not a letter or digit is dropped from a *skeleton* view, so a form cut into pieces
  (chunks of 11 characters in a list), interleaved with zero-width or other format characters, or with the
  NUL bytes of UTF-16, is as visible as the form itself.

Any fragment of 12 or more characters of a form (of its letters and digits, in the skeleton view) is replaced,
and the whole form wherever it is shorter. A short form is replaced only where it is a whole word (or words
made only of forms), so a short credential such as ``admin`` never alters ``administrator`` or the ``b`` of
``Bearer``. Secrets are registered once per process (by the target, the credentials loader and the doors);
every writer calls :func:`redact_value` or :func:`redact` on what it is about to emit.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import re
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast
from urllib.parse import quote, quote_plus

__all__ = ["FRAGMENT", "REDACTED", "Redactor", "redact", "redact_bytes", "redact_value", "register_secrets", "registered", "forgetting"]

REDACTED = "***REDACTED***"
FRAGMENT = 12  # the shortest piece of a secret that is redacted on its own
_ANCHOR = FRAGMENT // 2  # any 12-character window contains an aligned 6-character block of the form
_BLOCKS = re.compile(f".{{{_ANCHOR}}}", re.DOTALL)  # the aligned blocks of a text, cut in C
_CUT = _ANCHOR * 10_000  # characters cut into blocks at once (a multiple of the block, so blocks stay aligned)
_NOT_WORD_BYTES = bytes(b for b in range(256) if not (48 <= b <= 57 or 97 <= b <= 122))  # the skeleton drops them
_WORD = re.compile("[0-9a-z]+")
_JOINT = "\x1f"  # between string values searched as one text: not a letter or digit, so the skeleton joins them
_DECODE_ROUNDS = 4  # escapes decoded this many times over at most (%25%32%35… stops somewhere)
# Escapes a platform may wrap a secret in; each is decoded in a view that maps back to the original text.
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})|%([0-9a-fA-F]{2})|&#[xX]([0-9a-fA-F]{1,6});"
                     r"|&#([0-9]{1,7});|\\([\\/\"'rnt])")
_SIMPLE_ESCAPES = {"r": "\r", "n": "\n", "t": "\t"}
# Texts already redacted are remembered, this many and this many characters at most (a clean text maps to
# itself, so the memo mostly holds references to strings the run holds anyway).
_MEMO_SIZE, _MEMO_CHARS = 65_536, 64 * 1024 * 1024

Span = tuple[int, int]
Back = Callable[[int, int], Span]


def _fold(text: str) -> str:
    """ASCII letters lower-cased, every index kept (bytes.lower is ASCII-only and far faster than str.translate)."""
    if text.isascii():
        return text.lower()
    return text.encode("utf-8", "surrogatepass").lower().decode("utf-8", "surrogatepass")


def _base64_forms(raw: bytes) -> list[str]:
    """The bytes base64-encoded at each of the three byte alignments, without the edges a neighbour changes."""
    forms = []
    for shift in range(3):
        encoded = base64.b64encode(bytes(shift) + raw).decode("ascii").rstrip("=")
        core = encoded[4 if shift else 0: len(encoded) - (0 if shift == 0 else 3)]
        forms += [core, core.replace("+", "-").replace("/", "_")]
    return forms


def _base32_forms(raw: bytes) -> list[str]:
    """The bytes base32-encoded at each of the five byte alignments: the 8-character groups of its bytes only."""
    forms = []
    for shift in range(5):
        encoded = base64.b32encode(bytes(shift) + raw).decode("ascii")
        forms.append(encoded[8 if shift else 0: 8 * ((shift + len(raw)) // 5)])
    return forms


def forms_of(secret: str) -> list[str]:
    """Every spelling of ``secret`` searched for (before case folding)."""
    raw = secret.encode("utf-8")
    forms = [secret, secret[::-1], quote(secret, safe=""), quote_plus(secret), repr(secret)[1:-1], repr(raw)[2:-1]]
    for data in (raw, secret.encode("utf-16-le"), secret.encode("utf-16-be")):
        forms += [data.hex(), *_base64_forms(data), *_base32_forms(data)]
    # a form much shorter than the secret (a base64 core of a short one: a single "b") would match everywhere
    shortest = min(len(secret), FRAGMENT)
    forms = [form for form in forms if len(form) >= shortest]
    forms += [part for part in re.split(r"[\x00-\x1f\x7f]+", secret) if part != secret and len(part) >= 4]
    return list(dict.fromkeys(f for f in forms if f))


class _Index:
    """Where the 6-character blocks of a set of forms occur, so a text is searched block by block."""

    def __init__(self) -> None:
        self.forms: dict[str, None] = {}
        self.anchors: dict[str, list[tuple[str, int]]] = {}

    def add(self, form: str) -> None:
        if form in self.forms:
            return
        self.forms[form] = None
        for start in range(len(form) - _ANCHOR + 1):
            self.anchors.setdefault(form[start:start + _ANCHOR], []).append((form, start))

    def spans(self, folded: str) -> list[Span]:
        """Where in ``folded`` 12 or more characters of a form occur.

        A run of 12 matching characters covers a 6-character block of the text that starts at a
        multiple of 6, and that block is one of the forms' 6-grams: only those blocks are looked up,
        and a text none of whose blocks is one costs a cut and a set intersection, both in C.
        """
        anchors = self.anchors
        hits: set[str] = set()
        for start in range(0, len(folded), _CUT):  # a slice of blocks at a time: a 16 MiB body is not 3M strings
            hits |= anchors.keys() & _BLOCKS.findall(folded, start, start + _CUT)
        if not hits:
            return []
        spans: list[Span] = []
        size = len(folded)
        reached: dict[tuple[str, int], int] = {}  # (form, where it starts in the text) -> the end of its match
        for at in sorted(_aligned(folded, hits)):
            for form, offset in anchors[folded[at:at + _ANCHOR]]:
                if reached.get((form, at - offset), -1) >= at + _ANCHOR:
                    continue  # this form, at this alignment, was already followed through this block
                left = 0
                while left < offset and at - left > 0 and folded[at - left - 1] == form[offset - left - 1]:
                    left += 1
                right = _ANCHOR
                while offset + right < len(form) and at + right < size and folded[at + right] == form[offset + right]:
                    right += 1
                reached[(form, at - offset)] = at + right
                if left + right >= FRAGMENT:
                    spans.append((at - left, at + right))
        return spans


class Redactor:
    """Replaces every registered secret, in any of its forms, by ``***REDACTED***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self.secrets: list[str] = []
        self._known: set[str] = set()
        self._all: dict[str, None] = {}  # every case-folded form, in registration order
        self._forms = _Index()  # the forms of 12 characters or more, as they are
        self._skeletons = _Index()  # the same forms' letters and digits, when 12 or more
        self._short: re.Pattern[str] | None = None  # the forms shorter than FRAGMENT, redacted whole
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
                    if folded in self._all:
                        continue
                    self._all[folded] = None
                    if len(folded) < FRAGMENT:
                        short = True
                    else:
                        self._forms.add(folded)
                    skeleton = _skeleton(folded)
                    if len(skeleton) >= FRAGMENT:
                        self._skeletons.add(skeleton)
            if short:  # one alternation, longest first, instead of a search per short form per text
                forms = sorted((f for f in self._all if len(f) < FRAGMENT), key=len, reverse=True)
                self._short = re.compile("(?=(" + "|".join(map(re.escape, forms)) + "))")
            self._memo, self._memo_chars = {}, 0  # a new dict: a redaction begun before this add writes to the old

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def redact(self, text: str) -> str:
        if not self._all or not text or (len(text) < FRAGMENT and self._short is None):
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

    def _view_spans(self, folded: str) -> list[Span]:
        """The spans of forms in one (folded) view: as it is, short forms as whole words, and its skeleton."""
        spans = self._forms.spans(folded)
        if self._short is not None:
            spans += _whole_words(folded, [(m.start(), m.start() + len(m.group(1)))
                                           for m in self._short.finditer(folded)])
        skeleton = _skeleton(folded)
        if len(skeleton) != len(folded):
            found = self._skeletons.spans(skeleton)
            if found:
                where = _positions(folded, {index for start, end in found for index in (start, end - 1)})
                spans += [(where[start], where[end - 1] + 1) for start, end in found]
        return spans

    def _redact(self, text: str) -> str:
        return _replace(text, self._find(text))

    def _find(self, text: str) -> list[Span]:
        """Where in ``text`` a form is, in any view of it (as it is, decoded, skeleton)."""
        spans = self._view_spans(_fold(text))
        view, back = text, cast(Back, _same)
        for _ in range(_DECODE_ROUNDS):
            decoded, inner = _decoded(view)
            if decoded is None:
                break
            back = _compose(back, inner)
            spans += [back(start, end) for start, end in self._view_spans(_fold(decoded))]
            view = decoded
        return spans

    def redact_value(self, value: Any) -> Any:
        """A copy of a JSON-like value with every string (keys too) redacted; other values kept as they are.

        A credential cut over several strings is found too: the strings of one list are also searched as one text
        (``["eyJhbGciOi", "JIUzI1NiJ9…"]``), and so are those under each key, in document order (the ``id`` of
        consecutive records, whatever lies between them).
        """
        if not self._all:
            return value
        copy = self._copy(value)
        if isinstance(copy, (dict, list)):
            self._across(copy)
        return copy

    def _copy(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact(k) if isinstance(k, str) else k: self._copy(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._copy(v) for v in value]
        if isinstance(value, bytes):
            return self.redact(value.decode("utf-8", errors="replace")).encode("utf-8")
        return value

    def _across(self, root: dict[Any, Any] | list[Any]) -> None:
        """Redact, in place, what the string values of ``root`` (a fresh copy) hold only when read together."""
        # (container, key or index) of each string value, in document order: per list, and per key
        groups: dict[Any, list[tuple[Any, Any]]] = {}
        stack: list[Any] = [root]
        while stack:
            node = stack.pop()
            pairs = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
            nested = []
            for key, item in pairs:
                if isinstance(item, str):
                    group = ("key", key) if isinstance(node, dict) else ("list", id(node))
                    groups.setdefault(group, []).append((node, key))
                elif isinstance(item, (dict, list)):
                    nested.append(item)
            stack += reversed(nested)
        for slots in groups.values():
            if len(slots) > 1:
                self._joint(slots)

    def _joint(self, slots: list[tuple[Any, Any]]) -> None:
        """Redact what these string values (in this order) hold only when read as one text."""
        texts = [container[key] for container, key in slots]
        starts, at = [], 0
        for text in texts:
            starts.append(at)
            at += len(text) + 1
        # each value was searched in every view already; read together, the pieces are searched as they are and in
        # the skeleton view (escape decoding, the costly part, would find nothing new across a boundary)
        found = _merge(self._view_spans(_fold(_JOINT.join(texts))))
        local: dict[int, list[Span]] = {}
        for start, end in found:
            first, last = bisect.bisect_right(starts, start) - 1, bisect.bisect_right(starts, end - 1) - 1
            if first == last:
                continue  # within one string: redacted already
            for index in range(first, last + 1):
                begin = max(start - starts[index], 0)
                stop = min(end - starts[index], len(texts[index]))
                if stop > begin:
                    local.setdefault(index, []).append((begin, stop))
        for index, spans in local.items():
            container, key = slots[index]
            container[key] = _replace(texts[index], spans)


def _aligned(folded: str, blocks: set[str]) -> Iterable[int]:
    """Where each of ``blocks`` occurs in ``folded`` at a multiple of the block size (found by str.find, in C)."""
    for block in blocks:
        at = folded.find(block)
        while at >= 0:
            if at % _ANCHOR == 0:
                yield at
                at = folded.find(block, at + _ANCHOR)
            else:  # on to the next multiple: a text of one repeated block costs at most a find per block
                at = folded.find(block, (at // _ANCHOR + 1) * _ANCHOR)


def _positions(folded: str, wanted: set[int]) -> dict[int, int]:
    """Where the skeleton's characters at the ``wanted`` indexes are in ``folded``: one pass over its runs of letters
    and digits, up to the last one wanted (no table of every position: a body may be 16 MiB)."""
    where: dict[int, int] = {}
    pending = sorted(wanted)
    next_one, seen = 0, 0
    for run in _WORD.finditer(folded):
        length = run.end() - run.start()
        while next_one < len(pending) and pending[next_one] < seen + length:
            where[pending[next_one]] = run.start() + pending[next_one] - seen
            next_one += 1
        if next_one == len(pending):
            break
        seen += length
    return where


def _skeleton(folded: str) -> str:
    """The letters and digits of a folded text (bytes.translate: ~40 times faster than a regex substitution)."""
    return folded.encode("utf-8", "surrogatepass").translate(None, _NOT_WORD_BYTES).decode("ascii")


def _same(start: int, end: int) -> Span:
    return start, end


def _compose(outer: Back, inner: Back) -> Back:
    return lambda start, end: outer(*inner(start, end))


def _whole_words(folded: str, spans: list[Span]) -> list[Span]:
    """The short-form matches that are whole words, or lie in a word made only of such matches."""
    if not spans:
        return spans
    runs = [(m.start(), m.end()) for m in _WORD.finditer(folded)]
    starts = [start for start, _ in runs]
    covered = _merge(spans)
    covered_starts = [start for start, _ in covered]
    kept = []
    for start, end in spans:
        word_start, word_end = start, end
        if _WORD.match(folded, start, start + 1):
            run = runs[bisect.bisect_right(starts, start) - 1]
            word_start = run[0]
        if _WORD.match(folded, end - 1, end):
            run = runs[bisect.bisect_right(starts, end - 1) - 1]
            word_end = run[1]
        block = covered[bisect.bisect_right(covered_starts, word_start) - 1]
        if block[0] <= word_start and word_end <= block[1]:
            kept.append((start, end))
    return kept


def _decoded(text: str) -> tuple[str | None, Back]:
    """``text`` with its escapes decoded, and a map from a decoded span back to the original text's span."""
    if not _ESCAPE.search(text):
        return None, _same
    pieces: list[str] = []
    # per segment, in compact arrays (a body of 8 MiB of escapes is millions of segments): where it starts in the
    # view, where it starts and ends in the text, and whether it is literal text or one decoded escape
    view_at, text_start, text_end, is_text = array("q"), array("q"), array("q"), bytearray()
    length = position = 0

    def literal(start: int, end: int) -> None:
        nonlocal length
        if end > start:
            pieces.append(text[start:end])
            view_at.append(length)
            text_start.append(start)
            text_end.append(end)
            is_text.append(1)
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
        text_start.append(match.start())
        text_end.append(match.end())
        is_text.append(0)
        length += 1
        position = match.end()
    literal(position, len(text))

    def where(index: int, end: bool) -> int:
        segment = bisect.bisect_right(view_at, index) - 1
        if is_text[segment]:
            return text_start[segment] + (index - view_at[segment]) + (1 if end else 0)
        return text_end[segment] if end else text_start[segment]

    return "".join(pieces), lambda start, end: (where(start, False), where(end - 1, True))


def _merge(spans: list[Span]) -> list[Span]:
    """The spans' union, as disjoint sorted spans (touching ones joined)."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def _replace(text: str, spans: list[Span]) -> str:
    if not spans:
        return text
    merged = _merge(spans)
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


@contextlib.contextmanager
def forgetting() -> Iterator[None]:
    """Secrets registered inside are forgotten when it ends (the process's redactor otherwise only grows): a test,
    or one of the many platforms a benchmark starts in one process."""
    global _PROCESS
    kept = _PROCESS
    _PROCESS = Redactor(kept.secrets)
    try:
        yield
    finally:
        _PROCESS = kept


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
