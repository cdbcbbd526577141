"""The console's route class: whatever a console handler raises becomes a page in words."""

from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from customer_registry.console import pages
from customer_registry.console.access import PasswordRequired, SignInRequired
from customer_registry.errors import AppError

logger = structlog.get_logger(__name__)
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def _invalid(exc: RequestValidationError) -> str:
    problems = []
    for error in exc.errors():
        name = str(error["loc"][-1]) if error["loc"] else "the form"
        problems.append(f"{name}: {str(error['msg']).removeprefix('Value error, ')}")
    return "Some values of this page's address or form cannot be used. " + "; ".join(problems)


def _next(request: Request) -> str | None:
    if request.method != "GET":
        return None
    path = request.url.path.removeprefix(pages.root(request))
    return path + (f"?{request.url.query}" if request.url.query else "")


async def _answer(request: Request, handler: Handler) -> Response:
    try:
        return await handler(request)
    except SignInRequired as exc:
        ended = "1" if exc.ended else None
        return pages.redirect(request, "/sign-in", next=_next(request), ended=ended)
    except PasswordRequired:
        return pages.redirect(request, "/password")
    except AppError as exc:
        response = pages.problem(request, exc.status, exc.title, exc.message)
        response.headers.update(exc.headers())
        return response
    except RequestValidationError as exc:
        return pages.problem(request, 400, "This page cannot be shown", _invalid(exc))


class ConsoleRoute(APIRoute):
    """Problems become pages: a missing session a redirect to sign in, an error its title
    and message; an unexpected one is logged here, with the request id, and its page says
    nothing of its cause."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await _answer(request, handler)
            except Exception:
                logger.exception("console request failed")
                request_id = getattr(request.state, "request_id", "")
                message = (
                    "Something went wrong on the server, and nothing shows what. Try again in "
                    f"a moment; if it happens again, tell your administrator request id "
                    f"{request_id}."
                )
                return pages.problem(request, 500, "Something went wrong", message)

        return answer
