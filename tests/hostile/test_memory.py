"""Memory stays bounded against the worst bodies: the peak of a fresh process is printed (a figure, not a timing)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

WORST = ("huge-body", "gzip-bomb", "endless-chunked", "nul-body", "deep-json", "huge-headers")
_PROBE = textwrap.dedent("""
    import json, sys
    from conformance.target import Target, TargetError

    def high_water():  # VmHWM resets at exec; ru_maxrss would carry the parent's peak over on Linux
        status = open("/proc/self/status").read()
        return int(next(l for l in status.splitlines() if l.startswith("VmHWM")).split()[1])

    target = Target(sys.argv[1], token="a-long-enough-bearer-token", timeout=5)
    before = high_water()
    if True:
        try:
            exchange = target.request("GET", "/communities")
            outcome = {"status": exchange.status, "bytes": len(exchange.body), "truncated": exchange.truncated}
            try:
                exchange.json()
            except ValueError as exc:
                outcome["json"] = str(exc)[:80]
        except TargetError as exc:
            outcome = {"error": str(exc)[:120]}
        target.close()
    after = high_water()
    print(json.dumps({"before_mib": before / 1024, "peak_mib": after / 1024, **outcome}))
""")


def peak(base_url: str) -> dict:
    """Peak RSS of a fresh process that asks the target once (the server runs in this process, not that one)."""
    done = subprocess.run([sys.executable, "-c", _PROBE, base_url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads VmHWM from /proc")
@pytest.mark.parametrize("behaviour", WORST)
def test_memory_stays_bounded(hostile, behaviour):
    with hostile(behaviour) as base_url:
        figures = peak(base_url)
    print(f"{behaviour}: peak RSS {figures['peak_mib']:.1f} MiB (baseline {figures['before_mib']:.1f} MiB) {figures}")
    # The body cap is 8 MiB: whatever the target sends, the suite holds at most that (plus the decoder's chunk).
    assert figures.get("bytes", 0) <= 8 * 1024 * 1024
    assert figures["peak_mib"] - figures["before_mib"] < 64
