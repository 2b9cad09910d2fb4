import pytest

from conformance.errors import UsageError
from conformance.inputs import RunInputs


def options(**given):
    return lambda dest: given.get(dest)


def test_without_options_certificates_are_verified_and_nothing_is_insecure():
    inputs = RunInputs.from_options(options())
    assert inputs.verify is True
    assert inputs.transport_record() == {"certificate_verification": "system", "insecure": False}


def test_insecure_marks_the_transport_record(tmp_path):
    inputs = RunInputs.from_options(options(sc_insecure="yes"))
    assert inputs.verify is False
    assert inputs.transport_record()["insecure"] is True
    assert "INSECURE RUN" in inputs.transport_record()["warning"]


def test_a_ca_bundle_is_passed_to_the_target(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    inputs = RunInputs.from_options(options(sc_ca_bundle=str(bundle)))
    assert inputs.target_kwargs()["verify"] == str(bundle)
    assert inputs.transport_record()["certificate_verification"] == "ca-bundle"


@pytest.mark.parametrize("given, message", [
    ({"sc_insecure": "maybe"}, "takes yes or no"),
    ({"sc_deadline": -1.0}, "positive number"),
    ({"sc_ca_bundle": "/nonexistent.pem"}, "no such file"),
    ({"sc_ca_bundle": "x", "sc_insecure": "yes"}, "contradict"),
])
def test_contradictory_or_bad_options_are_usage_errors(given, message):
    with pytest.raises(UsageError, match=message):
        RunInputs.from_options(options(**given))


def test_the_credentials_file_supplies_the_token_and_its_secrets(tmp_path):
    file = tmp_path / "c.yaml"
    file.write_text("roles:\n  admin: {token: admin-token-123}\n  reader: {token: reader-token-456}\n")
    inputs = RunInputs.from_options(options(sc_credentials=str(file), sc_deadline=30.0))
    assert inputs.token(None) == "admin-token-123"
    assert inputs.token("given") == "given"
    assert sorted(inputs.target_kwargs()["secrets"]) == ["admin-token-123", "reader-token-456"]
    assert inputs.target_kwargs()["deadline"] is not None
