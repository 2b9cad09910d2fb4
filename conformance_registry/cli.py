"""``sc-conformance registry serve|certify|recertify|verify|revoke``: the service, and the clients of its API."""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import sys
from collections.abc import Sequence
from typing import NoReturn

from .client import certify, recertify, revoke, verify
from .errors import RegistryError

__all__ = ["main"]

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(EXIT_USAGE)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sc-conformance registry",
                     description="the certification service: runs the suite itself and publishes signed certificates")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = commands.add_parser("serve", help="run the service (API, public pages, signed registry.json)")
    serve.add_argument("--db", metavar="URL", help="a SQLite file (default: sc-registry.sqlite here) or postgresql://…")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--key", metavar="FILE", help="the body's Ed25519 private key (PEM; made 0600 if missing, "
                                                     "public key beside it; default: sc-registry.key)")
    serve.add_argument("--broker", metavar="URL", help="Celery broker (redis://…; env SC_REGISTRY_BROKER); "
                                                       "none: an in-process worker runs the jobs")
    for name, text in (("certify", "register a platform and certify it against a profile"),
                       ("recertify", "re-run a certificate's profile against its platform now"),
                       ("verify", "exit 0 only if the certificate is signed by the body, listed and valid"),
                       ("revoke", "revoke a certificate (final) with a reason")):
        command = commands.add_parser(name, help=text)
        if name != "certify":
            command.add_argument("certificate", metavar="CERT-ID")
        command.add_argument("--registry", required=True, metavar="URL", help="the service's URL")
        if name == "certify":
            command.add_argument("--name", required=True)
            command.add_argument("--vendor", default="")
            command.add_argument("--base-url", required=True, metavar="URL")
            command.add_argument("--profile", required=True, metavar="ID")
            command.add_argument("--credentials", metavar="FILE", help="role tokens (the run's --credentials format)")
        if name in ("certify", "recertify"):
            command.add_argument("--wait", action="store_true", help="wait for the run and print the certificate")
            command.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait (default 3600)")
        if name == "verify":
            command.add_argument("--public-key", required=True, metavar="FILE",
                                 help="the body's public key, obtained from the body (never from the registry)")
        if name == "revoke":
            command.add_argument("--reason", required=True, metavar="TEXT")
    return parser


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .database import migrate
    from .jobs import CeleryDispatcher, Dispatcher, InProcessWorker, open_context
    from .settings import Settings
    from .signing import public_key_path
    from .web import create_app

    listener = socket.create_server((args.host, args.port))
    port = listener.getsockname()[1]
    try:
        settings = Settings.from_env(db=args.db, key=args.key, broker=args.broker,
                                     public_url=os.environ.get("SC_REGISTRY_URL") or f"http://{args.host}:{port}")
        ctx = open_context(settings)
        migrate(ctx.sessions.kw["bind"])
    except BaseException:
        listener.close()
        raise
    dispatcher: Dispatcher
    if settings.broker:
        dispatcher = CeleryDispatcher(settings.broker)
    else:
        worker = InProcessWorker(ctx)
        worker.start()
        dispatcher = worker
    token = os.environ.get("SC_REGISTRY_TOKEN") or secrets.token_urlsafe(32)
    app = create_app(ctx, dispatcher, token)
    print(f"registry on http://{args.host}:{port}", flush=True)
    print(f"export SC_REGISTRY_TOKEN={token}", flush=True)
    print(f"export SC_REGISTRY_PUBLIC_KEY={public_key_path(settings.key_path)}", flush=True)
    print(f"jobs: {'celery on ' + _safe_url(settings.broker) if settings.broker else 'in-process worker'}; "
          f"database: {ctx.sessions.kw['bind'].url.render_as_string(hide_password=True)}", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    try:
        server.run(sockets=[listener])
    finally:
        dispatcher.close()
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a URL SQLAlchemy reads: show its scheme only
        return url.split("://", 1)[0] + "://…"


COMMANDS = {"serve": serve, "certify": certify, "recertify": recertify, "verify": verify, "revoke": revoke}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # a usage error (2) or --help (0), as a status the caller returns
        return int(exc.code or 0)
    try:
        return COMMANDS[args.command](args)
    except RegistryError as exc:
        print(f"sc-conformance registry: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"sc-conformance registry: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
