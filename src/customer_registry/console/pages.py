"""HTML responses of the console: Jinja2 templates shipped in the package, problem pages in
words, and the headers every page carries.

Pages are never cached (they show personal data), load nothing from elsewhere (the Content
Security Policy allows this server's stylesheet only: no script runs), and may not be framed.
"""

from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

STATIC = Path(str(files("customer_registry.console").joinpath("static")))
_TEMPLATES = Path(str(files("customer_registry.console").joinpath("templates")))
_environment = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)
_environment.filters["query"] = lambda values: urlencode(
    {k: v for k, v in values.items() if v is not None}
)
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def root(request: Request) -> str:
    """Where the console lives: /console, under the proxy's path prefix if any."""
    return str(request.scope.get("root_path", "")).rstrip("/") + "/console"


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    page = _environment.get_template(template).render(root=root(request), **context)
    return HTMLResponse(page, status_code=status, headers=HEADERS)


def problem(
    request: Request, status: int, title: str, message: str, *, session: Any = None
) -> HTMLResponse:
    """A problem in words: what happened and what to do, never a stack trace."""
    return render(request, "problem.html", status, title=title, message=message, session=session)


def redirect(request: Request, path: str, **query: str | None) -> Response:
    """303 to a console page (a relative location: no Host is echoed)."""
    values = {k: v for k, v in query.items() if v is not None}
    location = root(request) + path + (f"?{urlencode(values)}" if values else "")
    return RedirectResponse(location, status_code=303, headers=HEADERS)
