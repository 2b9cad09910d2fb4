"""Suite overhead: the requests of a core run sent by bare httpx against the same server, versus the suite.

The suite's run is recorded; the same sequence is replayed with a bare ``httpx.Client`` against a fresh
reference platform, mapping the ids the first run created to those the replay creates. The ratio is
suite wall time over bare wall time; cProfile then shows where the rest goes.
"""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import secrets
from typing import Any

import httpx

from conformance.checks import validate_call
from conformance.profiles import load_profile
from conformance.reference import create_app, mint_token, running
from conformance.runner import Runner
from conformance.session import RunSession
from conformance.target import Exchange, Target

from ._harness import record, stopwatch, target


class RecordingTarget(Target):
    """A Target that remembers every exchange in order (the evidence keeps only some)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.log: list[Exchange] = []

    def request(self, method: str, path: str, **kwargs: Any) -> Exchange:
        exchange = super().request(method, path, **kwargs)
        self.log.append(exchange)
        return exchange


def run_suite(profile: Any, *, recording: bool, profiler: cProfile.Profile | None = None) -> tuple[float, list[Exchange]]:
    secret = secrets.token_urlsafe(32)
    with running(create_app(secret=secret)) as base_url:
        target = (RecordingTarget if recording else Target)(base_url, token=mint_token(secret))
        runner = Runner(RunSession(target, seed=7))
        with stopwatch() as elapsed:
            if profiler:
                profiler.enable()
            for requirement in profile.requirements:
                runner.run_requirement(requirement, profile.id)
            if profiler:
                profiler.disable()
        target.close()
    return elapsed(), getattr(target, "log", [])


def replay(log: list[Exchange]) -> float:
    secret = secrets.token_urlsafe(32)
    token = mint_token(secret)
    with running(create_app(secret=secret)) as base_url:
        old_base = log[0].url.split("/", 3)[:3]
        ids: dict[str, str] = {}
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, follow_redirects=False) as client:
            with stopwatch() as elapsed:
                for exchange in log:
                    url = base_url + "/" + exchange.url.split("/", 3)[3] if exchange.url.count("/") >= 3 else base_url
                    body = exchange.request_body
                    for old, new in ids.items():
                        url = url.replace(old, new)
                        body = body.replace(old.encode(), new.encode()) if body else body
                    headers = {k: v for k, v in exchange.request_headers.items()
                               if k.lower() in ("content-type", "x-request-id")}
                    if "authorization" not in {k.lower() for k in exchange.request_headers}:
                        headers["Authorization"] = ""
                    response = client.request(exchange.method, url, content=body, headers=headers)
                    if exchange.status == 201 and response.status_code == 201:
                        ids[json.loads(exchange.body)["id"]] = response.json()["id"]
        del old_base
    return elapsed()


def main() -> dict[str, Any]:
    profile = load_profile("core", validate_check=validate_call)
    run_suite(profile, recording=False)  # warm caches (imports, compiled validators)
    suite_s, log = run_suite(profile, recording=True)
    suite_s = min(suite_s, run_suite(profile, recording=False)[0])
    bare_s = min(replay(log) for _ in range(2))
    profiler = cProfile.Profile()
    run_suite(profile, recording=False, profiler=profiler)
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).sort_stats("tottime")
    stats.print_stats(r"conformance|jsonschema|httpx|referencing", 12)
    figures = {
        "requests": len(log), "suite_s": suite_s, "bare_httpx_s": bare_s, "ratio": suite_s / bare_s,
        "suite_ms_per_request": 1000 * suite_s / len(log), "bare_ms_per_request": 1000 * bare_s / len(log),
    }
    target(figures, "suite overhead over bare httpx", suite_s / bare_s, 1.2, "x",
           "python -m benchmarks overhead (core, seed 7, the same requests replayed by httpx.Client)")
    record("overhead", figures)
    print(stream.getvalue()[:4000])
    return figures


if __name__ == "__main__":
    main()
