"""The service over HTTP: the operator's write API, the public JSON API and registry document, and read-only
bilingual (zh/en) pages and badges rendered by autoescaped Jinja2 templates (every platform string is escaped)."""

from __future__ import annotations

import hmac
import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .errors import RegistryError
from .jobs import Dispatcher
from .models import Certificate, Platform, Report, Run
from .service import Context, expire_due, queue_run, register, registry_document, revoke
from .signing import key_id

__all__ = ["create_app"]

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(["html", "svg"], default=True))
LABELS = {
    "en": {"title": "Certified smart-community platforms", "search": "Search", "platform": "Platform",
           "vendor": "Vendor", "profile": "Profile", "status": "Status", "certificate": "Certificate",
           "issued": "Issued", "valid_until": "Valid until", "history": "Status history", "reason": "Reason",
           "report": "Report", "base_url": "Base URL", "none": "No certificate matches.", "registry": "Signed registry",
           "when": "Date", "digest": "Report digest", "suite": "Suite", "key": "Body's key",
           "valid": "valid", "suspended": "suspended", "expired": "expired", "superseded": "superseded",
           "revoked": "revoked", "other": "中文"},
    "zh": {"title": "已认证的智慧社区平台", "search": "搜索", "platform": "平台", "vendor": "厂商", "profile": "测试配置",
           "status": "状态", "certificate": "证书", "issued": "签发日期", "valid_until": "有效期至", "history": "状态历史",
           "reason": "原因", "report": "报告", "base_url": "基础地址", "none": "没有匹配的证书。", "registry": "已签名的注册表",
           "when": "日期", "digest": "报告摘要", "suite": "测试套件", "key": "机构密钥",
           "valid": "有效", "suspended": "暂停", "expired": "过期", "superseded": "已被取代", "revoked": "已撤销",
           "other": "English"},
}
# no script at all; the page's own style and the badge images only
CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
BADGE_COLOURS = {"valid": "#2e7d32", "suspended": "#e65100", "expired": "#616161", "superseded": "#616161",
                 "revoked": "#b71c1c"}


class CertifyRequest(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    vendor: str = Field(default="", max_length=200)
    base_url: str = Field(min_length=8, max_length=2000, pattern=r"^https?://[^\s]+$")
    profile: str = Field(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9-]*$")
    token: str = Field(min_length=1, max_length=8192)
    credentials: str | None = Field(default=None, max_length=1024 * 1024)


    @field_validator("name", "vendor", "base_url", "token", "credentials")
    @classmethod
    def _encodable(cls, value: str | None) -> str | None:
        return _utf8(value)


class RevokeRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)

    @field_validator("reason")
    @classmethod
    def _encodable(cls, value: str) -> str | None:
        return _utf8(value)


def _utf8(value: str | None) -> str | None:
    if value is not None:
        value.encode("utf-8")  # a lone surrogate cannot be stored nor published: refused here (422)
    return value


def _operator(request: Request) -> None:
    given, expected = request.headers.get("authorization", ""), f"Bearer {request.app.state.operator_token}"
    if not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8")):
        raise HTTPException(401, "writes need the operator token (Authorization: Bearer $SC_REGISTRY_TOKEN)")


Operator = Annotated[None, Depends(_operator)]
Lang = Annotated[str, Query(pattern="^(en|zh)$")]
Search = Annotated[str, Query(max_length=200)]


def _problem(status: int, title: str) -> JSONResponse:
    return JSONResponse({"type": "about:blank", "status": status, "title": title}, status_code=status,
                        media_type="application/problem+json")


def create_app(ctx: Context, dispatcher: Dispatcher, operator_token: str) -> FastAPI:
    app = FastAPI(title="Smart Community certification registry", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(HTTPException)
    async def http_problem(_request: Request, exc: HTTPException) -> JSONResponse:
        return _problem(exc.status_code, str(exc.detail))

    @app.exception_handler(RegistryError)
    async def registry_problem(_request: Request, exc: RegistryError) -> JSONResponse:
        return _problem(409, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        return _problem(422, f"{where}: {first.get('msg', 'invalid')}")

    app.state.operator_token = operator_token

    # ---- writes (operator) ----
    @app.post("/api/certifications", status_code=202)
    def certify(body: CertifyRequest, _: Operator) -> dict[str, Any]:
        with ctx.sessions.begin() as session:
            platform = register(session, ctx.vault, name=body.name, vendor=body.vendor, base_url=body.base_url,
                                profile=body.profile, token=body.token, credentials=body.credentials)
            session.flush()
            run = queue_run(session, platform, body.profile, "certify")
            answer = {"run": run.id, "platform": platform.id}
        dispatcher.submit(answer["run"])
        return answer

    @app.post("/api/certificates/{certificate_id}/recertify", status_code=202)
    def recertify(certificate_id: str, _: Operator) -> dict[str, Any]:
        with ctx.sessions.begin() as session:
            certificate = _certificate(session, certificate_id)
            if certificate.status == "revoked":
                raise HTTPException(409, f"certificate {certificate.id} is revoked; a revocation is final")
            run = queue_run(session, certificate.platform, certificate.profile_id, "recertify", certificate.id)
            answer = {"run": run.id, "platform": certificate.platform_id}
        dispatcher.submit(answer["run"])
        return answer

    @app.post("/api/certificates/{certificate_id}/revoke")
    def revoke_certificate(certificate_id: str, body: RevokeRequest, _: Operator) -> dict[str, Any]:
        with ctx.sessions.begin() as session:
            certificate = _certificate(session, certificate_id)
            revoke(session, certificate, body.reason)
            return {"id": certificate.id, "status": certificate.status}

    # ---- public JSON ----
    @app.get("/api/runs/{run_id}")
    def run_state(run_id: str) -> dict[str, Any]:
        with ctx.sessions() as session:
            run = session.get(Run, run_id)
            if run is None:
                raise HTTPException(404, "no such run")
            certificate = session.get(Certificate, run.outcome_certificate_id) if run.outcome_certificate_id else None
            return {"id": run.id, "platform": run.platform_id, "profile": run.profile_id, "state": run.state,
                    "trigger": run.trigger, "verdict": run.verdict, "exit_code": run.exit_code, "error": run.error,
                    **{name: (value.isoformat() if value else None) for name, value in (
                        ("queued_at", run.queued_at), ("started_at", run.started_at),
                        ("finished_at", run.finished_at))},
                    "report": f"/reports/{run.report_digest}.json" if run.report_digest else None,
                    "certificate": {"id": certificate.id, "status": certificate.status} if certificate else None}

    @app.get("/api/platforms")
    def platforms() -> list[dict[str, Any]]:
        with ctx.sessions() as session:
            return [_platform_json(p) for p in session.scalars(select(Platform).order_by(Platform.created_at))]

    @app.get("/api/platforms/{platform_id}")
    def platform(platform_id: str) -> dict[str, Any]:
        with ctx.sessions() as session:
            found = session.get(Platform, platform_id)
            if found is None:
                raise HTTPException(404, "no such platform")
            return _platform_json(found) | {"certificates": [_certificate_json(c) for c in found.certificates]}

    @app.get("/api/certificates")
    def certificates() -> list[dict[str, Any]]:
        with ctx.sessions.begin() as session:
            expire_due(session)
            return [_certificate_json(c) for c in session.scalars(select(Certificate).order_by(Certificate.issued_at))]

    @app.get("/api/certificates/{certificate_id}")
    def certificate(certificate_id: str) -> dict[str, Any]:
        with ctx.sessions.begin() as session:
            expire_due(session)
            found = _certificate(session, certificate_id)
            return _certificate_json(found) | {"certificate": found.document, "statusReports": _history(found)}

    @app.get("/registry.json")
    def registry() -> Response:
        return Response(json.dumps(registry_document(ctx), ensure_ascii=False, indent=1),
                        media_type="application/json")

    @app.get("/reports/{digest}.json")
    def report(digest: str) -> Response:
        with ctx.sessions() as session:
            found = session.get(Report, digest)
            if found is None:
                raise HTTPException(404, "no such report")
            return Response(found.text, media_type="application/json")

    # ---- public pages ----
    def page(name: str, lang: str, **values: Any) -> HTMLResponse:
        labels = LABELS.get(lang, LABELS["en"])
        html = TEMPLATES.get_template(name).render(t=labels, lang=lang if lang in LABELS else "en",
                                                   other="zh" if lang != "zh" else "en", **values)
        return HTMLResponse(html, headers={"Content-Security-Policy": CSP})

    @app.get("/", response_class=HTMLResponse)
    def index(q: Search = "", lang: Lang = "en") -> HTMLResponse:
        with ctx.sessions.begin() as session:
            expire_due(session)
            query = select(Certificate).join(Platform).order_by(Platform.name, Certificate.issued_at)
            if q:
                like = f"%{q.replace('%', '').replace('_', '')}%"
                query = query.where(or_(Platform.name.ilike(like), Platform.vendor.ilike(like),
                                        Platform.base_url.ilike(like), Certificate.profile_id.ilike(like),
                                        Certificate.id.ilike(like)))
            found = list(session.scalars(query))
            return page("index.html", lang, q=q, certificates=found, key=key_id(ctx.key.public_key()))

    @app.get("/platforms/{platform_id}", response_class=HTMLResponse)
    def platform_page(platform_id: str, lang: Lang = "en") -> HTMLResponse:
        with ctx.sessions() as session:
            found = session.get(Platform, platform_id)
            if found is None:
                raise HTTPException(404, "no such platform")
            return page("platform.html", lang, platform=found)

    @app.get("/certificates/{certificate_id}", response_class=HTMLResponse)
    def certificate_page(certificate_id: str, lang: Lang = "en") -> HTMLResponse:
        with ctx.sessions.begin() as session:
            expire_due(session)
            found = _certificate(session, certificate_id)
            return page("certificate.html", lang, c=found, document=found.document,
                        document_json=json.dumps(found.document, ensure_ascii=False, indent=2))

    @app.get("/badges/{certificate_id}.svg")
    def badge(certificate_id: str) -> Response:
        with ctx.sessions.begin() as session:
            expire_due(session)
            found = _certificate(session, certificate_id)
            label = f"{found.profile_id} {found.profile_version}"
            svg = TEMPLATES.get_template("badge.svg").render(label=label, status=found.status,
                                                             colour=BADGE_COLOURS[found.status],
                                                             left=6 * len(label) + 12, right=6 * len(found.status) + 12)
        return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "max-age=300"})

    return app


def _certificate(session: Session, certificate_id: str) -> Certificate:
    found = session.get(Certificate, certificate_id)
    if found is None:
        raise HTTPException(404, "no such certificate")
    return found


def _platform_json(platform: Platform) -> dict[str, Any]:
    # never the sealed secrets: the vendor's token leaves the database only for the suite's process
    return {"id": platform.id, "name": platform.name, "vendor": platform.vendor, "base_url": platform.base_url,
            "profiles": list(platform.profiles)}


def _certificate_json(certificate: Certificate) -> dict[str, Any]:
    return {"id": certificate.id, "platform": certificate.platform_id, "profile": certificate.profile_id,
            "profile_version": certificate.profile_version, "status": certificate.status,
            "issued_at": certificate.document["issued_at"], "valid_until": certificate.document["valid_until"]}


def _history(certificate: Certificate) -> list[dict[str, Any]]:
    return [{"status": item.status, "effectiveDate": item.effective_at.isoformat(), "reason": item.reason,
             "run": item.run_id, "report": item.report_digest} for item in certificate.history]
