"""Notification settings over GraphQL: defaults, partial updates, a bad time zone, privacy."""

from __future__ import annotations

from tests.support import Api, make_team
from tests.support_prefs import SETTINGS, my_settings, update_settings

DEFAULTS = {"milestoneChanges": "IMMEDIATE", "reminders": True, "timeZone": "UTC"}


async def test_defaults_and_fields_left_out_stay(api: Api) -> None:
    user = await api.sign_up("CLIENT")
    assert await my_settings(api, user) == DEFAULTS

    changed = await update_settings(api, user, milestoneChanges="DAILY", timeZone="Asia/Tokyo")
    expected = {"milestoneChanges": "DAILY", "reminders": True, "timeZone": "Asia/Tokyo"}
    assert changed == {"errors": [], "settings": expected}
    changed = await update_settings(api, user, reminders=False)
    expected["reminders"] = False
    assert changed["settings"] == expected
    assert await my_settings(api, user) == expected


async def test_an_unknown_time_zone_is_refused_and_changes_nothing(api: Api) -> None:
    user = await api.sign_up("CLIENT")
    for zone in ("Mars/Olympus_Mons", "../../etc/passwd", "", "utc "):
        refused = await update_settings(api, user, milestoneChanges="OFF", timeZone=zone)
        [error] = refused["errors"]
        assert (error["code"], error["field"]) == ("INVALID", ["timeZone"]), zone
        assert refused["settings"] is None
    assert await my_settings(api, user) == DEFAULTS


async def test_only_the_viewer_sees_their_settings(api: Api) -> None:
    team = await make_team(api)
    query = (
        "query($id: ID!) { project(id: $id) { client { id notificationSettings { "
        f"{SETTINGS} }} }} freelancer {{ notificationSettings {{ {SETTINGS} }} }} }} }}"
    )
    seen = await api.data(query, {"id": team.project_id}, team.freelancer.token)
    assert seen["project"]["client"]["notificationSettings"] is None
    assert seen["project"]["freelancer"]["notificationSettings"] == DEFAULTS
    seen = await api.data(query, {"id": team.project_id}, team.client.token)
    assert seen["project"]["client"]["notificationSettings"] == DEFAULTS
    assert seen["project"]["freelancer"]["notificationSettings"] is None


async def test_signed_out_callers_cannot_change_settings(api: Api) -> None:
    body = await api.post(
        "mutation { updateNotificationSettings(input: {reminders: false}) { errors { code } } }"
    )
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
