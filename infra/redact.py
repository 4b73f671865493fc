"""Connection URLs as they may be logged: with no credentials in them.

DATABASE_URL and REDIS_URL carry passwords (`postgres://user:password@host/db`,
`redis://:password@host`, or `?password=` in the query). Whatever logs such a URL logs
`redact_url(url)`, which keeps what an operator needs to recognise the service (scheme,
host, port, path) and replaces the user information and secret-looking query values.
"""

from __future__ import annotations

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
