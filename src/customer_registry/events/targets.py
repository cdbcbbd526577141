"""Where webhooks may go: ``https://`` URLs whose names resolve to public addresses only.

A webhook URL is the client's to choose, and the server sends to it from inside the
operator's network: a URL naming a loopback, link-local or private address (the metadata
service at 169.254.169.254, a database on 10.0.0.5) would let a client reach what only the
server can. Such URLs are refused when created and, since a name can resolve elsewhere later,
again at each delivery, which then connects to the address it checked (no second lookup to
rebind). ``CUSTOMER_REGISTRY_WEBHOOK_ALLOW_PRIVATE=true`` (development, tests) allows
``http://`` and every address.
"""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

_RESOLVE_SECONDS = 5.0
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """The URL may not receive webhooks; the message says why."""


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    scheme: str
    host: str  # without brackets
    port: int
    netloc: str  # host and port as the URL writes them: the Host header
    path: str  # with the query


def parse(url: str, *, allow_private: bool) -> Target:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme != "https" and not (allow_private and scheme == "http"):
        raise TargetRefused("must be an https:// URL")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("must not carry credentials: receivers check the signature")
    if parts.fragment or not parts.hostname:
        raise TargetRefused("must name a host and no fragment")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if any(c in path + parts.netloc for c in " \r\n\t"):
        raise TargetRefused("must not contain blanks or line breaks")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise TargetRefused("has an invalid port") from exc
    return Target(url, scheme, parts.hostname, port, parts.netloc, path)


def _public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


async def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(_RESOLVE_SECONDS):
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError) as exc:
        raise TargetRefused(f"its host {host} cannot be resolved") from exc
    # Scoped IPv6 addresses ("fe80::1%eth0") are link-local: refused below anyway.
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]


async def addresses(target: Target, *, allow_private: bool) -> list[IPAddress]:
    """The addresses to connect to (empty: connect by name, private addresses allowed);
    refused when any address the host resolves to is not public."""
    if allow_private:
        return []
    found = await _resolve(target.host, target.port)
    private = [str(address) for address in found if not _public(address)]
    if private:
        raise TargetRefused(
            f"its host resolves to {', '.join(private)}: loopback, link-local and private "
            "addresses are refused (CUSTOMER_REGISTRY_WEBHOOK_ALLOW_PRIVATE)"
        )
    return found


async def checked(url: str, *, allow_private: bool) -> Target:
    """The target of ``url``, once the URL and its addresses are allowed."""
    target = parse(url, allow_private=allow_private)
    await addresses(target, allow_private=allow_private)
    return target
