"""Logs an operator can search: JSON lines (LOG_FORMAT=json) carrying the id of the request
that caused them, into the background tasks that request enqueued."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

_request_id: ContextVar[str | None] = ContextVar("sokai_request_id", default=None)


def set_request_id(value: str | None) -> None:
    _request_id.set(value)


def request_id() -> str | None:
    return _request_id.get()


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get() or "-"
        return True


_configured = False


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """With LOG_FORMAT=json: one handler on the root logger (once per process) writing JSON
    lines with the request id. Otherwise the servers' own text logging stays as it is."""
    global _configured
    if _configured or log_format != "json":
        return
    _configured = True
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(process)d",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}))
    root = logging.getLogger()
    for old in list(root.handlers):  # e.g. a server's plain-text handler: one format only
        root.removeHandler(old)
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
