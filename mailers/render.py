"""Renders e-mails from the Jinja2 templates beside this module: a plain-text and an HTML part.

Each e-mail has `<name>.txt` and `<name>.html`, extending `layout.txt` and `layout.html`.
Values are escaped in the HTML part only; the text part shows them as they are.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from jinja2 import (
    Environment,
    PackageLoader,
    StrictUndefined,
    pass_eval_context,
    select_autoescape,
)
from jinja2.nodes import EvalContext
from markupsafe import Markup


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """What the outbox stores and the delivery worker sends."""

    kind: str
    subject: str
    text: str
    html: str
    # The one-click unsubscribe link the e-mail shows and names in List-Unsubscribe.
    unsubscribe_url: str | None = None


@pass_eval_context
def _escape_as_before(eval_ctx: EvalContext, value: object) -> object:
    """Escape a value of an HTML template the way `html.escape` does.

    MarkupSafe writes quotes as `&#34;` and `&#39;`, `html.escape` as `&quot;` and `&#x27;`;
    the e-mails have always used the latter, and stay the same byte for byte. Autoescaping
    leaves the returned Markup alone, and anything already Markup is not escaped twice.
    """
    if eval_ctx.autoescape and not hasattr(value, "__html__"):
        return Markup(html.escape(str(value)))
    return value


_environment = Environment(
    loader=PackageLoader("mailers", "templates"),
    # Only the HTML parts are escaped: a text part shows "Tom & Jerry", not "Tom &amp; Jerry".
    autoescape=select_autoescape(enabled_extensions=("html",), default=False),
    finalize=_escape_as_before,
    # A misspelt or missing value fails the render instead of leaving a hole in an e-mail.
    undefined=StrictUndefined,
    # The templates are laid out line by line like the e-mail; a tag alone on its line
    # leaves no line behind, and a template's last line break is part of the e-mail.
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    # The templates ship with the code and never change while it runs.
    auto_reload=False,
)


def render(
    kind: str,
    subject: str,
    template: str,
    *,
    unsubscribe_url: str | None = None,
    **values: object,
) -> RenderedEmail:
    """Render `template`.txt and `template`.html with `values` and `subject`.

    With `unsubscribe_url`, both parts end with a link to it (the layouts add it).
    """
    values = {"subject": subject, "unsubscribe_url": unsubscribe_url, **values}
    text = _environment.get_template(f"{template}.txt").render(**values)
    markup = _environment.get_template(f"{template}.html").render(**values)
    return RenderedEmail(kind, subject, text, markup, unsubscribe_url)
