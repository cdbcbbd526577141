"""Worker processes that each accept on a listening socket of their own.

uvicorn's workers share one listening socket, and the worker that wakes first accepts every
connection waiting in the queue: a burst of keep-alive connections (a load balancer's pool,
a client's connection pool) can all land on one worker while the others idle, and that
worker's queue then sets the latency. With ``SO_REUSEPORT`` every worker listens on a socket
of its own and the kernel hashes new connections over them. Only Linux balances that way.
"""

import logging
import socket
import sys
from collections.abc import Callable
from typing import Any

import structlog
import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

BALANCES_CONNECTIONS = sys.platform == "linux"


def run(app: str, *, workers: int, **options: Any) -> None:
    """``uvicorn.run``, but with one listening socket per worker where the kernel balances."""
    if workers == 1 or not BALANCES_CONNECTIONS:
        uvicorn.run(app, workers=workers, **options)
        return
    config = uvicorn.Config(app, workers=workers, **options)
    with _Reservation(_family(config.host)) as reservation:
        reservation.bind_port(config.host, config.port)
        _Supervisor(config, sockets=[reservation]).run()


class _Supervisor(Multiprocess):
    """uvicorn's supervisor, logging each worker it replaces at warning (uvicorn says so at
    info, below the level it runs at): a worker that keeps dying is worth an alert."""

    def keep_subprocess_alive(self) -> None:
        self._log_replaced(super().keep_subprocess_alive)

    def restart_all(self) -> None:
        self._log_replaced(super().restart_all)

    def _log_replaced(self, replace: Callable[[], None]) -> None:
        before = list(self.processes)
        replace()
        for old, new in zip(before, self.processes, strict=True):
            if new is not old:
                structlog.get_logger("customer_registry.serve").warning(
                    "worker replaced", pid=old.pid, exit_code=old.exitcode, new_pid=new.pid
                )


class _Reservation(socket.socket):
    """The supervisor's socket: bound, never listening, so it takes no connections itself.

    uvicorn hands its sockets to each worker it starts (and restarts) by pickling them; this
    one unpickles as a new socket on the same address, the worker's own.
    """

    def bind_port(self, host: str, port: int) -> None:
        """Bind, unless anything else has the port: another server's workers would share it."""
        try:
            with socket.socket(self.family, socket.SOCK_STREAM) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((host, port))
                port = probe.getsockname()[1]  # port 0: the one the kernel picked
            _share_port(self)
            self.bind((host, port))
        except OSError as error:
            logging.getLogger("uvicorn.error").error(
                "%s while binding to %s:%d", error.strerror, host, port
            )
            sys.exit(STARTUP_FAILURE)

    def __reduce__(self) -> tuple[Any, tuple[int, tuple[Any, ...]]]:
        return _own_socket, (self.family, self.getsockname())


def _own_socket(family: int, address: tuple[Any, ...]) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    _share_port(sock)
    sock.bind(address)
    return sock


def _share_port(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
