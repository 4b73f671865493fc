"""GraphiQL without a CDN: strawberry's page, pointed at copies of its assets served here."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from strawberry.http.ides import get_graphql_ide_html

ASSETS_DIR = Path(__file__).parent / "static" / "graphiql"
ASSETS_PATH = "/graphiql"

# https://unpkg.com/<package>@<version>/<dirs>/<file>  ->  /graphiql/<package>/<file>
_CDN_URL = re.compile(r"https://unpkg\.com/((?:@[^/\"]+/)?[^@/\"]+)@[^/\"]+/(?:[^\"]*/)?([^\"/]+)")


@cache
def graphiql_html() -> str:
    """The GraphiQL page; its `integrity` hashes still hold, as the copies are unchanged."""
    html = get_graphql_ide_html(graphql_ide="graphiql")
    return _CDN_URL.sub(lambda m: f"{ASSETS_PATH}/{m.group(1)}/{m.group(2)}", html)
