"""The ``report``, ``profiles``, ``checks``, ``explain`` and ``openapi`` sub-commands of ``sc-conformance``
(parsers live in ``cli``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import UsageError

__all__ = ["checks", "explain", "openapi", "profiles", "report", "requirements_using"]


def _emit(text: str, out: str | None) -> None:
    if out:
        from ..loading import write_file

        write_file(out, text)  # atomic; a symlink at OUT is replaced, not followed
        print(f"wrote {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def _load(path: str) -> dict:
    from ..reports.consistency import require_consistent
    from ..reports.signing import read_report

    report = read_report(Path(path))[1]
    require_consistent(report, path)  # an export never presents verdicts its own checks contradict
    return report


def _vendor_of(path: Path) -> str:
    folder = path.resolve().parent.parent
    if folder.name == "reports" and folder.parent.name:  # what `sc-conformance run` writes, in a vendor's folder
        folder = folder.parent
    return folder.name or path.stem


def _vendor_names(paths: list[str], names: list[str] | None, profiles: list[str]) -> list[str]:
    if names and len(names) != len(paths):
        raise UsageError(f"--name was given {len(names)} times for {len(paths)} reports; give one per report or none")
    if names:
        return names
    # <vendor>/<profile>/report.json or <vendor>/reports/<profile>/report.json → <vendor> (a vendor's reports of
    # several profiles share it); otherwise the file's own name
    guesses = [_vendor_of(Path(p)) for p in paths]
    pairs = list(zip(guesses, profiles))
    return guesses if len(set(pairs)) == len(pairs) else [str(p) for p in paths]


def report(args: argparse.Namespace) -> int:
    from ..reports import signing

    if args.action == "keygen":
        out = Path(args.out)
        key_id = signing.generate_keys(out / "report-signing.key", out / "report-signing.pub")
        print(f"wrote {out / 'report-signing.key'} (keep it secret) and {out / 'report-signing.pub'} ({key_id})")
        return 0
    if args.action == "sign":
        if not Path(args.key).is_file():
            raise UsageError(f"--key {args.key}: no such file; make a key pair with `sc-conformance report keygen`")
        for path in args.reports:
            signature = signing.sign_report(Path(path), Path(args.key))
            print(f"signed {path} with {signature['key_id']}")
        return 0
    if args.action == "verify":
        return _verify(args)
    from ..reports.consistency import InconsistentReport, require_consistent

    try:
        if args.action == "compare":
            return _compare(args)
        if args.action == "html":
            from ..reports.html import render_report

            raw, loaded = signing.read_report(Path(args.report))
            require_consistent(loaded, args.report)
            trust = signing.check_signature(raw, loaded, signing.trusted_keys())
            _emit(render_report(loaded, lang=args.lang, trust=trust.label), args.out)
            return 0
        from ..escaping import json_ld
        from ..reports.earl import to_earl

        _emit(json.dumps(json_ld(to_earl(_load(args.report))), ensure_ascii=False, indent=2) + "\n", args.out)
    except InconsistentReport as exc:  # a verdict about the report, as verify's: exit 1, not a usage error
        print(f"sc-conformance: {exc}", file=sys.stderr)
        return 1
    return 0


def _verify(args: argparse.Namespace) -> int:
    from ..escaping import terminal
    from ..reports.signing import verify_report

    failed = False
    for path in args.reports:  # every file is checked, however broken the one before it
        problems = verify_report(Path(path), Path(args.public_key) if args.public_key else None)
        for problem in problems:
            print(terminal(f"{path}: NOT VERIFIED: {problem}", newlines=False), file=sys.stderr)
        if not problems:
            print(terminal(f"{path}: verified: signature and digests hold, signed by a trusted key", newlines=False))
        failed = failed or bool(problems)
    return 1 if failed else 0


def _compare(args: argparse.Namespace) -> int:
    from ..evaluation import load_scheme
    from ..reports.bids import compare_bids, render_bids
    from ..reports.consistency import require_consistent
    from ..reports.html import render_bids as render_bids_html
    from ..reports.signing import check_signature, read_report, trusted_keys
    from ..standards import activate, evaluation_dirs, resolve_standards

    loaded = [read_report(Path(p)) for p in args.reports]
    names = _vendor_names(args.reports, args.name, [str(report["profile"]["id"]) for _, report in loaded])
    for path, (_raw, report) in zip(args.reports, loaded):
        require_consistent(report, path)
    keys = trusted_keys()
    activate(resolve_standards(args.standard))  # their evaluation schemes are searched before the national one
    scheme = load_scheme(args.weights, folders=evaluation_dirs())  # the buyer's weights, or the default scheme
    bids = compare_bids([(n, report) for n, (_, report) in zip(names, loaded)], scheme=scheme, force=args.force,
                        trust=[check_signature(raw, report, keys) for raw, report in loaded])
    sys.stdout.write(render_bids(bids))
    if args.html:
        _emit(render_bids_html(bids, lang=args.lang), args.html)
    return 0


def profiles(args: argparse.Namespace, faults: dict[str, list[str]]) -> int:
    from ..escaping import terminal
    from ..profiles import load_profile, profile_ids
    from ..standards import activate, resolve_standards

    # a local standard's folders are searched first; diff reads each side from its own standard (two versions of
    # one city's standard have one id), the other commands also use the standards their profile files imply
    activate(resolve_standards(args.standard, [] if args.action == "diff" else getattr(args, "profiles", [])))
    # lint and matrix without profile ids: the --standard folders' own profiles, else every known profile
    default = [pid for standard in resolve_standards(args.standard) for pid in standard.profile_ids()] or profile_ids()
    if args.action == "list":
        for profile_id in profile_ids():
            profile = load_profile(profile_id)
            print(f"{profile.id}\t{profile.version}\t{len(profile.requirements)} requirements\t{profile.title['en']}")
        return 0
    if args.action == "lint":
        from ..tools.lint import lint_profile

        problems = list(dict.fromkeys(p for name in (args.profiles or default)  # a standard's own problems once
                                      for p in lint_profile(name, faults, require_faults=args.require_faults)))
        for problem in problems:
            print(terminal(problem, newlines=False))
        errors = sum(1 for p in problems if p.severity == "error")
        print(f"{errors} problem(s), {len(problems) - errors} warning(s)", file=sys.stderr)
        return 1 if errors or (args.strict and problems) else 0
    if args.action == "diff":
        from ..tools.diff import diff_profiles

        _emit(diff_profiles(args.old, args.new), args.out)
        return 0
    from ..tools.matrix import matrix_rows, to_csv, to_markdown

    rows = [row for name in (args.profiles or default) for row in matrix_rows(load_profile(name))]
    _emit(to_csv(rows) if args.format == "csv" else to_markdown(rows), args.out)
    return 0


def openapi(args: argparse.Namespace) -> int:
    from ..tools.openapi import openapi_document

    document = openapi_document()
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if args.format == "yaml":
        import yaml

        text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    _emit(text, args.out)
    if getattr(args, "schemathesis_config", None):
        from ..tools.openapi import write_schemathesis_config

        for written in write_schemathesis_config(Path(args.schemathesis_config)):
            print(f"wrote {written}", file=sys.stderr)
    return 0


def requirements_using() -> dict[str, list[str]]:
    """Check name → ``profile:requirement`` of every bundled requirement that calls it (its defining profile)."""
    from ..profiles import load_profile, profile_ids

    using: dict[str, list[str]] = {}
    for profile_id in profile_ids():
        for req in load_profile(profile_id).requirements:
            if req.profile != profile_id:
                continue  # inherited: listed under the profile that defines it
            for call in req.checks:
                entry = f"{req.profile}:{req.id}"
                if entry not in using.setdefault(call.check, []):
                    using[call.check].append(entry)
    return using


def _spec(name: str):  # -> CheckSpec
    from ..checks import load_builtin_checks
    from ..errors import did_you_mean

    registry = load_builtin_checks()
    if name not in registry:
        raise UsageError(f"unknown check {name!r}{did_you_mean(name, registry)}; `sc-conformance checks list` "
                         "lists them")
    return registry[name]


def checks(args: argparse.Namespace) -> int:
    from ..checks import load_builtin_checks

    using = requirements_using()
    if args.action == "list":
        for name, spec in sorted(load_builtin_checks().items()):
            summary = spec.doc.splitlines()[0] if spec.doc else ""
            print(f"{name}\t{spec.code or '-'}\t{len(using.get(name, []))} requirement(s)\t{summary}")
        return 0
    spec = _spec(args.name)
    print(f"{spec.name}  ({spec.code or 'no code'})")
    print()
    print(spec.doc or "(no description)")
    print()
    print("parameters:" if spec.parameters else "parameters: none")
    for param in spec.parameters:
        default = "required" if param.required else f"default {param.default!r}"
        print(f"  {param.name}: {param.type}  ({default})")
    print()
    users = using.get(spec.name, [])
    print(f"used by {len(users)} requirement(s){':' if users else ''}")
    for entry in users:
        print(f"  {entry}")
    return 0


def explain(args: argparse.Namespace) -> int:
    from ..checks import lookup_code

    code = lookup_code(args.code)
    print(f"{code.code}: {code.title}")
    print()
    if code.check:
        spec = _spec(code.check)
        print(f"check: {code.check}")
        print(f"what it checks: {' '.join(spec.doc.split()) or '(no description)'}")
    else:
        print("a conclusion of the suite itself, not of one check")
    print(f"how to fix: {code.fix}")
    if code.check:
        users = requirements_using().get(code.check, [])
        print()
        print(f"requirements that use it ({len(users)}):")
        statements = _statements()
        for entry in users:
            print(f"  {entry}  {statements.get(entry, '')}")
    return 0


def _statements() -> dict[str, str]:
    from ..profiles import load_profile, profile_ids

    return {f"{req.profile}:{req.id}": f"[{req.level}] {req.statement['en']}"
            for profile_id in profile_ids() for req in load_profile(profile_id).requirements}
