"""Options defined once and shared by the two doors: ``--sc-NAME`` in pytest, ``--NAME`` in the CLI."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_MAX_EXAMPLES", "OPTIONS", "Option", "add_options"]

DEFAULT_MAX_EXAMPLES = 10  # generated examples per entity and requirement
# Requirements in flight at once against one target by default: enough to hide a distant platform's latency,
# few enough that a typical platform is not overloaded (the suite's connection pool holds as many connections).
DEFAULT_CONCURRENCY = 12


@dataclass(frozen=True)
class Option:
    name: str
    help: str
    default: Any = None
    type: Callable[[str], Any] | None = None
    multiple: bool = False
    env: str | None = None  # read from the environment when the option is not given
    metavar: str | None = None
    const: Any = None  # the value of the bare option (``--NAME`` without a value), when it may be bare


OPTIONS: tuple[Option, ...] = (
    Option("base-url", "base URL of the platform under test; without it the bundled reference platform "
           "is started on 127.0.0.1 and certified", env="SC_BASE_URL", metavar="URL"),
    Option("profile", "profile id or YAML file to certify against (repeatable; default: every bundled profile)",
           multiple=True, metavar="ID"),
    Option("standard", "a local standard's folder (standard.yaml, profiles/, schemas/, fixtures/, evaluation/) or "
           "an installed standard's id, searched before the national base (repeatable; a profile file inside a "
           "standard's profiles/ folder implies it)", multiple=True, metavar="DIR"),
    Option("token", "bearer token for the target; prefer the SC_TOKEN environment variable so it stays "
           "out of shell history (never written to any report)", env="SC_TOKEN", metavar="TOKEN"),
    Option("report-dir", "directory for reports/<profile-id>/report.json and friends", default="reports",
           metavar="DIR"),
    Option("seed", "seed for every generated value, recorded in the report (default: random)", type=int,
           env="SC_SEED", metavar="N"),
    Option("timeout", "seconds to wait for each response", default=10.0, type=float, metavar="SECONDS"),
    Option("retry-budget", "seconds the run may spend waiting when the platform answers 429/503 with "
           "Retry-After (each request is retried at most 3 times); past it the requirement is inconclusive",
           default=60.0, type=float, metavar="SECONDS"),
    Option("fault", "reference-platform fault to switch on when no --base-url is given (repeatable; "
           "for demonstrating that the suite catches it)", multiple=True, metavar="NAME"),
    Option("variant", "reference-platform variant to switch on when no --base-url is given (repeatable): "
           "a choice the standard allows, which must stay conformant", multiple=True, metavar="NAME"),
    Option("max-examples", "generated examples per entity for each generated requirement (default: "
           f"{DEFAULT_MAX_EXAMPLES}, which keeps a full run under a minute)", type=int, env="SC_MAX_EXAMPLES",
           metavar="N"),
    Option("credentials", "YAML/JSON file of named roles (token, scopes, community) for the guarantee profile; "
           "tokens are never written to any report", env="SC_CREDENTIALS", metavar="FILE"),
    Option("attestations", "YAML/JSON file attesting the manual (institutional) requirements: who, what, "
           "document reference and sha256", env="SC_ATTESTATIONS", metavar="FILE"),
    Option("concurrency", "check calls (and requests) in flight at once against the target (1: one after "
           f"another; default {DEFAULT_CONCURRENCY}); the verdicts do not depend on it", type=int, metavar="N"),
    Option("deadline", "seconds the whole run may take; requirements not finished by then are inconclusive",
           type=float, metavar="SECONDS"),
    Option("ca-bundle", "CA bundle (PEM) to verify an HTTPS target against instead of the system store",
           metavar="FILE"),
    Option("insecure", "do not verify the HTTPS certificate (yes/no); every report is then marked insecure",
           const="yes", metavar="yes|no"),
    Option("waivers", "YAML file of waivers (requirement, reason, approver, expires): a waived failure is "
           "reported as `waived`, never as pass; expired waivers do not apply", metavar="FILE"),
    Option("cleanup", "after the run, delete the records it created where the platform declares the delete "
           "capability (yes/no); the report says what was removed and what stays", const="yes", metavar="yes|no"),
    Option("baseline", "previous report.json (or a file of requirement ids) of expected failures: "
           "they stay `fail` in the report but only new failures fail the run", metavar="FILE"),
    Option("allow-moved-target", "accept a report read back (--rerun-failed, --lf, --baseline) made against "
           "another base URL when the platform declares the same identity (and on https presents the same "
           "certificate) (yes/no)", const="yes", metavar="yes|no"),
    Option("allow-new-certificate", "accept a report read back made when the platform presented another TLS "
           "certificate (a renewed one) (yes/no)", const="yes", metavar="yes|no"),
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
        if option.const is not None:
            kwargs["nargs"], kwargs["const"] = "?", option.const
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
