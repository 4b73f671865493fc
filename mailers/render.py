"""Renders e-mails from the templates beside this module: a plain-text and an HTML part."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template

_TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """What the outbox stores and the delivery worker sends."""

    kind: str
    subject: str
    text: str
    html: str


@cache
def _template(name: str) -> Template:
    return Template((_TEMPLATES / name).read_text(encoding="utf-8"))


def render(
    kind: str,
    subject: str,
    template: str,
    values: Mapping[str, str],
    safe_html: Mapping[str, str] | None = None,
) -> RenderedEmail:
    """Fill `template`.txt and `template`.html and wrap them in the layout.

    Every value is HTML-escaped in the HTML part; `safe_html` supplies fragments the mailer
    built itself (from escaped values) to use there instead.
    """
    html_values = {k: html.escape(v) for k, v in values.items()} | dict(safe_html or {})
    project = values.get("project_title", "")
    text_body = _template("layout.txt").substitute(
        content=_template(f"{template}.txt").substitute(values).rstrip(),
        project_title=project,
    )
    html_body = _template("layout.html").substitute(
        content=_template(f"{template}.html").substitute(html_values).rstrip(),
        project_title=html.escape(project),
        subject=html.escape(subject),
    )
    return RenderedEmail(kind=kind, subject=subject, text=text_body + "\n", html=html_body)
