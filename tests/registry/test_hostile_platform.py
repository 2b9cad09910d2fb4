"""A hostile platform cannot take the service down: one that accepts connections and never answers, and one that
answers garbage, each end as a run without a certificate (a failed run record, or the suite's report saying why)
while the service serves on."""

import socket
import threading

import httpx

from conformance_registry.testing import registry_server


def hostile_server(mode):
    listener = socket.create_server(("127.0.0.1", 0))
    held = []

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            held.append(connection)  # "silent": never answered, never closed
            if mode == "garbage":
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n" + b"\x00\xff" * 5000)
                connection.close()

    threading.Thread(target=serve, daemon=True).start()
    return listener


def test_silent_and_garbage_platforms_become_failed_runs(tmp_path):
    servers = [hostile_server("silent"), hostile_server("garbage")]
    try:
        with registry_server(tmp_path, str(tmp_path / "r.sqlite"), extra_env={"SC_REGISTRY_RUN_TIMEOUT": "8"}) as reg:
            for server in servers:
                url = f"http://127.0.0.1:{server.getsockname()[1]}"
                done = reg.command("certify", "--registry", reg.url, "--name", "hostile", "--base-url", url,
                                   "--profile", "core", "--wait", token="hostile-token-123456", timeout=120)
                assert done.returncode == 1, done.stdout + done.stderr
                assert done.stdout.startswith("no certificate: run RUN-")  # a failed run or a report saying so
                assert " failed: " in done.stdout or "verdict incomplete" in done.stdout or "not-conformant" in done.stdout
                assert "hostile-token-123456" not in done.stdout
            answer = httpx.get(f"{reg.url}/registry.json", timeout=30)
            assert answer.status_code == 200 and answer.json()["entries"] == []
            runs = httpx.get(f"{reg.url}/api/platforms", timeout=30).json()
            assert len(runs) == 2
    finally:
        for server in servers:
            server.close()
