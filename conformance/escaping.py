"""One escaping function per output context, so no platform-controlled text is emitted raw anywhere.

    terminal(text)   control characters (C0, DEL, C1, so every ESC/CSI/OSC sequence) and bidi
                     overrides shown as visible ``\\x1b``-style escapes; newlines kept or folded
    markdown(text)   inert Markdown: an inline code span (no links, images, HTML or emphasis)
    markdown_cell    the same inside a table cell (pipes escaped, one line)
    xml(text)        only characters XML 1.0 allows (others shown as ``\\xNN``)
    json_ld(value)   a JSON value whose strings are valid Unicode without controls

HTML is escaped by Jinja's autoescape (``reports/html.py``); :func:`html_attribute` is for values
placed inside attributes, which must also not open a ``javascript:`` URL.
"""

from __future__ import annotations

import html as _html
import math
import re
import sys
from typing import Any

__all__ = ["CONTROLS", "csv_cell", "html_attribute", "json_ld", "json_value", "markdown", "markdown_cell", "terminal", "xml"]

# C0 except TAB and LF, DEL, C1, and the Unicode bidi controls and isolates that reorder a line.
_CONTROLS = CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal(text: Any, *, newlines: bool = True) -> str:
    """``text`` safe to write to a terminal: no escape sequence, no reordering; CR shown, not obeyed."""
    out = _CONTROLS.sub(_visible, _SURROGATE.sub("\ufffd", str(text)))
    return out if newlines else out.replace("\n", "\\n").replace("\t", " ")


def markdown(text: Any) -> str:
    """``text`` as an inline code span: GitHub and GitLab render it literally (no link, image, HTML)."""
    body = terminal(text, newlines=False)
    longest = max((len(run) for run in re.findall("`+", body)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if body.startswith("`") or body.endswith("`") or not body.strip() else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def markdown_cell(text: Any, limit: int = 300) -> str:
    """Inert Markdown for a table cell: one line, at most ``limit`` characters, pipes escaped."""
    body = terminal(text, newlines=False)
    if len(body) > limit:
        body = body[: limit - 1] + "…"
    return markdown(body).replace("|", "\\|")


def markdown_words(text: Any) -> str:
    """Prose from our own data (titles) with every Markdown and HTML metacharacter backslash-escaped."""
    body = terminal(text, newlines=False)
    return re.sub(r"([\\`*_{}\[\]()<>#+!|~&:])", r"\\\1", body)


_FORMULA = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(text: Any) -> str:
    """A CSV cell no spreadsheet runs: one that would start a formula (``=HYPERLINK(…)``, ``+``, ``-``, ``@``,
    their full-width forms, or a tab or CR before them) is prefixed with ``'`` (OWASP's advice); controls shown."""
    body = terminal(text, newlines=False)
    return "'" + body if body.lstrip(" ").startswith(_FORMULA) or str(text).startswith(("\t", "\r")) else body


def xml(text: Any) -> str:
    """``text`` with only XML 1.0 characters (the serialiser escapes ``<&>``; this removes what it cannot)."""
    return _XML_INVALID.sub(_visible, _SURROGATE.sub("\ufffd", str(text)))


def json_ld(value: Any) -> Any:
    """A JSON-LD value whose strings hold no control characters or lone surrogates."""
    if isinstance(value, str):
        return terminal(value)
    if isinstance(value, dict):
        return {json_ld(k) if isinstance(k, str) else k: json_ld(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ld(v) for v in value]
    return value


# RFC 8785 (what a signature covers) writes numbers as IEEE doubles: integers beyond this are not exact.
_EXACT_INTEGER = 2 ** 53 - 1


def json_value(value: Any, *, depth: int = 64) -> Any:
    """``value`` as every strict JSON reader, and RFC 8785, takes it back, for report.json.

    A platform's JSON may hold what Python parses but no strict writer may write: ``1e999999`` and ``NaN``
    (written as strings, ``"Infinity"``, ``"NaN"``), integers past 2**53 (written as strings of their digits),
    lone surrogates (U+FFFD) and nesting deeper than ``depth`` levels (the deeper part replaced by a string
    that says so, so the whole file stays within what the suite's own loaders read back).
    """
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value
    if isinstance(value, int):
        return value if -_EXACT_INTEGER <= value <= _EXACT_INTEGER else _digits(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else ("NaN" if math.isnan(value) else
                                                   "Infinity" if value > 0 else "-Infinity")
    if isinstance(value, (dict, list, tuple)) and depth <= 1:
        return f"(nested deeper than the report keeps: {type(value).__name__})"
    if isinstance(value, dict):
        return {json_value(k) if isinstance(k, str) else k: json_value(v, depth=depth - 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v, depth=depth - 1) for v in value]
    return value


def _digits(number: int) -> str:
    """An integer as its digits; Python refuses to print more than 4300 of them, so a longer one is cut."""
    try:
        return str(number)
    except ValueError:
        return f"(an integer of more than {sys.get_int_max_str_digits()} digits)"


_SAFE_URL = re.compile(r"^(https?://|#|/)", re.IGNORECASE)


def html_attribute(text: Any, *, url: bool = False) -> str:
    """A value for inside a quoted HTML attribute; a URL that is not http(s) or relative becomes ``#``."""
    body = terminal(text, newlines=False)
    if url and not _SAFE_URL.match(body.strip()):
        body = "#"
    return _html.escape(body, quote=True)
