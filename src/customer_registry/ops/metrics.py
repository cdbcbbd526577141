"""Prometheus metrics and ``GET /metrics``.

One process keeps its metrics in its app's own registry. Under ``serve --workers N`` every
worker writes its values to files in ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client picks
that mode when the variable is set at import) and a scrape, answered by any one worker, sums
the files of all of them.
"""

import hmac
import os
from dataclasses import dataclass

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from pydantic import SecretStr

from customer_registry.db import Database
from customer_registry.errors import NotAuthenticated
from customer_registry.http.problems import problem_responses
from customer_registry.runtime import AppRuntime

_2XX = frozenset(range(200, 300))
_HORIZON = "/customer/v1/clients/{clientId}"
_SUBSCRIPTIONS = "/subscriptions/v1/customers"
# (method, route template) whose answer with one of the statuses means a customer was
# written. Lookup answers 201 only when it created the customer from the person directory.
_WRITES: dict[tuple[str, str], tuple[str, frozenset[int]]] = {
    ("PUT", f"{_HORIZON}/customers/{{customerNumber}}"): ("horizon", _2XX),
    ("POST", f"{_HORIZON}/lookup/customer"): ("horizon", frozenset({201})),
    ("POST", _SUBSCRIPTIONS): ("subscriptions", _2XX),
    ("PUT", f"{_SUBSCRIPTIONS}/{{customerNumber}}"): ("subscriptions", _2XX),
}
# The service answers in milliseconds: the default buckets start at 5 ms.
_BUCKETS = (0.001, 0.0025, *Histogram.DEFAULT_BUCKETS)


_MAX_CHILDREN = 1000
UNMATCHED = "unmatched"


@dataclass(frozen=True, slots=True)
class _Children:
    requests: Counter
    duration: Histogram
    written: Counter | None


class Metrics:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._children: dict[tuple[str, str, int], _Children] = {}
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests answered",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time from request to the end of the response",
            ["route", "method"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.written = Counter(
            "customers_written_total",
            "Customers created or changed, by API dialect",
            ["dialect"],
            registry=self.registry,
        )
        self.events = Counter(
            "events_appended_total",
            "Change events appended, by what made the change",
            ["source"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "webhook_deliveries_total",
            "Webhook delivery attempts: delivered, failed (retried later) or given_up",
            ["outcome"],
            registry=self.registry,
        )
        self.lag = Histogram(
            "webhook_delivery_lag_seconds",
            "From an event's change to its delivery",
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400),
            registry=self.registry,
        )
        self.checked_out = Gauge(
            "db_pool_connections_checked_out",
            "Database connections in use",
            multiprocess_mode="livesum",
            registry=self.registry,
        )

    def observe(self, *, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request; cheap enough for every request."""
        key = (route, method, status)
        children = self._children.get(key) or self._bind(key)
        children.requests.inc()
        children.duration.observe(seconds)
        if children.written is not None:
            children.written.inc()
        self.observe_pool()

    def _bind(self, key: tuple[str, str, int]) -> _Children:
        """The label children of one route, method and status: looking them up costs more
        than counting. Remembered for the known routes only, so the memory stays bounded."""
        route, method, status = key
        write = _WRITES.get((method, route))
        children = _Children(
            self.requests.labels(route, method, str(status)),
            self.duration.labels(route, method),
            self.written.labels(write[0]) if write is not None and status in write[1] else None,
        )
        if route != UNMATCHED and len(self._children) < _MAX_CHILDREN:
            self._children[key] = children
        return children

    def appended(self, source: str) -> None:
        """Count a change event appended (``db.Store.appended``)."""
        self.events.labels(source).inc()

    def delivery(self, outcome: str, lag_seconds: float | None = None) -> None:
        """Count a webhook delivery attempt (``events.delivery.Observer``)."""
        self.deliveries.labels(outcome).inc()
        if lag_seconds is not None:
            self.lag.observe(lag_seconds)

    def observe_pool(self) -> None:
        self.checked_out.set(self.database.in_use)

    def exposition(self) -> bytes:
        if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped upstream
        return generate_latest(registry)


router = APIRouter(tags=["Health"])


_BEARER_CHALLENGE = {
    "description": "`Bearer`: send the configured metrics token",
    "required": True,
    "schema": {"type": "string"},
}


def _require_token(request: Request, token: SecretStr | None) -> None:
    """With CUSTOMER_REGISTRY_METRICS_TOKEN set, the scrape must send it as a bearer token."""
    if token is None:
        return
    expected = f"Bearer {token.get_secret_value()}".encode()
    given = request.headers.get("authorization", "").encode("latin-1")
    if not hmac.compare_digest(given, expected):
        raise NotAuthenticated("send Authorization: Bearer <CUSTOMER_REGISTRY_METRICS_TOKEN>")


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"},
        401: {
            **problem_responses(401)[401],
            "description": "CUSTOMER_REGISTRY_METRICS_TOKEN is set and was not sent",
            "headers": {"WWW-Authenticate": _BEARER_CHALLENGE},
        },
    },
)
async def get_metrics(request: Request, state: AppRuntime) -> Response:
    """Request counts and durations, customer writes and database pool use; with a metrics
    token configured, only for a bearer of it."""
    _require_token(request, state.settings.metrics_token)
    state.metrics.observe_pool()
    return Response(state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
