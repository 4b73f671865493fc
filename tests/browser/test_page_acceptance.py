"""The client's word on finished work, from the page: the client accepts a completed
milestone or sends it back with a reason, and the freelancer's page follows live."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.async_api import Page, Request, expect

from tests.support import Account, Api, RunningServer
from tests.support_browser import Pages, log_in

TICK = """mutation($input: SetMilestoneCompletedInput!) {
  setMilestoneCompleted(input: $input) { errors { code } } }"""
AUTO_ACCEPT_AT = """query($id: ID!) { node(id: $id) { ... on Milestone { autoAcceptAt } } }"""
TIME_ZONE = """mutation($input: SetProjectTimeZoneInput!) {
  setProjectTimeZone(input: $input) { errors { code } } }"""
HOSTILE_REASON = "Totals are off <img src=x onerror=window.pwned=1>\nsee row 3"


def sent(page: Page, field: str) -> list[Request]:
    """The page's requests that run the mutation `field` (filled in as they are made)."""
    requests: list[Request] = []
    page.on("request", lambda r: f"{field}(" in (r.post_data or "") and requests.append(r))
    return requests


async def completed_project(api: Api, title: str) -> tuple[Account, Account, str, str]:
    """A client, a freelancer, and their project with one milestone ticked complete."""
    client = await api.sign_up("CLIENT", name="Carla")
    freelancer = await api.sign_up("FREELANCER", name="Fred")
    project_id = await api.create_project(client, freelancer, title=title)
    await api.unlock(await api.admin(), project_id)
    milestone = (await api.add_milestone(freelancer, project_id, "Feature audit"))["milestone"]
    ticked = await api.data(
        TICK, {"input": {"id": milestone["id"], "completed": True}}, freelancer.token
    )
    assert ticked["setMilestoneCompleted"]["errors"] == []
    return client, freelancer, project_id, milestone["id"]


async def open_project(
    pages: Pages, server: RunningServer, name: str, account: Account, title: str
) -> Page:
    page = (await pages.open(name, server.url)).page
    await log_in(page, account)
    await page.get_by_role("link", name=title).click()
    await expect(page.get_by_role("status")).to_have_text("Live")
    return page


async def test_the_client_accepts_and_the_milestone_is_final_for_everyone(
    api: Api, server: RunningServer, pages: Pages
) -> None:
    client, freelancer, project_id, milestone_id = await completed_project(api, "Accepted work")
    zone = await api.data(
        TIME_ZONE, {"input": {"projectId": project_id, "timeZone": "Europe/Berlin"}}, client.token
    )
    assert zone["setProjectTimeZone"]["errors"] == []
    auto_at = (await api.data(AUTO_ACCEPT_AT, {"id": milestone_id}, client.token))["node"]
    carla = await open_project(pages, server, "client", client, "Accepted work")
    fred = await open_project(pages, server, "freelancer", freelancer, "Accepted work")
    mine, theirs = carla.locator(".milestone"), fred.locator(".milestone")

    # Waiting for the client: both see the state, and when the clock would accept it, in
    # the project's time zone.
    await expect(theirs.locator(".state")).to_have_text(
        "Completed, waiting for the client (ticked by Fred)"
    )
    when = mine.locator(".auto-accept time")
    await expect(when).to_have_attribute("datetime", auto_at["autoAcceptAt"])
    berlin = datetime.fromisoformat(auto_at["autoAcceptAt"]).astimezone(ZoneInfo("Europe/Berlin"))
    text = await when.text_content() or ""
    assert "(Europe/Berlin)" in text and f":{berlin.minute:02d}" in text, text
    assert str(berlin.hour) in text or str(berlin.hour % 12 or 12) in text, (text, berlin)
    await expect(mine.locator(".auto-accept")).to_contain_text("If you do not answer")
    await expect(theirs.locator(".auto-accept")).to_contain_text("unless the client answers first")
    # The freelancer may still untick, edit or delete it; only the client decides.
    await expect(theirs.get_by_role("checkbox")).to_be_enabled()
    await expect(theirs.get_by_role("button", name="Edit")).to_be_visible()
    await expect(theirs.get_by_role("button", name="Accept")).to_have_count(0)

    accepts = sent(carla, "acceptMilestone")
    await mine.get_by_role("button", name="Accept").dblclick()
    await expect(mine.locator(".state")).to_contain_text("Accepted by Carla on")
    await expect(theirs.locator(".state")).to_contain_text("Accepted by Carla on")
    await expect(fred.locator(".chat-message.event .kind").last).to_have_text("Accepted")
    assert len(accepts) == 1  # the double click sent one request

    # Final: no tick box, no edit or delete, no decision left, for either of them.
    for milestone in (mine, theirs):
        await expect(milestone.get_by_role("checkbox")).to_have_count(0)
        await expect(milestone.get_by_role("button")).to_have_count(0)
        await expect(milestone.locator(".auto-accept")).to_have_count(0)
    await expect(theirs.locator(".title")).to_have_text("Feature audit")
    for page in pages.opened:
        assert page.errors == [], (page.name, page.errors)
    assert pages.outside_requests == []


async def test_the_client_sends_it_back_and_the_freelancer_sees_why_live(
    api: Api, server: RunningServer, pages: Pages
) -> None:
    client, freelancer, _, _ = await completed_project(api, "Sent back")
    carla = await open_project(pages, server, "client", client, "Sent back")
    fred = await open_project(pages, server, "freelancer", freelancer, "Sent back")
    mine, theirs = carla.locator(".milestone"), fred.locator(".milestone")
    await expect(theirs.get_by_role("checkbox")).to_be_checked()
    requests = sent(carla, "requestMilestoneChanges")

    await mine.get_by_role("button", name="Request changes").click()
    reason = mine.get_by_label("Reason")
    await expect(reason).to_be_focused()
    # A blank reason is refused in the page, in words under the field, and nothing is sent.
    await reason.fill("   ")
    await mine.get_by_role("button", name="Send back").click()
    await expect(mine.locator('[data-error-for="reason"]')).to_have_text("Say what should change.")
    await expect(reason).to_have_attribute("aria-invalid", "true")
    await expect(reason).to_be_focused()
    await reason.fill("x" * 2001)
    await mine.get_by_role("button", name="Send back").click()
    await expect(mine.locator('[data-error-for="reason"]')).to_have_text(
        "At most 2000 characters; this is 2001."
    )
    assert requests == []
    await expect(theirs.get_by_role("checkbox")).to_be_checked()  # still waiting

    # Cancel closes the form; opened again, it is fresh (no error line to shift the button
    # between the two clicks of the double click below).
    await mine.get_by_role("button", name="Cancel").click()
    await expect(mine.get_by_label("Reason")).to_have_count(0)
    await mine.get_by_role("button", name="Request changes").click()
    await expect(mine.locator('[data-error-for="reason"]')).to_have_text("")
    await mine.get_by_label("Reason").fill(HOSTILE_REASON)
    await mine.get_by_role("button", name="Send back").dblclick()
    # The freelancer's page, without a reload: reopened, with the client's reason as text.
    await expect(theirs.locator(".state")).to_have_text("Open")
    await expect(theirs.get_by_role("checkbox")).not_to_be_checked()
    await expect(theirs.get_by_role("checkbox")).to_be_enabled()
    await expect(theirs.locator(".change-requests .reason")).to_have_text([HOSTILE_REASON])
    await expect(theirs.locator(".change-requests .meta")).to_contain_text(
        "Carla asked for changes"
    )
    events = fred.locator(".chat-message.event")
    await expect(events.last.locator(".kind")).to_have_text("Changes requested")
    await expect(events.last.locator(".body")).to_contain_text(HOSTILE_REASON)
    assert len(requests) == 1  # the double click sent one request
    await expect(mine.get_by_role("button", name="Accept")).to_have_count(0)

    # A second round: ticked again, sent back again; the newest reason comes first.
    await theirs.get_by_role("checkbox").check()
    await expect(mine.locator(".state")).to_contain_text("Completed, waiting for the client")
    await mine.get_by_role("button", name="Request changes").click()
    await mine.get_by_label("Reason").fill("Now the chart's legend")
    await mine.get_by_role("button", name="Send back").click()
    await expect(theirs.locator(".change-requests .reason")).to_have_text(
        ["Now the chart's legend", HOSTILE_REASON]
    )
    assert (
        await fred.evaluate("window.pwned") is None and await carla.evaluate("window.pwned") is None
    )
    await expect(fred.locator(".chat img, .milestones img")).to_have_count(0)
    for page in pages.opened:
        assert page.errors == [], (page.name, page.errors)
    assert pages.outside_requests == []
