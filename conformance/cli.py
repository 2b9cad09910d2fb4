"""``sc-conformance``: the command-line door to the same pytest items and reports as the plugin.

    sc-conformance run [--base-url URL] [--profile ID ...] [--token T] [--report-dir D] [--seed N]
    sc-conformance serve-reference [--host H] [--port P] [--fault NAME ...] [--list-faults]
    sc-conformance profiles list
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .errors import ConformanceError
from .options import OPTIONS, add_options, dest

__all__ = ["main"]

EXIT_CONFORMANT, EXIT_NOT_CONFORMANT, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sc-conformance", description="Smart-community conformance suite")
    parser.add_argument("--version", action="version", version=f"sc-conformance {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="certify a platform (default: the bundled reference platform)")
    add_options(run.add_argument, prefix="")
    run.add_argument("-k", dest="keyword", metavar="EXPR", help="only requirements matching EXPR (as pytest -k)")
    run.add_argument("-q", "--quiet", action="store_true", help="less output")
    run.add_argument("--alluredir", metavar="DIR", help="also write Allure results to DIR")

    serve = commands.add_parser("serve-reference", help="run the reference platform by hand")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--fault", action="append", default=[], metavar="NAME",
                       help="break one behaviour (repeatable); see --list-faults")
    serve.add_argument("--list-faults", action="store_true", help="print each fault and the requirement it breaks")

    profiles = commands.add_parser("profiles", help="work with profiles")
    profiles.add_argument("action", choices=["list"])
    return parser


def _pytest_args(args: argparse.Namespace, ini: Path) -> list[str]:
    argv = ["-c", str(ini), "--rootdir", os.getcwd(), "-q" if args.quiet else "-v", "-p", "no:randomly",
            "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        argv += ["-p", "sc_conformance"]  # the pytest11 entry point, by name
    for option in OPTIONS:
        value = getattr(args, dest(option.name, ""))
        if value in (None, []):
            continue
        for item in value if option.multiple else [value]:
            if option.name == "token":
                continue  # passed through the environment, never on a command line
            argv += [f"--sc-{option.name}", str(item)]
    if args.keyword:
        argv += ["-k", args.keyword]
    if args.alluredir:
        argv += ["--alluredir", args.alluredir]
    return argv


def run(args: argparse.Namespace) -> int:
    import pytest

    from .checks import validate_call
    from .profiles import load_profile

    profiles = [load_profile(name, validate_check=validate_call) for name in (args.profile or ["core"])]
    if not args.profile:
        args.profile = ["core"]
    report_dir = Path(args.report_dir)
    for profile in profiles:
        stale = report_dir / profile.id / "report.json"
        stale.unlink(missing_ok=True)
    if args.token:
        os.environ["SC_TOKEN"] = args.token
    with tempfile.TemporaryDirectory() as scratch:
        ini = Path(scratch) / "pytest.ini"
        ini.write_text("[pytest]\naddopts =\n", encoding="utf-8")
        code = pytest.main(_pytest_args(args, ini))
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERRUPTED):
        return EXIT_USAGE
    verdicts = []
    for profile in profiles:
        path = report_dir / profile.id / "report.json"
        if not path.is_file():
            print(f"sc-conformance: no report was written for {profile.id}", file=sys.stderr)
            return EXIT_INTERNAL
        verdicts.append(json.loads(path.read_text(encoding="utf-8"))["verdict"])
    return EXIT_CONFORMANT if all(v == "conformant" for v in verdicts) else EXIT_NOT_CONFORMANT


def serve_reference(args: argparse.Namespace) -> int:
    from .reference import FAULTS
    from .reference.faults import validate_faults

    if args.list_faults:
        for fault in FAULTS.values():
            print(f"{fault.name}\t{fault.requirement}\t{fault.description}")
        return 0
    validate_faults(args.fault)
    import secrets

    from .reference import mint_token
    from .reference.server import serve

    secret = secrets.token_urlsafe(32)
    token = mint_token(secret, expires_in=7 * 24 * 3600)

    def ready(base_url: str) -> None:
        faults = f" with faults: {', '.join(args.fault)}" if args.fault else ""
        print(f"reference platform on {base_url}{faults}", flush=True)
        print(f"export SC_TOKEN={token}", flush=True)

    serve(args.host, args.port, faults=args.fault, secret=secret, token=token, on_ready=ready)
    return 0


def list_profiles() -> int:
    from .profiles import load_profile, profile_ids

    for profile_id in profile_ids():
        profile = load_profile(profile_id)
        print(f"{profile.id}\t{profile.version}\t{len(profile.requirements)} requirements\t{profile.title['en']}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return run(args)
        if args.command == "serve-reference":
            return serve_reference(args)
        return list_profiles()
    except ConformanceError as exc:
        print(f"sc-conformance: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
