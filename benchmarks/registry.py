"""Certification service throughput: 40 certifications of reference platforms queued at once on one and then on two
Celery workers (``--pool prefork --concurrency 1`` each) against a real redis-server; runs per minute.

Each certification is ``sc-conformance run --profile core`` (45 requirements) in its own process, against one of four
reference platforms served by hand (``serve-reference``); the service keeps its records in SQLite.
``SC_BENCH_REGISTRY_RUNS=N`` queues N instead of 40.
"""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from conformance_registry.testing import celery_worker, redis_server, reference_platform, registry_server

from ._harness import record

PLATFORMS = 4
PROFILE = "core"


def _throughput(folder: Path, workers: int, runs: int) -> dict[str, Any]:
    with ExitStack() as stack:
        broker = stack.enter_context(redis_server())
        registry = stack.enter_context(registry_server(folder / "service", str(folder / "registry.sqlite"), broker))
        for index in range(workers):
            stack.enter_context(celery_worker(folder, registry.env, concurrency=1, name=f"w{index}"))
        platforms = [stack.enter_context(reference_platform(folder / f"platform-{i}")) for i in range(PLATFORMS)]
        operator = {"Authorization": f"Bearer {registry.token}"}
        started = time.perf_counter()
        queued = []
        for index in range(runs):
            platform = platforms[index % PLATFORMS]
            answer = httpx.post(f"{registry.url}/api/certifications", headers=operator, timeout=30, json={
                "name": f"reference {index % PLATFORMS}", "vendor": "bench", "base_url": platform.base_url,
                "profile": PROFILE, "token": platform.token, "credentials": Path(platform.credentials).read_text()})
            answer.raise_for_status()
            queued.append(answer.json()["run"])
        states: dict[str, dict[str, Any]] = {}
        while len(states) < len(queued):
            time.sleep(1)
            for run_id in queued:
                if run_id not in states:
                    state = httpx.get(f"{registry.url}/api/runs/{run_id}", timeout=30).json()
                    if state["state"] in ("finished", "failed"):
                        states[run_id] = state
        wall = time.perf_counter() - started
    if os.environ.get("SC_BENCH_REGISTRY_TRACE"):
        for state in sorted(states.values(), key=lambda s: s["started_at"] or ""):
            print(workers, state["id"], state["queued_at"], state["started_at"], state["finished_at"], state["state"])
    valid = sum(1 for s in states.values() if (s.get("certificate") or {}).get("status") == "valid")
    return {"runs": runs, "wall_s": round(wall, 1), "runs_per_minute": round(runs * 60 / wall, 2),
            "valid": valid, "failed": sum(1 for s in states.values() if s["state"] == "failed")}


def main() -> None:
    runs = int(os.environ.get("SC_BENCH_REGISTRY_RUNS", "40"))
    figures: dict[str, Any] = {"profile": PROFILE, "platforms": PLATFORMS, "cores": os.cpu_count()}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory(prefix="sc-bench-registry-") as scratch:
            result = _throughput(Path(scratch), workers, runs)
        for key, value in result.items():
            figures[f"{workers}_worker{'s' if workers > 1 else ''}_{key}"] = value
    record("registry", figures)


if __name__ == "__main__":
    main()
