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
