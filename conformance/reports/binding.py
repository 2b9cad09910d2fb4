"""A report is bound to the platform it measured: its base URL, the identity the platform declares, and on https the
SHA-256 of its TLS certificate. A report read back (``--rerun-failed``, ``--lf``, ``--baseline``) stands only for that
platform; one rule here says whether two targets are the same platform, and the one line that says why not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError

__all__ = ["STRICT", "Allowance", "allowance", "describe", "identity_text", "mismatch"]

_REFERENCE = "the bundled reference platform"


@dataclass(frozen=True)
class Allowance:
    """What the user explicitly accepts: the platform moved to another URL (``--allow-moved-target``: the same
    declared identity and, on https, the same certificate), or it presents a new certificate
    (``--allow-new-certificate``)."""

    moved: bool = False
    new_certificate: bool = False


STRICT = Allowance()  # nothing accepted: the same URL, identity and certificate
_YES, _NO = {"yes", "true", "1", "on"}, {"no", "false", "0", "off"}


def allowance(get: Callable[[str], Any]) -> Allowance:
    """The allowance the options give (``get(dest)``: ``--allow-moved-target``, ``--allow-new-certificate``)."""
    def flag(name: str) -> bool:
        value = get("sc_" + name.replace("-", "_"))
        text = "no" if value is None else str(value).strip().lower()
        if text not in _YES | _NO:
            raise UsageError(f"--{name} takes yes or no, found {str(value)[:40]!r}")
        return text in _YES

    return Allowance(moved=flag("allow-moved-target"), new_certificate=flag("allow-new-certificate"))


def identity_text(platform: Any) -> str:
    """``name version, vendor`` as the platform declares it in its discovery document (platform strings are
    escaped by whatever prints this)."""
    if not isinstance(platform, Mapping) or not platform:
        return "no declared identity"
    name, version, vendor = (str(platform.get(key, "?"))[:80] for key in ("name", "version", "vendor"))
    return f"{name} {version}, {vendor}"


def _fingerprint(target: Mapping[str, Any]) -> str | None:
    value = target.get("tls_fingerprint")
    return value if isinstance(value, str) else None


def describe(target: Any, *, certificate: bool = False) -> str:
    """``<url> (<identity>)``, or the bundled reference platform; with ``certificate``, its fingerprint too."""
    target = target if isinstance(target, Mapping) else {}
    where = _REFERENCE if target.get("reference_platform") else str(target.get("base_url") or "an unknown URL")
    parts = [identity_text(target.get("platform"))]
    if certificate and _fingerprint(target):
        parts.append(f"certificate {str(_fingerprint(target))[:23]}…")
    return f"{where} ({', '.join(parts)})"


def _url(target: Mapping[str, Any]) -> str:
    return str(target.get("base_url") or "").rstrip("/")


def mismatch(earlier: Any, now: Any, allow: Allowance = STRICT) -> str | None:
    """Why a report made against ``earlier`` cannot stand for a run against ``now`` (both a report's ``target``
    record), as ``report was made against <url> (<identity>), not <url> …``; ``None`` when they are one platform.

    The bundled reference platform listens on a new port each run: two of its runs are one platform. Otherwise
    the base URL must be the same (unless ``allow.moved``), the declared identities must be equal whenever both
    are known (a moved URL needs both), and on https the certificates must be the same (unless
    ``allow.new_certificate``). A report made before identities were recorded is bound by its URL alone.
    """
    earlier = earlier if isinstance(earlier, Mapping) else {}
    now = now if isinstance(now, Mapping) else {}
    reference = (bool(earlier.get("reference_platform")), bool(now.get("reference_platform")))
    if any(reference):
        return None if all(reference) else _line(earlier, now, "another platform")
    moved = _url(earlier) != _url(now) or not _url(earlier)
    known = isinstance(earlier.get("platform"), Mapping) and isinstance(now.get("platform"), Mapping)
    if moved and not allow.moved:
        return _line(earlier, now, "another base URL", "pass --allow-moved-target if the same platform moved")
    if moved and not known:
        return _line(earlier, now, "a moved URL whose platform identity cannot be compared (the earlier report "
                                   "records none, or this platform declares none)")
    if known and dict(earlier["platform"]) != dict(now["platform"]):
        return _line(earlier, now, "another platform identity")
    old_cert, new_cert = _fingerprint(earlier), _fingerprint(now)
    if (old_cert or new_cert) and old_cert != new_cert and not allow.new_certificate:
        return _line(earlier, now, "another TLS certificate", "pass --allow-new-certificate if the platform's "
                     "certificate was renewed", certificate=True)
    return None


def _line(earlier: Mapping[str, Any], now: Mapping[str, Any], what: str, hint: str = "", *,
          certificate: bool = False) -> str:
    text = (f"report was made against {describe(earlier, certificate=certificate)}, not "
            f"{describe(now, certificate=certificate)}: {what}, so its results say nothing about this platform")
    return text + (f" ({hint}; otherwise run the whole profile)" if hint else "; run the whole profile")
