"""Which exchanges a reader sees first (terminal and HTML): the one that proves the finding, then the last one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["headers_about", "shown_exchanges"]


def shown_exchanges(evidence: Iterable[dict[str, Any]], limit: int = 2) -> list[dict[str, Any]]:
    """Up to ``limit`` exchanges of a check's evidence: the proving one (``"proves": true``) first, then the latest.

    Reports written before the runner marked proofs show their last exchanges, as they always did.
    """
    exchanges = [x for x in evidence if "request" in x]
    proof = [x for x in exchanges if x.get("proves")][:1]
    rest = [x for x in exchanges if not x.get("proves")]
    room = limit - len(proof)
    return proof + (rest[-room:] if room > 0 else [])


def headers_about(exchange: dict[str, Any], findings: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """The response headers a reader needs to see: Content-Type, and every header a finding names as its location."""
    wanted = {"content-type"} | {str(f["location"]).lower() for f in findings
                                 if f.get("location") and not str(f["location"]).startswith("/")}
    return [(name, value) for name, value in exchange["response"]["headers"].items() if name.lower() in wanted]
