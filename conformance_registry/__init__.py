"""The certification service: a body runs the suite against vendors' platforms and publishes signed certificates.

An application above the suite (see ARCHITECTURE.md): it runs ``sc-conformance run`` in a worker process and reads
``report.json`` as ``schemas/suite/report.json`` says; it imports nothing from ``conformance``.
"""

from __future__ import annotations

__all__ = ["STATUSES", "main"]

STATUSES = ("valid", "suspended", "expired", "superseded", "revoked")


def main(argv: list[str]) -> int:
    """The ``sc-conformance registry …`` sub-command (entry point group ``sc_conformance.commands``)."""
    from .cli import main as cli_main

    return cli_main(argv)
