import base64
import json

import pytest

from conformance.credentials import Credentials, Role, issued_for, load_credentials, register_issued, tampered_signature
from conformance.errors import UsageError


def test_a_yaml_credentials_file_gives_named_roles(tmp_path):
    file = tmp_path / "creds.yaml"
    file.write_text("roles:\n  admin: {token: abc.def.ghi, scopes: [registry:read, pii]}\n"
                    "  tenant-a: {token: t-a, scopes: registry:read registry:write, community: com-1}\n")
    credentials = load_credentials(file)
    assert credentials.token == "abc.def.ghi"
    assert credentials.get("tenant-a") == Role("tenant-a", "t-a", frozenset({"registry:read", "registry:write"}),
                                               "com-1")
    assert sorted(credentials.secrets()) == ["abc.def.ghi", "t-a"]
    assert credentials.missing(["admin", "auditor"]) == ["auditor"]


def test_a_json_file_with_another_default_role(tmp_path):
    file = tmp_path / "creds.json"
    file.write_text(json.dumps({"default": "ops", "roles": {"ops": {"token": "x" * 20}}}))
    assert load_credentials(file).token == "x" * 20


@pytest.mark.parametrize("text, message", [
    ("roles: []", "expected a mapping"),
    ("roles:\n  admin: {scopes: [a]}", "needs a non-empty string `token`"),
    ("roles:\n  admin: {token: t, community: 5}", "`community` must be"),
    ("default: root\nroles:\n  admin: {token: t}", "default role 'root'"),
    ("roles: [unclosed", "not valid YAML"),
])
def test_problems_name_the_file_and_never_a_token(tmp_path, text, message):
    file = tmp_path / "creds.yaml"
    file.write_text(text)
    with pytest.raises(UsageError, match=message) as error:
        load_credentials(file)
    assert str(file) in str(error.value)


def test_roles_are_repr_without_their_token():
    assert "secret-value" not in repr(Role("admin", "secret-value"))


def test_a_tampered_jwt_keeps_header_and_claims_but_not_the_signature():
    signature = base64.urlsafe_b64encode(b"0123456789abcdef").rstrip(b"=").decode()
    token = f"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.{signature}"
    tampered = tampered_signature(token)
    assert tampered.rsplit(".", 1)[0] == token.rsplit(".", 1)[0]
    assert tampered.rsplit(".", 1)[1] != signature
    assert tampered_signature("opaque-token") != "opaque-token"


def test_issued_credentials_are_found_by_base_url():
    credentials = Credentials.single("tok")
    register_issued("http://127.0.0.1:1/", credentials)
    assert issued_for("http://127.0.0.1:1") is credentials
    register_issued("http://127.0.0.1:1", None)
    assert issued_for("http://127.0.0.1:1") is None
