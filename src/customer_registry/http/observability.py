"""Request id, access log line and metrics for every request (pure ASGI middleware).

Pure ASGI rather than ``BaseHTTPMiddleware``, which runs the app in a task of its own and
costs throughput. The access line names the route template, never the path: paths carry
customer numbers.
"""

import os
import re
import time

import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from customer_registry.ops.metrics import UNMATCHED, Metrics

REQUEST_ID_HEADER = "X-Request-ID"
_HEADER_KEY = b"x-request-id"
_VALID_REQUEST_ID = re.compile(rb"[ -~]{1,128}")
_CLIENT_ID = re.compile(r"[0-9]{1,18}")
# Probes and scrapes arrive every few seconds; at info they would drown the real traffic.
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


def _request_id(scope: Scope) -> str:
    for key, value in scope["headers"]:
        if key == _HEADER_KEY:
            if _VALID_REQUEST_ID.fullmatch(value):
                return str(value.decode("ascii"))
            break
    return os.urandom(16).hex()  # a random UUID's 32 hex digits, a fifth of uuid4's CPU


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    if route is not None:
        return str(route.path_format)
    # Starlette routes FastAPI adds itself (/docs, /openapi.json) leave no route behind; with
    # an endpoint and no path parameters the path is the template.
    if "endpoint" in scope and not scope.get("path_params"):
        return str(scope["path"])
    return UNMATCHED


def _client_id(scope: Scope) -> int | None:
    # The raw path segment: it is logged only when it has the shape of a client id.
    value = (scope.get("path_params") or {}).get("clientId")
    return int(value) if value and _CLIENT_ID.fullmatch(value) else None


def echo_request_id(request: Request, response: Response) -> None:
    """For responses sent outside this middleware (Starlette's 500 handler)."""
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id


class RequestObservability:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.logger = structlog.get_logger("customer_registry.access").bind()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        # Not reset afterwards: the 500 handler logs an unhandled error after this returns.
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        header = (_HEADER_KEY, request_id.encode("ascii"))
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Here, not in the 500 handler: this sees an error after the response started,
            # too. No path (customer numbers), no message (values): see logs.safe_exception.
            self.logger.error("unhandled exception", exc_info=exc)
            raise
        finally:
            self._record(scope, status, time.perf_counter() - start)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = route_template(scope)
        method = scope["method"]
        self.metrics.observe(route=route, method=method, status=status, seconds=seconds)
        log = self.logger.debug if route in _QUIET_ROUTES else self.logger.info
        fields = {"method": method, "route": route, "status": status}
        client_id = _client_id(scope)
        if client_id is not None:
            fields["client_id"] = client_id
        log("request", **fields, duration_ms=round(seconds * 1000, 3))
