"""The milestone e-mails as a reader sees them: escaped HTML, verbatim text, changes, footer."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable

import pytest

from mailers import milestone_mailer
from mailers.milestone_mailer import AcceptanceReminder, MilestoneNews
from mailers.render import RenderedEmail
from models import FieldChange

TRICKY = '<b>Tom & "Jerry"</b>'
DUE = dt.date(2030, 1, 31)


NEWS = MilestoneNews(
    recipient_name="Carla",
    actor_name="Fred",
    project_title="Data pipeline audit",
    milestone_title="Design",
    due_date=DUE,
)


ALL_EMAILS: dict[str, Callable[[], RenderedEmail]] = {
    "milestones_unlocked": lambda: milestone_mailer.milestones_unlocked(
        recipient_name="Fred",
        actor_name="The platform team",
        project_title="Data pipeline audit",
        completion_date=DUE,
    ),
    "milestone_reminder": lambda: milestone_mailer.milestone_reminder(
        recipient_name="Fred",
        project_title="Data pipeline audit",
        unlocked_on=dt.date(2030, 1, 2),
        completion_date=DUE,
    ),
    "milestone_added": lambda: milestone_mailer.milestone_added(NEWS, description="Wireframes."),
    "milestone_edited": lambda: milestone_mailer.milestone_edited(
        NEWS, changes=[FieldChange("title", "Draft", "Design")]
    ),
    "milestone_deleted": lambda: milestone_mailer.milestone_deleted(NEWS),
    "milestone_completed": lambda: milestone_mailer.milestone_completed(NEWS),
    "milestone_reopened": lambda: milestone_mailer.milestone_reopened(NEWS),
    "acceptance_reminder": lambda: milestone_mailer.acceptance_reminder(
        AcceptanceReminder(
            recipient_name="Carla",
            freelancer_name="Fred",
            project_title="Data pipeline audit",
            milestone_title="Design",
            accept_at=dt.datetime(2030, 1, 31, 14, 5),
            time_zone="Europe/Berlin",
        )
    ),
}


@pytest.mark.parametrize("kind", ALL_EMAILS)
def test_every_email_has_both_parts_and_the_project_footer(kind: str) -> None:
    email = ALL_EMAILS[kind]()
    assert email.kind == kind
    assert email.text.startswith("Hello ")
    assert (
        '\n\n--\nYou receive this e-mail because you take part in the project "Data pipeline audit".'
        in email.text
    )
    assert (
        "You receive this e-mail because you take part in the project "
        "&ldquo;Data pipeline audit&rdquo;.</p>\n</body>" in email.html
    )
    assert email.html.startswith("<!DOCTYPE html>\n")
    assert email.html.endswith("</body>\n</html>\n")
    assert f"<title>{html.escape(email.subject)}</title>" in email.html


def test_values_are_escaped_in_html_and_verbatim_in_text() -> None:
    email = milestone_mailer.milestone_added(
        MilestoneNews(TRICKY, TRICKY, TRICKY, TRICKY, DUE), description=TRICKY
    )
    escaped = "&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;"
    assert email.subject == f"Milestone added: “{TRICKY}”"
    assert f"Hello {TRICKY}," in email.text
    assert f"Milestone: {TRICKY}\n" in email.text
    assert f'take part in the project "{TRICKY}".' in email.text
    assert "&lt;" not in email.text and "&amp;" not in email.text
    assert TRICKY not in email.html
    assert f"<title>Milestone added: “{escaped}”</title>" in email.html
    assert f"<p>Hello {escaped},</p>" in email.html
    assert f"<td>{escaped}</td>" in email.html
    assert f"the project &ldquo;{escaped}&rdquo;.</p>" in email.html


def test_the_edit_email_lists_each_change_with_empty_values_named() -> None:
    changes = [
        FieldChange("title", "Draft", "Design & <build>"),
        FieldChange("description", "", "Wireframes first."),
        FieldChange("dueDate", "2030-01-15", "2030-01-31"),
    ]
    email = milestone_mailer.milestone_edited(NEWS, changes=changes)
    assert email.subject == "Milestone edited: “Design”"
    assert (
        "What changed:\n"
        "- Title: Draft → Design & <build>\n"
        "- Description: (empty) → Wireframes first.\n"
        "- Due date: 2030-01-15 → 2030-01-31\n"
    ) in email.text
    assert (
        "<li><strong>Title</strong>: <del>Draft</del> &rarr; "
        "<ins>Design &amp; &lt;build&gt;</ins></li>"
    ) in email.html
    assert (
        "<li><strong>Description</strong>: <del>(empty)</del> &rarr; "
        "<ins>Wireframes first.</ins></li>"
    ) in email.html


def test_a_cleared_value_shows_as_empty() -> None:
    changes = [FieldChange("description", "Wireframes first.", "")]
    email = milestone_mailer.milestone_edited(NEWS, changes=changes)
    assert "- Description: Wireframes first. → (empty)\n" in email.text
    assert "<del>Wireframes first.</del> &rarr; <ins>(empty)</ins>" in email.html


def test_a_description_keeps_its_line_breaks() -> None:
    description = "Wireframes:\n- home\n- checkout\n\nThen <review>."
    email = milestone_mailer.milestone_added(NEWS, description=description)
    assert f"Due: 2030-01-31\n\n{description}\n\n--\n" in email.text
    assert (
        '<p style="white-space: pre-wrap;">Wireframes:\n- home\n- checkout\n\n'
        "Then &lt;review&gt;.</p>"
    ) in email.html


def test_without_a_description_the_email_ends_at_the_due_date() -> None:
    email = milestone_mailer.milestone_added(NEWS, description="")
    assert "Due: 2030-01-31\n\n--\n" in email.text
    assert "pre-wrap" not in email.html
    assert "</table>\n<p style=" in email.html


def test_the_acceptance_reminder_names_the_moment_and_escapes_what_users_wrote() -> None:
    email = milestone_mailer.acceptance_reminder(
        AcceptanceReminder(
            recipient_name=TRICKY,
            freelancer_name=TRICKY,
            project_title=TRICKY,
            milestone_title=TRICKY,
            accept_at=dt.datetime(2030, 1, 31, 14, 5),
            time_zone="Europe/Berlin",
            link="https://milestones.example.com/",
        )
    )
    escaped = "&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;"
    assert email.subject == f"Accepted tomorrow unless you answer: “{TRICKY}”"
    assert "Accepted automatically: 2030-01-31 at 14:05 (time zone Europe/Berlin)" in email.text
    assert f'{TRICKY} marked the milestone "{TRICKY}" of the project "{TRICKY}"' in email.text
    assert "If you do nothing, the milestone is accepted automatically" in email.text
    assert "Open the project: https://milestones.example.com/" in email.text
    assert TRICKY not in email.html
    assert f"<td>{escaped}</td>" in email.html
    assert "<td>2030-01-31 at 14:05 (time zone Europe/Berlin)</td>" in email.html
