"""The calendar feed of `python server.py` as an operator runs it: its log, PUBLIC_URL and
its rate limits, on server processes of their own."""

from __future__ import annotations

from pathlib import Path

import httpx
from icalendar import Calendar

from tests.security.support_throttles import TRUSTING, fresh_address, rate_limits
from tests.support import Account, Api, pk
from tests.support_calendar import feed_url, project_feed, rotate
from tests.support_processes import api_for, create_admin, make_team_with, server_process

PUBLIC = "https://calendar.example.com"


def local(url: str, server: str) -> str:
    """A feed URL that names the public address, fetched from the server under test."""
    assert url.startswith(f"{PUBLIC}/calendar/"), url
    return server + url.removeprefix(PUBLIC)


async def get(url: str, address: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": address} if address else {}
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.get(url, headers=headers)


def the_log(tmp: Path) -> str:
    return "".join(p.read_text() for p in sorted(tmp.glob("*.log")))


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1].removesuffix(".ics")


async def test_feed_urls_use_public_url_and_tokens_never_reach_the_log(tmp_path: Path) -> None:
    database = f"sqlite://{tmp_path / 'db.sqlite3'}"
    env = {"PUBLIC_URL": f"{PUBLIC}/"}
    async with server_process(database, "", tmp_path, "feed", env) as url, api_for(url) as api:
        team = await make_team_with(api, await create_admin(api, database, tmp_path))
        added = await api.add_milestone(team.freelancer, team.project_id, "Audit")
        old = await feed_url(api, team.client)
        response = await get(local(old, url))
        assert response.status_code == 200
        (event,) = Calendar.from_ical(response.content).walk("VEVENT")
        assert str(event["UID"]) == f"milestone-{pk(added['milestone']['id'])}@calendar.example.com"
        assert (await get(local(project_feed(old, team.project_id), url))).status_code == 200
        new = await rotate(api, team.client)
        assert (await get(local(old, url))).status_code == 404
        assert (await get(local(new, url))).status_code == 200
        tokens = [token_of(old), token_of(new)]
    log = the_log(tmp_path)
    # The access log wrote a line for each fetch, with the token hidden.
    assert log.count('"GET /calendar/*** HTTP/1.1" 200') == 2, log
    assert log.count('"GET /calendar/*** HTTP/1.1" 404') == 1, log
    assert f'"GET /calendar/***/{team.project_id}.ics HTTP/1.1" 200' in log, log
    assert all(token not in log for token in tokens), log


async def test_feed_downloads_and_misses_are_rate_limited(tmp_path: Path) -> None:
    database = f"sqlite://{tmp_path / 'db.sqlite3'}"
    env = TRUSTING | rate_limits(calendar_feed_burst="2/600", calendar_feed_misses="2/600")
    async with server_process(database, "", tmp_path, "feed", env) as url, api_for(url) as api:
        team = await make_team_with(api, await create_admin(api, database, tmp_path))
        client_feed = await _local_feed(api, team.client, url)
        freelancer_feed = await _local_feed(api, team.freelancer, url)

        # Downloads count against the feed's owner, from wherever they come.
        assert (await get(client_feed, fresh_address())).status_code == 200
        assert (await get(client_feed, fresh_address())).status_code == 200
        refused = await get(client_feed, fresh_address())
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert (await get(freelancer_feed, fresh_address())).status_code == 200

        # Misses count against the address: once spent, it gets no feed, even a real one.
        prober, wrong = fresh_address(), freelancer_feed.replace(".ics", "x.ics")
        assert (await get(wrong, prober)).status_code == 404
        assert (await get(wrong, prober)).status_code == 404
        assert (await get(freelancer_feed, prober)).status_code == 429
        assert (await get(freelancer_feed, fresh_address())).status_code == 200


async def _local_feed(api: Api, account: Account, url: str) -> str:
    feed = await feed_url(api, account)
    return url + "/calendar/" + feed.split("/calendar/", 1)[1]
