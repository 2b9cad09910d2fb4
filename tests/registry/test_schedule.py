"""Re-certification on a schedule against the live platform: with no one asking, a live certificate is run again
once its period has passed — by the in-process worker's timer, and by Celery beat sending the sweep to a worker."""

import re
import time
from contextlib import ExitStack

import httpx
import pytest

from conformance_registry.testing import celery_beat, celery_worker, reference_platform, registry_server


def last_run(registry, certificate):
    document = httpx.get(f"{registry.url}/registry.json", timeout=30).json()
    entry = next(e for e in document["entries"] if e["certificateId"] == certificate)
    return entry["lastRun"], entry["status"], len(entry["statusReports"])


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["in-process", "celery-beat"])
def test_a_live_certificate_is_run_again_when_its_period_passes(tmp_path, jobs, request):
    every = {"SC_REGISTRY_RECERTIFY_EVERY": "5"}
    with ExitStack() as stack:
        broker = request.getfixturevalue("redis") if jobs == "celery-beat" else None
        registry = stack.enter_context(registry_server(tmp_path / "service", str(tmp_path / "r.sqlite"), broker,
                                                       extra_env=every))
        if broker:
            stack.enter_context(celery_worker(tmp_path, registry.env | every))
        platform = stack.enter_context(reference_platform(tmp_path / "platform"))
        done = registry.command("certify", "--registry", registry.url, "--name", "scheduled", "--base-url",
                                platform.base_url, "--profile", "core", "--wait", token=platform.token)
        assert done.returncode == 0, done.stdout + done.stderr
        certificate = re.fullmatch(r"certificate (\S+) valid", done.stdout.strip()).group(1)
        issued = last_run(registry, certificate)
        if broker:
            stack.enter_context(celery_beat(tmp_path, registry.env | every))
        deadline = time.monotonic() + 120
        while (now := last_run(registry, certificate))[0] == issued[0]:
            assert time.monotonic() < deadline, "no scheduled re-run within 120 s"
            time.sleep(1)
        assert now[1:] == ("valid", 1)  # confirmed: no status change, so no new status report
