"""The reference page over HTTP: where it is served, its security headers, and APP=0."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from graphql import parse, validate

from schema.schema import schema
from server import create_app
from settings import Settings
from tests.support import Api
from web.app_page import APP_DIR

PAGE_FILES = sorted(p.relative_to(APP_DIR).as_posix() for p in APP_DIR.rglob("*") if p.is_file())


def test_the_page_is_on_unless_app_is_0() -> None:
    assert Settings().app is True
    assert Settings.from_env({"APP": "0"}).app is False


async def test_the_page_and_its_files_are_served_with_a_strict_policy(api: Api) -> None:
    page = await api.client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    files = [await api.client.get(f"/app/{name}") for name in PAGE_FILES]
    assert [f.status_code for f in files] == [200] * len(PAGE_FILES), PAGE_FILES
    for response in (page, *files):
        policy = response.headers["content-security-policy"]
        # Only this origin's own files and connections; nothing inline, no framing.
        assert "default-src 'none'" in policy and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"


def test_the_page_has_no_inline_script_or_style() -> None:
    # The policy would block them (the browser tests would see the refusal in the console).
    html = (APP_DIR / "index.html").read_text()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    assert " style=" not in html and "<style" not in html
    for module in Path(APP_DIR / "js").glob("*.js"):
        source = module.read_text()
        assert "innerHTML" not in source and "eval(" not in source, module.name


async def test_app_0_serves_neither_the_page_nor_its_files(tmp_path: Path) -> None:
    async def get(settings: Settings, path: str) -> int:
        # No lifespan needed: static routes do not touch the database.
        transport = httpx.ASGITransport(app=create_app(settings))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return (await client.get(path)).status_code

    on, off = Settings(mail_dir=tmp_path), Settings(mail_dir=tmp_path, app=False)
    for path in ("/", "/app/js/main.js"):
        assert await get(on, path) == 200  # the control: the same app with the page on
        assert await get(off, path) == 404


def page_documents() -> dict[str, str]:
    """documents.js's operations, with the constants they interpolate (`${ERRORS}`) filled in."""
    source = (APP_DIR / "js" / "documents.js").read_text()
    constants = {
        name: body for name, _, body in re.findall(r"const (\w+) = ([`\"])(.*?)\2;", source, re.S)
    }

    def expand(text: str) -> str:
        return re.sub(r"\$\{(\w+)\}", lambda m: expand(constants[m.group(1)]), text)

    return {
        name: expand(body)
        for name, body in constants.items()
        if re.match(r"(query|mutation|subscription)\b", body)
    }


def test_every_document_the_page_sends_is_valid_against_the_served_schema() -> None:
    # A field the schema lacks would otherwise show only in a browser, as a broken view.
    documents = page_documents()
    assert {"PROJECT", "ACCEPT_MILESTONE", "REQUEST_MILESTONE_CHANGES"} <= documents.keys()
    for name, document in documents.items():
        errors = validate(schema._schema, parse(document))
        assert errors == [], (name, [e.message for e in errors])
