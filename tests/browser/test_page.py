"""The reference collaboration page in Chromium: a client, a freelancer and an admin, each
in a browser context of their own, see each other's changes live, without a reload."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.async_api import Page, expect

from tests.support import Api, RunningServer, future
from tests.support_browser import DESKTOP, PHONE, OpenPage, Pages, log_in

# Chat kinds as the page labels them (chat-view.js).
UNLOCKED, ADDED, EDITED, COMPLETED = "Unlocked", "Added", "Edited", "Completed"


async def open_project(page: Page, title: str) -> None:
    await page.get_by_role("link", name=title).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)
    await expect(page.get_by_role("status")).to_have_text("Live")


def chat_kinds(page: Page):  # type: ignore[no-untyped-def]
    return page.locator(".chat-message.event .kind")


async def test_client_sees_the_freelancers_work_live(
    api: Api, server: RunningServer, pages: Pages
) -> None:
    client = await api.sign_up("CLIENT", name="Carla")
    freelancer = await api.sign_up("FREELANCER", name="Fred")
    admin = await api.admin()
    await api.create_project(client, freelancer, completion_date=future(60), title="Churn model")

    opened: dict[str, OpenPage] = {}
    for name, account in (("client", client), ("freelancer", freelancer), ("admin", admin)):
        opened[name] = await pages.open(name, server.url)
        await log_in(opened[name].page, account)
        await open_project(opened[name].page, "Churn model")
    carla, fred, boss = (opened[n].page for n in ("client", "freelancer", "admin"))
    # Still there at the end: the page was never reloaded.
    await carla.evaluate("window.notReloaded = true")
    await expect(fred.get_by_role("heading", name="New milestone")).to_have_count(0)

    # The admin records the payment and unlocks, from the page.
    await boss.get_by_role("button", name="Record initial payment").click()
    await expect(boss.get_by_text("Initial payment recorded")).to_be_visible()
    await boss.get_by_role("button", name="Unlock milestones").click()
    await expect(boss.get_by_text("Milestones unlocked.")).to_be_visible()
    await expect(chat_kinds(carla)).to_have_text([UNLOCKED])
    # The freelancer's page learns of the unlock and offers the form.
    await expect(fred.get_by_role("heading", name="New milestone")).to_be_visible()

    add = fred.locator(".add form")
    # The API's errors appear next to the fields they are about.
    await add.get_by_label("Due date").fill("2020-01-01")
    await add.get_by_role("button", name="Add milestone").click()
    await expect(add.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    await expect(add.locator('[data-error-for="title"]')).to_have_text("Title can't be blank.")
    await expect(add.locator('[data-error-for="dueDate"]')).to_have_text(
        "Due date can't be in the past."
    )
    await expect(carla.locator(".milestones li")).to_have_count(0)

    for title, due in (("Final report", future(40)), ("Feature audit", future(10))):
        await add.get_by_label("Title").fill(title)
        await add.get_by_label("Due date").fill(due)
        await add.get_by_role("button", name="Add milestone").click()
        await expect(add.get_by_label("Title")).to_have_value("")
    # Due-date order: the later-added, earlier-due milestone comes first.
    await expect(carla.locator(".milestones .title")).to_have_text(
        ["Feature audit", "Final report"]
    )
    warning = carla.locator('.warnings [data-code="LAST_MILESTONE_NOT_ON_COMPLETION_DATE"]')
    await expect(warning).to_be_visible()

    await fred.get_by_label("Feature audit").check()
    await expect(carla.get_by_label("Feature audit")).to_be_checked()
    await expect(carla.locator(".progress")).to_have_text("1 of 2 done")
    await expect(carla.get_by_label("Feature audit")).to_be_disabled()  # the client only sees

    # The freelancer moves the last milestone onto the completion date: the warning goes.
    report = fred.locator(".milestone", has_text="Final report")
    await report.get_by_role("button", name="Edit").click()
    await report.get_by_label("Due date").fill(future(60))
    await report.get_by_role("button", name="Save").click()
    await expect(warning).to_have_count(0)
    await expect(chat_kinds(carla)).to_have_text([UNLOCKED, ADDED, ADDED, COMPLETED, EDITED])

    # The chat, both ways.
    await carla.get_by_label("Message", exact=True).fill("Looks good, thanks!")
    await carla.get_by_role("button", name="Send").click()
    await expect(fred.locator(".chat-message.message .body")).to_have_text(["Looks good, thanks!"])

    if folder := os.environ.get("PAGE_SCREENSHOTS"):
        await save_screenshots(fred, Path(folder))

    # Deleting asks first, in the page.
    await report.get_by_role("button", name="Delete").click()
    await report.get_by_role("button", name="Delete “Final report”").click()
    await expect(carla.locator(".milestones .title")).to_have_text(["Feature audit"])

    assert await carla.evaluate("window.notReloaded") is True
    for page in opened.values():
        assert page.errors == [], (page.name, page.errors)
    assert pages.outside_requests == []


async def save_screenshots(page: Page, folder: Path) -> None:
    """The pictures in docs/page.md and the README (PAGE_SCREENSHOTS=docs/images)."""
    await page.screenshot(path=folder / "page-desktop.png", full_page=True)
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=folder / "page-phone.png", full_page=True)
    await page.set_viewport_size(DESKTOP)
