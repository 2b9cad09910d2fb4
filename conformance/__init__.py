"""Smart Community Conformance Suite: proves, by machine, that a platform conforms to the standard.

The public names load lazily (PEP 562) so that the pytest11 entry point, which imports this
package in every pytest run, costs nothing until a conformance run asks for them.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "CheckContext": "session",
    "ConformanceError": "errors",
    "Finding": "results",
    "Profile": "profiles",
    "ProfileError": "errors",
    "ProfileVerdict": "verdicts",
    "Requirement": "profiles",
    "RequirementResult": "results",
    "RunSession": "session",
    "Runner": "runner",
    "SchemaError": "errors",
    "Target": "target",
    "TargetError": "target",
    "UsageError": "errors",
    "Verdict": "verdicts",
    "check": "checks",
    "load_profile": "profiles",
    "schema_store": "schemas",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'conformance' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
