"""The bundled reference platform as the default target: started on 127.0.0.1, stopped after the run."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator, Sequence

__all__ = ["embedded_reference"]


@contextlib.contextmanager
def embedded_reference(faults: Sequence[str] = (), *, declared_profiles: Sequence[tuple[str, str]] | None = None
                       ) -> Iterator[tuple[str, str]]:
    """Yield ``(base_url, token)`` of a fresh reference platform on a free loopback port."""
    from .reference import create_app, mint_token, running
    from .reference.faults import validate_faults

    validate_faults(faults)
    secret = secrets.token_urlsafe(32)
    kwargs = {} if declared_profiles is None else {"declared_profiles": list(declared_profiles)}
    app = create_app(faults=tuple(faults), secret=secret, **kwargs)
    with running(app) as base_url:
        yield base_url, mint_token(secret)
