"""Real parts on loopback for tests and benchmarks: a PostgreSQL cluster, redis-server, the service, Celery workers
and reference platforms (``sc-conformance serve-reference``), each started from the installed binaries on a free
port and stopped on exit. A missing binary raises ``Unavailable`` naming the Debian package that provides it."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

__all__ = ["Registry", "Unavailable", "celery_beat", "celery_worker", "create_database", "free_port", "postgres_cluster", "redis_server",
           "reference_platform", "registry_server", "suite_command", "wait_for_port"]


class Unavailable(Exception):
    """A binary the part needs is not installed (the message names the Debian package)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[str] | None = None, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process exited {process.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:g} s")


def suite_command() -> list[str]:
    """``sc-conformance`` of this environment (``$SC_REGISTRY_SUITE`` names another, as the service's worker does)."""
    from .settings import suite_command as configured

    return configured()


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _exports(stream: IO[str], until: str, timeout: float = 60.0) -> tuple[dict[str, str], list[str]]:
    """The ``export NAME=VALUE`` lines a server prints before the line starting with ``until``… and after it."""
    seen: dict[str, str] = {}
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    for line in stream:
        lines.append(line.rstrip("\n"))
        if match := re.match(r"export ([A-Z_]+)=(\S+)", line):
            seen[match.group(1)] = match.group(2)
        if line.startswith(until):
            return seen, lines
        if time.monotonic() > deadline:
            break
    raise RuntimeError("the server stopped before it was ready:\n" + "\n".join(lines[-20:]))


@dataclass
class Platform:
    base_url: str
    token: str
    credentials: str
    port: int


@contextlib.contextmanager
def reference_platform(folder: Path, port: int | None = None, faults: tuple[str, ...] = ()) -> Iterator[Platform]:
    """``sc-conformance serve-reference`` on ``port`` (a free one by default), with faults switched on."""
    port = port or free_port()
    folder.mkdir(parents=True, exist_ok=True)
    argv = [*suite_command(), "serve-reference", "--port", str(port),
            "--credentials-out", str(folder / f"credentials-{port}.yaml"),
            "--attestations-out", str(folder / f"attestations-{port}.yaml")]
    for fault in faults:
        argv += ["--fault", fault]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SC_")}
    process = subprocess.Popen(argv, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, stdin=subprocess.DEVNULL)
    try:
        exports, _ = _exports(process.stdout, "export SC_ATTESTATIONS")  # type: ignore[arg-type]
        _drain(process)
        yield Platform(f"http://127.0.0.1:{port}", exports["SC_TOKEN"], exports["SC_CREDENTIALS"], port)
    finally:
        _stop(process)


def _drain(process: subprocess.Popen[str]) -> None:
    """Read what the server prints from now on, so a full pipe never blocks it."""
    import threading

    def drain() -> None:
        with contextlib.suppress(ValueError, OSError):
            for _ in process.stdout:  # type: ignore[union-attr]
                pass

    threading.Thread(target=drain, daemon=True).start()


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise Unavailable("PostgreSQL is not installed (Debian package `postgresql`)")
    return Path(found[-1]).parent


@contextlib.contextmanager
def postgres_cluster() -> Iterator[str]:
    """A throwaway cluster on a free port; yields ``postgresql://postgres@127.0.0.1:PORT/postgres``.

    initdb and postgres refuse to run as root: as root they run as Debian's ``postgres`` user, in a data
    directory that user owns (a fresh folder directly under the temporary directory it can reach).
    """
    binaries = _postgres_bin()
    folder = Path(tempfile.mkdtemp(prefix="sc-registry-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        import pwd

        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            raise Unavailable("PostgreSQL's `postgres` user is missing (Debian package `postgresql` creates it)") from None
        os.chown(folder, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    data = folder / "data"
    try:
        subprocess.run([*prefix, str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                        "--no-sync", "-E", "UTF8"], check=True, capture_output=True, text=True, timeout=120)
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
        subprocess.run([*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                        str(folder / "log"), "-w", "-t", "60", "start"], check=True, capture_output=True, text=True,
                       timeout=90)
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run([*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           capture_output=True, timeout=60)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def create_database(cluster_url: str, name: str) -> str:
    """A new empty database in the cluster; its URL."""
    import psycopg

    with psycopg.connect(cluster_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')  # our own name: [a-z0-9_] only
    return cluster_url.rsplit("/", 1)[0] + f"/{name}"


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """``redis-server`` on a free loopback port without persistence; yields ``redis://127.0.0.1:PORT/0``."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise Unavailable("redis-server is not installed (Debian package `redis-server`)")
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--protected-mode", "yes"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        wait_for_port(port, process)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(process)


@dataclass
class Registry:
    url: str
    token: str
    public_key: str
    env: dict[str, str]  # what a Celery worker of this service needs
    lines: list[str]
    folder: Path

    def command(self, *args: str, token: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """``sc-conformance registry ARGS`` as an operator with this service's token (and SC_TOKEN if given)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SC_")} | {"SC_REGISTRY_TOKEN": self.token}
        if token:
            env["SC_TOKEN"] = token
        return subprocess.run([*suite_command(), "registry", *args], env=env, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, cwd=self.folder)


@contextlib.contextmanager
def registry_server(folder: Path, db: str, broker: str | None = None,
                    extra_env: dict[str, str] | None = None) -> Iterator[Registry]:
    """``sc-conformance registry serve`` on a free port with its key and database under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    argv = [*suite_command(), "registry", "serve", "--port", "0", "--db", db, "--key", str(folder / "body.key")]
    if broker:
        argv += ["--broker", broker]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SC_") or k == "SC_REGISTRY_SUITE"}
    env |= extra_env or {}
    process = subprocess.Popen(argv, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               stdin=subprocess.DEVNULL)
    try:
        exports, lines = _exports(process.stdout, "jobs:")  # type: ignore[arg-type]
        url = next(line.split(" on ", 1)[1] for line in lines if line.startswith("registry on "))
        _drain(process)
        worker_env = {"SC_REGISTRY_DB": db, "SC_REGISTRY_KEY": str(folder / "body.key"), "SC_REGISTRY_URL": url,
                      **({"SC_REGISTRY_BROKER": broker} if broker else {}), **(extra_env or {})}
        yield Registry(url, exports["SC_REGISTRY_TOKEN"], exports["SC_REGISTRY_PUBLIC_KEY"], worker_env, lines,
                       folder)
    finally:
        _stop(process)


@contextlib.contextmanager
def celery_worker(folder: Path, env: dict[str, str], concurrency: int = 1,
                  name: str = "worker") -> Iterator[subprocess.Popen[str]]:
    """``celery -A conformance_registry.tasks worker --pool prefork`` in a subprocess, once it is ready."""
    log = folder / f"celery-{name}.log"
    base = {k: v for k, v in os.environ.items() if not k.startswith("SC_") or k == "SC_REGISTRY_SUITE"}
    with log.open("w") as sink:
        process = subprocess.Popen([sys.executable, "-m", "celery", "-A", "conformance_registry.tasks", "worker",
                                    "--pool", "prefork", "--concurrency", str(concurrency), "-l", "info",
                                    "-n", f"{name}@%h", "--without-gossip", "--without-mingle"],
                                   cwd=folder, env=base | env, stdout=sink, stderr=subprocess.STDOUT, text=True,
                                   stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while " ready." not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Celery worker did not start:\n" + log.read_text(errors="replace")[-3000:])
            time.sleep(0.2)
        yield process
    finally:
        _stop(process)


@contextlib.contextmanager
def celery_beat(folder: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """``celery -A conformance_registry.tasks beat``: sends the sweep that expires and queues scheduled re-runs."""
    log = folder / "celery-beat.log"
    base = {k: v for k, v in os.environ.items() if not k.startswith("SC_") or k == "SC_REGISTRY_SUITE"}
    with log.open("w") as sink:
        process = subprocess.Popen([sys.executable, "-m", "celery", "-A", "conformance_registry.tasks", "beat",
                                    "-l", "info", "-s", str(folder / "celerybeat-schedule")],
                                   cwd=folder, env=base | env, stdout=sink, stderr=subprocess.STDOUT, text=True,
                                   stdin=subprocess.DEVNULL)
    try:
        yield process
    finally:
        _stop(process)
