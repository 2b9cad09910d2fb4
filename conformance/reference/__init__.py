"""The reference platform: a FastAPI + SQLite implementation of the interface standard with fault switches.

It is a product the suite tests; the checks never import it.
"""

from __future__ import annotations

from .app import create_app
from .faults import FAULTS, Fault
from .server import running, serve
from .tokens import mint_token
from .variants import VARIANTS, Variant

__all__ = ["FAULTS", "VARIANTS", "Fault", "Variant", "create_app", "mint_token", "running", "serve"]
