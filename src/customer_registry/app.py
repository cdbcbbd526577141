"""The ASGI application: settings, database, keys, middleware, routers, error handlers."""

import asyncio
import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import structlog
from fastapi import FastAPI
from fastapi.routing import APIRoute

from customer_registry import console
from customer_registry.auth import oauth, signing
from customer_registry.auth.external_tokens import ExternalIssuer
from customer_registry.config import Settings
from customer_registry.db import open_database
from customer_registry.events import delivery
from customer_registry.events.router import router as events_router
from customer_registry.history.router import router as registry_router
from customer_registry.horizon.plain import plain_routes as horizon_plain
from customer_registry.horizon.router import router as horizon_router
from customer_registry.http import docs_pages, openapi
from customer_registry.http.body_limit import BoundedBody
from customer_registry.http.error_handlers import install_error_handlers
from customer_registry.http.observability import RequestObservability
from customer_registry.ops import health, housekeeping, key_checks, logs, metrics
from customer_registry.privacy.router import router as privacy_router
from customer_registry.runtime import Runtime
from customer_registry.subscriptions.plain import plain_routes as subscriptions_plain
from customer_registry.subscriptions.responses import gateway_rejection
from customer_registry.subscriptions.router import router as subscriptions_router
from customer_registry.vault import Vault

logger = structlog.get_logger(__name__)


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
        purging = housekeeping.purge_periodically(
            database, housekeeping.PURGE_INTERVAL_SECONDS, retention
        )
        background = [asyncio.create_task(purging)]
        if settings.deliver_webhooks:
            metrics = app.state.runtime.metrics
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
    state = Runtime(
        settings=settings,
        database=database,
        vault=vault,
        metrics=metrics.Metrics(database),
        verification_keys=signing.VerificationKeys(vault),
        verified_tokens=signing.VerifiedTokens(),
        external_issuer=(
            ExternalIssuer(settings.oauth_jwks_url, settings.token_audience, settings.oauth_issuer)
            if settings.oauth_jwks_url
            else None
        ),
    )
    state.error_dialects = {
        "/subscriptions/": gateway_rejection,
        oauth.TOKEN_PATH: oauth.oauth_error,
    }
    app.state.runtime = state
    app.add_middleware(
        BoundedBody,
        max_bytes=settings.max_body_bytes,
        timeout_seconds=settings.body_timeout_seconds,
    )
    # Outermost: a refused body, too, gets a request id, an access line and a count.
    app.add_middleware(RequestObservability, metrics=state.metrics)
    install_error_handlers(app)
    routers = (
        oauth.router,
        horizon_router,
        subscriptions_router,
        registry_router,
        events_router,
        privacy_router,
        health.router,
        metrics.router,
    )
    for router in routers:
        app.include_router(router)
    state.api_routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]
    # First: the router tries its routes in order, and these are the most frequent requests.
    api_routes = state.api_routes
    app.router.routes[:0] = [*horizon_plain(api_routes), *subscriptions_plain(api_routes)]
    openapi.install(app)
    docs_pages.install(app)
    if settings.console:
        console.install(app)
    return app
