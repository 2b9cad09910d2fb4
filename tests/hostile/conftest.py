import allure_pytest.plugin  # noqa: F401  (imported here so pytester's in-process runs keep it)
import pytest

import conformance.cli  # noqa: F401
import conformance.suite  # noqa: F401
from conformance.checks import load_builtin_checks

load_builtin_checks()  # pytester drops modules first imported by an inner run; importing them once here keeps runs fast

from .server import HostileServer, gzip_bomb  # noqa: E402 (after the warm-up import above, on purpose)


def pytest_configure(config):
    # `pytest_plugins` is only allowed in the root conftest; the in-process runs need pytester.
    config.pluginmanager.import_plugin("pytester")


@pytest.fixture
def hostile():
    """A factory: ``with hostile("silent", other_origin=…) as base_url`` (the server object is ``.last``)."""

    class Factory:
        last: HostileServer | None = None

        def __call__(self, behaviour, **kwargs):
            gzip_bomb()  # built once per process, outside any run being measured
            self.last = HostileServer(behaviour, **kwargs)
            return self.last

    return Factory()
