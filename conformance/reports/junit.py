"""JUnit XML stays readable: the result JSON that carries results to the controller is swapped for a few properties."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["compact_properties"]


def compact_properties(user_properties: list[tuple[str, Any]], result_property: str) -> list[tuple[str, Any]]:
    """``user_properties`` with the (large) transported result replaced by requirement, level, sub-system, verdict.

    Used at teardown: pytest's junitxml writes the teardown report's properties, after the call
    report already carried the full result to the reporter.
    """
    out: list[tuple[str, Any]] = []
    for name, value in user_properties:
        if name != result_property:
            out.append((name, value))
            continue
        result = json.loads(value)
        req = result["requirement"]
        out += [("profile", result["profile"]), ("requirement", req["id"]), ("level", req["level"]),
                ("subsystem", req["subsystem"]), ("verdict", result["verdict"])]
        if result.get("waiver"):
            out.append(("waiver", f"{result['waiver']['approver']} until {result['waiver']['expires']}"))
    return out
