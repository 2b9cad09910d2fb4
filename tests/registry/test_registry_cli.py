"""``sc-conformance registry …`` usage errors: one line on standard error, exit 2, nothing secret in it."""

import pytest

from conformance_registry.cli import main


@pytest.fixture(autouse=True)
def _no_inherited_tokens(monkeypatch):
    for name in ("SC_TOKEN", "SC_REGISTRY_TOKEN", "SC_CREDENTIALS", "SC_REGISTRY_SECRET_KEY", "SC_REGISTRY_DB"):
        monkeypatch.delenv(name, raising=False)


def one_line_error(capsys, argv, *expected):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1, captured.err
    for text in expected:
        assert text in captured.err, captured.err
    return captured.err


def test_serve_refuses_bad_databases_and_keys(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    one_line_error(capsys, ["serve", "--port", "0", "--db", "mysql://u:pw@h/db"], "--db mysql://…")
    (tmp_path / "bad.key").write_text("not a key")
    one_line_error(capsys, ["serve", "--port", "0", "--key", str(tmp_path / "bad.key")], "bad.key: not an unencrypted")
    err = one_line_error(capsys, ["serve", "--port", "0", "--db", "postgresql://u:hunter2@127.0.0.1:1/db"],
                         "database postgresql+psycopg://u:***@127.0.0.1:1/db")
    assert "hunter2" not in err
    monkeypatch.setenv("SC_REGISTRY_SECRET_KEY", "short")
    one_line_error(capsys, ["serve", "--port", "0"], "SC_REGISTRY_SECRET_KEY: expected a Fernet key")


def test_clients_need_their_tokens_and_a_registry(capsys, monkeypatch):
    base = ["certify", "--registry", "http://127.0.0.1:1", "--name", "n", "--base-url", "http://p", "--profile", "core"]
    one_line_error(capsys, base, "set SC_TOKEN")
    monkeypatch.setenv("SC_TOKEN", "vendor-secret-123")
    one_line_error(capsys, base, "set SC_REGISTRY_TOKEN")
    monkeypatch.setenv("SC_REGISTRY_TOKEN", "operator-secret-123")
    err = one_line_error(capsys, base, "cannot reach the registry at http://127.0.0.1:1/api/certifications")
    assert "secret" not in err
    one_line_error(capsys, ["revoke", "SCC-1", "--registry", "http://127.0.0.1:1"], "--reason")
    one_line_error(capsys, ["frobnicate"], "invalid choice")
