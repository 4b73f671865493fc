"""The calendar feed, read as calendar apps read it: a GET of the secret URL, parsed by the
`icalendar` package and checked field by field."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3

from icalendar import Calendar

from tests.support import Api, RunningServer, future, make_team, pk
from tests.support_calendar import (
    DELETE,
    edit,
    events,
    feed_url,
    fetch,
    project_feed,
    rotate,
    tick,
)
from tests.support_plans import Statement, captured_statements, plan_defects, sqlite_plan

# The background task that deletes expired sessions now and then; not part of a request.
SWEEPER = "session-sweeper"


def day(iso: str) -> dt.date:
    return dt.date.fromisoformat(iso)


async def test_each_milestone_is_an_all_day_event_with_its_details(api: Api) -> None:
    team = await make_team(api)
    audit = await api.add_milestone(
        team.freelancer, team.project_id, "Feature audit", future(10), description="Columns"
    )
    await api.add_milestone(team.freelancer, team.project_id, "Model card", future(20))
    await tick(api, team.freelancer, audit["milestone"]["id"])
    url = await feed_url(api, team.client)
    response = await fetch(url)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == "-//Milestones API//Calendar feed//EN"
    assert str(calendar["X-WR-CALNAME"]) == "Milestones"
    found = {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}
    assert set(found) == {
        "✓ Feature audit — Data pipeline audit",
        "Model card — Data pipeline audit",
    }

    done = found["✓ Feature audit — Data pipeline audit"]
    assert str(done["UID"]) == f"milestone-{pk(audit['milestone']['id'])}@127.0.0.1"
    assert done.decoded("DTSTART") == day(future(10))  # a date: an all-day event
    assert done.decoded("DTEND") == day(future(11))
    assert str(done["DESCRIPTION"]) == "Completed.\n\nColumns"
    assert done.decoded("SEQUENCE") == 1  # ticked once
    assert done.decoded("DTSTAMP").tzinfo is not None  # UTC, as the RFC requires
    assert abs(done.decoded("DTSTAMP") - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    assert str(done["TRANSP"]) == "TRANSPARENT"

    card = found["Model card — Data pipeline audit"]
    assert card.decoded("DTSTART") == day(future(20))
    assert str(card["DESCRIPTION"]) == ""
    assert card.decoded("SEQUENCE") == 0
    # Both members of the project get the same events.
    assert set(await events(await feed_url(api, team.freelancer))) == set(found)


async def test_hostile_titles_are_escaped_and_folded(api: Api) -> None:
    team = await make_team(api)
    title = "Ü, spät; \\ 日本語のデータ分析と検証 🚀 " * 2  # commas, semicolons, a backslash
    description = "Line one,\nline two; with \\n literally\r\nand ☃" + " é" * 80
    await api.add_milestone(
        team.freelancer, team.project_id, title.strip()[:120], description=description
    )
    response = await fetch(await feed_url(api, team.freelancer))
    raw = response.content

    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    for line in raw.split(b"\r\n"):
        assert len(line) <= 75, line  # octets, not characters
        line.decode()  # never folded inside a UTF-8 sequence
    unfolded = raw.replace(b"\r\n ", b"").decode()
    assert "\\, spät\\; \\\\ " in unfolded
    assert "Line one\\,\\nline two\\; with \\\\n literally\\nand ☃" in unfolded
    event = Calendar.from_ical(raw).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == f"{title.strip()[:120]} — Data pipeline audit"
    assert str(event["DESCRIPTION"]) == description.replace("\r\n", "\n")


async def test_an_unchanged_feed_answers_304_and_an_edit_changes_it(api: Api) -> None:
    team = await make_team(api)
    added = await api.add_milestone(team.freelancer, team.project_id, "Baseline", future(5))
    url = await feed_url(api, team.client)
    first = await fetch(url)
    tag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, no-cache"

    again = await fetch(url, **{"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag

    await edit(api, team.freelancer, added["milestone"]["id"], title="Baseline v2")
    changed = await fetch(url, **{"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag
    event = Calendar.from_ical(changed.content).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Baseline v2 — Data pipeline audit"
    assert event.decoded("SEQUENCE") == 1
    before = Calendar.from_ical(first.content).walk("VEVENT")[0]
    assert str(event["UID"]) == str(before["UID"])  # the same event, updated
    assert event.decoded("DTSTAMP") >= before.decoded("DTSTAMP")


async def test_sequence_rises_with_every_edit_tick_and_untick(api: Api) -> None:
    team = await make_team(api)
    added = await api.add_milestone(team.freelancer, team.project_id, "Launch", future(5))
    milestone_id = added["milestone"]["id"]
    url = await feed_url(api, team.freelancer)

    async def sequence() -> int:
        (event,) = (await events(url)).values()
        return int(event.decoded("SEQUENCE"))

    assert await sequence() == 0
    await edit(api, team.freelancer, milestone_id, dueDate=future(6))
    assert await sequence() == 1
    await edit(api, team.freelancer, milestone_id, dueDate=future(6))  # no change: no edit
    assert await sequence() == 1
    await tick(api, team.freelancer, milestone_id)
    await tick(api, team.freelancer, milestone_id, completed=False)
    assert await sequence() == 3
    (event,) = (await events(url)).values()
    assert event.decoded("DTSTART") == day(future(6))
    assert not str(event["SUMMARY"]).startswith("✓")


async def test_deleted_milestones_are_gone(api: Api) -> None:
    team = await make_team(api)
    kept = await api.add_milestone(team.freelancer, team.project_id, "Kept")
    dropped = await api.add_milestone(team.freelancer, team.project_id, "Dropped")
    url = await feed_url(api, team.client)
    assert len(await events(url)) == 2
    await api.data(DELETE, {"input": {"id": dropped["milestone"]["id"]}}, team.freelancer.token)
    (event,) = (await events(url)).values()
    assert str(event["UID"]).startswith(f"milestone-{pk(kept['milestone']['id'])}@")


async def test_rotating_retires_the_old_url(api: Api) -> None:
    team = await make_team(api)
    await api.add_milestone(team.freelancer, team.project_id, "Kick-off")
    old = await feed_url(api, team.client)
    assert old == await feed_url(api, team.client)  # the same URL on every read
    assert (await fetch(old)).status_code == 200

    new = await rotate(api, team.client)
    assert new != old
    assert await feed_url(api, team.client) == new
    assert (await fetch(old)).status_code == 404
    assert (await fetch(project_feed(old, team.project_id))).status_code == 404
    assert list(await events(new)) == ["Kick-off — Data pipeline audit"]
    # The other member's URL is theirs alone: untouched.
    assert (await fetch(await feed_url(api, team.freelancer))).status_code == 200


async def test_unknown_and_malformed_tokens_answer_404(api: Api) -> None:
    team = await make_team(api)
    url = await feed_url(api, team.client)
    base = url.rsplit("/", 1)[0]
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    for wrong in (token[:-1] + ("A" if token[-1] != "A" else "B"), token[:-1], "x", "%00" * 43):
        response = await fetch(f"{base}/{wrong}.ics")
        assert response.status_code == 404, wrong
        assert token not in response.text


async def test_the_feed_token_is_no_api_credential(api: Api) -> None:
    team = await make_team(api)
    token = (await feed_url(api, team.client)).rsplit("/", 1)[1].removesuffix(".ics")
    body = await api.post("{ me { id } }", token=token)
    assert body["data"]["me"] is None


async def test_an_outsiders_projects_never_appear(api: Api) -> None:
    team = await make_team(api)
    other = await make_team(api)  # another client and freelancer, with their own project
    await api.add_milestone(team.freelancer, team.project_id, "Ours")
    await api.add_milestone(other.freelancer, other.project_id, "Theirs")

    assert list(await events(await feed_url(api, team.client))) == ["Ours — Data pipeline audit"]
    assert list(await events(await feed_url(api, other.client))) == ["Theirs — Data pipeline audit"]
    assert await events(await feed_url(api, team.outsider)) == {}
    # Asking for another's project by ID through one's own feed: as if it did not exist.
    outsider_url = await feed_url(api, team.outsider)
    assert (await fetch(project_feed(outsider_url, team.project_id))).status_code == 404
    client_url = await feed_url(api, team.client)
    assert (await fetch(project_feed(client_url, other.project_id))).status_code == 404
    assert (await fetch(project_feed(client_url, "not-an-id"))).status_code == 404
    milestone_id = (await api.add_milestone(team.freelancer, team.project_id, "M"))["milestone"]
    assert (await fetch(project_feed(client_url, milestone_id["id"]))).status_code == 404


async def test_a_project_feed_lists_that_project_only(api: Api) -> None:
    team = await make_team(api)
    second = await api.create_project(team.client, team.freelancer, title="Second; project")
    await api.unlock(team.admin, second)
    await api.add_milestone(team.freelancer, team.project_id, "First's")
    await api.add_milestone(team.freelancer, second, "Second's")
    url = await feed_url(api, team.freelancer)

    assert len(await events(url)) == 2
    response = await fetch(project_feed(url, second))
    calendar = Calendar.from_ical(response.content)
    # icalendar keeps X- properties as they came: escaped as TEXT, as apps read them.
    assert calendar["X-WR-CALNAME"].to_ical().decode() == "Second\\; project — milestones"
    assert [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")] == ["Second's — Second; project"]


async def test_admins_feed_lists_no_project_but_a_project_feed_works(api: Api) -> None:
    team = await make_team(api)
    await api.add_milestone(team.freelancer, team.project_id, "Audit")
    url = await feed_url(api, team.admin)
    assert await events(url) == {}  # admins belong to no project
    assert list(await events(project_feed(url, team.project_id))) == ["Audit — Data pipeline audit"]


async def test_calendar_feed_is_null_for_anyone_but_the_viewer(api: Api) -> None:
    team = await make_team(api)
    query = "query($id: ID!) { node(id: $id) { ... on User { id calendarFeed { url } } } }"
    data = await api.data(query, {"id": team.freelancer.id}, team.client.token)
    assert data["node"] == {"id": team.freelancer.id, "calendarFeed": None}
    own = await api.data(query, {"id": team.client.id}, team.client.token)
    assert re.fullmatch(r"/calendar/[\w-]{43}\.ics", own["node"]["calendarFeed"]["url"])
    anonymous = await api.post("mutation { rotateCalendarFeed { errors { code } } }")
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def _feed_statements(url: str) -> list[Statement]:
    with captured_statements() as statements:
        assert (await fetch(url)).status_code == 200
    return [s for s in statements if s.task != SWEEPER]


async def test_a_feed_costs_the_same_few_indexed_queries_for_any_number_of_projects(
    api: Api, server: RunningServer
) -> None:
    team = await make_team(api)
    await api.add_milestone(team.freelancer, team.project_id, "Only one")
    url = await feed_url(api, team.freelancer)
    one = await _feed_statements(url)
    for n in range(4):
        project_id = await api.create_project(team.client, team.freelancer, title=f"P{n}")
        await api.unlock(team.admin, project_id)
        for m in range(3):
            await api.add_milestone(team.freelancer, project_id, f"M{n}.{m}")
    assert len(await events(url)) == 13
    many = await _feed_statements(url)

    # The owner by token, their projects, the milestones of all of them.
    assert len(one) == len(many) == 3, many
    database = server.settings.database_url
    if database.startswith("sqlite://"):
        with sqlite3.connect(database.removeprefix("sqlite://")) as db:
            found = {s.sql: plan_defects(sqlite_plan(db, s)) for s in many}
        assert {sql: bad for sql, bad in found.items() if bad} == {}


async def test_without_public_url_the_feed_url_is_relative(api: Api) -> None:
    # The operations contract: without PUBLIC_URL, feed URLs are relative to the server.
    team = await make_team(api)
    data = await api.data("{ me { calendarFeed { url } } }", token=team.client.token)
    url = data["me"]["calendarFeed"]["url"]
    assert re.fullmatch(r"/calendar/[A-Za-z0-9_-]+\.ics", url), url
    assert (await fetch(str(api.client.base_url.join(url)))).status_code == 200
