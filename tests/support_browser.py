"""Browser tests: Debian's Chromium driven by Playwright, pages cut off from outside networks,
screenshots of every open page when a test fails, and a TCP proxy a test can cut.

Chromium is the system's (`apt-get install -y chromium`); Playwright downloads nothing.
`TEST_CHROMIUM` names it: when set (CI sets it), a missing or broken Chromium fails the
browser tests; when unset, they use /usr/bin/chromium if present and are skipped otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Request, Route, ViewportSize

from tests.support import PASSWORD, Account

DEFAULT_CHROMIUM = "/usr/bin/chromium"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}


def chromium_path() -> str:
    """The Chromium to drive; fails when TEST_CHROMIUM names a missing one, else skips."""
    required = os.environ.get("TEST_CHROMIUM", "")
    path = required or DEFAULT_CHROMIUM
    if not Path(path).is_file():
        if required:
            pytest.fail(f"TEST_CHROMIUM={path} does not exist: apt-get install -y chromium")
        pytest.skip(
            f"no Chromium at {DEFAULT_CHROMIUM} (apt-get install -y chromium); "
            "CI sets TEST_CHROMIUM, and fails instead of skipping"
        )
    return path


@dataclass
class OpenPage:
    """A page in its own browser context (its own storage: one signed-in user each)."""

    name: str
    page: Page
    # Console errors and uncaught exceptions: a CSP violation shows up here.
    errors: list[str] = field(default_factory=list)


@dataclass
class Pages:
    """Opens pages for a test; every request to a host other than this machine is refused."""

    browser: Browser
    opened: list[OpenPage] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)
    # Requests a page tried to make outside this machine (refused before they left).
    outside_requests: list[str] = field(default_factory=list)

    async def open(self, name: str, url: str, viewport: ViewportSize = DESKTOP) -> OpenPage:
        context = await self.browser.new_context(viewport=viewport)
        self.contexts.append(context)
        await context.route("**/*", self._local_only)
        page = await context.new_page()
        opened = OpenPage(name, page)
        page.on("console", lambda m: m.type == "error" and opened.errors.append(m.text))
        page.on("pageerror", lambda e: opened.errors.append(str(e)))
        self.opened.append(opened)
        await page.goto(url)
        return opened

    async def _local_only(self, route: Route, request: Request) -> None:
        if urlsplit(request.url).hostname in LOCAL_HOSTS:
            await route.continue_()
        else:
            self.outside_requests.append(request.url)
            await route.abort("blockedbyclient")

    async def screenshots(self, folder: Path) -> None:
        for opened in self.opened:
            with contextlib.suppress(Exception):  # a crashed page must not hide the failure
                await opened.page.screenshot(path=folder / f"{opened.name}.png", full_page=True)

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


async def log_in(page: Page, account: Account) -> None:
    """Log in through the page's form, as a person would."""
    form = page.get_by_role("region", name="Log in")
    await form.get_by_label("E-mail").fill(account.email)
    await form.get_by_label("Password").fill(PASSWORD)
    await form.get_by_role("button", name="Log in").click()
    await page.get_by_role("heading", name="My projects").wait_for()


class CuttableProxy:
    """A TCP proxy to a server that a test can cut (every connection dropped, new ones
    closed at once) and restore: a network drop the browser cannot tell from a real one."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.is_cut = False
        self.writers: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> CuttableProxy:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.cut()
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut(self) -> None:
        self.is_cut = True
        for writer in self.writers:
            writer.transport.abort()
        self.writers.clear()

    def restore(self) -> None:
        self.is_cut = False

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.is_cut:
            writer.transport.abort()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers |= {writer, up_writer}
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()
