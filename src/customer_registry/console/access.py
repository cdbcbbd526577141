"""Who is signed in to the console, and whether they may see what they ask for."""

from typing import Annotated

from fastapi import Depends, Path, Request

from customer_registry.console import sessions
from customer_registry.console.sessions import Session
from customer_registry.db.request import CustomerStore
from customer_registry.errors import Forbidden

COOKIE = "cr_console"
SIGN_IN_COOKIE = "cr_console_sign_in"
MAX_CLIENT_ID = 2**63 - 1


class SignInRequired(Exception):
    """No valid session: the sign-in page answers; ``ended``: the browser had one."""

    def __init__(self, ended: bool) -> None:
        super().__init__("sign in")
        self.ended = ended


class PasswordRequired(Exception):
    """Signed in with a one-time password: choose one first."""


class ClientNotShown(Forbidden):
    code = "client-not-shown"
    title = "Not your client"

    def __init__(self, client_id: int) -> None:
        super().__init__(
            f"Your operator account is not given client {client_id}. "
            "Ask whoever manages operators (customer-registry operators) to give it to you."
        )


class FormRefused(Forbidden):
    code = "form-refused"
    title = "Form refused"

    def __init__(self) -> None:
        super().__init__(
            "This form did not come from your console session, or the session it came from "
            "has ended. Nothing was changed: reload the page and try again."
        )


async def _session(request: Request, store: CustomerStore, client_id: int) -> Session:
    token = request.cookies.get(COOKIE)
    found = await sessions.find(store.conn, token, client_id) if token else None
    if found is None:
        raise SignInRequired(ended=token is not None)
    if found.choosing_password and not request.url.path.endswith("/password"):
        raise PasswordRequired
    if not found.covered:
        raise ClientNotShown(client_id)
    return found


async def signed_in(request: Request, store: CustomerStore) -> Session:
    """The session of the request's cookie, on a page of no particular client."""
    return await _session(request, store, sessions.NO_CLIENT)


ClientId = Annotated[int, Path(ge=1, le=MAX_CLIENT_ID)]


async def signed_in_for(request: Request, store: CustomerStore, client_id: ClientId) -> Session:
    """The session of the request's cookie, given the path's client."""
    return await _session(request, store, client_id)


def require_form(session: Session, csrf: str | None) -> None:
    """Refuse a form whose CSRF token is not the session's."""
    if not sessions.csrf_holds(session.token, csrf):
        raise FormRefused


OperatorSession = Annotated[Session, Depends(signed_in)]
ClientSession = Annotated[Session, Depends(signed_in_for)]
