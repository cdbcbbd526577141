"""Put on the servers' PYTHONPATH by the bench: TCP_NODELAY on every accepted TCP connection.

``uvicorn --workers N`` (N > 1) binds its listening socket with protocol number 0, and
asyncio only sets TCP_NODELAY on sockets whose protocol is IPPROTO_TCP. Without it, a
response written in two sends (headers, then body) waits for the client's delayed ACK:
about 40 ms per response, which caps every scenario at concurrency / 40 ms. This shim lets
the bench measure the service instead of TCP timers; ``--as-shipped`` leaves it out.
"""

import socket
from asyncio import base_events


def _set_nodelay(sock: socket.socket) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


base_events._set_nodelay = _set_nodelay  # type: ignore[attr-defined]
