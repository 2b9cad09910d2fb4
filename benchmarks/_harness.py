"""Shared bits of the benchmarks: timing, peak memory, and where the figures go."""

from __future__ import annotations

import json
import platform
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path("benchmarks") / "results"


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    started = time.perf_counter()
    finished: list[float] = []
    yield lambda: (finished[0] if finished else time.perf_counter()) - started
    finished.append(time.perf_counter())


def best_of(runs: int, work: Callable[[], Any]) -> float:
    """Fastest wall time of ``runs`` calls: the least disturbed by a noisy machine."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def peak_rss_children_mib() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def environment() -> dict[str, Any]:
    return {"python": platform.python_version(), "machine": platform.machine(),
            "when": datetime.now(UTC).isoformat(timespec="seconds")}


def record(name: str, figures: dict[str, Any]) -> Path:
    """Print the figures and write them to benchmarks/results/<name>.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {"benchmark": name, "environment": environment(), "figures": figures}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    width = max(len(k) for k in figures)
    print(f"== {name}")
    for key, value in figures.items():
        shown = f"{value:.4g}" if isinstance(value, float) else value
        print(f"  {key:<{width}}  {shown}")
    print(f"  → {path}")
    return path
