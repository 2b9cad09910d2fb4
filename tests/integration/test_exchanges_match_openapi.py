"""Every exchange of a certification of the reference platform is valid against the OpenAPI document we publish.

A whole run (every bundled profile, embedded on loopback) is recorded by a Target that keeps each
Exchange (no check is touched); then, with openapi-core:

- every response is valid against the document (status, headers, body); a response to a path or
  method the document does not offer must be a 404 or 405 problem;
- a request the document calls invalid was refused (4xx): the negative probes of the suite (wrong
  media type, malformed JSON, invalid payloads, no token) are flagged invalid, not skipped;
- a refusal that says the request was malformed (400 malformed-json, 413, 415, 422 validation-failed)
  came to a request the document also calls invalid, unless the reason is one no schema can state.
"""

from __future__ import annotations

import collections
import json
import re

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from werkzeug.datastructures import Headers, ImmutableMultiDict

from conformance.checks import validate_call
from conformance.embedded import embedded_reference
from conformance.formats import is_credit_code, is_identity_number
from conformance.profiles import load_profile, profile_ids
from conformance.runner import Runner
from conformance.schemas import format_checker, schema_store
from conformance.session import RunSession
from conformance.target import Exchange, Target
from conformance.tools.openapi import openapi_document

# A refusal that says the request itself was malformed. Other refusals of schema-valid requests are for
# reasons JSON Schema cannot state (the published Schemathesis configuration says the same): a reference
# to a record that does not exist, an opaque cursor or event id the platform did not issue, a member the
# lifecycle gates to other states, a transition the lifecycle or the caller's role does not allow.
MALFORMED = {"malformed-json", "unsupported-media-type", "payload-too-large", "validation-failed"}
# Served by the reference platform for its own attestations, not part of the interface standard
# (tests/tools/test_tool_openapi.py leaves the same route out of the route comparison).
NOT_IN_THE_STANDARD = "/institutional-documents/"


class RecordingTarget(Target):
    """A Target that keeps every Exchange it makes (the checks are unchanged)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.recorded: list[Exchange] = []

    def request(self, *args, **kwargs) -> Exchange:
        exchange = super().request(*args, **kwargs)
        self.recorded.append(exchange)
        return exchange


class _Request:
    def __init__(self, exchange: Exchange) -> None:
        url = httpx.URL(exchange.url)
        headers = Headers(list(exchange.request_headers.items()))
        self.host_url = f"{url.scheme}://{url.netloc.decode()}"
        self.path = url.path
        self.method = exchange.method.lower()
        self.parameters = RequestParameters(query=ImmutableMultiDict(list(url.params.multi_items())), header=headers,
                                            cookie=ImmutableMultiDict())
        self.content_type = headers.get("content-type", "").lower()
        self.body = exchange.request_body


class _Response:
    def __init__(self, exchange: Exchange) -> None:
        self.status_code = exchange.status
        self.headers = Headers(list(exchange.headers.multi_items()))
        self.content_type = exchange.headers.get("content-type", "").lower()
        self.data = exchange.body


@pytest.fixture(scope="module")
def certification():
    """(base URL, every Exchange) of one run of every bundled profile against the reference platform."""
    with embedded_reference() as (base_url, token):
        target = RecordingTarget(base_url, token=token, run_id="sc-openapi-exchanges")
        runner = Runner(RunSession(target, seed=20261201))
        verdicts = collections.Counter()
        for profile_id in profile_ids():
            profile = load_profile(profile_id, validate_check=validate_call)
            for requirement in profile.requirements:
                verdicts[runner.run_requirement(requirement, profile.id).verdict.value] += 1
        target.close()
    assert verdicts.get("fail", 0) == 0, verdicts
    return base_url, target.recorded


def _problem_errors(exchange: Exchange) -> list[str]:
    try:
        body = json.loads(exchange.body)
    except ValueError:
        return ["not JSON"]
    return [e.message for e in schema_store().errors("interface/problem.json", body)]


def _code(exchange: Exchange) -> str | None:
    try:
        body = json.loads(exchange.body)
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


def _label(exchange: Exchange) -> str:
    return f"{exchange.method} {httpx.URL(exchange.url).raw_path.decode()[:120]} → {exchange.status}"


@pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning")  # OAuth 2.0: checked by _missing_credentials
def test_every_exchange_of_a_certification_is_valid_against_the_document(certification):
    base_url, exchanges = certification
    document = {**openapi_document(), "servers": [{"url": base_url}]}
    openapi = OpenAPI.from_dict(document, config=_config())
    assert len(exchanges) > 500
    problems: list[str] = []
    counts = collections.Counter()
    for exchange in exchanges:
        if httpx.URL(exchange.url).path.startswith(NOT_IN_THE_STANDARD):
            continue
        request, response = _Request(exchange), _Response(exchange)
        request_errors = (list(openapi.iter_request_errors(request)) + _missing_credentials(document, exchange)
                          + _not_json(exchange))
        unknown = [e for e in request_errors if isinstance(e, (PathNotFound, OperationNotFound))]
        if unknown:
            counts["outside the document"] += 1
            if exchange.status not in (404, 405) or _problem_errors(exchange):
                problems.append(f"{_label(exchange)}: outside the document and not a 404/405 problem")
            continue
        response_errors = [str(e) + "; " + "; ".join(str(c) for c in getattr(e, "__cause__", None).schema_errors)
                           if hasattr(getattr(e, "__cause__", None), "schema_errors") else str(e)
                           for e in openapi.iter_response_errors(request, response)]
        if response_errors:
            problems.append(f"{_label(exchange)}: response not as documented: {response_errors[:2]}")
        invalid = bool(request_errors)
        counts["invalid request" if invalid else "valid request"] += 1
        if invalid and exchange.status < 400:
            problems.append(f"{_label(exchange)}: the document calls the request invalid "
                            f"({_first(request_errors)}) but the platform accepted it")
        code = _code(exchange)
        if not invalid and exchange.status in (400, 413, 415, 422) and code in MALFORMED \
                and not _local_rule(exchange):
            problems.append(f"{_label(exchange)}: refused as {code} but valid against the document")
        if invalid:
            counts["negative probes flagged"] += 1
            if request_errors == ["no bearer token for an operation that needs one"]:
                counts["no token"] += 1
                if exchange.status != 401:
                    problems.append(f"{_label(exchange)}: no token, yet not 401")
    print(dict(counts))
    assert counts["negative probes flagged"] > 0 and counts["valid request"] > 0 and counts["no token"] > 0
    assert problems == [], "\n".join(problems[:40]) + f"\n… {len(problems)} in all"


def _missing_credentials(document, exchange: Exchange) -> list[str]:
    """openapi-core does not check OAuth 2.0 requirements ("Unsupported scheme type"): a request to an
    operation that requires a token and carries no bearer token is invalid, said here."""
    path = httpx.URL(exchange.url).path
    for template, item in document["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(template)) + "$"
        operation = item.get(exchange.method.lower())
        if operation is not None and re.match(pattern, path):
            needs = operation.get("security", document["security"])
            bearer = exchange.request_headers.get("authorization", "").lower().startswith("bearer ")
            return ["no bearer token for an operation that needs one"] if needs and not bearer else []
    return []


def _reject(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def _not_json(exchange: Exchange) -> list[str]:
    """Python's json, and so openapi-core, reads NaN and lone surrogates, which RFC 8259 JSON does not have (the
    malformed bodies of inputs.malformed send both): such a body is an invalid request, said here."""
    if not exchange.request_body or "json" not in exchange.request_headers.get("content-type", ""):
        return []
    try:
        value = json.loads(exchange.request_body, parse_constant=_reject)
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeError):
        return ["the body is not RFC 8259 JSON"]
    return []


def _local_rule(exchange: Exchange) -> bool:
    """A 422 on members under `extensions` only: a local profile's rule (example-city's street code must be the
    community's street). The national document leaves `extensions` to local profiles."""
    try:
        errors = json.loads(exchange.body).get("errors") or []
    except (ValueError, AttributeError):
        return False
    return bool(errors) and all(str(e.get("pointer", "")).startswith("/extensions/") for e in errors)


def _first(errors) -> str:
    error = errors[0]
    cause = getattr(error, "__cause__", None)
    details = getattr(cause, "schema_errors", None)
    return f"{error}: {details[0].message}" if details else str(error)[:200]


def _config():
    from openapi_core import Config

    json_media = {media: json.loads for media in ("application/problem+json", "application/merge-patch+json")}
    return Config(extra_format_validators={"gb11643": is_identity_number, "gb32100": is_credit_code,
                                           **{name: _checker(name) for name in ("json-pointer",)}},
                  extra_media_type_deserializers=json_media)


def _checker(name):
    checker = format_checker()
    return lambda value: checker.conforms(value, name)
