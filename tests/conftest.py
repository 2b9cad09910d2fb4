"""Fixtures every test shares."""

import pytest

from conformance import redaction


@pytest.fixture(autouse=True)
def _secrets_stay_with_their_test():
    """Secrets a test registers are forgotten after it, as they are when a CLI run's process ends.

    The process's redactor only grows (a credential once seen is redacted for the rest of the process);
    across hundreds of tests in one worker that made every redaction slower and let one test's
    secret (``"x" * 20``) redact another test's body.
    """
    with redaction.forgetting():
        yield
