"""The console's own pages: sign-in, sign-out, choosing a password, its stylesheet."""

from typing import Annotated

import structlog
from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse
from starlette.responses import Response

from customer_registry.auth import throttle
from customer_registry.config import Settings
from customer_registry.console import operators, pages, sessions
from customer_registry.console.access import (
    COOKIE,
    SIGN_IN_COOKIE,
    FormRefused,
    OperatorSession,
    require_form,
)
from customer_registry.console.route import ConsoleRoute
from customer_registry.db import Database
from customer_registry.db.request import CustomerStore, reads_only
from customer_registry.errors import NotFound
from customer_registry.runtime import runtime

logger = structlog.get_logger(__name__)
router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
Text = Annotated[str, Form(max_length=1024)]
Csrf = Annotated[str, Form(max_length=200)]
_STYLES = frozenset({"console.css"})
_CACHE = {"Cache-Control": "public, max-age=86400"}


def _secure(request: Request) -> bool:
    # Behind a proxy whose X-Forwarded-Proto is believed, uvicorn sets the scheme from it.
    return request.url.scheme == "https"


def _safe_next(next_page: str | None) -> str:
    """A console page to go to after signing in; anything else is the clients page."""
    if not next_page or not next_page.startswith("/") or next_page.startswith("//"):
        return "/clients"
    return next_page if next_page.isprintable() and "\\" not in next_page else "/clients"


@router.get("")
async def console_home(request: Request) -> Response:
    return pages.redirect(request, "/clients")


@router.get("/static/{name}")
async def console_static(name: str) -> Response:
    if name not in _STYLES:
        raise NotFound(f"the console has no file {name!r}")
    return FileResponse(pages.STATIC / name, headers=_CACHE)


def _sign_in_page(request: Request, secret: str, status: int = 200, **context: object) -> Response:
    response = pages.render(
        request, "sign_in.html", status, csrf=sessions.csrf_token(secret), **context
    )
    response.set_cookie(
        SIGN_IN_COOKIE, secret, path=pages.root(request), httponly=True,
        secure=_secure(request), samesite="strict",
    )  # fmt: skip
    return response


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str | None = None, ended: str = "") -> Response:
    secret = request.cookies.get(SIGN_IN_COOKIE) or sessions.new_secret()
    notice = "Your session has expired or ended: sign in again." if ended else None
    return _sign_in_page(request, secret, next=_safe_next(next), notice=notice)


async def _throttled(
    request: Request, store: CustomerStore, name: str
) -> tuple[throttle.Subjects, int | None]:
    """What a sign-in's failure counts against, and the seconds until it may be tried."""
    settings: Settings = runtime(request).settings
    address = request.client.host if request.client else ""
    subjects = throttle.Subjects.of_operator(name, address)
    limit = settings.console_sign_in_failures
    wait = await throttle.blocked_at(
        store.conn, subjects, client_limit=limit, address_limit=limit * 10
    )
    return subjects, wait


async def _start_or_count(
    request: Request, operator_id: str | None, subjects: throttle.Subjects
) -> str | None:
    """A new session's token, or one more failure counted (None)."""
    settings: Settings = runtime(request).settings
    database: Database = runtime(request).database
    # Its own transaction, after the password's check (tens of milliseconds): on SQLite the
    # request's would hold the write lock meanwhile.
    async with database.transaction() as conn:
        if operator_id is not None:
            return await sessions.start(conn, operator_id, settings.console_session_seconds)
        window = settings.token_failure_window_seconds
        await throttle.count_failure(conn, subjects, window_seconds=window)
        return None


def _signed_in(request: Request, token: str, next_page: str) -> Response:
    seconds: int = runtime(request).settings.console_session_seconds
    response = pages.redirect(request, next_page)
    response.set_cookie(
        COOKIE, token, max_age=seconds, path=pages.root(request), httponly=True,
        secure=_secure(request), samesite="strict",
    )  # fmt: skip
    response.delete_cookie(SIGN_IN_COOKIE, path=pages.root(request))
    return response


@router.post("/sign-in")
@reads_only
async def sign_in(
    request: Request, store: CustomerStore, name: Text, password: Text, csrf: Csrf,
    next: Annotated[str, Form(max_length=2048)] = "",
) -> Response:  # fmt: skip
    """Sign in: throttled per name and per address, as token requests are."""
    secret = request.cookies.get(SIGN_IN_COOKIE)
    if secret is None or not sessions.csrf_holds(secret, csrf):
        raise FormRefused
    subjects, wait = await _throttled(request, store, name)
    if wait is not None:
        error = (
            "Too many failed sign-ins for this name or from this address: "
            f"try again in {wait} seconds."
        )
        response = _sign_in_page(request, secret, 429, next=next, error=error, name=name)
        response.headers["Retry-After"] = str(wait)
        return response
    operator_id = await operators.authenticate(store.conn, name, password)
    token = await _start_or_count(request, operator_id, subjects)
    if token is None:
        logger.info("console sign-in refused", operator=name)
        error = "Wrong name or password."
        return _sign_in_page(request, secret, 401, next=next, error=error, name=name)
    logger.info("console sign-in", operator=name)
    return _signed_in(request, token, _safe_next(next))


@router.post("/sign-out")
async def sign_out(
    request: Request, store: CustomerStore, session: OperatorSession, csrf: Csrf = ""
) -> Response:
    require_form(session, csrf)
    await sessions.end(store.conn, session.token)
    response = pages.redirect(request, "/sign-in")
    response.delete_cookie(COOKIE, path=pages.root(request))
    return response


@router.get("/password")
async def password_page(request: Request, session: OperatorSession) -> Response:
    return pages.render(request, "password.html", session=session)


def _password_problem(password: str, repeated: str) -> str | None:
    if len(password) < operators.MIN_PASSWORD:
        return f"Choose a password of at least {operators.MIN_PASSWORD} characters."
    if password != repeated:
        return "The two passwords differ: type the same password twice."
    return None


@router.post("/password")
@reads_only
async def choose_password(
    request: Request, session: OperatorSession, password: Text, repeated: Text, csrf: Csrf = ""
) -> Response:
    """The operator's own password; its other sessions end, this one goes on."""
    require_form(session, csrf)
    problem = _password_problem(password, repeated)
    if problem is not None:
        return pages.render(request, "password.html", 400, session=session, error=problem)
    password_hash = await operators.hash_password(password)
    database: Database = runtime(request).database
    settings: Settings = runtime(request).settings
    async with database.transaction() as conn:
        await operators.set_hash(conn, session.operator_id, password_hash)
        token = await sessions.start(conn, session.operator_id, settings.console_session_seconds)
    logger.info("console password chosen", operator=session.operator_name)
    return _signed_in(request, token, "/clients")
