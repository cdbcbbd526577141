"""The scheme and host that links and redirects start with, never an untrusted ``Host``.

``CUSTOMER_REGISTRY_PUBLIC_URL`` wins. Without it the request's ``Host`` is echoed only when it
names one of ``CUSTOMER_REGISTRY_ALLOWED_HOSTS``; any other answer that would echo it is a 400,
so a forged ``Host`` cannot put another site's address into a customer's ``_links`` (which
clients follow) or into a redirect's ``Location``.
"""

from functools import lru_cache
from typing import Any

from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Match

from customer_registry.errors import InvalidParameter, RequestInvalid
from customer_registry.http.problems import render
from customer_registry.runtime import runtime


class HostNotAllowed(RequestInvalid):
    code = "host-not-allowed"

    def __init__(self) -> None:
        reason = "names no host this service answers for (CUSTOMER_REGISTRY_ALLOWED_HOSTS)"
        super().__init__([InvalidParameter("Host", reason)], f"the Host header {reason}")


def host_name(host: str) -> str:
    """The name in a ``Host`` value: without port, brackets or trailing dot, lower case."""
    name = host.partition("]")[0].lstrip("[") if host.startswith("[") else host
    if name.count(":") == 1:  # name:port; an IPv6 address has more colons
        name = name.partition(":")[0]
    return name.rstrip(".").lower()


@lru_cache(maxsize=256)
def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """Whether ``host`` names one of ``allowed``: exact names, or ``*.example.com`` for any
    name below example.com."""
    name = host_name(host)
    return any(
        name.endswith(entry[1:]) if entry.startswith("*.") else name == entry for entry in allowed
    )


def trusted_host(request: Request) -> bool:
    """Whether ``origin`` has an answer: a public URL is set, or the Host is allowed."""
    settings = runtime(request).settings
    host = request.headers.get("host")
    # No Host (HTTP/1.0): the URL names the socket's own address, which no client chose.
    return bool(settings.public_url) or host is None or host_allowed(host, settings.allowed_hosts)


def origin(request: Request) -> str:
    """Scheme and host (and root path) for absolute URLs; raises ``HostNotAllowed``."""
    public_url: str | None = runtime(request).settings.public_url
    if public_url:
        return public_url.rstrip("/")
    if not trusted_host(request):
        raise HostNotAllowed
    host = request.headers.get("host")
    scope = request.scope
    root_path = scope.get("app_root_path", scope.get("root_path", ""))
    return _origin(scope["scheme"], host, scope.get("server"), root_path)


@lru_cache(maxsize=64)
def _origin(scheme: str, host: str | None, server: Any, root_path: str) -> str:
    """``request.base_url`` without its trailing slash, as Starlette builds it (a URL built
    and parsed, 27 µs, for every representation: hence remembered)."""
    headers = [(b"host", host.encode("latin-1"))] if host is not None else []
    scope = {"type": "http", "scheme": scheme, "server": server, "headers": headers}
    path = root_path if root_path.endswith("/") else root_path + "/"
    url = URL(scope={**scope, "path": path, "root_path": root_path, "query_string": b""})
    return str(url).rstrip("/")


def slash_redirect(request: Request) -> Response | None:
    """Starlette's ``redirect_slashes`` for a path no route matched, with a trusted origin:
    the redirect to the same path with its trailing slash added or removed, if a route
    matches that; None otherwise."""
    path: str = request.scope["path"]
    if path == "/":
        return None
    other = path.rstrip("/") if path.endswith("/") else path + "/"
    scope = {**request.scope, "path": other}
    if not any(route.matches(scope)[0] != Match.NONE for route in request.app.router.routes):
        return None
    try:
        base = origin(request)  # its root path, if any, is part of the request's path too
    except HostNotAllowed as refused:  # raised in an error handler: rendered here
        return render(request, refused)
    root_path: str = request.scope.get("root_path", "")
    query = request.scope.get("query_string", b"").decode("latin-1")
    location = base + other.removeprefix(root_path) + (f"?{query}" if query else "")
    return RedirectResponse(location)
