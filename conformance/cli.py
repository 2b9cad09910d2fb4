"""``sc-conformance``: the command-line door to the same pytest items and reports as the plugin.

    sc-conformance run [--base-url URL] [--profile ID ...] [--report-dir D] [--rerun-failed REPORT] …
    sc-conformance serve-reference [--host H] [--port P] [--fault NAME ...] [--variant NAME ...] [--list-faults] [--list-variants]
                                   [--credentials-out FILE] [--attestations-out FILE]
    sc-conformance report keygen|sign|verify|compare|html|earl …
    sc-conformance profiles list|lint|diff|matrix …
    sc-conformance openapi [-o FILE] [--schemathesis-config FILE]
    sc-conformance standard build -o DIR
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__

from .errors import ConformanceError, UsageError
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
    run.add_argument("--junitxml", metavar="PATH", help="also write JUnit XML for CI systems to PATH")
    run.add_argument("--rerun-failed", metavar="REPORT",
                     help="re-run only the requirements that failed, were inconclusive or were not run in REPORT "
                          "(a report.json) and merge the new results into a new report")

    serve = commands.add_parser("serve-reference", help="run the reference platform by hand")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--fault", action="append", default=[], metavar="NAME",
                       help="break one behaviour (repeatable); see --list-faults")
    serve.add_argument("--list-faults", action="store_true", help="print each fault and the requirement it breaks")
    serve.add_argument("--variant", action="append", default=[], metavar="NAME",
                       help="make one choice the standard allows (repeatable); see --list-variants")
    serve.add_argument("--list-variants", action="store_true",
                       help="print each tolerated variant and the statement that allows it")
    serve.add_argument("--credentials-out", default="reference-credentials.yaml", metavar="FILE",
                       help="where to write a token per role (the --credentials format; default: %(default)s)")
    serve.add_argument("--attestations-out", default="reference-attestations.yaml", metavar="FILE",
                       help="where to write the attestations of the platform's documents (default: %(default)s)")

    _report_parser(commands)
    _profiles_parser(commands)
    openapi = commands.add_parser("openapi", help="publish the interface standard as an OpenAPI 3.1 document")
    openapi.add_argument("-o", "--out", metavar="FILE", help="write to FILE instead of standard output")
    openapi.add_argument("--format", choices=["json", "yaml"], default="json")
    openapi.add_argument("--schemathesis-config", metavar="FILE",
                         help="also write a Schemathesis configuration (and its hooks file beside it)")
    _standard_parser(commands)
    return parser


def _standard_parser(commands: argparse._SubParsersAction) -> None:
    standard = commands.add_parser("standard", help="publish the readable specification").add_subparsers(
        dest="action", required=True)
    build = standard.add_parser("build", help="write the bilingual (zh/en) HTML specification and vendor guide")
    build.add_argument("-o", "--out", required=True, metavar="DIR", help="directory to write the site into")


def standard(args: argparse.Namespace) -> int:
    from .reference import VARIANTS  # the doors hand the reference platform's tables to tools
    from .tools.standard import build_site

    site = build_site(args.out, variants=VARIANTS.values())
    print(f"wrote {len(site.pages)} pages ({len(site.requirements)} requirements) to {args.out}; "
          f"open {Path(args.out) / 'index.html'}")
    return 0


def _report_parser(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser("report", help="sign, verify, compare and export reports").add_subparsers(
        dest="action", required=True)
    keygen = report.add_parser("keygen", help="make an Ed25519 key pair for signing reports")
    keygen.add_argument("--out", default=".", metavar="DIR", help="directory for report-signing.key/.pub")
    sign = report.add_parser("sign", help="sign report.json files (Ed25519 over RFC 8785 canonical JSON)")
    sign.add_argument("reports", nargs="+", metavar="REPORT")
    sign.add_argument("--key", required=True, metavar="KEY", help="private key from `report keygen`")
    verify = report.add_parser("verify", help="check signature and digests; exit 1 with the reason if edited")
    verify.add_argument("reports", nargs="+", metavar="REPORT")
    verify.add_argument("--public-key", metavar="PUB", help="only trust this signer's public key")
    compare = report.add_parser("compare", help="vendors side by side: verdicts, scores, differences first")
    compare.add_argument("reports", nargs="+", metavar="REPORT")
    compare.add_argument("--name", action="append", metavar="VENDOR", help="name of each report's vendor, in order")
    compare.add_argument("--html", metavar="FILE", help="also write the comparison as HTML")
    compare.add_argument("--force", action="store_true", help="compare reports of different profile versions")
    compare.add_argument("--lang", choices=["zh", "en"], default="zh", help="language the HTML opens in")
    for name, text in (("html", "a self-contained bilingual HTML page"), ("earl", "W3C EARL JSON-LD")):
        export = report.add_parser(name, help=f"export a report.json as {text}")
        export.add_argument("report", metavar="REPORT")
        export.add_argument("-o", "--out", metavar="FILE", help="write to FILE instead of standard output")
        if name == "html":
            export.add_argument("--lang", choices=["zh", "en"], default="zh", help="language the page opens in")


def _profiles_parser(commands: argparse._SubParsersAction) -> None:
    profiles = commands.add_parser("profiles", help="work with profiles").add_subparsers(dest="action", required=True)
    profiles.add_parser("list", help="the bundled profiles")
    lint = profiles.add_parser("lint", help="what to fix before publishing a profile (exit 1 if anything)")
    lint.add_argument("profiles", nargs="*", metavar="PROFILE", help="ids or YAML files (default: all bundled)")
    diff = profiles.add_parser("diff", help="added, removed, tightened, loosened requirements and schemas (Markdown)")
    diff.add_argument("old", metavar="OLD")
    diff.add_argument("new", metavar="NEW")
    diff.add_argument("-o", "--out", metavar="FILE")
    matrix = profiles.add_parser("matrix", help="traceability: requirement → source → checks → fixtures → schemas")
    matrix.add_argument("profiles", nargs="*", metavar="PROFILE", help="ids or YAML files (default: all bundled)")
    matrix.add_argument("--format", choices=["markdown", "csv"], default="markdown")
    matrix.add_argument("-o", "--out", metavar="FILE")


def _pytest_args(args: argparse.Namespace, ini: Path) -> list[str]:
    argv = ["-c", str(ini), "--rootdir", os.getcwd(), "-q", "-p", "no:randomly",
            "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    if not args.quiet:
        argv += ["-o", "console_output_style=classic"]  # the progress lines replace pytest's percentages
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
    if args.junitxml:
        argv += ["--junitxml", args.junitxml, "-o", "junit_suite_name=sc-conformance"]
    return argv


def _previous(args: argparse.Namespace) -> dict[str, Any] | None:
    """The report ``--rerun-failed`` names; its profile becomes the one run."""
    if not args.rerun_failed:
        return None
    from .reports.merge import report_digest
    from .reports.signing import check_signature, read_report, trusted_keys

    raw, previous = read_report(Path(args.rerun_failed))
    args.rerun_trust, args.rerun_digest = check_signature(raw, previous, trusted_keys()), report_digest(raw)
    profile_id = previous["profile"]["id"]
    if args.profile and args.profile != [profile_id]:
        raise UsageError(f"--rerun-failed {args.rerun_failed} is a report of profile {profile_id!r}, "
                         f"but --profile asks for {', '.join(args.profile)}; leave --profile out")
    args.profile = [profile_id]
    return previous


def _verdict_code(report: dict[str, Any]) -> int:
    from .reports.waivers import exit_ok  # waivers and a baseline change the exit status, never the verdict

    return EXIT_CONFORMANT if exit_ok(report) else EXIT_NOT_CONFORMANT


def run(args: argparse.Namespace) -> int:
    import pytest

    from .checks import validate_call
    from .profiles import load_profile, profile_ids
    from .reports.merge import rerun_selection
    from .reports.progress import Progress

    previous = _previous(args)
    args.profile = args.profile or profile_ids()  # no --profile: the whole standard, every bundled profile
    profiles = [load_profile(name, validate_check=validate_call) for name in args.profile]
    nodes: list[str] = []
    if previous is not None:
        if previous["profile"]["digest"] != profiles[0].digest:
            raise UsageError(f"{args.rerun_failed} was run against another version of profile {profiles[0].id!r} "
                             f"(digest {previous['profile']['digest']}, installed {profiles[0].digest}); "
                             "run the whole profile again instead of --rerun-failed")
        ids, why = rerun_selection(previous, args.rerun_trust)
        if why:
            print(f"sc-conformance: {args.rerun_failed}: {why}")
        nodes = [f"{profiles[0].path}::{rid}" for rid in ids or []]
        if ids is not None and not nodes:
            print(f"sc-conformance: nothing to re-run: every requirement in {args.rerun_failed} passed")
            return _verdict_code(previous)
    report_dir = Path(args.report_dir)
    for profile in profiles:
        stale = report_dir / profile.id / "report.json"
        stale.unlink(missing_ok=True)
    if args.token:
        os.environ["SC_TOKEN"] = args.token
    plugins = [] if args.quiet else [Progress()]
    with tempfile.TemporaryDirectory() as scratch:
        ini = Path(scratch) / "pytest.ini"
        ini.write_text("[pytest]\naddopts =\n", encoding="utf-8")
        code = pytest.main(_pytest_args(args, ini) + nodes, plugins=plugins)
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERRUPTED):
        return EXIT_USAGE
    codes = []
    for profile in profiles:
        path = report_dir / profile.id / "report.json"
        if not path.is_file():
            print(f"sc-conformance: no report was written for {profile.id}", file=sys.stderr)
            return EXIT_INTERNAL
        report = json.loads(path.read_text(encoding="utf-8"))
        if previous is not None:
            report = _merge(previous, report, report_dir, args)
        codes.append(_verdict_code(report))
    return max(codes)


def _merge(previous: dict[str, Any], report: dict[str, Any], report_dir: Path,
           args: argparse.Namespace) -> dict[str, Any]:
    from .reports import write_reports
    from .reports.merge import merge_reports

    merged = merge_reports(previous, report, old_digest=args.rerun_digest, old_trust=args.rerun_trust)
    path = write_reports(merged, report_dir)
    print(f"merged the re-run of {len(report['requirements'])} requirements into {path}: {merged['verdict']}")
    return merged


def serve_reference(args: argparse.Namespace) -> int:
    from .reference import FAULTS, VARIANTS
    from .reference.faults import validate_faults
    from .reference.variants import validate_variants

    if args.list_faults:
        for fault in FAULTS.values():
            print(f"{fault.name}\t{fault.requirement}\t{fault.description}")
        return 0
    if args.list_variants:
        for variant in VARIANTS.values():
            print(f"{variant.name}\t{variant.description}\t{variant.allowed_by}")
        return 0
    validate_faults(args.fault)
    validate_variants(args.variant)
    import secrets

    import yaml

    from .embedded import _attestations, _credentials, _tenants
    from .reference.server import serve

    secret = secrets.token_urlsafe(32)
    issued: dict[str, str] = {}
    credentials_out, attestations_out = Path(args.credentials_out).resolve(), Path(args.attestations_out).resolve()

    def provision(platform: Any) -> None:
        """Two tenant communities and a token per role, written as a credentials file (never printed
        but the admin's), and the attestations of the platform's documents: what a vendor hands over."""
        credentials = _credentials(platform, _tenants(platform), expires_in=7 * 24 * 3600)
        roles = {name: {"token": role.token, "scopes": sorted(role.scopes),
                        **({"community": role.community} if role.community else {})}
                 for name, role in credentials.roles.items()}
        credentials_out.write_text(yaml.safe_dump({"default": credentials.default, "roles": roles}), encoding="utf-8")
        credentials_out.chmod(0o600)
        attestations = [{"requirement": a.requirement, "attested_by": a.attested_by, "statement": a.statement,
                         "document": {"reference": a.reference, "sha256": a.sha256}}
                        for a in _attestations().values()]
        attestations_out.write_text(yaml.safe_dump({"attestations": attestations}, allow_unicode=True),
                                    encoding="utf-8")
        issued["token"] = credentials.token or ""

    def ready(base_url: str) -> None:
        faults = f" with faults: {', '.join(args.fault)}" if args.fault else ""
        variants = f" with variants: {', '.join(args.variant)}" if args.variant else ""
        print(f"reference platform on {base_url}{faults}{variants}", flush=True)
        print(f"export SC_TOKEN={issued['token']}", flush=True)
        print(f"export SC_CREDENTIALS={credentials_out}", flush=True)
        print(f"export SC_ATTESTATIONS={attestations_out}", flush=True)
        print(f"sc-conformance run --base-url {base_url}", flush=True)

    serve(args.host, args.port, faults=args.fault, variants=args.variant, secret=secret, on_ready=ready,
          prepare=provision)
    return 0


def _faults_by_requirement() -> dict[str, list[str]]:
    from .reference import FAULTS

    faults: dict[str, list[str]] = {}
    for fault in FAULTS.values():
        faults.setdefault(fault.requirement, []).append(fault.name)
    return faults


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return run(args)
        if args.command == "serve-reference":
            return serve_reference(args)
        if args.command == "standard":
            return standard(args)
        from .tools import commands

        if args.command == "report":
            return commands.report(args)
        if args.command == "openapi":
            return commands.openapi(args)
        return commands.profiles(args, _faults_by_requirement() if args.action == "lint" else {})
    except ConformanceError as exc:
        print(f"sc-conformance: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
