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
        if key == "targets":  # printed by target() as they were measured
            continue
        shown = f"{value:.4g}" if isinstance(value, float) else value
        print(f"  {key:<{width}}  {shown}")
    print(f"  → {path}")
    return path


def target(figures: dict[str, Any], name: str, measured: float, limit: float, unit: str, command: str) -> None:
    """Record and print one of issue 13's targets: what was measured, the limit, met or short, and the command."""
    met = measured <= limit
    figures.setdefault("targets", {})[name] = {"measured": round(measured, 4), "limit": limit, "unit": unit,
                                               "met": met, "command": command}
    print(f"  target {name}: {measured:.4g} {unit} (limit {limit:g} {unit}) {'met' if met else 'SHORT'}  ← {command}")
