"""The page's live updates survive a network drop, and the page works on a phone-sized
screen with the keyboard alone."""

from __future__ import annotations

import json
from typing import Any

from playwright.async_api import Page, WebSocket, expect

from tests.support import Api, RunningServer, future
from tests.support_browser import PHONE, CuttableProxy, Pages, log_in

ADD = """mutation($input: AddMilestoneInput!) {
  addMilestone(input: $input) { errors { code } milestone { id } } }"""
TICK = """mutation($input: SetMilestoneCompletedInput!) {
  setMilestoneCompleted(input: $input) { errors { code } } }"""

HOSTILE_TITLE = "<img src=x onerror=window.pwned=1>"


async def add_milestone(api: Api, token: str, project_id: str, title: str, days: int) -> str:
    data = await api.data(
        ADD, {"input": {"projectId": project_id, "title": title, "dueDate": future(days)}}, token
    )
    assert data["addMilestone"]["errors"] == [], data
    return data["addMilestone"]["milestone"]["id"]


def record_frames(page: Page) -> list[tuple[str, dict[str, Any]]]:
    """Every graphql-transport-ws message the page sends ("sent") and gets ("received")."""
    frames: list[tuple[str, dict[str, Any]]] = []

    def watch(socket: WebSocket) -> None:
        socket.on("framesent", lambda data: frames.append(("sent", json.loads(data))))
        socket.on("framereceived", lambda data: frames.append(("received", json.loads(data))))

    page.on("websocket", watch)
    return frames


async def test_the_page_resumes_after_a_drop_without_missing_an_event(
    api: Api, server: RunningServer, pages: Pages
) -> None:
    client = await api.sign_up("CLIENT")
    freelancer = await api.sign_up("FREELANCER")
    project_id = await api.create_project(client, freelancer, title="Resumed project")
    await api.unlock(await api.admin(), project_id)
    first = await add_milestone(api, freelancer.token, project_id, "Kick-off", 5)

    port = int(server.url.rsplit(":", 1)[1])
    async with CuttableProxy(port) as proxy:
        opened = await pages.open("client", proxy.url)
        page = opened.page
        frames = record_frames(page)
        await log_in(page, client)
        await page.get_by_role("link", name="Resumed project").click()
        status = page.get_by_role("status")
        await expect(status).to_have_text("Live")
        events = page.locator(".chat-message.event .kind")
        await expect(events).to_have_text(["Unlocked", "Added"])
        # One event live before the drop: the resubscription must start after it, not
        # where the first subscription started.
        await add_milestone(api, freelancer.token, project_id, "Before the drop", 4)
        await expect(events).to_have_text(["Unlocked", "Added", "Added"])

        proxy.cut()
        await expect(status).to_contain_text("reconnecting")
        # While the page is away, the freelancer goes on working.
        await add_milestone(api, freelancer.token, project_id, "During the drop", 3)
        await api.data(TICK, {"input": {"id": first, "completed": True}}, freelancer.token)
        proxy.restore()

        await expect(status).to_have_text("Live", timeout=15_000)
        # Replayed from `after` the last message seen: each event once, in order.
        await expect(events).to_have_text(["Unlocked", "Added", "Added", "Added", "Completed"])
        await expect(page.locator(".milestones .title")).to_have_text(
            ["During the drop", "Before the drop", "Kick-off"]
        )
        await expect(page.get_by_label("Kick-off")).to_be_checked()
    # The page shows each message once whatever it is sent; the frames show the server
    # replayed exactly what the page missed, because the resubscription asked for it.
    subscribes = [
        i for i, (way, m) in enumerate(frames) if (way, m["type"]) == ("sent", "subscribe")
    ]
    assert len(subscribes) == 2
    first, resumed = (frames[i][1]["payload"]["variables"]["after"] for i in subscribes)
    assert first and resumed and resumed != first
    replayed = [
        m["payload"]["data"]["chatEvents"]["kind"]
        for way, m in frames[subscribes[1] :]
        if (way, m["type"]) == ("received", "next")
    ]
    assert replayed == ["MILESTONE_ADDED", "MILESTONE_COMPLETED"]
    assert pages.outside_requests == []


async def test_a_page_whose_session_ends_returns_to_the_log_in_form(
    api: Api, server: RunningServer, pages: Pages
) -> None:
    client = await api.sign_up("CLIENT")
    freelancer = await api.sign_up("FREELANCER")
    await api.create_project(client, freelancer, title="Ended session")

    opened = await pages.open("client", server.url)
    page = opened.page
    await log_in(page, client)
    await page.get_by_role("link", name="Ended session").click()
    await expect(page.get_by_role("status")).to_have_text("Live")

    # Logged out on another device: the server closes the page's socket with 4403, which
    # the page does not retry; it asks for the password again.
    ended = await api.data("mutation { logOutEverywhere }", {}, client.token)
    assert ended == {"logOutEverywhere": True}
    await expect(page.get_by_role("region", name="Log in")).to_be_visible()
    await expect(page.get_by_role("status")).to_have_count(0)
    assert opened.errors == []


async def test_a_freelancer_works_on_a_phone_with_the_keyboard(
    api: Api, server: RunningServer, pages: Pages
) -> None:
    client = await api.sign_up("CLIENT")
    freelancer = await api.sign_up("FREELANCER")
    project_id = await api.create_project(client, freelancer, title="Pocket project")
    await api.unlock(await api.admin(), project_id)
    await add_milestone(api, freelancer.token, project_id, "Data audit", 5)
    await add_milestone(api, freelancer.token, project_id, HOSTILE_TITLE, 9)

    opened = await pages.open("freelancer", server.url, viewport=PHONE)
    page, keyboard = opened.page, opened.page.keyboard
    # Each view starts with focus on its heading; Tab goes on from there.
    await expect(page.get_by_role("heading", name="Welcome")).to_be_focused()
    await keyboard.press("Tab")
    await expect(page.get_by_role("region", name="Log in").get_by_label("E-mail")).to_be_focused()
    await keyboard.type(freelancer.email)
    await keyboard.press("Tab")
    await keyboard.type("correct horse battery")
    await keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="My projects")).to_be_focused()
    await keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Pocket project")).to_be_focused()
    await keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_have_text("Live")

    await keyboard.press("Tab")
    tick = page.get_by_label("Data audit")
    await expect(tick).to_be_focused()
    await keyboard.press("Space")
    await expect(page.locator(".progress")).to_have_text("1 of 2 done")
    # The live update re-drew the list; the keyboard user is still where they were.
    await expect(tick).to_be_checked()
    await expect(tick).to_be_focused()

    # A live update while the user types leaves the focus and the text where they were.
    title = page.locator(".add form").get_by_label("Title")
    await title.focus()
    await keyboard.type("Half-typ")
    await add_milestone(api, freelancer.token, project_id, "From elsewhere", 7)
    await expect(page.locator(".milestones .title")).to_have_count(3)
    await expect(title).to_be_focused()
    await keyboard.type("ed")
    await expect(title).to_have_value("Half-typed")

    # Text from the API is shown as text, never run as HTML.
    await expect(page.locator(".milestones .title").last).to_have_text(HOSTILE_TITLE)
    assert await page.evaluate("window.pwned") is None

    # Nothing wider than the phone's screen: no sideways scrolling.
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    assert opened.errors == []
