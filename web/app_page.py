"""The reference collaboration page: `GET /` and its static files under `/app/` (APP=0: off).

Plain HTML, CSS and JavaScript modules in `static/app/`, with no build step, so that client
developers can read and copy them. Every response of the page carries a Content-Security-
Policy allowing only this origin's own files and connections: no inline script or style,
nothing fetched from elsewhere (so it also works offline), and no framing.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

APP_DIR = Path(__file__).parent / "static" / "app"
APP_PATH = "/app"

# 'self' covers this origin's ws:// and wss:// too (CSP level 3), which the chat needs.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The page is small: a visitor who reloads it gets the files of the running server.
    "Cache-Control": "no-cache",
}


async def index(request: Request) -> Response:
    """GET /: the page itself."""
    return FileResponse(APP_DIR / "index.html", headers=SECURITY_HEADERS)


class _PageFiles(StaticFiles):
    """The page's modules and stylesheet, with the page's headers."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    *((k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()),
                ]
            await send(message)

        await super().__call__(scope, receive, send_with_headers)


def app_routes(enabled: bool) -> list[BaseRoute]:
    """The page's routes, or none when the operator turned it off (APP=0)."""
    if not enabled:
        return []
    return [
        Route("/", index, methods=["GET", "HEAD"]),
        Mount(APP_PATH, _PageFiles(directory=APP_DIR), name="app"),
    ]
