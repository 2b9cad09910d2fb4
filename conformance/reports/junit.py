"""JUnit XML stays readable: the result JSON that carries results to the controller is swapped for a few properties."""

from __future__ import annotations

from typing import Any

__all__ = ["compact_properties", "result_properties"]


def result_properties(result: dict[str, Any]) -> list[tuple[str, Any]]:
    """What JUnit shows of a transported result: profile, requirement, level, sub-system, verdict (and a waiver)."""
    req = result["requirement"]
    out: list[tuple[str, Any]] = [("profile", result["profile"]), ("requirement", req["id"]), ("level", req["level"]),
                                  ("subsystem", req["subsystem"]), ("verdict", result["verdict"])]
    if result.get("waiver"):
        out.append(("waiver", f"{result['waiver']['approver']} until {result['waiver']['expires']}"))
    return out


def compact_properties(user_properties: list[tuple[str, Any]], drop: set[str],
                       compact: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """``user_properties`` with the (large) properties named in ``drop`` replaced by ``compact``.

    The transported result carries a requirement to the reporter on the call report; pytest keeps every report to
    the end, and junitxml writes the teardown report's properties, so both get the few that JUnit shows.
    """
    kept = [(name, value) for name, value in user_properties if name not in drop]
    return kept + compact if len(kept) < len(user_properties) else kept
