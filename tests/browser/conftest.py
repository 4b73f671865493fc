"""Fixtures of the browser tests: one Chromium for the run, fresh contexts for each test,
and screenshots of every page a failing test opened (the folder is printed)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator

import pytest
from playwright.async_api import Browser, async_playwright

from tests.support_browser import Pages, chromium_path

FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        item.stash[FAILED] = True
    return report


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    path = chromium_path()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield browser
        await browser.close()


@pytest.fixture
async def pages(
    browser: Browser, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Pages]:
    opened = Pages(browser)
    yield opened
    if request.node.stash.get(FAILED, False):
        folder = tmp_path_factory.mktemp("screenshots")
        await opened.screenshots(folder)
        print(f"screenshots of the failing test's pages: {folder}")
        for page in opened.opened:
            print(f"{page.name}'s console errors: {page.errors}")
    await opened.close()
