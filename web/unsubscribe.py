"""GET and POST /unsubscribe/<token>: one-click unsubscribe (RFC 8058), no login needed.

The token (services/mail_preferences.py) names a user and a kind of e-mail. POST turns that
kind off at once: mail providers send it for the List-Unsubscribe-Post header, and the
confirmation page's button sends it too. GET only shows that page, since mail scanners
follow every link of an e-mail they check, and must not unsubscribe anyone by doing so. A
token this server did not sign, or whose user is gone, gets 404; so does one out of date
(expired, or made before the person turned that e-mail back on), with a page saying so.
The access log shows these paths as `/unsubscribe/***` (infra/redact.py).
"""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse

from infra import links
from services import mail_preferences
from services.mail_preferences import LinkState

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="robots" content="noindex"><title>{title}</title></head>
<body style="font-family: sans-serif; line-height: 1.5; color: #1f2328; max-width: 40em;">
<h1 style="font-size: 1.4em;">{title}</h1>
{body}
</body>
</html>
"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    content = _PAGE.format(title=html.escape(title), body=body)
    return HTMLResponse(content, status_code=status, headers=headers)


def _settings_link() -> str:
    url = links.link("/")
    return (
        f'<p><a href="{html.escape(url)}">Change your e-mail settings</a> '
        "(sign in, then open your notification settings).</p>"
    )


_UNKNOWN = "<p>This unsubscribe link is not valid. Use the link of a recent e-mail.</p>"


def _refusal(state: LinkState) -> HTMLResponse:
    if state is LinkState.OUT_OF_DATE:
        body = (
            "<p>This unsubscribe link is out of date: it is more than "
            f"{mail_preferences.LINK_DAYS} days old, or you turned these e-mails back on "
            "after it was sent. Nothing was changed. Use the link of your most recent "
            f"e-mail instead.</p>{_settings_link()}"
        )
        return _page("Link out of date", body, 404)
    return _page("Unknown link", _UNKNOWN, 404)


async def unsubscribe(request: Request) -> HTMLResponse:
    """GET: the confirmation page, changing nothing; POST: unsubscribe."""
    link = mail_preferences.read_unsubscribe_token(str(request.path_params["token"]))
    if link is None:
        return _page("Unknown link", _UNKNOWN, 404)
    what = html.escape(mail_preferences.KIND_NAMES[link.kind])
    if request.method == "POST":
        if (state := await mail_preferences.unsubscribe(link)) is not LinkState.VALID:
            return _refusal(state)
        body = f"<p>You will no longer receive {what}.</p>{_settings_link()}"
        return _page("Unsubscribed", body)
    if (state := await mail_preferences.link_state(link)) is not LinkState.VALID:
        return _refusal(state)
    body = (
        f"<p>Stop receiving {what}?</p>"
        '<form method="post"><button type="submit">Unsubscribe</button></form>'
        f"{_settings_link()}"
    )
    return _page("Unsubscribe", body)
