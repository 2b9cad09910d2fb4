import gzip
import time
import zlib

import pytest
from hostile.server import HostileServer  # tests/ is on sys.path (rootdir-relative import)

from conformance.target import Target, TargetError
from conformance.transport import BoundedDecoder


def test_a_gzip_bomb_inflates_only_up_to_the_cap():
    bomb = gzip.compress(bytes(50 * 1024 * 1024), compresslevel=1)
    decoder = BoundedDecoder("gzip", 1024 * 1024)
    out = b"".join(decoder.feed(bomb[i:i + 65536]) for i in range(0, len(bomb), 65536) if not decoder.exceeded)
    assert decoder.exceeded
    assert len(out) <= 1024 * 1024 + 1


def test_identity_and_deflate_pass_through_and_unknown_encodings_are_refused():
    assert BoundedDecoder("identity", 10).feed(b"abc") == b"abc"
    assert BoundedDecoder("deflate", 100).feed(zlib.compress(b"hello")) == b"hello"
    with pytest.raises(ValueError, match="unsupported Content-Encoding 'br'"):
        BoundedDecoder("br", 10)


def test_headers_trickled_a_byte_a_second_hit_the_wall_clock_not_the_read_timeout():
    with HostileServer("trickle-headers") as base_url:
        target = Target(base_url, timeout=1.5)
        started = time.monotonic()
        with pytest.raises(TargetError, match="no answer within"):
            target.request("GET", "/communities")
        waited = time.monotonic() - started
        target.close()
    print(f"trickled headers given up after {waited:.2f} s (timeout 1.5 s)")


def test_a_passed_run_deadline_sends_nothing():
    target = Target("http://127.0.0.1:9", deadline=time.monotonic() - 1)
    with pytest.raises(TargetError, match="run's deadline has passed"):
        target.request("GET", "/communities")
    target.close()


def test_an_echoed_credential_is_scrubbed_from_the_body():
    with HostileServer("echo-credentials") as base_url:
        target = Target(base_url, token="bearer-secret-0123456789")
        exchange = target.request("GET", "/communities")
        target.close()
    assert b"bearer-secret-0123456789" not in exchange.body
    assert "***REDACTED***" in exchange.json()["you_sent"]
