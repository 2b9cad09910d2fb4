"""The reference platform as a FastAPI application: public documents, collections, problems, faults."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import Response

from ..catalogue import catalogue
from ..schemas import schema_store
from .auth import authenticate
from .context import Platform, platform_of
from .declaration import bundled_declarations
from .domain import DomainValidator, hidden_collections
from .faults import validate_faults
from .guarantee import install_guarantee
from .lifecycle import add_transition_route
from .problems import JsonResponse, install_handlers
from .routes import add_collection_routes
from .seed import seed_records
from .store import Store
from .tracing import RequestIdMiddleware
from .variant_middleware import PathPrefixMiddleware, RateLimitMiddleware
from .variants import validate_variants

__all__ = ["PLATFORM_VERSION", "create_app"]

PLATFORM_VERSION = "1.0.0"
VENDOR = "Smart Community Conformance Suite"
CAPABILITIES = ("delete", "updated-since", "pii-masking", "event-feed")


def _discovery(platform: Platform) -> dict[str, Any]:
    cat = platform.catalogue
    missing = "organisations" if "discovery-missing-collection" in platform.faults else None
    document: dict[str, Any] = {
        "platform": {"name": platform.name, "vendor": VENDOR, "version": PLATFORM_VERSION},
        "standard_version": ".".join(cat.version.split(".")[:2]),
        "conformance": platform.prefix + cat.conformance_path,
        "collections": [
            {"name": c.name, "href": platform.prefix + c.path, "entity": c.entity}
            for c in cat.collections.values() if c.name != missing and c.name not in hidden_collections(platform.faults)
        ],
        "capabilities": [c for c in CAPABILITIES if not (c == "delete" and "no-delete" in platform.variants)],
        "max_page_size": platform.page["max_limit"],
        "auth": {"type": "oauth2-bearer"},
    }
    if "discovery-invalid" in platform.faults:
        del document["max_page_size"]
    return document


def _conformance(platform: Platform) -> dict[str, Any]:
    if "conformance-missing-profile" in platform.faults:
        return {"profiles": []}
    short = "conformance-invalid" in platform.faults
    return {"profiles": [
        {"id": profile, "version": ".".join(version.split(".")[:2]) if short else version}
        for profile, version in platform.declared_profiles
    ]}


async def _discovery_endpoint(request: Request) -> Response:
    platform = platform_of(request)
    if "discovery-requires-auth" in platform.faults:
        authenticate(request)
    return JsonResponse(_discovery(platform))


async def _conformance_endpoint(request: Request) -> Response:
    platform = platform_of(request)
    if "discovery-requires-auth" in platform.faults:
        authenticate(request)
    return JsonResponse(_conformance(platform))


def create_app(
    *,
    faults: Iterable[str] = (),
    variants: Iterable[str] = (),
    secret: str,
    db_path: str = ":memory:",
    platform_name: str = "Reference platform",
    declared_profiles: Sequence[tuple[str, str]] | None = None,
) -> FastAPI:
    """Build the reference platform; each name in ``faults`` breaks one requirement on purpose,
    each name in ``variants`` makes a choice the standard allows."""
    chosen = validate_faults(faults)
    allowed = validate_variants(variants)
    cat = catalogue()
    # drop-unknown-members validates as the accept-unknown-field fault does (a SHOULD, never a SHALL)
    weakened = chosen | {"accept-unknown-field"} if "drop-unknown-members" in allowed else chosen
    platform = Platform(
        store=Store(db_path),
        faults=chosen,
        variants=allowed,
        secret=secret,
        name=platform_name,
        declared_profiles=tuple((str(p), str(v)) for p, v in (
            bundled_declarations() if declared_profiles is None else declared_profiles)),
        catalogue=cat,
        validator=DomainValidator(schema_store(), weakened),
    )
    app = FastAPI(title=platform_name, version=PLATFORM_VERSION, docs_url=None, redoc_url=None,
                  openapi_url=None, redirect_slashes=False)
    app.state.platform = platform
    app.add_middleware(RequestIdMiddleware, enabled="no-request-id" not in chosen)
    install_handlers(app)
    app.add_api_route(cat.discovery_path, _discovery_endpoint, methods=["GET"], include_in_schema=False)
    app.add_api_route(cat.conformance_path, _conformance_endpoint, methods=["GET"], include_in_schema=False)
    for collection in cat.collections.values():
        add_collection_routes(app, collection)
        add_transition_route(app, collection)
    install_guarantee(app, platform)
    if platform.prefix:
        app.add_middleware(PathPrefixMiddleware, prefix=platform.prefix)
    if "rate-limit" in allowed:
        app.add_middleware(RateLimitMiddleware)
    if "pre-existing-data" in allowed:
        seed_records(platform)
    return app
