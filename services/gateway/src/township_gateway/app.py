"""The gateway application: authentication, tenancy, problem+json, the HTTP API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from township_gateway import openapi as openapi_document
from township_gateway.auth import TokenVerifier
from township_gateway.clients import Services
from township_gateway.config import GatewaySettings
from township_gateway.middleware import ObservabilityMiddleware
from township_gateway.problems import Problem, handle_http, handle_problem, handle_validation
from township_gateway.ratelimit import (
    RATE_LIMITED,
    RateLimits,
    RateShare,
    TokenBuckets,
    limit_public,
)
from township_gateway.routes import (
    applications,
    catalogue,
    enforcement,
    open311,
    personnel,
    public,
    ratings,
    stationed,
)
from township_gateway.schemas import Health
from township_platform.towns import load_townships

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "rule": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
    "required": ["type", "title", "status"],
}


def create_app(settings: GatewaySettings) -> FastAPI:
    """Build the gateway for ``settings``."""
    townships = load_townships(settings.townships_file) if settings.townships_file else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = Services(settings)
        share: RateShare | None = None
        if settings.nats_url:
            share = RateShare(
                app.state.rate_limits.buckets,
                settings.nats_url,
                interval=settings.rate_limit_share_seconds,
            )
            sharing = asyncio.create_task(share.run(), name="rate-limit-share")
        app.state.rate_share = share
        try:
            yield
        finally:
            if share is not None:
                sharing.cancel()
                await asyncio.gather(sharing, return_exceptions=True)
                await share.close()
            await app.state.services.close()

    app = FastAPI(
        title="Township platform API",
        version=settings.version,
        description=(
            "One gateway for the townships of a county: delegated permits and public "
            "services, integrated law enforcement, post-based personnel appraisal and the "
            "county offices stationed in each town. Errors are RFC 9457 problem+json."
        ),
        lifespan=lifespan,
        # The document is the committed openapi.json (see township_gateway.openapi), served
        # below with the docs pages; generating it in the gateway cost memory, not value.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        # ObservabilityMiddleware is the one server span and the metrics: FastAPI's native
        # telemetry would add a second span recording the raw path and query (personal data).
        telemetry={
            "tracing": False,
            "metrics": False,
            "logs": False,
            "operation_spans": False,
            "auto_configure": False,
        },
    )
    app.state.settings = settings
    app.state.draining = False
    app.state.verifier = TokenVerifier(settings, set(townships.slugs) if townships else None)
    app.state.townships = townships
    app.state.rate_limits = RateLimits(
        buckets=TokenBuckets(),
        townships={
            t.slug: (t.rate_limit.requests_per_second, t.rate_limit.burst)
            for t in (townships.townships if townships else [])
        },
        client_rate=settings.client_rate_per_second,
        client_burst=settings.client_burst,
        public_rate=settings.public_rate_per_second,
        public_burst=settings.public_burst,
    )
    for t in townships.townships if townships else []:
        RATE_LIMITED.labels(t.slug)
    app.add_exception_handler(Problem, handle_problem)
    app.add_exception_handler(RequestValidationError, handle_validation)
    app.add_exception_handler(StarletteHTTPException, handle_http)
    app.add_middleware(ObservabilityMiddleware, max_body_bytes=settings.max_body_bytes)
    app.include_router(applications.router)
    app.include_router(personnel.router)
    app.include_router(stationed.router)
    public_limit = [Depends(limit_public)]
    app.include_router(public.router, dependencies=public_limit)
    app.include_router(enforcement.router)
    app.include_router(open311.router, dependencies=public_limit)
    app.include_router(catalogue.router)
    app.include_router(ratings.router)

    @app.get("/healthz", tags=["operations"], response_model=Health)
    async def healthz() -> Health:
        """Liveness: the process answers."""
        return Health(status="ok")

    @app.get(
        "/readyz",
        tags=["operations"],
        response_model=Health,
        responses={503: {"model": Health, "description": "A backing service is not ready"}},
    )
    async def readyz(request: Request) -> Any:
        """Readiness: every backing service answers its gRPC health check."""
        if request.app.state.draining:
            return JSONResponse(Health(status="draining").model_dump(), status_code=503)
        services: Services = request.app.state.services
        checks = await services.health()
        ready = all(checks.values())
        body = Health(status="ready" if ready else "not-ready", services=checks)
        return JSONResponse(body.model_dump(), status_code=200 if ready else 503)

    document: list[bytes] = []  # read on first request (the generator builds this app too)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_json() -> Response:
        """The OpenAPI 3.1 document of this API."""
        if not document:
            document.append(openapi_document.served(settings.version))
        return Response(document[0], media_type="application/json")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> Response:
        """Swagger UI over /openapi.json."""
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} — docs")

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> Response:
        """ReDoc over /openapi.json."""
        return get_redoc_html(openapi_url="/openapi.json", title=f"{app.title} — ReDoc")

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        """Prometheus exposition."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        components["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        }
        for path, ops in schema.get("paths", {}).items():
            if path.startswith("/api/"):
                for op in ops.values():
                    op["security"] = [{"bearer": []}]
            if path.startswith("/open311/"):
                # GeoReport v2 answers in the format its path names: .xml (the spec's
                # required format) or .json
                for op in ops.values():
                    for response in op.get("responses", {}).values():
                        content = response.get("content")
                        if content and "application/json" in content:
                            content["text/xml"] = {
                                "schema": {
                                    "type": "string",
                                    "description": "the same document as GeoReport v2 XML",
                                }
                            }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
