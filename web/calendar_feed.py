"""GET /calendar/<token>.ics and /calendar/<token>/<projectId>.ics: a user's calendar feed.

No other credential: the token in the path is the feed's (services/calendar_feeds.py), and
opens nothing else. Every refusal (an unknown, rotated or malformed token; a project the
owner may not see; an ID that is no project's) is the same bare 404, so the URL tells an
outsider nothing. The feed's ETag is a hash of its bytes: a calendar app polling with
If-None-Match gets 304 until a milestone, or the set of them, changes.

Rate limits (services/throttles.py): downloads count against the feed's owner; URLs that
name no feed count against the client's address, which, once past its budget, gets 429
before any lookup.
"""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from infra import links
from infra.redact import redact_access_log
from schema.ids import pk_of
from services import calendar_events, calendar_feeds, throttles
from services.errors import RateLimited
from settings import Network
from web.client_address import client_address

MEDIA_TYPE = "text/calendar; charset=utf-8"
# Private: the URL is a secret, so no shared cache may keep the feed; clients revalidate.
CACHE_CONTROL = "private, no-cache"


def etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def matches(if_none_match: str, tag: str) -> bool:
    """Whether an If-None-Match header names `tag` (weak comparison, as RFC 9110 says)."""
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == tag:
            return True
    return False


def _not_found() -> Response:
    return PlainTextResponse("Not found.", status_code=404)


def _rate_limited(error: RateLimited) -> Response:
    wait = str(error.extensions["retryAfter"])
    return PlainTextResponse("Too many requests.", status_code=429, headers={"Retry-After": wait})


class CalendarFeedView:
    """The feed endpoint; `trusted_proxies` as for the API (TRUSTED_PROXIES)."""

    def __init__(self, trusted_proxies: tuple[Network, ...] = ()) -> None:
        self.trusted_proxies = trusted_proxies

    async def endpoint(self, request: Request) -> Response:
        """The feed, 304, 404 or 429 (a Starlette endpoint: a bound method, not an ASGI app)."""
        address = client_address(
            request.client.host if request.client else None,
            request.headers.getlist("x-forwarded-for"),
            self.trusted_proxies,
        )
        try:
            return await self._feed(request, address)
        except RateLimited as error:
            return _rate_limited(error)

    async def _feed(self, request: Request, address: str) -> Response:
        limits = throttles.current()
        await limits.refuse_if_spent(throttles.CALENDAR_FEED_MISSES, address=address)
        owner = await calendar_feeds.owner_of(request.path_params["token"])
        if owner is None:
            await limits.spend(throttles.CALENDAR_FEED_MISSES, user_id=None, address=address)
            return _not_found()
        await limits.spend(throttles.READ_CALENDAR_FEED, user_id=owner.id, address=address)
        project = request.path_params.get("project")
        project_id = None if project is None else pk_of(project, "Project") or 0
        feed = await calendar_feeds.feed_of(owner, project_id)
        if feed is None:
            return _not_found()
        # The events' UIDs name PUBLIC_URL's host, else the request's.
        host = links.public_host() or request.base_url.hostname or "localhost"
        body = calendar_events.render(feed, host=host)
        headers = {"ETag": etag(body), "Cache-Control": CACHE_CONTROL}
        if matches(request.headers.get("if-none-match", ""), headers["ETag"]):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=MEDIA_TYPE, headers=headers)


def calendar_routes(trusted_proxies: tuple[Network, ...] = ()) -> list[Route]:
    """The feed's routes, whole and per project; keeps their tokens out of the access log."""
    view = CalendarFeedView(trusted_proxies)
    redact_access_log()  # uvicorn's access log prints every request's path
    return [
        Route("/calendar/{token}.ics", view.endpoint, methods=["GET"]),
        Route("/calendar/{token}/{project}.ics", view.endpoint, methods=["GET"]),
    ]
