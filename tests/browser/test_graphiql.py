"""GraphiQL in Chromium: it renders and runs a query from the server's own copies of its
assets, with every request outside this machine refused."""

from __future__ import annotations

from playwright.async_api import expect

from tests.support import RunningServer
from tests.support_browser import Pages


async def test_graphiql_runs_a_query_offline(server: RunningServer, pages: Pages) -> None:
    opened = await pages.open("graphiql", server.graphql_url)
    page = opened.page
    editor = page.locator(".graphiql-query-editor .CodeMirror")
    await expect(editor).to_be_visible(timeout=15_000)
    await editor.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    # Inserted as text: typed key by key, the editor would add closing braces of its own.
    await page.keyboard.insert_text("{ __typename me { id } }")
    await page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
    result = page.locator(".graphiql-response")
    await expect(result).to_contain_text('"__typename": "Query"')
    await expect(result).to_contain_text('"me": null')
    assert pages.outside_requests == []
