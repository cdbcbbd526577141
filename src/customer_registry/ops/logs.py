"""Structured logs on stderr: JSON lines for machines, readable lines for people.

Our own events go straight through structlog (no ``logging`` overhead on the request path).
Records of other libraries (uvicorn, alembic) reach the same processors through one
``logging`` handler, so every line has one shape and every traceback is rendered the one safe
way: exception type and code locations, never the message or frame locals, because a
database error quotes the row it refused and a frame holds the request's values.
"""

import logging
import sys
import traceback
from typing import Any

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from customer_registry.config import Settings

_CHAINED = "\n\nThe above exception led to the following one:\n\n"


def _exception(exc_info: Any) -> BaseException | None:
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple):
        return exc_info[1]  # type: ignore[no-any-return]
    return sys.exc_info()[1] if exc_info else None


def _type_name(exc: BaseException) -> str:
    kind = type(exc)
    module = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
    return module + kind.__qualname__


def _traceback(exc: BaseException) -> str:
    parts: list[str] = []
    current: BaseException | None = exc
    while current is not None and len(parts) < 10:
        frames = "".join(traceback.extract_tb(current.__traceback__).format())
        parts.append(f"Traceback (most recent call last):\n{frames}{_type_name(current)}")
        context = None if current.__suppress_context__ else current.__context__
        current = current.__cause__ or context
    return _CHAINED.join(reversed(parts))


def safe_exception(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Replace ``exc_info`` by ``exc_type`` and a traceback that carries no values."""
    exc = _exception(event_dict.pop("exc_info", None))
    if exc is not None:
        event_dict["exc_type"] = _type_name(exc)
        event_dict["exception"] = _traceback(exc)
    return event_dict


class _Stderr:
    """structlog's WriteLogger, but looking ``sys.stderr`` up per line so redirection works."""

    def msg(self, message: str) -> None:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()

    debug = info = warning = error = critical = exception = log = msg


_STDERR = _Stderr()


def _stderr(*_args: Any) -> _Stderr:
    return _STDERR


class _StderrHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            _STDERR.msg(self.format(record))
        except Exception:
            self.handleError(record)


def _json_line(event_dict: EventDict, **_options: Any) -> str:
    # orjson: a third of the standard library's CPU for the access line of every request.
    return orjson.dumps(event_dict, default=str).decode()


def for_people(log_format: str) -> bool:
    """Whether ``log_format`` means console lines (else JSON lines, for machines)."""
    return log_format == "console" or (log_format == "auto" and sys.stderr.isatty())


def _renderer(log_format: str) -> Processor:
    tty = sys.stderr.isatty()
    if for_people(log_format):
        # plain_traceback is never reached (safe_exception removes exc_info first); naming it
        # keeps ConsoleRenderer from warning that it cannot pretty-print our traceback string.
        return structlog.dev.ConsoleRenderer(
            colors=tty, exception_formatter=structlog.dev.plain_traceback
        )
    return structlog.processors.JSONRenderer(serializer=_json_line)


def _not_repeated(record: logging.LogRecord) -> bool:
    """Drop uvicorn's line for an exception the request's middleware has logged already
    (with the request id, which uvicorn's lacks), and Alembic's plugin set-up chatter."""
    if record.name == "uvicorn.error" and str(record.msg).startswith("Exception in ASGI app"):
        return False
    return record.name != "alembic.runtime.plugins" or record.levelno >= logging.WARNING


def _route_standard_logging(shared: list[Processor], renderer: Processor, level: int) -> None:
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            safe_exception,
            renderer,
        ],
    )
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    handler.addFilter(_not_repeated)
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not isinstance(h, _StderrHandler)]
    root.addHandler(handler)
    # Never below info for other libraries: aiosqlite's debug lines print statement parameters.
    root.setLevel(max(level, logging.INFO))


def configure(settings: Settings) -> None:
    """Set up structlog and ``logging`` for this process; safe to call again."""
    level = logging.getLevelNamesMapping()[settings.log_level.upper()]
    renderer = _renderer(settings.log_format)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, safe_exception, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=_stderr,
        # Off, so that configure() applies to module-level loggers too; the access middleware
        # binds its logger once instead.
        cache_logger_on_first_use=False,
    )
    _route_standard_logging(shared, renderer, level)
