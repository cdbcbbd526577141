"""The ASGI application: settings, engine, routers and error rendering."""

import asyncio
import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from customer_registry.auth import oauth, signing
from customer_registry.auth.external_tokens import ExternalIssuer
from customer_registry.config import Settings
from customer_registry.db import open_database
from customer_registry.errors import (
    AppError,
    CustomerInformationMissing,
    InvalidParameter,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RequestInvalid,
    render,
)
from customer_registry.events import delivery
from customer_registry.events.router import router as events_router
from customer_registry.history.router import router as registry_router
from customer_registry.horizon.plain import plain_routes as horizon_plain
from customer_registry.horizon.router import router as horizon_router
from customer_registry.http import docs_pages, openapi
from customer_registry.http.body_limit import BoundedBody
from customer_registry.http.observability import RequestObservability, echo_request_id
from customer_registry.http.public_origin import slash_redirect
from customer_registry.ops import health, housekeeping, key_checks, logs, metrics
from customer_registry.subscriptions.plain import plain_routes as subscriptions_plain
from customer_registry.subscriptions.router import router as subscriptions_router
from customer_registry.vault import Vault

logger = structlog.get_logger(__name__)

_LOCATIONS = frozenset({"body", "query", "path", "header"})


def _parameter_name(loc: tuple[Any, ...]) -> str:
    parts = list(loc[1:] if loc and loc[0] in _LOCATIONS else loc)
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else f".{part}"
    return name.lstrip(".") or (str(loc[0]) if loc else "body")


def _reason(error: dict[str, Any]) -> str:
    if error["type"] == "json_invalid":
        return f"malformed JSON: {error.get('ctx', {}).get('error', 'cannot be parsed')}"
    if error["type"] == "missing":
        return "is required"
    return str(error["msg"]).removeprefix("Value error, ")


def validation_error(exc: RequestValidationError) -> RequestInvalid:
    invalid: dict[str, InvalidParameter] = {}
    for error in exc.errors():
        loc = tuple(error["loc"])
        name = "body" if error["type"] == "json_invalid" else _parameter_name(loc)
        invalid.setdefault(name, InvalidParameter(name, _reason(error)))
    only_missing = all(error["type"] == "missing" for error in exc.errors())
    kind = CustomerInformationMissing if only_missing else RequestInvalid
    return kind(list(invalid.values()))


class BodyUnreadable(RequestInvalid):
    def __init__(self, message: str | None = None) -> None:
        # FastAPI's words for a body it could not decode (e.g. nested 10,000 levels deep).
        reason = "cannot be parsed as JSON"
        super().__init__([InvalidParameter("body", reason)], f"the request body {reason}")


_HTTP_ERRORS: dict[int, type[AppError]] = {
    400: BodyUnreadable,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
}


def _http_error(exc: StarletteHTTPException) -> AppError:
    kind = _HTTP_ERRORS.get(exc.status_code)
    if kind is None:
        error = AppError(str(exc.detail))
        error.status = exc.status_code  # type: ignore[misc]
        return error
    return kind(None if kind is NotFound else str(exc.detail))


def _allowed_methods(request: Request) -> str:
    """Every method some route serves on this path (Starlette names only the first route's)."""
    routes: list[APIRoute] = request.app.state.api_routes
    path = request.url.path
    methods = {m for route in routes if route.path_regex.match(path) for m in route.methods or ()}
    return ", ".join(sorted(methods))


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def on_app_error(request: Request, exc: AppError) -> Response:
        return render(request, exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> Response:
        return render(request, validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        redirect = slash_redirect(request) if exc.status_code == 404 else None
        if redirect is not None:
            return redirect
        response = render(request, _http_error(exc))
        if exc.status_code == 405:
            response.headers["Allow"] = _allowed_methods(request)
        return response

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> Response:
        # RequestObservability logs it.
        response = render(request, AppError("the request could not be processed; retry later"))
        echo_request_id(request, response)
        return response


def create_served_app() -> FastAPI:
    """The app as ``serve`` runs it in each worker process.

    Everything loaded so far (modules, models, routes, table metadata: about 140,000 objects)
    lives as long as the process, yet every full pass of the cyclic garbage collector walked
    it: 65 ms each, a dozen times per 20 s under load, every request in flight waiting
    behind it. Frozen, those objects are out of the collector's reach.
    """
    app = create_app()
    gc.freeze()
    return app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    logs.configure(settings)
    database = open_database(settings)

    vault = Vault(settings.key_file)
    if settings.key_file.exists():
        vault.load()  # apps that never start (the OpenAPI document, tests) still read keys

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await key_checks.prepare(database, vault)
        retention = timedelta(days=settings.event_retention_days)
        background = [
            asyncio.create_task(
                housekeeping.purge_periodically(
                    database, housekeeping.PURGE_INTERVAL_SECONDS, retention
                )
            )
        ]
        if settings.deliver_webhooks:
            metrics = app.state.metrics
            delivering = delivery.deliver_forever(database, vault, settings, metrics)
            background.append(asyncio.create_task(delivering))
        logger.info("ready", pid=os.getpid())
        yield
        logger.info("shutdown", pid=os.getpid())
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await database.close()

    app = FastAPI(
        title="Customer Registry",
        version="0.1.0",
        summary="Customer master data, wire-compatible with Riverty's customer APIs.",
        generate_unique_id_function=openapi.operation_id,
        lifespan=lifespan,
        # Served by docs_pages, with their scripts from this server.
        docs_url=None,
        redoc_url=None,
        # Starlette's would echo the Host header in Location; the 404 handler redirects.
        redirect_slashes=False,
        # Off: FastAPI would look up three OTEL_* variables and the providers per request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.metrics = metrics.Metrics(database)
    app.add_middleware(
        BoundedBody,
        max_bytes=settings.max_body_bytes,
        timeout_seconds=settings.body_timeout_seconds,
    )
    # Outermost: a refused body, too, gets a request id, an access line and a count.
    app.add_middleware(RequestObservability, metrics=app.state.metrics)
    app.state.settings = settings
    app.state.database = database
    app.state.vault = vault
    app.state.verification_keys = signing.VerificationKeys(vault)
    app.state.verified_tokens = signing.VerifiedTokens()
    app.state.external_issuer = (
        ExternalIssuer(settings.oauth_jwks_url, settings.token_audience, settings.oauth_issuer)
        if settings.oauth_jwks_url
        else None
    )
    _install_error_handlers(app)
    routers = (
        oauth.router,
        horizon_router,
        subscriptions_router,
        registry_router,
        events_router,
        health.router,
        metrics.router,
    )
    for router in routers:
        app.include_router(router)
    app.state.api_routes = [
        r for router in routers for r in router.routes if isinstance(r, APIRoute)
    ]
    # First: the router tries its routes in order, and these are the most frequent requests.
    api_routes = app.state.api_routes
    app.router.routes[:0] = [*horizon_plain(api_routes), *subscriptions_plain(api_routes)]
    openapi.install(app)
    docs_pages.install(app)
    return app
