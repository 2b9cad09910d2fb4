"""A platform in another city: a full certification through a proxy that delays every request.

The reference platform runs in its own process (``sc-conformance serve-reference``); between it and the suite sits
a TCP proxy that holds each byte the suite sends for ``d`` ms before passing it on, like a link with that one-way
delay (a request costs ``d`` more, however many packets it takes; answers come back at once). The full run of every
bundled profile is timed at 0, 20 and 50 ms, at ``--concurrency 1`` and at the default, and the figures say how far
the run is from its critical path: requests per run and the longest chain of requests that must follow one another
(from the reports: ``target.concurrency``).

    python -m benchmarks latency            # SC_BENCH_DELAYS=0,20,50  SC_BENCH_CONCURRENCY=1,default
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._harness import record

_MEASURE = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
print(json.dumps({"exit": code, "wall_s": time.perf_counter() - started,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DelayProxy:
    """A TCP proxy on 127.0.0.1 that delays the client→server direction by ``delay`` seconds (FIFO, per byte)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.delay = 0.0
        self.port = _free_port()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> DelayProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._connection, "127.0.0.1", self.port))
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()

    async def _connection(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_w.close()
            return
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def receive() -> None:
            while chunk := await client_r.read(65536):
                queue.put_nowait((time.monotonic() + self.delay, chunk))
            queue.put_nowait((0.0, b""))

        async def deliver() -> None:
            while True:
                due, chunk = await queue.get()
                if not chunk:
                    break
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                server_w.write(chunk)
                await server_w.drain()
            with contextlib.suppress(OSError):
                server_w.write_eof()

        async def answer() -> None:
            while chunk := await server_r.read(65536):
                client_w.write(chunk)
                await client_w.drain()
            client_w.close()

        with contextlib.suppress(OSError, ConnectionError):
            await asyncio.gather(receive(), deliver(), answer())


@contextlib.contextmanager
def reference_platform(scratch: Path) -> Iterator[tuple[int, str]]:
    """``sc-conformance serve-reference`` in a child process: (port, path prefix of its base URL)."""
    port = _free_port()
    child = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "serve-reference", "--port", str(port),
         "--credentials-out", str(scratch / "credentials.yaml"),
         "--attestations-out", str(scratch / "attestations.yaml")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=scratch)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # "reference platform on http://127.0.0.1:P/prefix…"
        url = line.split(" on ", 1)[1].split()[0]
        prefix = "/" + url.split("/", 3)[3] if url.count("/") >= 3 else ""
        yield port, prefix.rstrip("/")
    finally:
        child.terminate()
        child.wait(10)


def _reports(folder: Path) -> dict[str, Any]:
    verdicts, requests, chain = {}, 0, 0
    for path in sorted(folder.glob("*/report.json")):
        report = json.loads(path.read_text(encoding="utf-8"))
        verdicts[path.parent.name] = report["verdict"]
        target = report.get("target", {})
        requests = max(requests, int(target.get("exchanges", 0)))
        chain = max(chain, int(target.get("concurrency", {}).get("critical_path", 0) or 0))
    return {"verdicts": verdicts, "requests": requests, "longest_chain": chain}


def measure(base_url: str, scratch: Path, concurrency: str) -> dict[str, Any]:
    out_dir = Path(tempfile.mkdtemp(dir=scratch))
    env = {**os.environ, "SC_CREDENTIALS": str(scratch / "credentials.yaml"),
           "SC_ATTESTATIONS": str(scratch / "attestations.yaml")}
    args = [sys.executable, "-m", "conformance.cli", "run", "-q", "--seed", "1", "--base-url", base_url,
            "--report-dir", str(out_dir)]
    if concurrency != "default":
        args += ["--concurrency", concurrency]
    done = subprocess.run([sys.executable, "-c", _MEASURE, *args], capture_output=True, text=True, check=True,
                          env=env, cwd=scratch)
    figures = json.loads(done.stdout)
    figures.update(_reports(out_dir))
    return figures


def main() -> dict[str, Any]:
    delays = [int(d) for d in os.environ.get("SC_BENCH_DELAYS", "0,20,50").split(",")]
    levels = os.environ.get("SC_BENCH_CONCURRENCY", "1,default").split(",")
    figures: dict[str, Any] = {}
    print("== a platform in another city: every bundled profile through a delaying proxy (issue 21)")
    with tempfile.TemporaryDirectory() as tmp:
        for level in levels:
            for delay in delays:
                # a fresh platform for every run: one that kept the records of earlier runs makes every walk longer
                scratch = Path(tempfile.mkdtemp(dir=tmp))
                with reference_platform(scratch) as (port, prefix), DelayProxy(("127.0.0.1", port)) as proxy:
                    proxy.delay = delay / 1000
                    run = measure(f"http://127.0.0.1:{proxy.port}{prefix}", scratch, level)
                key = f"c{level}_{delay}ms"
                figures[key] = run
                print(f"  --concurrency {level:>7}, +{delay:>2} ms per request: {run['wall_s']:6.1f} s, "
                      f"exit {run['exit']}, {run['requests']} requests, longest chain {run['longest_chain']}, "
                      f"peak RSS {run['peak_rss_mib']:.0f} MiB")
            base = figures.get(f"c{level}_0ms")
            if base and f"c{level}_20ms" in figures:
                ratio = figures[f"c{level}_20ms"]["wall_s"] / base["wall_s"]
                figures[f"c{level}_ratio_20ms"] = ratio
                print(f"  --concurrency {level}: 20 ms / 0 ms = {ratio:.2f} (goal ≤ 1.5)")
        verdicts = {json.dumps(f["verdicts"], sort_keys=True) for k, f in figures.items()
                    if isinstance(f, dict) and "verdicts" in f}
        figures["same_verdicts_everywhere"] = len(verdicts) == 1
        print(f"  same verdicts at every delay and concurrency: {figures['same_verdicts_everywhere']}")
    record("latency", figures)
    return figures


if __name__ == "__main__":
    main()
