"""How the process logs: plain text for a terminal, or one JSON object a line (LOG_FORMAT).

In JSON, the application's lines and uvicorn's (its server and access lines) share one
shape: `time`, `level`, `logger`, `message`, and, where known, `request_id`, `operation`,
`user_id` and `duration_ms` (from `infra/request_context.py`), `exception` with the
traceback; an access line adds `method`, `path`, `status` and `client`.

Whatever the format, an access line names the path without its query string: a GET
request's query string holds the whole GraphQL document and its variables, which may be a
password typed into a mutation sent the wrong way. Nothing else logs request content.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import orjson

from infra import request_context

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
ACCESS_LOGGER = "uvicorn.access"
# The positional arguments of uvicorn's access line: client, method, path, HTTP version,
# status.
_ACCESS_ARGS = 5


class WithoutQueryString(logging.Filter):
    """Drops the query string from the path of uvicorn's access lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == _ACCESS_ARGS and isinstance(args[2], str):
            path = args[2].partition("?")[0]
            record.args = (args[0], args[1], path, args[3], args[4])
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (a message's line breaks are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        _add_context(line)
        if record.name == ACCESS_LOGGER and isinstance(record.args, tuple):
            args = record.args
            if len(args) == _ACCESS_ARGS:
                line |= {"client": args[0], "method": args[1], "path": args[2]}
                line["status"] = args[4]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return orjson.dumps(line, default=str).decode()


def _add_context(line: dict[str, Any]) -> None:
    if (rid := request_context.request_id.get()) is not None:
        line["request_id"] = rid
    if (operation := request_context.operation_name.get()) is not None:
        line["operation"] = operation
    if (user := request_context.user_id.get()) is not None:
        line["user_id"] = user
    if (seconds := request_context.duration.get()) is not None:
        line["duration_ms"] = round(seconds * 1000, 3)


def configure(log_format: str) -> None:
    """Set up the root logger (and so uvicorn's loggers, which propagate to it) for
    `log_format`, "text" or "json"."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    filter_access_log()


_WITHOUT_QUERY_STRING = WithoutQueryString()


def filter_access_log() -> None:
    """Keep query strings out of the access log; again after uvicorn configures its loggers
    (once: a filter is added only if not there already)."""
    logging.getLogger(ACCESS_LOGGER).addFilter(_WITHOUT_QUERY_STRING)


def uvicorn_log_config(log_format: str) -> dict[str, Any] | None:
    """What uvicorn.Config's `log_config` should be: its own colourful setup for text, none
    for JSON (its loggers then propagate to the root's JSON handler)."""
    if log_format == "json":
        return None
    from uvicorn.config import LOGGING_CONFIG

    return LOGGING_CONFIG
