"""Options defined once and shared by the two doors: ``--sc-NAME`` in pytest, ``--NAME`` in the CLI."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["OPTIONS", "Option", "add_options"]


@dataclass(frozen=True)
class Option:
    name: str
    help: str
    default: Any = None
    type: Callable[[str], Any] | None = None
    multiple: bool = False
    env: str | None = None  # read from the environment when the option is not given
    metavar: str | None = None


OPTIONS: tuple[Option, ...] = (
    Option("base-url", "base URL of the platform under test; without it the bundled reference platform "
           "is started on 127.0.0.1 and certified", env="SC_BASE_URL", metavar="URL"),
    Option("profile", "profile id or YAML file to certify against (repeatable; default: core)",
           multiple=True, metavar="ID"),
    Option("token", "bearer token for the target; prefer the SC_TOKEN environment variable so it stays "
           "out of shell history (never written to any report)", env="SC_TOKEN", metavar="TOKEN"),
    Option("report-dir", "directory for reports/<profile-id>/report.json and friends", default="reports",
           metavar="DIR"),
    Option("seed", "seed for every generated value, recorded in the report (default: random)", type=int,
           env="SC_SEED", metavar="N"),
    Option("timeout", "seconds to wait for each response", default=10.0, type=float, metavar="SECONDS"),
    Option("fault", "reference-platform fault to switch on when no --base-url is given (repeatable; "
           "for demonstrating that the suite catches it)", multiple=True, metavar="NAME"),
)


def add_options(add: Callable[..., Any], *, prefix: str) -> None:
    """Register every option through ``add`` (pytest's ``group.addoption`` or argparse's ``add_argument``)."""
    for option in OPTIONS:
        kwargs: dict[str, Any] = {"help": option.help, "dest": dest(option.name, prefix)}
        if option.multiple:
            kwargs["action"] = "append"
            kwargs["default"] = None
        else:
            kwargs["default"] = option.default
            if option.type is not None:
                kwargs["type"] = option.type
        if option.metavar:
            kwargs["metavar"] = option.metavar
        add(f"--{prefix}{option.name}", **kwargs)


def dest(name: str, prefix: str) -> str:
    return (prefix + name).replace("-", "_")


def resolve_env(name: str, value: Any) -> Any:
    """An option's value, falling back to its environment variable."""
    if value not in (None, []):
        return value
    option = next(o for o in OPTIONS if o.name == name)
    if option.env and os.environ.get(option.env):
        raw = os.environ[option.env]
        return option.type(raw) if option.type else raw
    return value
