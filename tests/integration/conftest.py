import contextlib
import os
import re
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


@pytest.fixture
def serve_reference():
    """A factory: ``with serve_reference(folder, *args) as exports`` runs ``sc-conformance serve-reference --port 0
    *args`` in ``folder`` and yields what it announces once it listens — {"base_url": …, "SC_TOKEN": …,
    "SC_CREDENTIALS": …, "SC_ATTESTATIONS": …}, with ``env`` the environment a vendor would hand over (SC_* from
    the exports only); the platform stops on exit."""

    @contextlib.contextmanager
    def serve(folder, *args):
        folder.mkdir(parents=True, exist_ok=True)
        server = subprocess.Popen([*CLI, "serve-reference", "--port", "0", *args], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, cwd=folder)
        try:
            seen: dict = {}
            for line in server.stdout:
                if match := re.search(r"reference platform on (http://\S+)", line):
                    seen["base_url"] = match.group(1)
                if match := re.match(r"export (SC_[A-Z]+)=(\S+)", line):
                    seen[match.group(1)] = match.group(2)
                if "SC_ATTESTATIONS" in seen:
                    break
            else:
                raise AssertionError(f"serve-reference stopped before announcing its exports: {seen}")
            env = {k: v for k, v in os.environ.items() if not k.startswith("SC_")}
            seen["env"] = env | {k: v for k, v in seen.items() if k.startswith("SC_")}
            yield seen
        finally:
            server.terminate()
            server.wait(timeout=10)

    return serve
