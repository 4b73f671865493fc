"""The server's base URL, for the absolute links it hands out (the calendar feed URL).

PUBLIC_URL when the operator set it (server.py keeps it in the app's state): behind a
reverse proxy the request's own URL may say http:// and an inside host name. Otherwise the
base URL the request was made to, which is right when clients reach the server directly.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import HTTPConnection


def base_url(conn: HTTPConnection) -> str:
    """`https://api.example.com`: no trailing slash, so a path can follow."""
    configured = getattr(conn.app.state, "public_url", "") if "app" in conn.scope else ""
    return str(configured or conn.base_url).rstrip("/")


def host(conn: HTTPConnection) -> str:
    """The host name of `base_url`."""
    return urlsplit(base_url(conn)).hostname or "localhost"
