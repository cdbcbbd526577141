"""What the app answers for each exception: an ``AppError`` as its dialect renders it,
FastAPI's and Starlette's own errors translated into ours first, anything else a 500."""

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from customer_registry.errors import (
    AppError,
    BodyUnreadable,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    http_error,
    invalid_request,
)
from customer_registry.http.observability import echo_request_id
from customer_registry.http.problems import render
from customer_registry.http.public_origin import slash_redirect
from customer_registry.runtime import runtime

_HTTP_ERRORS: dict[int, type[AppError]] = {
    400: BodyUnreadable,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
}


def _http_error(exc: StarletteHTTPException) -> AppError:
    kind = _HTTP_ERRORS.get(exc.status_code) or http_error(exc.status_code)
    return kind(None if kind is NotFound else str(exc.detail))


def _allowed_methods(request: Request) -> str:
    """Every method some route serves on this path (Starlette names only the first route's)."""
    routes = runtime(request).api_routes
    path = request.url.path
    methods = {m for route in routes if route.path_regex.match(path) for m in route.methods or ()}
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def on_app_error(request: Request, exc: AppError) -> Response:
        return render(request, exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> Response:
        return render(request, invalid_request(exc.errors()))

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
