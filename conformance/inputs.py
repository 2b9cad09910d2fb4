"""What a run is handed besides the profile: credentials, attestations, its deadline and TLS settings."""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .attestations import Attestation, load_attestations
from .credentials import Credentials, load_credentials
from .errors import UsageError
from .options import resolve_env

__all__ = ["RunInputs"]

_YES, _NO = {"yes", "true", "1", "on"}, {"no", "false", "0", "off"}


@dataclass
class RunInputs:
    credentials: Credentials | None = None
    attestations: dict[str, Attestation] | None = None
    deadline: float | None = None  # monotonic instant
    verify: bool | str = True
    insecure: bool = False
    cleartext: bool = False  # plain http:// to a host that is not this machine: the token crosses the network unencrypted
    max_examples: int | None = None
    cleanup: bool = False  # --cleanup: delete what the run created, where the platform declares delete
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_options(cls, get: Any) -> RunInputs:
        """Read the options through ``get(dest)``; raises :class:`UsageError` for a bad file or value."""
        credentials_file = resolve_env("credentials", get("sc_credentials"))
        attestations_file = resolve_env("attestations", get("sc_attestations"))
        seconds = get("sc_deadline")
        if seconds is not None and seconds <= 0:
            raise UsageError(f"--deadline must be a positive number of seconds, found {seconds:g}")
        insecure = _flag("insecure", get("sc_insecure"))
        ca_bundle = get("sc_ca_bundle")
        if ca_bundle and insecure:
            raise UsageError("--ca-bundle and --insecure contradict each other: pin a CA bundle or skip verification")
        max_examples = get("sc_max_examples")
        if max_examples is not None and max_examples < 1:
            raise UsageError(f"--max-examples must be at least 1, found {max_examples}")
        if ca_bundle and not Path(ca_bundle).is_file():
            raise UsageError(f"--ca-bundle {ca_bundle}: no such file (expected a PEM bundle of CA certificates)")
        base_url = resolve_env("base-url", get("sc_base_url"))
        cleartext = bool(base_url) and _cleartext(str(base_url))
        return cls(
            cleartext=cleartext,
            credentials=load_credentials(credentials_file) if credentials_file else None,
            attestations=load_attestations(attestations_file) if attestations_file else None,
            deadline=time.monotonic() + seconds if seconds else None,
            verify=False if insecure else (str(ca_bundle) if ca_bundle else True),
            insecure=insecure or cleartext,  # an insecure run is marked so in every report and on the terminal
            max_examples=max_examples,
            cleanup=_flag("cleanup", get("sc_cleanup")),
        )

    def token(self, given: str | None) -> str | None:
        return given or (self.credentials.token if self.credentials else None)

    def target_kwargs(self) -> dict[str, Any]:
        secrets = self.credentials.secrets() if self.credentials else []
        return {"verify": self.verify, "deadline": self.deadline, "secrets": secrets}

    def session_kwargs(self) -> dict[str, Any]:
        return {"credentials": self.credentials, "attestations": self.attestations, "max_examples": self.max_examples}

    def transport_record(self) -> dict[str, Any]:
        """How the target's certificate was checked, for the report: an insecure run says so in every report."""
        if self.cleartext:
            return {"certificate_verification": "none (plain http)", "insecure": True,
                    "warning": "INSECURE RUN: plain http://, so the token crossed the network unencrypted and the "
                               "platform's identity was not verified; this report cannot support a certification"}
        mode = "off" if self.insecure else ("ca-bundle" if isinstance(self.verify, str) else "system")
        record: dict[str, Any] = {"certificate_verification": mode, "insecure": self.insecure}
        if self.insecure:
            record["warning"] = ("INSECURE RUN: the target's TLS certificate was not verified (--insecure); "
                                 "this report cannot support a certification")
        return record


def _cleartext(base_url: str) -> bool:
    """Whether the base URL is plain http to another machine (http on the loopback never leaves this one)."""
    parts = urlsplit(base_url)
    if parts.scheme.lower() != "http":
        return False
    host = (parts.hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def _flag(name: str, value: Any) -> bool:
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise UsageError(f"--{name} takes yes or no, found {value!r}")
