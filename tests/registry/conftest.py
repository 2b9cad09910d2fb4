"""Real parts for the registry's tests: a PostgreSQL cluster and redis-server per session (skipped, naming the
Debian package, where they are not installed), and a scratch folder per test."""

import contextlib
import itertools

import pytest

from conformance_registry import testing

_databases = itertools.count(1)


@pytest.fixture(scope="session")
def postgres():
    """A function returning the URL of a new empty database in a cluster this session started."""
    try:
        cluster = testing.postgres_cluster()
        url = cluster.__enter__()
    except testing.Unavailable as exc:
        pytest.skip(str(exc))
    try:
        yield lambda: testing.create_database(url, f"registry_{next(_databases)}")
    finally:
        cluster.__exit__(None, None, None)


@pytest.fixture(scope="session")
def redis():
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(testing.redis_server())
        except testing.Unavailable as exc:
            pytest.skip(str(exc))
        yield url


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    """The service's context on a fresh SQLite file, migrated, with its own key and vault (no server)."""
    from conformance_registry.database import migrate
    from conformance_registry.jobs import open_context
    from conformance_registry.settings import Settings

    monkeypatch.delenv("SC_REGISTRY_SECRET_KEY", raising=False)
    settings = Settings.from_env(db=str(tmp_path / "unit.sqlite"), key=str(tmp_path / "body.key"),
                                 public_url="http://registry.test")
    context = open_context(settings)
    migrate(context.sessions.kw["bind"])
    return context

