import os
import subprocess
import sys

import pytest

from conformance.embedded import embedded_reference

CLI = [sys.executable, "-m", "conformance.cli"]


@pytest.fixture
def reference():
    """A factory: ``with reference(faults) as (base_url, token)`` starts a fresh platform on loopback."""
    return embedded_reference


@pytest.fixture
def cli(tmp_path):
    """Run ``sc-conformance`` in a scratch directory; returns the CompletedProcess."""

    def run(*args, token=None, timeout=300):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SC_")}
        if token:
            env["SC_TOKEN"] = token
        return subprocess.run([*CLI, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    return run
