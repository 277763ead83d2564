"""Structured JSON logs carrying service, event type, correlation id and case id.

The ids live in context variables (per greenthread under eventlet, per task under asyncio), so every
log line written while handling an event or a request carries them without passing them around.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

_FIELDS = ("event_type", "correlation_id", "case_id")
_context: dict[str, ContextVar[str | None]] = {name: ContextVar(name, default=None) for name in _FIELDS}
_service: str = "-"


@contextmanager
def log_context(**values: object) -> Iterator[None]:
    tokens = [(_context[k], _context[k].set(None if v is None else str(v))) for k, v in values.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.service = _service
        for name, var in _context.items():
            if not hasattr(record, name):
                setattr(record, name, var.get())
        return True


def configure_logging(service: str, level: str = "INFO", fmt: str = "json") -> None:
    global _service
    _service = service
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_ContextFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(event_type)s %(correlation_id)s %(case_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        ))
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(service)s %(name)s [%(correlation_id)s %(case_id)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("amqp", "kombu", "nameko", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
