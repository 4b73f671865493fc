"""The server's base URL, for the links it hands out (the calendar feed URL).

PUBLIC_URL when the operator set it (server.py keeps it in the app's state). Without it,
links are relative (`/calendar/...`), as the operations contract says: behind a reverse
proxy the request's own URL may say http:// and an inside host name, so a guessed absolute
URL could be wrong; a client resolves a relative one against the URL it called.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import HTTPConnection


def _configured(conn: HTTPConnection) -> str:
    return str(getattr(conn.app.state, "public_url", "") if "app" in conn.scope else "")


def link_base(conn: HTTPConnection) -> str:
    """`https://api.example.com` with PUBLIC_URL, else "" (links relative to the server);
    no trailing slash, so a path can follow."""
    return _configured(conn).rstrip("/")


def host(conn: HTTPConnection) -> str:
    """The host name for identifiers such as calendar UIDs: PUBLIC_URL's, else the request's."""
    return urlsplit(_configured(conn) or str(conn.base_url)).hostname or "localhost"
