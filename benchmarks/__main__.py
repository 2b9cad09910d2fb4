"""``python -m benchmarks [NAME ...]``: run the benchmarks (all by default), print figures, write JSON.

    certification  wall time and peak memory of sc-conformance run, all profiles and each one
    overhead       the suite against bare httpx sending the same requests, and a profile of the hot path
    validation     entity validations per second: compiled, compiled per call, jsonschema-rs
    pagination     100,000 residents swept through pagination with flat memory
    peer           Schemathesis against the same reference platform from our OpenAPI document
    mutation       behavioural mutants of the reference platform the requirements kill: score and survivors
                   (SC_BENCH_MUTANTS=N samples N, seeded by SC_BENCH_SEED; =all runs every one;
                   SC_BENCH_JOBS=N judges N mutants at once)
    latency        every bundled profile through a proxy adding 0/20/50 ms per request, at --concurrency 1
                   and the default: wall times, their ratio, requests and the longest chain
    registry       the certification service: 40 certifications (profile core) queued on one and on two Celery
                   workers against redis-server; runs per minute
"""

from __future__ import annotations

import importlib
import sys

NAMES = ("certification", "overhead", "validation", "pagination", "peer", "mutation", "latency", "registry")


def main(argv: list[str]) -> int:
    chosen = argv or list(NAMES)
    unknown = [name for name in chosen if name not in NAMES]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose from {', '.join(NAMES)}", file=sys.stderr)
        return 2
    for name in chosen:
        importlib.import_module(f"benchmarks.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
