"""Connection URLs as they may be logged: with no credentials in them.

DATABASE_URL and REDIS_URL carry passwords (`postgres://user:password@host/db`,
`redis://:password@host`, or `?password=` in the query). Whatever logs such a URL logs
`redact_url(url)`, which keeps what an operator needs to recognise the service (scheme,
host, port, path) and replaces the user information and secret-looking query values.

Request paths may carry a secret too: a calendar feed's token, an unsubscribe link's token.
`redact_access_log()` installs a filter that rewrites them in every line of uvicorn's
access log.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlencode, urlsplit

HIDDEN = "***"
# Query parameters whose values are secrets (redis-py and the database drivers accept some).
_SECRET_KEYS = ("pass", "pwd", "secret", "token", "key", "auth", "user")


def _secret_key(name: str) -> bool:
    return any(part in name.lower() for part in _SECRET_KEYS)


def redact_url(url: str) -> str:
    """`url` with its user name, password and secret query values replaced by ***."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        # Unparseable (e.g. a bad port): keep only the scheme rather than guess where the
        # password is.
        return f"{url.partition(':')[0]}:{HIDDEN}"
    netloc = parts.netloc
    if "@" in netloc:
        if ":" in host:
            host = f"[{host}]"  # an IPv6 address, bracketed again
        netloc = f"{HIDDEN}@{host}" + (f":{port}" if port is not None else "")
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, HIDDEN if _secret_key(k) else v) for k, v in pairs], safe="*")
    # Assembled by hand: urlunsplit drops the `//` of an empty host (`sqlite:///path`).
    authority = f"//{netloc}" if url[len(parts.scheme) :].startswith("://") else netloc
    return (
        f"{parts.scheme}:{authority}{parts.path}"
        + (f"?{query}" if query else "")
        + (f"#{parts.fragment}" if parts.fragment else "")
    )


# A path segment after `calendar/` is a calendar feed's secret token (web/calendar_feed.py);
# after `unsubscribe/`, a link that turns someone's e-mails off (web/unsubscribe.py).
_SECRET_PATH = re.compile(r"((?:calendar|unsubscribe)/)[^/?#\s\"]+")


def redact_path(path: str) -> str:
    """`path` with every calendar feed and unsubscribe token replaced by ***."""
    return _SECRET_PATH.sub(rf"\g<1>{HIDDEN}", path)


class SecretPathFilter(logging.Filter):
    """Rewrites the request paths a log record carries (uvicorn's access log prints each
    request's path) so that no feed or unsubscribe token reaches the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_path(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        if isinstance(record.msg, str):
            record.msg = redact_path(record.msg)
        return True


SECRET_PATHS = SecretPathFilter()


def redact_access_log(logger_name: str = "uvicorn.access") -> None:
    """Install `SECRET_PATHS` on the access log (once, however often it is called)."""
    logging.getLogger(logger_name).addFilter(SECRET_PATHS)
