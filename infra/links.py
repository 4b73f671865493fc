"""The links the server hands out: its public base URL, and signed tokens that need no login.

The base is PUBLIC_URL, read here and nowhere else: the links in e-mails (unsubscribe, the
client app), the calendar feed's URL and its events' host name all come from it. Without
it, e-mails carry no link and the feed's URL is relative (`/calendar/...`), as the
operations contract says: behind a reverse proxy the request's own URL may say http:// and
an inside host name, so a guessed absolute URL could be wrong; a client resolves a
relative one against the URL it called.

A token is the URL-safe base64 of a short text (what the link is for, e.g. "unsubscribe
7 milestone-changes") followed by its MAC under a key kept like the global-ID key
(HMAC-SHA256, cut to 16 bytes): anyone may hold one, nobody can write one. The key is a
random server secret in the database (`infra/secrets.py`), the same for every process.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from urllib.parse import urlsplit

from infra.secrets import server_secret
from settings import Settings

_MAC_BYTES = 16
_MAX_TOKEN = 300

_key = b""
_public_url = ""


def configure(public_url: str, key: bytes) -> tuple[str, bytes]:
    """Build links on `public_url` (none when empty) and sign with `key` (done at start).

    Returns the base and key it replaces.
    """
    global _key, _public_url
    previous = (_public_url, _key)
    _public_url, _key = public_url.rstrip("/"), key
    return previous


def public_url(path: str) -> str | None:
    """The absolute URL of `path` (starting with /), or None without PUBLIC_URL."""
    return f"{_public_url}{path}" if _public_url else None


def link(path: str) -> str:
    """`path` (starting with /) on PUBLIC_URL, or `path` itself, relative to the server."""
    return f"{_public_url}{path}"


def public_host() -> str | None:
    """PUBLIC_URL's host name (for identifiers such as calendar UIDs), or None without it."""
    return urlsplit(_public_url).hostname if _public_url else None


def _mac(body: bytes) -> bytes:
    if not _key:
        raise RuntimeError("no link key: call infra.links.configure at start-up")
    return hmac.new(_key, body, hashlib.sha256).digest()[:_MAC_BYTES]


def sign(text: str) -> str:
    body = text.encode()
    return base64.urlsafe_b64encode(body + _mac(body)).decode().rstrip("=")


def verify(token: str) -> str | None:
    """The text signed in `token`, or None for anything this server did not sign."""
    if len(token) > _MAX_TOKEN:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if len(raw) <= _MAC_BYTES or not hmac.compare_digest(mac, _mac(body)):
        return None
    try:
        return body.decode()
    except UnicodeDecodeError:
        return None


async def start(settings: Settings) -> None:
    """Configure links for this process: PUBLIC_URL, and the deployment's shared key."""
    configure(settings.public_url, await server_secret("links"))
