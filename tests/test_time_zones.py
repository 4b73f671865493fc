"""Project time zones: when a due date ends, what counts as the past, and who sets the zone.

The server reads its clock from infra/clock.py; these tests stand it at chosen instants.
"""

from __future__ import annotations

import datetime as dt

from tests.support import Api, future, make_team
from tests.support_deadlines import (
    PROJECT_MILESTONES,
    clock_at,
    instant,
    milestone,
    set_zone,
    zoned_team,
)

KIRITIMATI = "Pacific/Kiritimati"  # UTC+14: the first place where a day ends
PAGO_PAGO = "Pacific/Pago_Pago"  # UTC-11: among the last


async def test_the_same_due_date_ends_at_different_instants(api: Api) -> None:
    east = await zoned_team(api, KIRITIMATI)
    west = await zoned_team(api, PAGO_PAGO)
    due = dt.date.fromisoformat(future(20))
    ids = {}
    for team in (east, west):
        added = await api.add_milestone(team.freelancer, team.project_id, "Audit", due.isoformat())
        assert added["errors"] == [], added
        ids[team.project_id] = added["milestone"]["id"]

    east_end = dt.datetime.combine(due, dt.time(10), tzinfo=dt.UTC)  # next midnight at +14
    west_end = dt.datetime.combine(due + dt.timedelta(days=1), dt.time(11), tzinfo=dt.UTC)
    seen_east = await milestone(api, east.client, ids[east.project_id])
    seen_west = await milestone(api, west.client, ids[west.project_id])
    assert (seen_east["dueDate"], seen_west["dueDate"]) == (due.isoformat(), due.isoformat())
    assert instant(seen_east["dueAt"]) == east_end
    assert instant(seen_west["dueAt"]) == west_end

    async def overdue() -> tuple[bool, bool]:
        a = await milestone(api, east.freelancer, ids[east.project_id])
        b = await milestone(api, west.freelancer, ids[west.project_id])
        return a["overdue"], b["overdue"]

    with clock_at(east_end - dt.timedelta(seconds=1)):
        assert await overdue() == (False, False)
    with clock_at(east_end):
        assert await overdue() == (True, False)
        # The list reads the same rule from plain rows.
        listed = await api.data(PROJECT_MILESTONES, {"id": east.project_id}, east.client.token)
        assert [m["overdue"] for m in listed["project"]["milestones"]] == [True]
        assert listed["project"]["timeZone"] == KIRITIMATI
    with clock_at(west_end - dt.timedelta(seconds=1)):
        assert await overdue() == (True, False)
    with clock_at(west_end):
        assert await overdue() == (True, True)


async def test_in_the_past_follows_the_project_zone(api: Api) -> None:
    east = await zoned_team(api, KIRITIMATI)
    west = await zoned_team(api, PAGO_PAGO)
    due = dt.date.fromisoformat(future(20))
    # Noon UTC on the due date: the next day already in Kiritimati, still that day in Pago Pago.
    with clock_at(dt.datetime.combine(due, dt.time(12), tzinfo=dt.UTC)):
        late = await api.add_milestone(east.freelancer, east.project_id, "Late", due.isoformat())
        on_time = await api.add_milestone(west.freelancer, west.project_id, "On time", str(due))
    assert [(e["code"], e["field"]) for e in late["errors"]] == [("IN_THE_PAST", ["dueDate"])]
    assert on_time["errors"] == []


async def test_a_project_is_created_in_a_zone_and_an_unknown_zone_is_refused(api: Api) -> None:
    team = await make_team(api)
    create = """mutation($input: CreateProjectInput!) { createProject(input: $input) {
      errors { code field } project { id timeZone } } }"""
    fields = {"title": "Zoned", "freelancerId": team.freelancer.id, "completionDate": future(30)}
    made = await api.data(
        create, {"input": fields | {"timeZone": "Asia/Kolkata"}}, team.client.token
    )
    assert made["createProject"]["errors"] == []
    assert made["createProject"]["project"]["timeZone"] == "Asia/Kolkata"
    plain = await api.data(create, {"input": fields}, team.client.token)
    assert plain["createProject"]["project"]["timeZone"] == "UTC"
    for bad in ("Mars/Olympus", "", "../../etc/passwd", "localtime", "utc"):
        refused = await api.data(create, {"input": fields | {"timeZone": bad}}, team.client.token)
        assert refused["createProject"] == {
            "errors": [{"code": "INVALID", "field": ["timeZone"]}],
            "project": None,
        }


async def test_the_client_or_an_admin_sets_the_zone_and_a_bad_one_changes_nothing(
    api: Api,
) -> None:
    team = await make_team(api)
    bad = await set_zone(api, team.client, team.project_id, "Europe/Atlantis")
    assert [(e["code"], e["field"]) for e in bad["errors"]] == [("INVALID", ["timeZone"])]
    assert bad["project"] is None
    read = await api.data(PROJECT_MILESTONES, {"id": team.project_id}, team.client.token)
    assert read["project"]["timeZone"] == "UTC"
    assert (await set_zone(api, team.admin, team.project_id, "Europe/Berlin"))["project"][
        "timeZone"
    ] == "Europe/Berlin"
    assert (await set_zone(api, team.client, team.project_id, "America/Lima"))["project"][
        "timeZone"
    ] == "America/Lima"


async def test_chat_and_emails_name_the_zone_of_a_date(api: Api) -> None:
    from tests.support_mail import rows_to

    team = await zoned_team(api, "Asia/Tokyo")
    due = future(12)
    await api.add_milestone(team.freelancer, team.project_id, "Audit", due)
    chat = await api.data(
        "query($id: ID!) { project(id: $id) { chat(last: 1) { edges { node { body } } } } }",
        {"id": team.project_id},
        team.client.token,
    )
    [edge] = chat["project"]["chat"]["edges"]
    assert edge["node"]["body"].endswith(f"due {due} (Asia/Tokyo).")
    [*_, added] = await rows_to(team.client.email)
    assert f"Due: {due} (time zone Asia/Tokyo)\n" in added.text_body
    assert f"<td>{due} (time zone Asia/Tokyo)</td>" in added.html_body
